package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/domecf"
	"github.com/dome/infra/internal/migrations"
)

// schemaProgram deploys a database's migrations from dir and a worker
// binding the database that waits for them, as the Dome program does.
func schemaProgram(baseURL, databaseID, dir string, content *string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, baseURL)
		if err != nil {
			return err
		}
		files, err := migrations.Read(dir)
		if err != nil {
			return err
		}
		m, err := domecf.NewD1Migrations(ctx, "silo", domecf.D1MigrationsArgs{DatabaseID: pulumi.String(databaseID), Files: files}, use)
		if err != nil {
			return err
		}
		_, err = domecf.NewWorkerScript(ctx, "silo", domecf.WorkerScriptArgs{
			Name:              pulumi.String("e2e-silo"),
			Content:           workerCode(*content),
			CompatibilityDate: "2025-04-15",
			Bindings:          []domecf.Binding{{Type: "d1", Name: "DB", ID: pulumi.String(databaseID)}},
		}, use, pulumi.DependsOn([]pulumi.Resource{m}))
		return err
	}
}

// TestSchemaMigrationsOnEngine drives silo's migrations through the real
// engine: the schema lands before the worker, nothing is written when
// nothing is pending, a preview names a new file, a failing file stops the
// deploy before the worker changes and resumes once fixed, and a rewritten
// applied file is refused.
func TestSchemaMigrationsOnEngine(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	db := seed(t, srv, e2eToken, e2eAccount, "/d1/database", `{"name":"e2e-silo"}`)["uuid"].(string)
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	tables := func() []string {
		res, err := client.QueryD1(context.Background(), db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
		require.NoError(t, err)
		var out []string
		for _, row := range res[0].Results {
			out = append(out, row["name"].(string))
		}
		return out
	}

	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/services/silo/migrations")))
	content := "export default { fetch() { return new Response('v1'); } };"
	e := newEngine(t, "schema", schemaProgram(srv.URL+"/client/v4", db, dir, &content), nil)
	defer e.dump()

	// Schema before code: every migration query precedes the worker's upload.
	require.Equal(t, map[string]int{"create": 4}, e.up(), "stack, provider, migrations, worker")
	var order []string
	for _, r := range emu.Requests() {
		switch {
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/d1/database/"+db+"/query"):
			order = append(order, "query")
		case r.Method == "PUT" && strings.HasSuffix(r.Path, "/workers/scripts/e2e-silo"):
			order = append(order, "upload")
		}
	}
	require.Equal(t, []string{"query", "query", "query", "query", "upload"}, order, "the table read, 0001, 0002, 0003, then the worker")
	require.Equal(t, []string{"d1_migrations", "note_tags", "notes", "sqlite_sequence"}, tables())
	require.Contains(t, e.stateFile(), migrations.Checksum(string(must(os.ReadFile(filepath.Join(dir, "0003_note_pipeline.sql"))))))

	// Nothing pending: the preview changes nothing and a second up writes nothing.
	onlySame(t, e.preview())
	emu.ResetLog()
	onlySame(t, e.up())
	require.Empty(t, mutations(emu), "a no-op deploy must not write to Cloudflare")

	// A new file shows in the preview by name.
	bad := "CREATE TABLE note_links (from_id TEXT, to_id TEXT);\nCREATE INDEX note_links_to ON note_linkz (to_id);\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "0004_links.sql"), []byte(bad), 0o644))
	e.log.Reset()
	require.Equal(t, map[string]int{"same": 3, "update": 1}, e.preview())
	require.Contains(t, e.log.String(), "+ [3]: {", "the diff adds the file's entry")
	require.Contains(t, e.log.String(), "pending migrations: 0004_links.sql")

	// It fails: the deploy stops with the file, the statement and D1's
	// message, and the worker binding the database keeps its old code.
	content = strings.Replace(content, "v1", "v2", 1)
	err = e.upErr()
	require.ErrorContains(t, err, "migration 0004_links.sql failed at statement")
	require.ErrorContains(t, err, "CREATE INDEX note_links_to ON note_linkz (to_id)")
	require.ErrorContains(t, err, "D1 says: no such table: main.note_linkz: SQLITE_ERROR (code 7500)")
	live, err := client.GetScriptContent(context.Background(), "e2e-silo")
	require.NoError(t, err)
	require.Contains(t, live, "v1", "the worker was not updated")
	require.NotContains(t, tables(), "note_links", "nothing of the failing file stays")

	// Fixed, the next up resumes at that file, then updates the worker.
	fixed := strings.Replace(bad, "note_linkz", "note_links", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "0004_links.sql"), []byte(fixed), 0o644))
	changes := e.up()
	require.Equal(t, 2, changes["update"], "the migrations, then the worker: %v", changes)
	require.Contains(t, tables(), "note_links")
	live, err = client.GetScriptContent(context.Background(), "e2e-silo")
	require.NoError(t, err)
	require.Contains(t, live, "v2")

	// Rewriting an applied file is refused at preview, before any request.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "0001_init.sql"), []byte("CREATE TABLE other (x);\n"), 0o644))
	emu.ResetLog()
	_, err = e.stack.Preview(context.Background(), optpreview.Diff())
	require.ErrorContains(t, err, "migration 0001_init.sql has changed since it was applied (recorded checksum sha256:")
	require.False(t, slices.ContainsFunc(emu.Requests(), func(r cfemu.Request) bool { return strings.Contains(r.Path, "/query") }))

	// Destroying the stack drops no table.
	e.destroy()
	require.Contains(t, tables(), "notes")
}
