package migrations

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	return dir
}

func TestRead(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"0002_add_tags.sql":  "ALTER TABLE notes ADD COLUMN tags TEXT;",
		"0001_init.sql":      "CREATE TABLE notes (id INTEGER PRIMARY KEY);",
		"README.md":          "not a migration",
		"drafts/0003_x.sql":  "a subfolder is not read",
		"0010_later-one.sql": "CREATE INDEX notes_tags ON notes (tags);",
	})
	files, err := Read(dir)
	require.NoError(t, err)
	require.Equal(t, []File{
		{"0001_init.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY);"},
		{"0002_add_tags.sql", "ALTER TABLE notes ADD COLUMN tags TEXT;"},
		{"0010_later-one.sql", "CREATE INDEX notes_tags ON notes (tags);"},
	}, files)
	scanned, probs := Scan(dir)
	require.Empty(t, probs)
	require.Equal(t, files, scanned)
}

func TestScan(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"bad names", map[string]string{"init.sql": "SELECT 1;", "01_x.sql": "SELECT 1;", "0001 init.sql": "SELECT 1;"}, []string{
			"0001 init.sql is not named NNNN_name.sql",
			"01_x.sql is not named NNNN_name.sql",
			"init.sql is not named NNNN_name.sql",
		}},
		{"shared number", map[string]string{"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"}, []string{
			"0001_a.sql and 0001_b.sql share the number 0001",
		}},
		{"empty file", map[string]string{"0001_a.sql": "-- nothing yet\n"}, []string{"0001_a.sql holds no SQL statement"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, probs := Scan(dir)
			require.Len(t, probs, len(tt.want), probs)
			for i, want := range tt.want {
				require.Contains(t, probs[i], want)
			}
			_, err := Read(dir)
			require.ErrorContains(t, err, tt.want[0])
		})
	}
	t.Run("missing folder", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		files, probs := Scan(missing)
		require.Empty(t, files)
		require.Equal(t, []string{"folder " + missing + " does not exist; create it and put the NNNN_name.sql files in it, or fix the path"}, probs)
	})
}

func TestChecksumAndTable(t *testing.T) {
	require.Equal(t, "sha256:17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a", Checksum("SELECT 1;"), "the file's SHA-256")
	require.NotEqual(t, Checksum("SELECT 1;"), Checksum("SELECT 1; "))
	// Line endings are not content: a CRLF checkout matches what was applied
	// from an LF one, and a file applied as CRLF before still matches.
	lf, crlf := "CREATE TABLE a (x);\nCREATE TABLE b (y);\n", "CREATE TABLE a (x);\r\nCREATE TABLE b (y);\r\n"
	require.Equal(t, Checksum(lf), Checksum(crlf))
	require.True(t, Matches(crlf, Checksum(lf)))
	require.True(t, Matches(crlf, "sha256:"+hexSHA256(crlf)))
	require.False(t, Matches(lf+"-- edited\n", Checksum(lf)))
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, Checksum(""))
	require.True(t, ValidTable("d1_migrations"))
	require.True(t, ValidTable("_schema"))
	require.False(t, ValidTable("schema-history"))
	require.False(t, ValidTable(`x"; DROP TABLE y; --`))
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
