package sqlstmt

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string
	}{
		{"one without semicolon", "SELECT 1", []string{"SELECT 1"}},
		{"several", "CREATE TABLE a (x);\nINSERT INTO a VALUES (1);\n", []string{"CREATE TABLE a (x)", "INSERT INTO a VALUES (1)"}},
		{"empty and comment-only statements dropped", ";;\n-- header\n;SELECT 1;/* tail */", []string{"SELECT 1"}},
		{"semicolons in strings", "INSERT INTO a VALUES ('x;y', 'it''s;');SELECT 2", []string{"INSERT INTO a VALUES ('x;y', 'it''s;')", "SELECT 2"}},
		{"semicolons in identifiers", "SELECT \"a;b\", `c;d`, [e;f] FROM t;SELECT 3", []string{"SELECT \"a;b\", `c;d`, [e;f] FROM t", "SELECT 3"}},
		{"semicolons in comments", "SELECT 1 -- not; the end\n;SELECT /* ; */ 2", []string{"SELECT 1 -- not; the end", "SELECT /* ; */ 2"}},
		{
			"trigger body",
			"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  DELETE FROM c;\nEND;\nSELECT 4;",
			[]string{"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  DELETE FROM c;\nEND", "SELECT 4"},
		},
		{
			"temporary trigger",
			"create temp trigger t after delete on a begin delete from b; end; select 5",
			[]string{"create temp trigger t after delete on a begin delete from b; end", "select 5"},
		},
		{
			"a CASE ... END inside a trigger body",
			"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN new.x > 0 THEN 1 ELSE 0 END;\nEND;\nSELECT 7;",
			[]string{"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN new.x > 0 THEN 1 ELSE 0 END;\nEND", "SELECT 7"},
		},
		{
			"END after a comment that follows the body's last semicolon",
			"CREATE TRIGGER t AFTER DELETE ON a BEGIN DELETE FROM b; -- done\nEND; SELECT 8",
			[]string{"CREATE TRIGGER t AFTER DELETE ON a BEGIN DELETE FROM b; -- done\nEND", "SELECT 8"},
		},
		{"a column named end outside a trigger", "SELECT end FROM t; SELECT 6", []string{"SELECT end FROM t", "SELECT 6"}},
		{"unterminated string runs to the end", "SELECT 'abc;", []string{"SELECT 'abc;"}},
		{"nothing", " \n-- only a comment\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Split(tt.script))
		})
	}
}
