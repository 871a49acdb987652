package cfemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScriptSecrets(t *testing.T) {
	h := newHarness(t)
	mustOK(t, h.upload("api", map[string]any{"bindings": []any{
		map[string]any{"type": "secret_text", "name": "OLD_KEY", "text": "hunter2"},
		map[string]any{"type": "plain_text", "name": "MODE", "text": "prod"},
	}}))
	list := func() []map[string]any {
		var out []map[string]any
		mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/secrets", nil)).into(t, &out)
		return out
	}

	t.Run("an upload that leaves a secret out keeps it", func(t *testing.T) {
		mustOK(t, h.upload("api", map[string]any{"bindings": []any{map[string]any{"type": "plain_text", "name": "MODE", "text": "dev"}}}))
		require.Equal(t, []map[string]any{{"name": "OLD_KEY", "type": "secret_text"}}, list(), "listed without its value")
		require.Equal(t, "hunter2", h.emu.acct.st.Scripts["api"].Bindings[1].str("text"))
	})
	t.Run("an upload naming the secret replaces it", func(t *testing.T) {
		mustOK(t, h.upload("api", map[string]any{"bindings": []any{map[string]any{"type": "plain_text", "name": "OLD_KEY", "text": "now plain"}}}))
		require.Empty(t, list())
		mustOK(t, h.upload("api", map[string]any{"bindings": []any{map[string]any{"type": "secret_text", "name": "OLD_KEY", "text": "hunter2"}}}))
	})
	t.Run("put adds and replaces, get reads without the value", func(t *testing.T) {
		r := mustOK(t, h.call(http.MethodPut, "/workers/scripts/api/secrets", map[string]string{"name": "NEW_KEY", "text": "v1", "type": "secret_text"})).obj(t)
		require.Equal(t, map[string]any{"name": "NEW_KEY", "type": "secret_text"}, r)
		mustOK(t, h.call(http.MethodPut, "/workers/scripts/api/secrets", map[string]string{"name": "NEW_KEY", "text": "v2", "type": "secret_text"}))
		require.Equal(t, []map[string]any{{"name": "OLD_KEY", "type": "secret_text"}, {"name": "NEW_KEY", "type": "secret_text"}}, list())
		require.Equal(t, "v2", h.emu.acct.st.Scripts["api"].Bindings[1].str("text"))
		got := mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/secrets/NEW_KEY", nil)).obj(t)
		require.Equal(t, map[string]any{"name": "NEW_KEY", "type": "secret_text"}, got)
	})
	t.Run("delete removes one secret; a second delete is 404", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/workers/scripts/api/secrets/OLD_KEY", nil))
		require.Equal(t, []map[string]any{{"name": "NEW_KEY", "type": "secret_text"}}, list())
		mustFail(t, h.call(http.MethodDelete, "/workers/scripts/api/secrets/OLD_KEY", nil), http.StatusNotFound, 10056)
		mustFail(t, h.call(http.MethodGet, "/workers/scripts/api/secrets/OLD_KEY", nil), http.StatusNotFound, 10056)
	})
	t.Run("refusals", func(t *testing.T) {
		mustOK(t, h.upload("api", map[string]any{"bindings": []any{map[string]any{"type": "plain_text", "name": "MODE", "text": "dev"}}}))
		mustFail(t, h.call(http.MethodPut, "/workers/scripts/api/secrets", map[string]string{"name": "MODE", "text": "x"}), http.StatusBadRequest, 10053)
		mustFail(t, h.call(http.MethodPut, "/workers/scripts/api/secrets", map[string]string{"name": "X"}), http.StatusBadRequest, 10021)
		mustFail(t, h.call(http.MethodDelete, "/workers/scripts/api/secrets/MODE", nil), http.StatusNotFound, 10056)
		mustFail(t, h.call(http.MethodGet, "/workers/scripts/nope/secrets", nil), http.StatusNotFound, 10007)
	})
}
