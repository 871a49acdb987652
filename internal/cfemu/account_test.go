package cfemu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
