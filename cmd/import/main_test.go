package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/adopt"
	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu/cfemutest"
)

// TestRun plans the adoption of the local stack from an emulated account
// that already holds its silo database and dome-api worker.
func TestRun(t *testing.T) {
	srv := cfemutest.Start(t)
	ctx := context.Background()
	_, err := srv.API.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "dome-api-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}"})
	require.NoError(t, err)
	dir := srv.Project(t, "local", "dev")

	var out bytes.Buffer
	file := filepath.Join(dir, "import-local.json")
	require.NoError(t, run(ctx, &out, dir, "local", file))
	require.Contains(t, out.String(), "stack local: 1 existing resource matches the config; wrote "+file)
	require.Contains(t, out.String(), "  adopt   domecf:index:WorkerScript")
	require.Contains(t, out.String(), "  create  D1 database silo (silo-dev) (not in the account)")
	require.Contains(t, out.String(), "To adopt them into stack local, run in this folder:\n\n  just recover local\n\n")
	require.NotContains(t, out.String(), "pulumi import", "the one way in is the recipe, which loads the stack's .env")

	var written adopt.File
	require.NoError(t, json.Unmarshal(must(os.ReadFile(file)), &written))
	require.Equal(t, adopt.Spec{Type: "domecf:index:WorkerScript", Name: "dome-api", ID: "dome-api-dev", Provider: "domecf"}, written.Resources[2])
	require.NotContains(t, string(must(os.ReadFile(file))), cfemutest.Token)
}

// TestRunKeepsToTheBudget: the import's calls share the user's API budget
// with any deploy running beside it, so they keep to CLOUDFLARE_API_BUDGET,
// in the ledger shared on this machine.
func TestRunKeepsToTheBudget(t *testing.T) {
	srv := cfemutest.Start(t)
	dir := srv.Project(t, "local", "dev")
	ctx := context.Background()

	t.Setenv(cfapi.EnvBudget, "fast")
	require.ErrorContains(t, run(ctx, &bytes.Buffer{}, dir, "local", filepath.Join(dir, "out.json")),
		`CLOUDFLARE_API_BUDGET="fast" is not REQUESTS/DURATION`)

	const n, window = 3, 200 * time.Millisecond
	t.Setenv(cfapi.EnvBudget, "3/200ms")
	require.NoError(t, run(ctx, &bytes.Buffer{}, dir, "local", filepath.Join(dir, "out.json")))
	reqs := srv.Emu.Requests()
	require.Greater(t, len(reqs), n)
	for i := n; i < len(reqs); i++ {
		require.GreaterOrEqual(t, reqs[i].Time.Sub(reqs[i-n].Time), window-10*time.Millisecond, "at most %d calls in any %s", n, window)
	}
	ledgers, err := os.ReadDir(os.Getenv(cfapi.EnvLedgerDir))
	require.NoError(t, err)
	require.Len(t, ledgers, 1, "the calls are booked in the ledger that the provider and other commands share")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
