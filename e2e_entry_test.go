package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/domecf"
)

// TestWorkersDevOnEngine drives a worker's workers.dev setting through the
// real engine: on at create with its URL as an output, nothing to do on a
// second up or a refresh, off in place, and off again when destroyed.
func TestWorkersDevOnEngine(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount, Subdomain: "dome-e2e"})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()

	enabled := true
	program := func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, srv.URL+"/client/v4")
		if err != nil {
			return err
		}
		api, err := domecf.NewWorkerScript(ctx, "api", domecf.WorkerScriptArgs{
			Name:              pulumi.String("e2e-api"),
			Content:           workerCode("export default { fetch() { return new Response('api'); } };"),
			CompatibilityDate: "2025-04-15",
		}, use)
		if err != nil {
			return err
		}
		sub, err := domecf.NewWorkerSubdomain(ctx, "api", domecf.WorkerSubdomainArgs{ScriptName: api.Name, Enabled: enabled}, use)
		if err != nil {
			return err
		}
		ctx.Export("url", sub.URL)
		return nil
	}
	e := newEngine(t, "workersdev", program, nil)
	defer e.dump()
	subdomain := func() map[string]any {
		status, got := get(t, srv, e2eToken, e2eAccount, "/workers/scripts/e2e-api/subdomain")
		require.Equal(t, http.StatusOK, status)
		return got
	}
	on := map[string]any{"enabled": true, "previews_enabled": false}
	off := map[string]any{"enabled": false, "previews_enabled": false}

	require.Equal(t, map[string]int{"create": 4}, e.up(), "stack, provider, worker, workers.dev")
	require.Equal(t, on, subdomain(), "previews stay off, said explicitly")
	require.Equal(t, map[string]any{"url": "https://e2e-api.dome-e2e.workers.dev"}, e.outputsJSON())

	emu.ResetLog()
	onlySame(t, e.up())
	require.Empty(t, mutations(emu), "a no-op deploy must not write to Cloudflare")
	onlySame(t, e.refresh())

	enabled = false
	require.Equal(t, map[string]int{"same": 3, "update": 1}, e.up())
	require.Equal(t, off, subdomain())
	require.Equal(t, map[string]any{"url": ""}, e.outputsJSON())
	onlySame(t, e.refresh())

	enabled = true
	e.up()
	e.destroy()
	status, _ := get(t, srv, e2eToken, e2eAccount, "/workers/scripts/e2e-api/settings")
	require.Equal(t, http.StatusNotFound, status, "the worker is gone")
	var turnedOff bool
	for _, r := range emu.Requests() {
		if r.Method == http.MethodPost && r.Path == "/client/v4/accounts/"+e2eAccount+"/workers/scripts/e2e-api/subdomain" && string(r.Body) == `{"enabled":false,"previews_enabled":false}` {
			turnedOff = true
		}
	}
	require.True(t, turnedOff, "destroy turns workers.dev and previews off before deleting the worker")
}
