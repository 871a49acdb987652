package provider

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/migrations"
)

const (
	initSQL = "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\nCREATE INDEX notes_title ON notes (title);\n"
	tagsSQL = "-- tags are free text\nALTER TABLE notes ADD COLUMN tags TEXT;\n"
	seenSQL = "CREATE TABLE seen (note_id INTEGER REFERENCES notes (id), at TEXT);\n"
)

// wranglerTable is the table `wrangler d1 migrations apply` creates.
const wranglerTable = `CREATE TABLE IF NOT EXISTS d1_migrations(
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT UNIQUE,
	applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`

func files(pairs ...string) property.Value {
	var vs []property.Value
	for i := 0; i < len(pairs); i += 2 {
		vs = append(vs, obj(map[string]property.Value{"name": str(pairs[i]), "sql": str(pairs[i+1])}))
	}
	return arr(vs...)
}

func migrationInputs(db string, fs property.Value) map[string]property.Value {
	return map[string]property.Value{"databaseId": str(db), "migrations": fs}
}

// newDatabase creates a D1 database as the official provider would.
func (e *env) newDatabase(name string) string {
	return e.fixture("POST", "/d1/database", `{"name":"`+name+`"}`)["uuid"].(string)
}

// sql runs a query the way a person with wrangler would, and returns the
// last statement's rows.
func (e *env) sql(db, query string) []map[string]any {
	e.t.Helper()
	res, err := e.client().QueryD1(e.t.Context(), db, query)
	require.NoError(e.t, err)
	return res[len(res)-1].Results
}

func (e *env) tables(db string) []any {
	e.t.Helper()
	var out []any
	for _, row := range e.sql(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
		out = append(out, row["name"])
	}
	return out
}

func (e *env) recorded(db, table string) []any {
	e.t.Helper()
	var out []any
	for _, row := range e.sql(db, "SELECT name FROM "+table+" ORDER BY id") {
		out = append(out, row["name"])
	}
	return out
}

func applied(pairs ...string) property.Value {
	var vs []property.Value
	for i := 0; i < len(pairs); i += 2 {
		vs = append(vs, obj(map[string]property.Value{"name": str(pairs[i]), "checksum": str(migrations.Checksum(pairs[i+1]))}))
	}
	return arr(vs...)
}

func queries(e *env, db string) int {
	n := 0
	for _, c := range e.calls() {
		if c.Method == "POST" && c.Path == "/d1/database/"+db+"/query" {
			n++
		}
	}
	return n
}

func TestD1MigrationsLifecycle(t *testing.T) {
	e := newEnv(t)
	db := e.newDatabase("silo-dev")
	m := e.resource("D1Migrations", "silo")

	// A fresh database: the table, then one query per file.
	e.emu.ResetLog()
	created := m.create(migrationInputs(db, files("0002_tags.sql", tagsSQL, "0001_init.sql", initSQL)))
	require.Equal(t, db, created.ID)
	require.Equal(t, 3, queries(e, db))
	require.Len(t, e.calls(), 3)
	require.Equal(t, []any{"d1_migrations", "notes"}, e.tables(db))
	require.Equal(t, []any{"0001_init.sql", "0002_tags.sql"}, e.recorded(db, "d1_migrations"))
	require.Equal(t, applied("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL), created.Properties.Get("applied"))
	e.sql(db, "INSERT INTO notes (title, tags) VALUES ('hello', 'x')")

	// Nothing pending: no change, and nothing sent.
	e.emu.ResetLog()
	d, _ := m.diff(migrationInputs(db, files("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL)))
	require.False(t, d.HasChanges)
	require.Empty(t, e.calls())

	// A second deploy applies only the new file, which the diff names.
	d, _ = m.diff(migrationInputs(db, files("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL, "0003_seen.sql", seenSQL)))
	require.Equal(t, map[string]p.PropertyDiff{"migrations[2]": {Kind: p.Add, InputDiff: true}}, d.DetailedDiff)
	e.emu.ResetLog()
	updated := m.update(migrationInputs(db, files("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL, "0003_seen.sql", seenSQL)), "migrations[2]")
	require.Equal(t, 2, queries(e, db), "the table read, then the one new file")
	require.Equal(t, []any{"0001_init.sql", "0002_tags.sql", "0003_seen.sql"}, e.recorded(db, "d1_migrations"))
	require.Equal(t, applied("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL, "0003_seen.sql", seenSQL), updated.Properties.Get("applied"))
	require.Equal(t, []map[string]any{{"title": "hello", "tags": "x"}}, e.sql(db, "SELECT title, tags FROM notes"), "data survives migrations")

	m.requireNoRefreshDiff()

	// Deleting the resource drops nothing and sends nothing.
	e.emu.ResetLog()
	m.delete()
	require.Empty(t, e.calls())
	require.Equal(t, []any{"d1_migrations", "notes", "seen"}, e.tables(db))
}

func TestD1MigrationsAppendOnly(t *testing.T) {
	e := newEnv(t)
	db := e.newDatabase("silo-dev")
	m := e.resource("D1Migrations", "silo")
	m.create(migrationInputs(db, files("0001_init.sql", initSQL, "0003_seen.sql", seenSQL)))
	recorded := migrations.Checksum(initSQL)

	tests := []struct {
		name  string
		files property.Value
		want  []string
	}{
		{"changed applied file", files("0001_init.sql", initSQL+"CREATE TABLE extra (x);", "0003_seen.sql", seenSQL), []string{
			"migration 0001_init.sql has changed since it was applied (recorded checksum " + recorded + ", now " + migrations.Checksum(initSQL+"CREATE TABLE extra (x);") + ")",
		}},
		{"deleted applied file", files("0003_seen.sql", seenSQL), []string{
			"migration 0001_init.sql is applied (recorded checksum " + recorded + ") but no longer in the migrations folder",
		}},
		{"new file before an applied one", files("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL, "0003_seen.sql", seenSQL), []string{
			"migration 0002_tags.sql is new but sorts before 0003_seen.sql, which is already applied",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checked := m.checkOK(migrationInputs(db, tt.files))
			e.emu.ResetLog()
			_, err := e.server.Diff(p.DiffRequest{ID: m.id, Urn: m.urn, State: m.state, Inputs: checked, OldInputs: m.inputs})
			for _, want := range tt.want {
				require.ErrorContains(t, err, want)
			}
			// Update refuses too, should the engine get that far.
			_, err = e.server.Update(p.UpdateRequest{ID: m.id, Urn: m.urn, State: m.state, Inputs: checked, OldInputs: m.inputs})
			require.ErrorContains(t, err, tt.want[0])
			require.Empty(t, e.calls(), "refused before any request")
		})
	}
	require.Equal(t, []any{"d1_migrations", "notes", "seen"}, e.tables(db))
}

func TestD1MigrationsFailureResumes(t *testing.T) {
	e := newEnv(t)
	db := e.newDatabase("silo-dev")
	m := e.resource("D1Migrations", "silo")
	bad := "CREATE TABLE tags (name TEXT PRIMARY KEY);\nALTER TABLE notes ADD COLUMN tags TXT NOT NUL;\nCREATE INDEX notes_tags ON notes (tags);\n"

	checked := m.checkOK(migrationInputs(db, files("0001_init.sql", initSQL, "0002_tags.sql", bad, "0003_seen.sql", seenSQL)))
	resp, err := e.server.Create(p.CreateRequest{Urn: m.urn, Properties: checked})
	require.Error(t, err)
	require.NotNil(t, resp.PartialState, "the resource exists, with what was applied")
	reason := resp.PartialState.Reasons[0]
	require.Contains(t, reason, "migration 0002_tags.sql failed")
	require.Contains(t, reason, `at statement "ALTER TABLE notes ADD COLUMN tags TXT NOT NUL"`)
	require.Contains(t, reason, `D1 says: near "NUL": syntax error: SQLITE_ERROR (code 7500)`)
	require.Contains(t, reason, "applied and recorded: 0001_init.sql")
	require.Contains(t, reason, "fix 0002_tags.sql and deploy again to resume from it")
	require.Equal(t, applied("0001_init.sql", initSQL), resp.Properties.Get("applied"))
	require.Equal(t, []any{"d1_migrations", "notes"}, e.tables(db), "nothing of the failing file stays, and nothing after it ran")
	require.Equal(t, []any{"0001_init.sql"}, e.recorded(db, "d1_migrations"))
	m.id, m.inputs, m.state = resp.ID, checked, resp.Properties

	// The fixed file, and the one after it, apply on the next deploy.
	fixed := "CREATE TABLE tags (name TEXT PRIMARY KEY);\nALTER TABLE notes ADD COLUMN tags TEXT NOT NULL DEFAULT '';\nCREATE INDEX notes_tags ON notes (tags);\n"
	updated := m.update(migrationInputs(db, files("0001_init.sql", initSQL, "0002_tags.sql", fixed, "0003_seen.sql", seenSQL)), "migrations[1]", "migrations[2]")
	require.Equal(t, applied("0001_init.sql", initSQL, "0002_tags.sql", fixed, "0003_seen.sql", seenSQL), updated.Properties.Get("applied"))
	require.Equal(t, []any{"0001_init.sql", "0002_tags.sql", "0003_seen.sql"}, e.recorded(db, "d1_migrations"))
	require.Equal(t, []any{"d1_migrations", "notes", "seen", "tags"}, e.tables(db))
}

// TestD1MigrationsTrailingComment: a file whose last statement ends in a
// comment, with no semicolon, applies as wrangler applies it.
func TestD1MigrationsTrailingComment(t *testing.T) {
	e := newEnv(t)
	db := e.newDatabase("silo-dev")
	m := e.resource("D1Migrations", "silo")
	sql := "CREATE TABLE notes (id INTEGER PRIMARY KEY) -- the notes"
	created := m.create(migrationInputs(db, files("0001_init.sql", sql)))
	require.Equal(t, applied("0001_init.sql", sql), created.Properties.Get("applied"))
	require.Equal(t, []any{"d1_migrations", "notes"}, e.tables(db))
	require.Equal(t, []any{"0001_init.sql"}, e.recorded(db, "d1_migrations"))
}

func TestD1MigrationsAdoptsWrangler(t *testing.T) {
	e := newEnv(t)
	db := e.newDatabase("silo-dev")
	// wrangler d1 migrations apply ran 0001 before this program existed.
	e.sql(db, wranglerTable+";\n"+initSQL+"INSERT INTO d1_migrations (name) VALUES ('0001_init.sql');")
	m := e.resource("D1Migrations", "silo")

	e.emu.ResetLog()
	created := m.create(migrationInputs(db, files("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL)))
	require.Equal(t, 2, queries(e, db), "the table read and 0002; 0001 is not applied again")
	require.Equal(t, applied("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL), created.Properties.Get("applied"))
	rows := e.sql(db, "SELECT id, name, applied_at FROM d1_migrations ORDER BY id")
	require.Len(t, rows, 2)
	require.Equal(t, "0002_tags.sql", rows[1]["name"], "wrangler sees what the program applied")
	require.NotEmpty(t, rows[1]["applied_at"])
}

func TestD1MigrationsTableOverride(t *testing.T) {
	e := newEnv(t)
	db := e.newDatabase("silo-dev")
	m := e.resource("D1Migrations", "silo")
	in := migrationInputs(db, files("0001_init.sql", initSQL))
	in["table"] = str("schema_history")
	m.create(in)
	require.Equal(t, []any{"notes", "schema_history"}, e.tables(db))
	require.Equal(t, []any{"0001_init.sql"}, e.recorded(db, "schema_history"))

	// Another table is another history: a replacement.
	in["table"] = str("d1_migrations")
	d, _ := m.diff(in)
	require.Equal(t, p.UpdateReplace, d.DetailedDiff["table"].Kind)

	t.Run("bad names are refused at check", func(t *testing.T) {
		in := migrationInputs(db, files("init.sql", initSQL, "0001_a.sql", initSQL, "0001_a.sql", initSQL))
		in["table"] = str("x; DROP TABLE notes")
		resp := m.check(in)
		var reasons []string
		for _, f := range resp.Failures {
			reasons = append(reasons, f.Property+": "+f.Reason)
		}
		require.ElementsMatch(t, []string{
			`table: table "x; DROP TABLE notes" is not a plain SQL identifier (letters, digits and _, not starting with a digit)`,
			`migrations[0].name: "init.sql" is not named NNNN_name.sql`,
			`migrations[2].name: 0001_a.sql is given twice`,
		}, reasons)
	})
}
