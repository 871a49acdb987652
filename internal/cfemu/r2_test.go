package cfemu

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestR2(t *testing.T) {
	h := newHarness(t)
	b := mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "assets", "locationHint": "WEUR"})).obj(t)
	require.Equal(t, "assets", b["name"])
	require.Equal(t, "WEUR", b["location"], "the hint is echoed exactly, case too")
	require.Equal(t, "Standard", b["storage_class"])
	require.NotEmpty(t, b["creation_date"])

	lower := mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "logs", "locationHint": "apac", "storageClass": "InfrequentAccess"})).obj(t)
	require.Equal(t, "apac", lower["location"])
	require.Equal(t, "InfrequentAccess", lower["storage_class"])

	t.Run("create refusals", func(t *testing.T) {
		tests := []struct {
			name         string
			body         map[string]string
			status, code int
		}{
			{"exists", map[string]string{"name": "assets"}, http.StatusConflict, 10004},
			{"too short", map[string]string{"name": "ab"}, http.StatusBadRequest, 10005},
			{"too long", map[string]string{"name": strings.Repeat("a", 64)}, http.StatusBadRequest, 10005},
			{"upper case", map[string]string{"name": "Assets"}, http.StatusBadRequest, 10005},
			{"underscore", map[string]string{"name": "my_bucket"}, http.StatusBadRequest, 10005},
			{"leading hyphen", map[string]string{"name": "-abc"}, http.StatusBadRequest, 10005},
			{"trailing hyphen", map[string]string{"name": "abc-"}, http.StatusBadRequest, 10005},
			{"bad location", map[string]string{"name": "abc", "locationHint": "mars"}, http.StatusBadRequest, 10085},
			{"bad storage class", map[string]string{"name": "abc", "storageClass": "Glacier"}, http.StatusBadRequest, 10040},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustFail(t, h.call(http.MethodPost, "/r2/buckets", tt.body), tt.status, tt.code)
			})
		}
		mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": strings.Repeat("a", 63)}))
		mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "a-1"}))
	})
	t.Run("get", func(t *testing.T) {
		require.Equal(t, b, mustOK(t, h.call(http.MethodGet, "/r2/buckets/assets", nil)).obj(t))
		mustFail(t, h.call(http.MethodGet, "/r2/buckets/nope", nil), http.StatusNotFound, 10006)
	})
	t.Run("list", func(t *testing.T) {
		var res struct {
			Buckets []map[string]any `json:"buckets"`
		}
		mustOK(t, h.call(http.MethodGet, "/r2/buckets", nil)).into(t, &res)
		require.Len(t, res.Buckets, 4)
		mustOK(t, h.call(http.MethodGet, "/r2/buckets?name_contains=ss", nil)).into(t, &res)
		require.Len(t, res.Buckets, 1)
		require.Equal(t, "assets", res.Buckets[0]["name"])
	})
	t.Run("cursor paging", func(t *testing.T) {
		h := newHarness(t)
		for i := range 5 {
			mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": fmt.Sprintf("bucket-%d", i)}))
		}
		var names []string
		cursor := ""
		for range 5 {
			r := mustOK(t, h.call(http.MethodGet, "/r2/buckets?per_page=2&cursor="+cursor, nil))
			var res struct {
				Buckets []struct{ Name string } `json:"buckets"`
			}
			r.into(t, &res)
			for _, b := range res.Buckets {
				names = append(names, b.Name)
			}
			require.EqualValues(t, 2, r.env.ResultInfo["per_page"])
			c, more := r.env.ResultInfo["cursor"].(string)
			if !more {
				break
			}
			cursor = c
		}
		require.Equal(t, []string{"bucket-0", "bucket-1", "bucket-2", "bucket-3", "bucket-4"}, names)
	})
	t.Run("delete", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/r2/buckets/assets", nil))
		mustFail(t, h.call(http.MethodDelete, "/r2/buckets/assets", nil), http.StatusNotFound, 10006)
		mustFail(t, h.call(http.MethodGet, "/r2/buckets/assets", nil), http.StatusNotFound, 10006)
	})
}
