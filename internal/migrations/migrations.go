// Package migrations reads a D1 database's schema migrations: files named
// NNNN_name.sql in one folder, applied in name order, each once. It is
// wrangler's layout, so a folder made with `wrangler d1 migrations create`
// works as it is.
package migrations

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dome/infra/internal/sqlstmt"
)

// DefaultTable is where applied migrations are recorded unless a database
// names another table: wrangler's default, so that wrangler and this program
// see each other's work.
const DefaultTable = "d1_migrations"

var (
	fileName  = regexp.MustCompile(`^([0-9]{4})_[A-Za-z0-9_-]+\.sql$`)
	tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// File is one migration.
type File struct {
	Name string // e.g. 0001_init.sql
	SQL  string
}

// Checksum identifies a file's content; the migration resource records it
// per applied file, so a later change to an applied file is caught. Line
// endings do not count: a checkout that turns LF into CRLF (git's autocrlf
// on Windows) changes no migration.
func Checksum(sql string) string { return checksum(strings.ReplaceAll(sql, "\r\n", "\n")) }

// Matches reports whether sql is the content recorded as checksum: by
// Checksum, or by the raw bytes, as a CRLF file was recorded before line
// endings stopped counting.
func Matches(sql, recorded string) bool {
	return recorded == Checksum(sql) || recorded == checksum(sql)
}

func checksum(sql string) string {
	sum := sha256.Sum256([]byte(sql))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ValidName reports whether name is NNNN_name.sql.
func ValidName(name string) bool { return fileName.MatchString(name) }

// ValidTable reports whether name can be the migrations table: a plain SQL
// identifier, so it needs no quoting rules beyond SQLite's.
func ValidTable(name string) bool { return tableName.MatchString(name) }

// Read returns the migrations in dir in the order they apply, or every
// problem with the folder at once (see Scan). Files not ending in .sql,
// and subfolders, are not migrations and are left alone.
func Read(dir string) ([]File, error) {
	files, probs := Scan(dir)
	if len(probs) > 0 {
		return nil, fmt.Errorf("migrations in %s: %s", dir, strings.Join(probs, "; "))
	}
	return files, nil
}

// Scan is Read for validation: the migrations in dir that could be read,
// and everything wrong with the folder, offline: it is missing, a name is
// not NNNN_name.sql, two files share a number, or a file holds no SQL
// statement. The files are the whole history only when nothing is wrong.
func Scan(dir string) ([]File, []string) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, []string{fmt.Sprintf("folder %s does not exist; create it and put the NNNN_name.sql files in it, or fix the path", dir)}
	}
	if err != nil {
		return nil, []string{err.Error()}
	}
	var files []File
	var probs []string
	numbers := map[string]string{}
	for _, e := range entries { // os.ReadDir sorts by name: the apply order
		name := e.Name()
		if e.IsDir() || filepath.Ext(name) != ".sql" {
			continue
		}
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			probs = append(probs, fmt.Sprintf("%s is not named NNNN_name.sql (four digits, an underscore, then letters, digits, _ or -); rename it, e.g. 0001_init.sql", name))
			continue
		}
		if other, taken := numbers[m[1]]; taken {
			probs = append(probs, fmt.Sprintf("%s and %s share the number %s, so their order is ambiguous; give %s the next free number", other, name, m[1], name))
			continue
		}
		numbers[m[1]] = name
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		if len(sqlstmt.Split(string(data))) == 0 {
			probs = append(probs, fmt.Sprintf("%s holds no SQL statement; write the schema change in it, or delete it if it was never applied", name))
			continue
		}
		files = append(files, File{Name: name, SQL: string(data)})
	}
	return files, probs
}

// StatementError is a statement of a migration file that fails.
type StatementError struct {
	File string // the file's name, e.g. 0003_add_links.sql
	Line int    // the line of the file the statement starts on
	Err  error  // the database's reason
}

func (e *StatementError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *StatementError) Unwrap() error { return e.Err }
