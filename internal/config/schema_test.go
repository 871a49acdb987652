package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/schemacheck"
)

// TestMigrationsRun: with CheckSchema, each database's migrations run in
// order on an empty database, and the first statement that fails is
// reported at its file and line, beside every other problem.
func TestMigrationsRun(t *testing.T) {
	const fix = ", running the files in order on an empty SQLite database; D1 would stop the deploy here, after applying the files before it; fix the statement"
	tests := []struct {
		name  string
		files map[string]string // under the services root
		edits map[string][][2]string
		want  []string // ROOT is the services root; none when the stack loads
	}{
		{
			name:  "a misspelt keyword",
			files: map[string]string{"meta/migrations/0002_notes.sql": "-- notes, by account\nCREATE TABEL notes (\n  id TEXT PRIMARY KEY\n);\n"},
			want:  []string{`ROOT/meta/migrations/0002_notes.sql:2: dome:topology.d1Databases[meta].migrationsDir: near "TABEL": syntax error` + fix},
		},
		{
			name: "every database, and the other problems, at once",
			files: map[string]string{
				"meta/migrations/0002_notes.sql": "CREATE TABLE notes (id TEXT PRIMARY KEY, account_id TEXT REFERENCES accounts (id));\nCREATE INDEX notes_account ON notes (acount_id);\n",
				"meta/migrations/0003_later.sql": "CREATE TABEL never_reached (x);\n",
				"logs/migrations/0001_init.sql":  "CREATE TABLE entries (at INTEGER);\n",
				"logs/migrations/0002_again.sql": "\n\nCREATE TABLE entries (at INTEGER);\n",
				"clean/migrations/0001_init.sql": "CREATE TABLE t (x);\n",
				"broken/migrations/0001_a.sql":   "CREATE TABEL a (x);\n",
				"broken/migrations/0001_b.sql":   "CREATE TABLE b (x);\n",
			},
			edits: map[string][][2]string{
				"Pulumi.yaml": {{"          migrationsDir: meta/migrations\n", `          migrationsDir: meta/migrations
        - {name: logs, migrationsDir: logs/migrations}
        - {name: clean, migrationsDir: clean/migrations}
        - {name: broken, migrationsDir: broken/migrations}
`}},
				"Pulumi.test.yaml": {{"  count: 3", "  dome:logLevel: loud"}},
			},
			want: []string{
				`Pulumi.test.yaml:8:3: dome:logLevel: "loud" is not a log level; use one of debug, info, warn, error`,
				`ROOT/meta/migrations/0002_notes.sql:2: dome:topology.d1Databases[meta].migrationsDir: no such column: acount_id` + fix,
				`ROOT/logs/migrations/0002_again.sql:3: dome:topology.d1Databases[logs].migrationsDir: table entries already exists` + fix,
				// A history with a problem is not run: a file could fail for want of one left out.
				`Pulumi.yaml:17:26: dome:topology.d1Databases[broken].migrationsDir: 0001_a.sql and 0001_b.sql share the number 0001, so their order is ambiguous; give 0001_b.sql the next free number`,
			},
		},
		{
			name:  "files that apply",
			files: map[string]string{"meta/migrations/0002_notes.sql": "-- a trigger's body holds semicolons\nCREATE TABLE notes (id TEXT);\nCREATE TABLE log (id TEXT);\nCREATE TRIGGER notes_log AFTER INSERT ON notes BEGIN\n  INSERT INTO log VALUES (new.id);\nEND;\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			require.NoError(t, os.CopyFS(root, os.DirFS("testdata/services")))
			for name, text := range tt.files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(text), 0o644))
			}
			v, err := readStack(t, writeStack(t, tt.edits), root)
			require.NoError(t, err)
			c, err := Load(v, goodEnv, CheckSchema(schemacheck.Run))
			if tt.want == nil {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			var ps Problems
			require.ErrorAs(t, err, &ps)
			got := make([]string, len(ps))
			for i, p := range ps {
				got[i] = strings.ReplaceAll(p.String(), root, "ROOT")
			}
			require.Equal(t, tt.want, got)
		})
	}
}
