package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/migrations"
	"github.com/dome/infra/internal/sqlstmt"
)

// D1Migrations applies a D1 database's schema migrations through D1's
// query API, each file once, in name order, and records each in the
// database's migrations table with wrangler's schema, so wrangler and this
// resource see each other's work. The checksum of every file it applied (or
// found applied) stays in state: an applied file that changes or disappears
// is refused before anything is sent.
//
// Deleting the resource leaves the database and its tables as they are.
type D1Migrations struct{}

// D1MigrationsArgs are the inputs: the database and its migration files.
// The folder the files came from is not an input, so moving it is no change.
type D1MigrationsArgs struct {
	DatabaseID string        `pulumi:"databaseId" provider:"replaceOnChanges"`
	Table      *string       `pulumi:"table,optional" provider:"replaceOnChanges"`
	Migrations []D1Migration `pulumi:"migrations,optional"`
}

// D1Migration is one migration file.
type D1Migration struct {
	Name string `pulumi:"name"`
	SQL  string `pulumi:"sql"`
}

// D1MigrationsState adds what has been applied.
type D1MigrationsState struct {
	D1MigrationsArgs
	Applied []AppliedMigration `pulumi:"applied"`
}

// AppliedMigration is a file known to be applied, with the checksum of the
// content it had then.
type AppliedMigration struct {
	Name     string `pulumi:"name"`
	Checksum string `pulumi:"checksum"`
}

// probeFunction is a function no database has: a query ending in a call to
// it fails after every statement before it ran, and D1 then rolls them all
// back. That is how a failed file's failing statement is found without
// changing anything.
const probeFunction = "dome_migration_probe"

// Annotate documents the resource.
func (m *D1Migrations) Annotate(a infer.Annotator) {
	a.Describe(m, "Schema migrations of a D1 database, applied through D1's query API in name order, each once, "+
		"recorded in wrangler's d1_migrations table. Applied files are append-only. Deleting the resource drops nothing. "+
		"The resource id is the database id.")
}

// Annotate documents the inputs.
func (a *D1MigrationsArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.DatabaseID, "The D1 database's UUID.")
	an.Describe(&a.Table, "Table recording applied migrations; default "+migrations.DefaultTable+", as wrangler's migrations_table.")
	an.Describe(&a.Migrations, "Migration files in apply order: NNNN_name.sql and their SQL.")
}

// Annotate documents a migration.
func (m *D1Migration) Annotate(a infer.Annotator) {
	a.Describe(&m.Name, "File name, NNNN_name.sql; it is what the migrations table records.")
	a.Describe(&m.SQL, "The file's SQL statements.")
}

// Annotate documents the state.
func (s *D1MigrationsState) Annotate(a infer.Annotator) {
	a.Describe(&s.Applied, "Files applied, with the checksum of the content each had when applied.")
}

// Annotate documents an applied migration.
func (m *AppliedMigration) Annotate(a infer.Annotator) {
	a.Describe(&m.Name, "File name.")
	a.Describe(&m.Checksum, "sha256 of the file's content when it was applied.")
}

func (a D1MigrationsArgs) table() string {
	if a.Table == nil || *a.Table == "" {
		return migrations.DefaultTable
	}
	return *a.Table
}

// Check refuses names the migrations table should not hold and files given
// twice, and puts the files in apply order.
func (*D1Migrations) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[D1MigrationsArgs], error) {
	args, failures, err := infer.DefaultCheck[D1MigrationsArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[D1MigrationsArgs]{Inputs: args, Failures: failures}, err
	}
	fail := func(prop, format string, a ...any) {
		failures = append(failures, p.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, a...)})
	}
	if args.Table != nil && !migrations.ValidTable(*args.Table) {
		fail("table", "table %q is not a plain SQL identifier (letters, digits and _, not starting with a digit)", *args.Table)
	}
	seen := map[string]bool{}
	for i, m := range args.Migrations {
		if !migrations.ValidName(m.Name) {
			fail(fmt.Sprintf("migrations[%d].name", i), "%q is not named NNNN_name.sql", m.Name)
		}
		if seen[m.Name] {
			fail(fmt.Sprintf("migrations[%d].name", i), "%s is given twice", m.Name)
		}
		seen[m.Name] = true
	}
	slices.SortStableFunc(args.Migrations, func(a, b D1Migration) int { return strings.Compare(a.Name, b.Name) })
	return infer.CheckResponse[D1MigrationsArgs]{Inputs: args, Failures: failures}, nil
}

// appendOnly refuses, before any request, inputs that rewrite history: an
// applied file changed or gone, or a new file ordered before an applied one.
func appendOnly(applied []AppliedMigration, files []D1Migration) error {
	byName := map[string]D1Migration{}
	for _, f := range files {
		byName[f.Name] = f
	}
	var errs []error
	last := ""
	for _, a := range applied {
		last = max(last, a.Name)
		f, ok := byName[a.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("migration %s is applied (recorded checksum %s) but no longer in the migrations folder: "+
				"applied migrations are append-only; restore the file, and undo its change with a new migration", a.Name, a.Checksum))
		case !migrations.Matches(f.SQL, a.Checksum):
			errs = append(errs, fmt.Errorf("migration %s has changed since it was applied (recorded checksum %s, now %s): "+
				"applied migrations are append-only; restore its applied content and put the change in a new file after the last one",
				a.Name, a.Checksum, migrations.Checksum(f.SQL)))
		}
	}
	isApplied := appliedSet(applied)
	for _, f := range files {
		if !isApplied[f.Name] && f.Name < last {
			errs = append(errs, fmt.Errorf("migration %s is new but sorts before %s, which is already applied: "+
				"applied migrations are append-only; give it a number after the last applied file", f.Name, last))
		}
	}
	return errors.Join(errs...)
}

func appliedSet(applied []AppliedMigration) map[string]bool {
	out := make(map[string]bool, len(applied))
	for _, a := range applied {
		out[a.Name] = true
	}
	return out
}

// Diff lists each pending file as a change of its own, so a preview names
// them; nothing pending and nothing else changed is no change at all.
// History rewrites fail here, before any request.
func (*D1Migrations) Diff(ctx context.Context, req infer.DiffRequest[D1MigrationsArgs, D1MigrationsState]) (infer.DiffResponse, error) {
	if err := appendOnly(req.State.Applied, req.Inputs.Migrations); err != nil {
		return infer.DiffResponse{}, fmt.Errorf("D1 database %s: %w", req.Inputs.DatabaseID, err)
	}
	detailed := map[string]p.PropertyDiff{}
	if req.State.DatabaseID != req.Inputs.DatabaseID {
		detailed["databaseId"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if req.State.table() != req.Inputs.table() {
		detailed["table"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	isApplied := appliedSet(req.State.Applied)
	before := map[string]bool{}
	for _, m := range req.State.Migrations {
		before[m.Name] = true
	}
	var pending []string
	for i, m := range req.Inputs.Migrations {
		if isApplied[m.Name] {
			continue
		}
		pending = append(pending, m.Name)
		kind := p.Add
		if before[m.Name] {
			kind = p.Update // a file that failed last time, fixed or retried
		}
		detailed[fmt.Sprintf("migrations[%d]", i)] = p.PropertyDiff{Kind: kind, InputDiff: true}
	}
	if len(pending) > 0 {
		p.GetLogger(ctx).Infof("pending migrations: %s", strings.Join(pending, ", "))
	} else if !slices.Equal(req.State.Migrations, req.Inputs.Migrations) {
		// A file that was never applied went away: only state changes.
		detailed["migrations"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	return infer.DiffResponse{HasChanges: len(detailed) > 0, DetailedDiff: detailed}, nil
}

// Create applies every file the database does not hold yet. Files already
// recorded in its migrations table (by wrangler, say) are adopted as they are.
func (*D1Migrations) Create(ctx context.Context, req infer.CreateRequest[D1MigrationsArgs]) (infer.CreateResponse[D1MigrationsState], error) {
	in := req.Inputs
	state := D1MigrationsState{D1MigrationsArgs: in}
	if req.DryRun {
		return infer.CreateResponse[D1MigrationsState]{ID: in.DatabaseID, Output: state}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.CreateResponse[D1MigrationsState]{}, err
	}
	state.Applied, err = apply(ctx, client, in, nil)
	var failed *fileFailedError
	if errors.As(err, &failed) {
		// Files before the failing one are applied: record them.
		return infer.CreateResponse[D1MigrationsState]{ID: in.DatabaseID, Output: state},
			infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	if err != nil {
		return infer.CreateResponse[D1MigrationsState]{}, err
	}
	return infer.CreateResponse[D1MigrationsState]{ID: in.DatabaseID, Output: state}, nil
}

// Update applies the pending files; with none pending it sends nothing.
func (*D1Migrations) Update(ctx context.Context, req infer.UpdateRequest[D1MigrationsArgs, D1MigrationsState]) (infer.UpdateResponse[D1MigrationsState], error) {
	in := req.Inputs
	if err := appendOnly(req.State.Applied, in.Migrations); err != nil {
		return infer.UpdateResponse[D1MigrationsState]{}, fmt.Errorf("D1 database %s: %w", in.DatabaseID, err)
	}
	state := D1MigrationsState{D1MigrationsArgs: in, Applied: req.State.Applied}
	if req.DryRun || len(pendingFiles(in.Migrations, state.Applied)) == 0 {
		return infer.UpdateResponse[D1MigrationsState]{Output: state}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.UpdateResponse[D1MigrationsState]{}, err
	}
	state.Applied, err = apply(ctx, client, in, state.Applied)
	var failed *fileFailedError
	if errors.As(err, &failed) {
		return infer.UpdateResponse[D1MigrationsState]{Output: state}, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	if err != nil {
		return infer.UpdateResponse[D1MigrationsState]{}, err
	}
	return infer.UpdateResponse[D1MigrationsState]{Output: state}, nil
}

func pendingFiles(files []D1Migration, applied []AppliedMigration) []D1Migration {
	isApplied := appliedSet(applied)
	var out []D1Migration
	for _, f := range files {
		if !isApplied[f.Name] {
			out = append(out, f)
		}
	}
	return out
}

// apply reads the database's migrations table (creating it as wrangler
// does), then sends each pending file it does not record in one query with
// the statement recording it, so a file and its record commit together or
// not at all. It returns what is applied, also when a file fails.
func apply(ctx context.Context, client *cfapi.Client, in D1MigrationsArgs, applied []AppliedMigration) ([]AppliedMigration, error) {
	table := in.table()
	res, err := client.QueryD1(ctx, in.DatabaseID, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS "%s" (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);
SELECT name FROM "%s" ORDER BY id;`, table, table))
	if err != nil {
		return applied, fmt.Errorf("D1 database %s: reading migrations table %s: %w", in.DatabaseID, table, err)
	}
	var recorded map[string]bool
	if len(res) == 2 {
		recorded = names(res[1].Results)
	}
	log := p.GetLogger(ctx)
	for _, f := range pendingFiles(in.Migrations, applied) {
		done := AppliedMigration{Name: f.Name, Checksum: migrations.Checksum(f.SQL)}
		if recorded[f.Name] {
			log.Infof("%s is already recorded in %s: adopted, not applied again", f.Name, table)
			applied = append(applied, done)
			continue
		}
		stmts := sqlstmt.Split(f.SQL)
		record := fmt.Sprintf(`INSERT INTO "%s" (name) VALUES ('%s')`, table, strings.ReplaceAll(f.Name, "'", "''"))
		if _, err := client.QueryD1(ctx, in.DatabaseID, batch(append(slices.Clone(stmts), record))); err != nil {
			// An attempt whose answer was lost may have run: the file and its
			// record go in one batch, so the record says whether it did.
			if cfapi.MayHaveApplied(err) {
				if now, rerr := recordedIn(ctx, client, in.DatabaseID, table); rerr == nil && now[f.Name] {
					log.Infof("%s: its answer was lost, but %s records it: applied", f.Name, table)
					applied = append(applied, done)
					continue
				}
			}
			return applied, locateFailure(ctx, client, in.DatabaseID, f.Name, append(stmts, record), err, applied)
		}
		log.Infof("applied %s", f.Name)
		applied = append(applied, done)
	}
	return applied, nil
}

// batch joins statements into one query. Each ';' goes on a line of its
// own: a statement may end in a -- comment, which would swallow a ';' put
// after it on the same line.
func batch(stmts []string) string { return strings.Join(stmts, "\n;\n") }

// recordedIn reads the names a migrations table records.
func recordedIn(ctx context.Context, client *cfapi.Client, databaseID, table string) (map[string]bool, error) {
	res, err := client.QueryD1(ctx, databaseID, fmt.Sprintf(`SELECT name FROM "%s" ORDER BY id`, table))
	if err != nil {
		return nil, fmt.Errorf("D1 database %s: reading migrations table %s: %w", databaseID, table, err)
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("D1 database %s: reading migrations table %s: %d results for one statement", databaseID, table, len(res))
	}
	return names(res[0].Results), nil
}

// names is the set of the name column of a migrations table's rows.
func names(rows []map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, row := range rows {
		if name, ok := row["name"].(string); ok {
			out[name] = true
		}
	}
	return out
}

// fileFailedError is a migration file D1 refused; the files before it are applied.
type fileFailedError struct {
	file      string
	statement string // empty when it could not be found
	cause     error
	applied   []AppliedMigration
}

func (e *fileFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "migration %s failed", e.file)
	if e.statement != "" {
		fmt.Fprintf(&b, " at statement %q", e.statement)
	}
	var apiErr *cfapi.Error
	if errors.As(e.cause, &apiErr) {
		fmt.Fprintf(&b, ": D1 says: %s (code %d)", apiErr.Message, apiErr.Code)
	} else {
		fmt.Fprintf(&b, ": %v", e.cause)
	}
	fmt.Fprintf(&b, "; nothing of %s was applied", e.file)
	if len(e.applied) > 0 {
		names := make([]string, len(e.applied))
		for i, a := range e.applied {
			names[i] = a.Name
		}
		fmt.Fprintf(&b, "; applied and recorded: %s", strings.Join(names, ", "))
	}
	fmt.Fprintf(&b, "; fix %s and deploy again to resume from it", e.file)
	return b.String()
}

func (e *fileFailedError) Unwrap() error { return e.cause }

// locateFailure finds which statement of a refused file failed: it sends
// ever shorter prefixes of the file ending in a call to probeFunction, which
// fails (and so rolls the prefix back) only once every statement before it
// has run. The smallest prefix failing on its own statement ends in the
// culprit.
func locateFailure(ctx context.Context, client *cfapi.Client, databaseID, file string, stmts []string, cause error, applied []AppliedMigration) error {
	failed := &fileFailedError{file: file, cause: cause, applied: applied}
	var apiErr *cfapi.Error
	if !errors.As(cause, &apiErr) || len(stmts) == 0 {
		return failed
	}
	prefixFails := func(k int) (bool, error) {
		probe := append(slices.Clone(stmts[:k]), "SELECT "+probeFunction+"()")
		_, err := client.QueryD1(ctx, databaseID, batch(probe))
		var e *cfapi.Error
		switch {
		case err == nil:
			return false, errors.New("the probe query succeeded") // no such function exists: D1 is not what we think
		case !errors.As(err, &e):
			return false, err
		case strings.Contains(e.Message, probeFunction):
			return false, nil
		}
		return true, nil
	}
	lo, hi := 1, len(stmts) // the whole file failed, so some prefix up to len(stmts) fails
	for lo < hi {
		mid := (lo + hi) / 2
		fails, err := prefixFails(mid)
		if err != nil {
			return failed // the statement stays unknown; D1's message still says what went wrong
		}
		if fails {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	failed.statement = stmts[lo-1]
	return failed
}

// Read checks that the database still exists; the migrations table is read
// when there is something to apply, not on refresh. An import (nothing but
// the id) starts with nothing recorded: the next deploy adopts whatever the
// table holds.
func (*D1Migrations) Read(ctx context.Context, req infer.ReadRequest[D1MigrationsArgs, D1MigrationsState]) (infer.ReadResponse[D1MigrationsArgs, D1MigrationsState], error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.ReadResponse[D1MigrationsArgs, D1MigrationsState]{}, err
	}
	if _, err := client.GetD1Database(ctx, req.ID); cfapi.IsNotFound(err) {
		return infer.ReadResponse[D1MigrationsArgs, D1MigrationsState]{}, nil
	} else if err != nil {
		return infer.ReadResponse[D1MigrationsArgs, D1MigrationsState]{}, err
	}
	inputs, state := req.Inputs, req.State
	if inputs.DatabaseID == "" {
		inputs.DatabaseID = req.ID
	}
	if state.DatabaseID == "" {
		state.D1MigrationsArgs = inputs
	}
	return infer.ReadResponse[D1MigrationsArgs, D1MigrationsState]{ID: req.ID, Inputs: inputs, State: state}, nil
}

// Delete drops nothing: the schema and the data belong to the database,
// whose own lifecycle (and protection in prod) decides their fate.
func (*D1Migrations) Delete(context.Context, infer.DeleteRequest[D1MigrationsState]) (infer.DeleteResponse, error) {
	return infer.DeleteResponse{}, nil
}
