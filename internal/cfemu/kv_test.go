package cfemu

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKV(t *testing.T) {
	h := newHarness(t)
	ns := mustOK(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "sessions"})).obj(t)
	id := ns["id"].(string)
	require.Regexp(t, `^[0-9a-f]{32}$`, id)
	require.Equal(t, "sessions", ns["title"])
	require.Equal(t, true, ns["supports_url_encoding"])
	other := h.created(h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "cache"}), "id")

	t.Run("create refusals", func(t *testing.T) {
		mustFail(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "sessions"}), http.StatusBadRequest, 10014)
		mustFail(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": ""}), http.StatusBadRequest, 10019)
		mustFail(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": strings.Repeat("t", 513)}), http.StatusBadRequest, 10019)
	})
	t.Run("get and list", func(t *testing.T) {
		require.Equal(t, ns, mustOK(t, h.call(http.MethodGet, "/storage/kv/namespaces/"+id, nil)).obj(t))
		mustFail(t, h.call(http.MethodGet, "/storage/kv/namespaces/nope", nil), http.StatusNotFound, 10013)
		var all []map[string]any
		mustOK(t, h.call(http.MethodGet, "/storage/kv/namespaces", nil)).into(t, &all)
		require.Len(t, all, 2)
		require.Equal(t, []string{"id", "supports_url_encoding", "title"}, slices.Sorted(maps.Keys(all[0])))
	})
	t.Run("rename", func(t *testing.T) {
		mustOK(t, h.call(http.MethodPut, "/storage/kv/namespaces/"+id, map[string]string{"title": "sessions"}))
		mustFail(t, h.call(http.MethodPut, "/storage/kv/namespaces/"+id, map[string]string{"title": "cache"}), http.StatusBadRequest, 10014)
		mustOK(t, h.call(http.MethodPut, "/storage/kv/namespaces/"+id, map[string]string{"title": "sessions-v2"}))
		require.Equal(t, "sessions-v2", mustOK(t, h.call(http.MethodGet, "/storage/kv/namespaces/"+id, nil)).obj(t)["title"])
		mustFail(t, h.call(http.MethodPut, "/storage/kv/namespaces/nope", map[string]string{"title": "x"}), http.StatusNotFound, 10013)
		mustFail(t, h.call(http.MethodPut, "/storage/kv/namespaces/"+id, "{"), http.StatusBadRequest, 6007)
	})
	t.Run("delete", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/storage/kv/namespaces/"+other, nil))
		mustFail(t, h.call(http.MethodDelete, "/storage/kv/namespaces/"+other, nil), http.StatusNotFound, 10013)
		mustOK(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "cache"}))
	})
}
