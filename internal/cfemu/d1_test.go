package cfemu

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestD1(t *testing.T) {
	h := newHarness(t)
	r := mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "main", "primary_location_hint": "weur"}))
	db := r.obj(t)
	id := db["uuid"].(string)
	require.Regexp(t, uuidShape, id)
	require.Equal(t, "main", db["name"])
	require.Equal(t, "production", db["version"])
	require.EqualValues(t, 0, db["num_tables"])
	require.EqualValues(t, 0, db["file_size"])
	require.NotEmpty(t, db["created_at"])
	mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "main-archive"}))
	mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "other"}))

	t.Run("create refusals", func(t *testing.T) {
		tests := []struct {
			name string
			body any
			code int
		}{
			{"duplicate", map[string]string{"name": "main"}, 7502},
			{"no name", map[string]string{}, 7400},
			{"bad location", map[string]string{"name": "x", "primary_location_hint": "mars"}, 7400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustFail(t, h.call(http.MethodPost, "/d1/database", tt.body), http.StatusBadRequest, tt.code)
			})
		}
	})
	t.Run("get", func(t *testing.T) {
		got := mustOK(t, h.call(http.MethodGet, "/d1/database/"+id, nil)).obj(t)
		require.Equal(t, db, got)
		mustFail(t, h.call(http.MethodGet, "/d1/database/00000000-0000-4000-8000-000000000000", nil), http.StatusNotFound, 7404)
	})
	t.Run("list with name filter", func(t *testing.T) {
		var all, some []map[string]any
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil)).into(t, &all)
		require.Len(t, all, 3)
		require.Equal(t, "main", all[0]["name"], "oldest first")
		mustOK(t, h.call(http.MethodGet, "/d1/database?name=main", nil)).into(t, &some)
		require.Len(t, some, 2, "name is a search, as on Cloudflare")
	})
	t.Run("delete", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/d1/database/"+id, nil))
		mustFail(t, h.call(http.MethodGet, "/d1/database/"+id, nil), http.StatusNotFound, 7404)
		mustFail(t, h.call(http.MethodDelete, "/d1/database/"+id, nil), http.StatusNotFound, 7404)
		mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "main"}))
	})
}
