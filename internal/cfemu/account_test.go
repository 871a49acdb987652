package cfemu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newAccountForTest(t *testing.T, stateFile string) *Account {
	t.Helper()
	a, err := newAccount(Config{Token: testToken, AccountID: testAccount, StateFile: stateFile})
	require.NoError(t, err)
	return a
}

func TestAccountErrorsCarryCloudflaresAnswer(t *testing.T) {
	a := newAccountForTest(t, "")
	_, err := a.CreateD1("db", "")
	require.NoError(t, err)
	_, err = a.CreateD1("db", "")
	var ae *Error
	require.True(t, errors.As(err, &ae), "%v", err)
	require.Equal(t, Error{Status: http.StatusBadRequest, Code: 7502, Message: "A database with that name already exists"}, *ae)

	rp := failWith(err)
	require.Equal(t, http.StatusBadRequest, rp.status)
	require.Equal(t, []apiError{{Code: 7502, Message: ae.Message}}, rp.errs)
	require.Equal(t, http.StatusInternalServerError, failWith(errors.New("disk on fire")).status, "an error that is no refusal is the emulator's own")
}

// A D1 query waits on its own database only: while one is stuck, the rest
// of the account, other databases included, answers.
func TestD1QueryDoesNotBlockTheAccount(t *testing.T) {
	a := newAccountForTest(t, "")
	busy, err := a.CreateD1("busy", "")
	require.NoError(t, err)
	other, err := a.CreateD1("other", "")
	require.NoError(t, err)

	db, err := a.d1.db(busy.UUID)
	require.NoError(t, err)
	conn, err := db.Conn(context.Background()) // takes the database's one connection
	require.NoError(t, err)
	queried := make(chan error, 1)
	go func() {
		_, err := a.QueryD1(context.Background(), busy.UUID, "SELECT 1", nil, false)
		queried <- err
	}()
	require.Eventually(t, func() bool { return db.Stats().WaitCount > 0 }, 5*time.Second, time.Millisecond, "the query waits for the connection")

	others := make(chan error, 1)
	go func() {
		_, err := a.CreateKVNamespace("kv")
		if err == nil {
			_, err = a.GetD1(context.Background(), other.UUID)
		}
		if err == nil {
			_, err = a.QueryD1(context.Background(), other.UUID, "SELECT 1", nil, false)
		}
		others <- err
	}()
	select {
	case err := <-others:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the account waited for another database's query")
	}
	require.NoError(t, conn.Close())
	require.NoError(t, <-queried)
}

// Calls of every kind at once, for the race detector.
func TestConcurrentCalls(t *testing.T) {
	h := newHarness(t)
	d1ID, _ := h.resources()
	mustOK(t, h.upload("api", nil))
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			name := fmt.Sprintf("w%d", i)
			mustOK(t, h.upload(name, map[string]any{"bindings": []any{map[string]any{"type": "d1", "name": "DB", "id": d1ID}}}))
			mustOK(t, h.call(http.MethodPut, "/workers/scripts/"+name+"/secrets", map[string]string{"name": "S", "text": name}))
			mustOK(t, h.call(http.MethodPatch, "/workers/scripts/"+name+"/script-settings", map[string]any{"tags": []string{name}}))
			mustOK(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": name}))
			mustOK(t, h.call(http.MethodPost, "/d1/database/"+d1ID+"/query", map[string]any{"sql": "SELECT ?", "params": []any{i}}))
			mustOK(t, h.call(http.MethodGet, "/queues", nil))
			mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/settings", nil))
			mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
			mustOK(t, h.call(http.MethodDelete, "/workers/scripts/"+name, nil))
		})
	}
	wg.Wait()
	var all []map[string]any
	mustOK(t, h.call(http.MethodGet, "/workers/scripts", nil)).into(t, &all)
	require.Len(t, all, 1)
}

// Close writes what a failed save left in memory, removes the code no
// script names and closes the SQLite handles.
func TestAccountClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	a := newAccountForTest(t, path)
	db, err := a.CreateD1("db", "")
	require.NoError(t, err)
	_, err = a.QueryD1(context.Background(), db.UUID, "CREATE TABLE t (x); INSERT INTO t VALUES (1)", nil, false)
	require.NoError(t, err)
	upload := func(code string) {
		t.Helper()
		_, err := a.UploadScript(ScriptUpload{Name: "api", Metadata: []byte(`{"main_module":"index.js"}`),
			Modules: []Module{{Name: "index.js", ContentType: "application/javascript+module", Body: []byte(code)}}})
		require.NoError(t, err)
	}
	upload("export default {} // v1")
	upload("export default {} // v2")
	codeDir := filepath.Join(dir, "state.data", "scripts")
	files, err := os.ReadDir(codeDir)
	require.NoError(t, err)
	require.Len(t, files, 2, "the replaced version's code stays until Close")

	// A save that fails leaves the change in memory; Close writes it. A
	// folder in the state file's place makes the save fail, even for root.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.MkdirAll(filepath.Join(path, "blocker"), 0o755))
	_, err = a.CreateKVNamespace("kv")
	var ae *Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 10001, ae.Code)
	require.NoError(t, os.RemoveAll(path))
	require.NoError(t, a.Close())

	files, err = os.ReadDir(codeDir)
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Empty(t, a.d1.open)
	again := newAccountForTest(t, path)
	require.Equal(t, a.st, again.st)
	rows, err := again.QueryD1(context.Background(), db.UUID, "SELECT x FROM t", nil, false)
	require.NoError(t, err)
	require.Equal(t, []map[string]any{{"x": int64(1)}}, rows[0].Results)
	require.NoError(t, again.Close())
}
