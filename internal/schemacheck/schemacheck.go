// Package schemacheck runs a D1 database's migrations on an empty
// in-memory SQLite database, so that a statement D1 would refuse (D1 is
// SQLite) is found by validation instead of halfway through a deploy,
// after the files before it were applied.
//
// It is the one package of the validation that links SQLite, which takes
// long to compile: the config package takes its check as a function
// (config.CheckSchema), so the commands that load a stack for another
// purpose do not build it.
package schemacheck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"

	"github.com/dome/infra/internal/migrations"
	"github.com/dome/infra/internal/sqlstmt"
)

// D1 enforces foreign keys in every query and migration, as this pragma
// does in SQLite; without it an INSERT D1 refuses would pass here.
const dsn = ":memory:?_pragma=foreign_keys(1)"

// Run applies files, in order, to a new empty database, each file in one
// transaction as the deploy sends each to D1 in one batch, its statements
// split as the deploy splits them. It returns the first statement SQLite
// refuses as a *migrations.StatementError, or nil when every file applies.
func Run(files []migrations.File) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("opening an in-memory SQLite database: %w", err)
	}
	defer db.Close()
	ctx := context.Background()
	// One connection for the whole run: an in-memory database lives and
	// dies with its connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("opening an in-memory SQLite database: %w", err)
	}
	defer conn.Close()
	for _, f := range files {
		if err := apply(ctx, conn, f); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, conn *sql.Conn, f migrations.File) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: starting a transaction: %w", f.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op once committed
	for _, st := range sqlstmt.Statements(f.SQL) {
		if _, err := tx.ExecContext(ctx, st.SQL); err != nil {
			return &migrations.StatementError{File: f.Name, Line: st.Line, Err: reason(err)}
		}
	}
	// A deferred foreign key is checked only here, for the file as a whole,
	// so the failure is placed at its end.
	if err := tx.Commit(); err != nil {
		end := strings.Count(strings.TrimRight(f.SQL, "\r\n"), "\n") + 1
		return &migrations.StatementError{File: f.Name, Line: end, Err: fmt.Errorf("at the end of the file: %w", reason(err))}
	}
	return nil
}

// reason is SQLite's own message, without the driver's wrapping of it:
// `SQL logic error: near "TABEL": syntax error (1)` says `near "TABEL": syntax error`.
func reason(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	msg := strings.TrimSuffix(se.Error(), fmt.Sprintf(" (%d)", se.Code()))
	if _, rest, found := strings.Cut(msg, ": "); found {
		msg = rest
	}
	return errors.New(msg)
}
