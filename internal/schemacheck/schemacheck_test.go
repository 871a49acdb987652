package schemacheck

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/migrations"
)

const notes = "CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT NOT NULL);\n"

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		files []migrations.File
		want  string // the *migrations.StatementError, "" for none
	}{
		{
			name:  "a syntax error, at the line its statement starts on",
			files: []migrations.File{{Name: "0001_init.sql", SQL: notes}, {Name: "0002_tags.sql", SQL: "-- tags on notes\n\nCREATE TABEL tags (\n  note_id TEXT\n);\n"}},
			want:  `0002_tags.sql:3: near "TABEL": syntax error`,
		},
		{
			name:  "a table no earlier file creates",
			files: []migrations.File{{Name: "0001_init.sql", SQL: notes}, {Name: "0002_links.sql", SQL: "CREATE TABLE links (from_id TEXT, to_id TEXT);\nCREATE INDEX links_to ON linkz (to_id);\n"}},
			want:  "0002_links.sql:2: no such table: main.linkz",
		},
		{
			name:  "what an earlier file already did",
			files: []migrations.File{{Name: "0001_init.sql", SQL: notes}, {Name: "0002_again.sql", SQL: notes}},
			want:  "0002_again.sql:1: table notes already exists",
		},
		{
			name: "foreign keys are enforced, as D1 enforces them",
			files: []migrations.File{{Name: "0001_init.sql", SQL: notes + "CREATE TABLE tags (note_id TEXT NOT NULL REFERENCES notes (id), tag TEXT);\n"},
				{Name: "0002_seed.sql", SQL: "INSERT INTO notes VALUES ('n1', 'first');\nINSERT INTO tags VALUES ('n2', 'x');\n"}},
			want: "0002_seed.sql:2: FOREIGN KEY constraint failed",
		},
		{
			name: "a deferred foreign key fails the file at its end",
			files: []migrations.File{{Name: "0001_init.sql", SQL: notes + "CREATE TABLE tags (note_id TEXT NOT NULL REFERENCES notes (id), tag TEXT);\n"},
				{Name: "0002_seed.sql", SQL: "PRAGMA defer_foreign_keys = on;\nINSERT INTO tags VALUES ('n2', 'x');\n-- the note is never written\n"}},
			want: "0002_seed.sql:3: at the end of the file: FOREIGN KEY constraint failed",
		},
		{
			name:  "a file runs in one transaction, as D1 runs its batch",
			files: []migrations.File{{Name: "0001_init.sql", SQL: "BEGIN;\n" + notes + "COMMIT;\n"}},
			want:  "0001_init.sql:1: cannot start a transaction within a transaction",
		},
		{
			name: "split as the deploy splits: a trigger's body and semicolons in strings",
			files: []migrations.File{{Name: "0001_init.sql", SQL: notes + "CREATE TABLE log (msg TEXT);\n" +
				"CREATE TRIGGER notes_log AFTER INSERT ON notes BEGIN\n  INSERT INTO log VALUES ('added; ' || new.id);\nEND;\n" +
				"INSERT INTO notes VALUES ('n1', 'a;b');\n"}},
		},
		{name: "no files", files: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(tt.files)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			var se *migrations.StatementError
			require.ErrorAs(t, err, &se)
			require.EqualError(t, err, tt.want)
		})
	}
}

// The example stack's own migrations apply.
func TestRunExampleMigrations(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		files, err := migrations.Read(dir)
		require.NoError(t, err)
		require.NoError(t, Run(files), dir)
	}
}

// BenchmarkRun checks the example stack's migrations, as validation does
// once per database on every run.
func BenchmarkRun(b *testing.B) {
	var all [][]migrations.File
	for _, dir := range exampleDirs(b) {
		files, err := migrations.Read(dir)
		require.NoError(b, err)
		all = append(all, files)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, files := range all {
			if err := Run(files); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func exampleDirs(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob("../../testdata/services/*/migrations")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	return dirs
}
