package cfemu

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/dome/infra/internal/sqlstmt"
)

// d1Files holds the SQLite database behind each D1 database: a file per
// database in dir when the emulator persists its state, else one in memory.
// Queries run outside the account's lock: each database takes one query at
// a time on its one connection, and mu guards only the handles.
type d1Files struct {
	dir     string // "" keeps every database in memory
	mu      sync.Mutex
	open    map[string]*sql.DB // by database uuid
	removed map[string]bool    // deleted databases, which a late query must not bring back
}

// d1Dir is where the databases of a state file live: beside it, named after it.
func d1Dir(stateFile string) string {
	if stateFile == "" {
		return ""
	}
	return strings.TrimSuffix(stateFile, filepath.Ext(stateFile)) + ".d1"
}

func (f *d1Files) path(uuid string) string { return filepath.Join(f.dir, uuid+".sqlite") }

// db opens (once) the SQLite database of a D1 database.
func (f *d1Files) db(uuid string) (*sql.DB, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removed[uuid] {
		return nil, fmt.Errorf("database %s was deleted", uuid)
	}
	if db, ok := f.open[uuid]; ok {
		return db, nil
	}
	dsn := ":memory:"
	if f.dir != "" {
		if err := os.MkdirAll(f.dir, 0o755); err != nil {
			return nil, err
		}
		dsn = "file:" + f.path(uuid)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: an in-memory database lives exactly as long as its
	// connection, and a query's statements must share one anyway.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if f.open == nil {
		f.open = map[string]*sql.DB{}
	}
	f.open[uuid] = db
	return db, nil
}

// close closes every open database; a file database keeps its data.
func (f *d1Files) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for uuid, db := range f.open {
		errs = append(errs, db.Close())
		delete(f.open, uuid)
	}
	return errors.Join(errs...)
}

// remove closes and deletes the database of a deleted D1 database.
func (f *d1Files) remove(uuid string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removed == nil {
		f.removed = map[string]bool{}
	}
	f.removed[uuid] = true
	if db, ok := f.open[uuid]; ok {
		delete(f.open, uuid)
		if err := db.Close(); err != nil {
			return err
		}
	}
	if f.dir == "" {
		return nil
	}
	for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
		if err := os.Remove(f.path(uuid) + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// stats reads what D1 reports of a database's contents: its size in bytes
// (the file's, when there is one) and its number of tables, SQLite's own and
// Cloudflare's internal ones excluded.
func (f *d1Files) stats(ctx context.Context, uuid string) (size int64, tables int, err error) {
	if f.dir != "" {
		st, err := os.Stat(f.path(uuid))
		if errors.Is(err, fs.ErrNotExist) {
			return 0, 0, nil // never written to: D1's empty database
		}
		if err != nil {
			return 0, 0, err
		}
		size = st.Size()
	}
	db, err := f.db(uuid)
	if err != nil {
		return 0, 0, err
	}
	err = db.QueryRowContext(ctx, d1TablesSQL).Scan(&tables)
	if err != nil {
		return 0, 0, err
	}
	if f.dir == "" {
		size, err = pageBytes(ctx, db)
	}
	return size, tables, err
}

// d1TablesSQL counts a database's tables, SQLite's own and Cloudflare's
// internal ones excluded, as D1 reports num_tables.
const d1TablesSQL = `SELECT count(*) FROM sqlite_master WHERE type = 'table'
	AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\'`

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// pageBytes is the database's size as SQLite counts it: pages times page size.
func pageBytes(ctx context.Context, q querier) (int64, error) {
	var pages, pageSize int64
	if err := q.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, err
	}
	if err := q.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, err
	}
	return pages * pageSize, nil
}

// d1Meta is D1's per-statement meta block.
type d1Meta struct {
	ServedBy    string  `json:"served_by"`
	Duration    float64 `json:"duration"` // milliseconds
	Changes     int64   `json:"changes"`
	LastRowID   int64   `json:"last_row_id"`
	ChangedDB   bool    `json:"changed_db"`
	SizeAfter   int64   `json:"size_after"`
	RowsRead    int64   `json:"rows_read"`
	RowsWritten int64   `json:"rows_written"`
}

// d1Result is one statement's entry in a query answer. Results is a list of
// row objects for /query, and {columns, rows} for /raw.
type d1Result struct {
	Results any    `json:"results"`
	Success bool   `json:"success"`
	Meta    d1Meta `json:"meta"`
}

type d1RawRows struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// QueryD1 runs sql, one or more statements, on a database, as one
// transaction the way D1 runs a batch: when one statement fails, none of
// them stays applied. params bind to a single statement; they are JSON
// values (json.Number, float64 or an integer for numbers). raw answers each
// statement's rows as {columns, rows} instead of row objects.
func (a *Account) QueryD1(ctx context.Context, id, sql string, params []any, raw bool) ([]d1Result, error) {
	var found bool
	a.view(func() { found = a.st.D1[id] != nil })
	if !found {
		return nil, d1NotFound(id)
	}
	stmts := sqlstmt.Split(sql)
	if len(stmts) == 0 {
		return nil, refuse(http.StatusBadRequest, 7400, "The request is malformed: sql must hold at least one SQL statement")
	}
	// Where Cloudflare's behaviour is undocumented the emulator refuses
	// rather than guess which statement the parameters belong to.
	if len(params) > 0 && len(stmts) > 1 {
		return nil, refuse(http.StatusBadRequest, 7400, "The request is malformed: params can only be bound to a single SQL statement, and sql holds %d", len(stmts))
	}
	if rt := a.runtime(); rt != nil {
		return a.queryD1Runtime(ctx, rt, id, stmts, params, raw)
	}
	args := make([]any, len(params))
	for i, p := range params {
		v, err := bindValue(p)
		if err != nil {
			return nil, refuse(http.StatusBadRequest, 7400, "The request is malformed: params[%d]: %v", i, err)
		}
		args[i] = v
	}
	db, err := a.d1.db(id)
	if err != nil {
		return nil, refuse(http.StatusInternalServerError, 7500, "could not open the database: %v", err)
	}
	results, err := runStatements(ctx, db, stmts, args, raw)
	if err != nil {
		return nil, d1SQLError(err)
	}
	return results, nil
}

// queryD1Runtime runs a query on the runtime's copy of the database, the
// one its workers' D1 bindings use.
func (a *Account) queryD1Runtime(ctx context.Context, rt Runtime, id string, stmts []string, params []any, raw bool) ([]d1Result, error) {
	batch := make([]D1Statement, len(stmts))
	for i, stmt := range stmts {
		batch[i] = D1Statement{SQL: stmt, Params: []any{}}
	}
	if len(params) > 0 {
		batch[0].Params = params
	}
	answers, err := rt.QueryD1(ctx, id, batch, raw)
	if err != nil {
		return nil, runtimeFailed("run the query", err)
	}
	out := make([]d1Result, len(answers))
	for i, ans := range answers {
		if err := json.Unmarshal(ans, &out[i]); err != nil {
			return nil, runtimeFailed("run the query", err)
		}
	}
	return out, nil
}

// d1Query answers POST .../d1/database/{id}/query (raw false) and .../raw.
func (e *Emulator) d1Query(raw bool) func(*call) reply {
	return func(c *call) reply {
		var in struct {
			SQL    string `json:"sql"`
			Params []any  `json:"params"`
		}
		dec := json.NewDecoder(bytes.NewReader(c.body))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			return fail(http.StatusBadRequest, 6007, "Malformed JSON in request body: %v", err)
		}
		return answer(e.acct.QueryD1(c.r.Context(), c.r.PathValue("id"), in.SQL, in.Params, raw))
	}
}

// bindValue turns a JSON parameter into a SQLite value.
func bindValue(p any) (any, error) {
	switch v := p.(type) {
	case nil, string:
		return v, nil
	case bool:
		if v {
			return int64(1), nil
		}
		return int64(0), nil
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, nil
		}
		return v.Float64()
	case float64, int64:
		return v, nil
	case int:
		return int64(v), nil
	}
	return nil, fmt.Errorf("%T is not a string, number, boolean or null", p)
}

func runStatements(ctx context.Context, db *sql.DB, stmts []string, args []any, raw bool) ([]d1Result, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	out := make([]d1Result, 0, len(stmts))
	for _, stmt := range stmts {
		res, err := runStatement(ctx, tx, stmt, args, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, tx.Commit()
}

func runStatement(ctx context.Context, tx *sql.Tx, stmt string, args []any, raw bool) (d1Result, error) {
	var changesBefore, schemaBefore int64
	if err := tx.QueryRowContext(ctx, "SELECT total_changes(), (SELECT schema_version FROM pragma_schema_version)").Scan(&changesBefore, &schemaBefore); err != nil {
		return d1Result{}, err
	}
	start := time.Now()
	rows, err := tx.QueryContext(ctx, stmt, args...)
	if err != nil {
		return d1Result{}, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return d1Result{}, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return d1Result{}, err
	}
	var table [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return d1Result{}, err
		}
		for i, v := range vals {
			vals[i] = jsonValue(v, types[i].DatabaseTypeName())
		}
		table = append(table, vals)
	}
	if err := rows.Close(); err != nil {
		return d1Result{}, err
	}
	if err := rows.Err(); err != nil {
		return d1Result{}, err
	}
	elapsed := time.Since(start)

	var changesAfter, schemaAfter, lastRowID int64
	if err := tx.QueryRowContext(ctx, "SELECT total_changes(), (SELECT schema_version FROM pragma_schema_version), last_insert_rowid()").Scan(&changesAfter, &schemaAfter, &lastRowID); err != nil {
		return d1Result{}, err
	}
	size, err := pageBytes(ctx, tx)
	if err != nil {
		return d1Result{}, err
	}
	changes := changesAfter - changesBefore
	res := d1Result{Success: true, Meta: d1Meta{
		ServedBy:    "cfemu",
		Duration:    float64(elapsed.Microseconds()) / 1000,
		Changes:     changes,
		LastRowID:   lastRowID,
		ChangedDB:   changes > 0 || schemaAfter != schemaBefore,
		SizeAfter:   size,
		RowsRead:    int64(len(table)),
		RowsWritten: changes,
	}}
	if raw {
		if table == nil {
			table = [][]any{}
		}
		res.Results = d1RawRows{Columns: cols, Rows: table}
		return res, nil
	}
	objs := make([]map[string]any, 0, len(table))
	for _, row := range table {
		obj := make(map[string]any, len(cols))
		for i, c := range cols {
			obj[c] = row[i]
		}
		objs = append(objs, obj)
	}
	res.Results = objs
	return res, nil
}

// jsonValue is a SQLite value as D1 sends it: a blob is an array of bytes,
// and text stays text. The driver hands text in DATE, DATETIME and TIMESTAMP
// columns over as a time.Time; it goes back to text in SQLite's own formats,
// those of date() and of datetime() and CURRENT_TIMESTAMP.
func jsonValue(v any, declType string) any {
	switch x := v.(type) {
	case time.Time:
		_, offset := x.Zone()
		switch {
		case declType == "DATE" && offset == 0 && x.Equal(x.Truncate(24*time.Hour)):
			return x.Format(time.DateOnly)
		case offset != 0:
			return x.Format("2006-01-02 15:04:05.999999999-07:00")
		}
		return x.Format("2006-01-02 15:04:05.999999999")
	case []byte:
		out := make([]int, len(x))
		for i, b := range x {
			out[i] = int(b)
		}
		return out
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil // JSON has no such numbers
		}
	}
	return v
}

// d1SQLError is D1's answer to SQL it cannot run: HTTP 400, code 7500, and
// SQLite's message followed by its result code name, e.g.
// `no such table: notes: SQLITE_ERROR`.
func d1SQLError(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return refuse(http.StatusBadRequest, 7500, "%v", err)
	}
	return refuse(http.StatusBadRequest, 7500, "%s: %s", sqliteMessage(se), sqliteCodeName(se.Code()))
}

// sqliteMessage is SQLite's own message, without the driver's wrapping
// ("SQL logic error: no such table: x (1)" holds "no such table: x").
func sqliteMessage(se *sqlite.Error) string {
	msg := se.Error()
	msg = strings.TrimSuffix(msg, fmt.Sprintf(" (%d)", se.Code()))
	if _, rest, found := strings.Cut(msg, ": "); found {
		msg = rest
	}
	return msg
}

// sqliteCodeName names a result code's primary code, as D1 does.
func sqliteCodeName(code int) string {
	names := map[int]string{
		1: "SQLITE_ERROR", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY", 9: "SQLITE_INTERRUPT", 11: "SQLITE_CORRUPT",
		13: "SQLITE_FULL", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 23: "SQLITE_AUTH", 25: "SQLITE_RANGE",
	}
	if name, ok := names[code&0xff]; ok {
		return name
	}
	return fmt.Sprintf("SQLITE_ERROR(%d)", code)
}
