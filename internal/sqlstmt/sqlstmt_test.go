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

func TestStatements(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []Statement
	}{
		{"one per line", "CREATE TABLE a (x);\nCREATE TABLE b (y);\n", []Statement{{"CREATE TABLE a (x)", 1}, {"CREATE TABLE b (y)", 2}}},
		{"two on a line", "SELECT 1; SELECT 2;\n\nSELECT 3", []Statement{{"SELECT 1", 1}, {"SELECT 2", 1}, {"SELECT 3", 3}}},
		{
			"a comment above is not where a statement starts",
			"-- header\n-- more\nCREATE TABLE a (\n  x\n);\n/* a\n   block */\nCREATE INDEX i ON a (x);",
			[]Statement{{"-- header\n-- more\nCREATE TABLE a (\n  x\n)", 3}, {"/* a\n   block */\nCREATE INDEX i ON a (x)", 8}},
		},
		{
			"a trigger's body spans lines",
			"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  DELETE FROM b;\nEND;\nSELECT 4;",
			[]Statement{{"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  DELETE FROM b;\nEND", 1}, {"SELECT 4", 4}},
		},
		{"newlines inside a string", "INSERT INTO a VALUES ('x\n;\ny');\nSELECT 5;", []Statement{{"INSERT INTO a VALUES ('x\n;\ny')", 1}, {"SELECT 5", 4}}},
		{"CRLF line endings", "SELECT 1;\r\n\r\nSELECT 2;\r\n", []Statement{{"SELECT 1", 1}, {"SELECT 2", 3}}},
		{"nothing but comments", "-- a\n/* b */;\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Statements(tt.script))
		})
	}
}
