package cfemu

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// queryResult is one statement's answer, decoded as a client sees it.
type queryResult struct {
	Results any            `json:"results"`
	Success bool           `json:"success"`
	Meta    map[string]any `json:"meta"`
}

func (h *harness) newD1(name string) string {
	h.t.Helper()
	return mustOK(h.t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": name})).obj(h.t)["uuid"].(string)
}

func (h *harness) query(id, endpoint string, body any) []queryResult {
	h.t.Helper()
	var out []queryResult
	mustOK(h.t, h.call(http.MethodPost, "/d1/database/"+id+"/"+endpoint, body)).into(h.t, &out)
	return out
}

func TestD1Query(t *testing.T) {
	h := newHarness(t)
	id := h.newD1("notes")

	// Several statements: one result each, in order, with D1's meta block.
	res := h.query(id, "query", map[string]any{"sql": `
		CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body BLOB, score REAL);
		INSERT INTO notes (title, score) VALUES ('first; with a semicolon', 1.5);
		INSERT INTO notes (title) VALUES ('second');
		SELECT id, title, score FROM notes ORDER BY id;`})
	require.Len(t, res, 4)
	for _, r := range res {
		require.True(t, r.Success)
		for _, k := range []string{"served_by", "duration", "changes", "last_row_id", "changed_db", "size_after", "rows_read", "rows_written"} {
			require.Contains(t, r.Meta, k)
		}
	}
	require.Equal(t, []any{}, res[0].Results)
	require.Equal(t, true, res[0].Meta["changed_db"], "a schema change changes the database")
	require.EqualValues(t, 1, res[1].Meta["changes"])
	require.EqualValues(t, 1, res[1].Meta["last_row_id"])
	require.EqualValues(t, 2, res[2].Meta["last_row_id"])
	require.EqualValues(t, 1, res[2].Meta["rows_written"])
	require.Equal(t, []any{
		map[string]any{"id": float64(1), "title": "first; with a semicolon", "score": 1.5},
		map[string]any{"id": float64(2), "title": "second", "score": nil},
	}, res[3].Results)
	require.Equal(t, false, res[3].Meta["changed_db"])
	require.EqualValues(t, 0, res[3].Meta["changes"])
	require.EqualValues(t, 2, res[3].Meta["rows_read"])
	require.Greater(t, res[3].Meta["size_after"], float64(0))

	t.Run("params bind to the statement's markers", func(t *testing.T) {
		res := h.query(id, "query", map[string]any{"sql": "INSERT INTO notes (title, score) VALUES (?, ?)", "params": []any{"third", 2}})
		require.EqualValues(t, 3, res[0].Meta["last_row_id"])
		res = h.query(id, "query", map[string]any{"sql": "SELECT title, score, ?2 AS flag, ?3 AS empty FROM notes WHERE id = ?1", "params": []any{"3", true, nil}})
		require.Equal(t, []any{map[string]any{"title": "third", "score": float64(2), "flag": float64(1), "empty": nil}}, res[0].Results)
	})
	t.Run("raw answers columns and rows", func(t *testing.T) {
		res := h.query(id, "raw", map[string]any{"sql": "SELECT id, title FROM notes WHERE id < ? ORDER BY id; ", "params": []any{3}})
		require.Len(t, res, 1)
		require.Equal(t, map[string]any{
			"columns": []any{"id", "title"},
			"rows":    []any{[]any{float64(1), "first; with a semicolon"}, []any{float64(2), "second"}},
		}, res[0].Results)
		res = h.query(id, "raw", map[string]any{"sql": "SELECT x'0102ff' AS b; DELETE FROM notes WHERE id = 99"})
		require.Equal(t, map[string]any{"columns": []any{"b"}, "rows": []any{[]any{[]any{float64(1), float64(2), float64(255)}}}}, res[0].Results)
		require.Equal(t, map[string]any{"columns": []any{}, "rows": []any{}}, res[1].Results)
	})
	t.Run("dates stay text", func(t *testing.T) {
		res := h.query(id, "query", map[string]any{"sql": `CREATE TABLE log (at TIMESTAMP, day DATE);
			INSERT INTO log VALUES ('2026-11-01 10:00:00', '2026-11-01'), ('2026-11-01 10:00:00.25', NULL);
			SELECT at, day FROM log`})
		require.Equal(t, []any{
			map[string]any{"at": "2026-11-01 10:00:00", "day": "2026-11-01"},
			map[string]any{"at": "2026-11-01 10:00:00.25", "day": nil},
		}, res[2].Results)
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name         string
			body         any
			status, code int
			message      string
		}{
			{"syntax", map[string]any{"sql": "SELEC 1"}, 400, 7500, `near "SELEC": syntax error: SQLITE_ERROR`},
			{"missing table", map[string]any{"sql": "SELECT * FROM nope"}, 400, 7500, "no such table: nope: SQLITE_ERROR"},
			{"constraint", map[string]any{"sql": "INSERT INTO notes (id, title) VALUES (1, 'dup')"}, 400, 7500, "UNIQUE constraint failed: notes.id: SQLITE_CONSTRAINT"},
			{"not null", map[string]any{"sql": "INSERT INTO notes (title) VALUES (?)", "params": []any{nil}}, 400, 7500, "NOT NULL constraint failed: notes.title: SQLITE_CONSTRAINT"},
			{"no statement", map[string]any{"sql": " -- nothing\n"}, 400, 7400, "The request is malformed: sql must hold at least one SQL statement"},
			{"params with several statements", map[string]any{"sql": "SELECT ?; SELECT ?", "params": []any{1, 2}}, 400, 7400, "The request is malformed: params can only be bound to a single SQL statement, and sql holds 2"},
			{"object param", map[string]any{"sql": "SELECT ?", "params": []any{map[string]any{}}}, 400, 7400, "The request is malformed: params[0]: map[string]interface {} is not a string, number, boolean or null"},
			{"malformed JSON", "not an object", 400, 6007, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.call(http.MethodPost, "/d1/database/"+id+"/query", tt.body)
				mustFail(t, r, tt.status, tt.code)
				require.Equal(t, "null", string(r.env.Result))
				if tt.message != "" {
					require.Equal(t, tt.message, r.env.Errors[0].Message)
				}
			})
		}
		mustFail(t, h.call(http.MethodPost, "/d1/database/00000000-0000-4000-8000-000000000000/query", map[string]any{"sql": "SELECT 1"}), http.StatusNotFound, 7404)
		mustFail(t, h.call(http.MethodGet, "/d1/database/"+id+"/query", nil), http.StatusMethodNotAllowed, 10405)
	})
	t.Run("a failing statement undoes the whole request", func(t *testing.T) {
		r := h.call(http.MethodPost, "/d1/database/"+id+"/query", map[string]any{"sql": "CREATE TABLE tags (name TEXT); INSERT INTO notes (title) VALUES ('x'); SELEC 1"})
		mustFail(t, r, 400, 7500)
		res := h.query(id, "query", map[string]any{"sql": "SELECT count(*) AS n FROM notes; SELECT name FROM sqlite_master WHERE name = 'tags'"})
		require.Equal(t, []any{map[string]any{"n": float64(3)}}, res[0].Results)
		require.Equal(t, []any{}, res[1].Results)
	})
	t.Run("the database read reflects its tables", func(t *testing.T) {
		h.query(id, "query", map[string]any{"sql": "CREATE TABLE tags (name TEXT); DROP TABLE log"})
		db := mustOK(t, h.call(http.MethodGet, "/d1/database/"+id, nil)).obj(t)
		require.EqualValues(t, 2, db["num_tables"], "notes and tags; sqlite_sequence is SQLite's own")
		require.Greater(t, db["file_size"], float64(0))
		var list []map[string]any
		mustOK(t, h.call(http.MethodGet, "/d1/database?name=notes", nil)).into(t, &list)
		require.Equal(t, db["num_tables"], list[0]["num_tables"])
	})
}

// TestD1Files: with a state file, every database is a SQLite file beside it
// that survives a restart and goes with the database.
func TestD1Files(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	start := func() *harness {
		emu, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: state})
		require.NoError(t, err)
		h := &harness{t: t, emu: emu, srv: httptest.NewServer(emu)}
		t.Cleanup(h.srv.Close)
		return h
	}
	h := start()
	id := h.newD1("notes")
	h.query(id, "query", map[string]any{"sql": "CREATE TABLE notes (title TEXT); INSERT INTO notes VALUES ('kept')"})
	file := filepath.Join(dir, "state.d1", id+".sqlite")
	st, err := os.Stat(file)
	require.NoError(t, err)
	db := mustOK(t, h.call(http.MethodGet, "/d1/database/"+id, nil)).obj(t)
	require.EqualValues(t, st.Size(), db["file_size"], "file_size is the file's")
	require.EqualValues(t, 1, db["num_tables"])

	again := start()
	res := again.query(id, "query", map[string]any{"sql": "SELECT title FROM notes"})
	require.Equal(t, []any{map[string]any{"title": "kept"}}, res[0].Results)

	mustOK(t, again.call(http.MethodDelete, "/d1/database/"+id, nil))
	_, err = os.Stat(file)
	require.True(t, os.IsNotExist(err), "a deleted database's file is deleted")
}
