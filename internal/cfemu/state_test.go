package cfemu

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	emu, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	_, statErr := os.Stat(path)
	require.True(t, os.IsNotExist(statErr), "a missing state file is an empty state, not written until a change")

	h := &harness{t: t, emu: emu, srv: httptest.NewServer(emu)}
	t.Cleanup(h.srv.Close)
	d1ID, kvID := h.resources()
	mustOK(t, h.upload("api", map[string]any{
		"migrations": map[string]any{"new_tag": "v1", "new_classes": []string{"Room"}},
		"bindings": []any{
			map[string]any{"type": "d1", "name": "DB", "id": d1ID},
			map[string]any{"type": "secret_text", "name": "S", "text": "hunter2"},
		},
	}))
	qid := h.emu.acct.findQueue(byName, "jobs").ID
	mustOK(t, h.call(http.MethodPost, "/queues/"+qid+"/consumers", map[string]any{"script_name": "api"}))
	mustOK(t, h.call(http.MethodPut, "/workers/scripts/api/schedules", []map[string]string{{"cron": "0 * * * *"}}))
	mustOK(t, h.call(http.MethodPost, "/vectorize/v2/indexes/docs/metadata_index/create", map[string]string{"propertyName": "p", "indexType": "string"}))
	before := h.emu.acct.st

	// A restart: a new emulator on the same file sees the same state.
	again, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	require.Equal(t, before, again.acct.st)
	h2 := &harness{t: t, emu: again, srv: httptest.NewServer(again)}
	t.Cleanup(h2.srv.Close)
	mustOK(t, h2.call(http.MethodGet, "/d1/database/"+d1ID, nil))
	mustOK(t, h2.call(http.MethodGet, "/storage/kv/namespaces/"+kvID, nil))
	g := h2.call(http.MethodGet, "/workers/scripts/api", nil)
	require.Equal(t, http.StatusOK, g.status)
	require.Contains(t, string(g.raw), "export default")
	mustFail(t, h2.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "bucket"}), http.StatusConflict, 10004)

	t.Run("reads do not write", func(t *testing.T) {
		require.NoError(t, os.Remove(path))
		mustOK(t, h2.call(http.MethodGet, "/d1/database", nil))
		mustFail(t, h2.call(http.MethodPost, "/d1/database", map[string]string{"name": "db"}), http.StatusBadRequest, 7502)
		_, err := os.Stat(path)
		require.True(t, os.IsNotExist(err), "neither reads nor refused writes save")
		mustOK(t, h2.call(http.MethodPost, "/d1/database", map[string]string{"name": "db2"}))
		_, err = os.Stat(path)
		require.NoError(t, err, "a change saves")
	})
	t.Run("code is kept as files, not in the state file", func(t *testing.T) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NotContains(t, string(data), "export default")
		main := again.acct.st.Scripts["api"].Modules[0]
		code, err := os.ReadFile(filepath.Join(filepath.Dir(path), "state.data", "scripts", main.SHA256))
		require.NoError(t, err)
		require.Equal(t, main.Body, code)
	})
	t.Run("no temporary files left", func(t *testing.T) {
		entries, err := os.ReadDir(filepath.Dir(path))
		require.NoError(t, err)
		for _, e := range entries {
			require.Contains(t, []string{"state.json", "state.data"}, e.Name())
		}
		require.NoError(t, filepath.WalkDir(filepath.Dir(path), func(p string, _ os.DirEntry, err error) error {
			require.NotContains(t, filepath.Base(p), ".tmp-")
			return err
		}))
	})
}

// A state file written before code was kept as files holds the code
// inline; it still loads, and its code moves to files.
func TestStateWithInlineCode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	old := `{"workers_scripts": {"api": {"name": "api", "created_on": "2024-01-01T00:00:00.000000Z",
		"main_module": "index.js", "bindings": [], "schedules": [],
		"modules": [{"name": "index.js", "content_type": "application/javascript+module", "body": "ZXhwb3J0IGRlZmF1bHQge30="}]}}}`
	require.NoError(t, os.WriteFile(path, []byte(old), 0o600))
	emu, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	h := &harness{t: t, emu: emu, srv: httptest.NewServer(emu)}
	t.Cleanup(h.srv.Close)
	g := h.call(http.MethodGet, "/workers/scripts/api", nil)
	require.Equal(t, "export default {}", string(g.raw))

	mustOK(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "kv"}))
	again, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	require.Equal(t, emu.acct.st, again.acct.st, "after a save in the new format")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(data), "ZXhwb3J0IGRlZmF1bHQge30=")

	require.NoError(t, os.RemoveAll(filepath.Join(filepath.Dir(path), "state.data", "scripts")))
	_, err = New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.ErrorContains(t, err, "the code of script api, module index.js", "a state file naming code that is gone")
}

func TestStateFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o600))
	_, err := New(Config{Token: "t", AccountID: "a", StateFile: bad})
	require.ErrorContains(t, err, "parse state")

	_, err = New(Config{Token: "t", AccountID: "a", StateFile: dir})
	require.ErrorContains(t, err, "read state", "a directory is not a state file")

	// A state file that cannot be written is reported on the mutation.
	emu, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: filepath.Join(dir, "missing-dir", "s.json")})
	require.NoError(t, err)
	h := &harness{t: t, emu: emu, srv: httptest.NewServer(emu)}
	t.Cleanup(h.srv.Close)
	mustFail(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "x"}), http.StatusInternalServerError, 10001)
}
