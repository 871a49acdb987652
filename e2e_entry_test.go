package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/domecf"
)

// workersDevProgram deploys one worker, e2e-api, with the given
// workers.dev setting (nil: not managed), and exports its URL.
func workersDevProgram(baseURL string, setting **domecf.WorkersDev) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, baseURL)
		if err != nil {
			return err
		}
		api, err := domecf.NewWorkerScript(ctx, "api", domecf.WorkerScriptArgs{
			Name:              pulumi.String("e2e-api"),
			Content:           workerCode("export default { fetch() { return new Response('api'); } };"),
			CompatibilityDate: "2025-04-15",
			WorkersDev:        *setting,
		}, use)
		if err != nil {
			return err
		}
		ctx.Export("url", api.URL)
		return nil
	}
}

// workersDevEmulator serves an account whose workers.dev subdomain is
// dome-e2e, and reads e2e-api's setting back.
func workersDevEmulator(t *testing.T) (*cfemu.Emulator, *httptest.Server, func() map[string]any) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount, Subdomain: "dome-e2e"})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv, func() map[string]any {
		status, got := get(t, srv, e2eToken, e2eAccount, "/workers/scripts/e2e-api/subdomain")
		require.Equal(t, http.StatusOK, status)
		return got
	}
}

// TestWorkersDevOnEngine drives a worker's workers.dev setting through the
// real engine: on at create with its URL as an output, nothing to do on a
// second up or a refresh, and off in place without uploading the script
// again.
func TestWorkersDevOnEngine(t *testing.T) {
	emu, srv, subdomain := workersDevEmulator(t)
	setting := &domecf.WorkersDev{Enabled: true}
	e := newEngine(t, "workersdev", workersDevProgram(srv.URL+"/client/v4", &setting), nil)
	defer e.dump()
	on := map[string]any{"enabled": true, "previews_enabled": false}
	off := map[string]any{"enabled": false, "previews_enabled": false}

	require.Equal(t, map[string]int{"create": 3}, e.up(), "stack, provider, worker: workers.dev is the worker's setting")
	require.Equal(t, on, subdomain(), "previews stay off, said explicitly")
	require.Equal(t, map[string]any{"url": "https://e2e-api.dome-e2e.workers.dev"}, e.outputsJSON())

	emu.ResetLog()
	onlySame(t, e.up())
	require.Empty(t, mutations(emu), "a no-op deploy must not write to Cloudflare")
	onlySame(t, e.refresh())

	setting = &domecf.WorkersDev{}
	emu.ResetLog()
	require.Equal(t, map[string]int{"same": 2, "update": 1}, e.up())
	require.Equal(t, off, subdomain())
	require.Equal(t, []string{http.MethodPost + " /client/v4/accounts/" + e2eAccount + "/workers/scripts/e2e-api/subdomain"}, mutations(emu),
		"only the setting changes: the script is not uploaded again")
	require.Equal(t, map[string]any{"url": ""}, e.outputsJSON())
	onlySame(t, e.refresh())

	e.destroy()
	status, _ := get(t, srv, e2eToken, e2eAccount, "/workers/scripts/e2e-api/settings")
	require.Equal(t, http.StatusNotFound, status, "the worker is gone, and its workers.dev route with it")
}

// TestWorkersDevMovesIntoTheScript: a stack deployed when workers.dev was a
// WorkerSubdomain resource of its own moves the setting into the script
// on its next up. The script's update sets it, the old resource leaves the
// state without a call, and the worker stays on workers.dev throughout.
func TestWorkersDevMovesIntoTheScript(t *testing.T) {
	emu, srv, subdomain := workersDevEmulator(t)
	var setting *domecf.WorkersDev
	e := newEngine(t, "workersdev", workersDevProgram(srv.URL+"/client/v4", &setting), nil)
	defer e.dump()
	require.Equal(t, map[string]int{"create": 3}, e.up())
	// What the retired resource had set.
	seed(t, srv, e2eToken, e2eAccount, "/workers/scripts/e2e-api/subdomain", `{"enabled":true,"previews_enabled":false}`)

	ctx := context.Background()
	current, err := e.stack.Export(ctx)
	require.NoError(t, err)
	require.NoError(t, e.stack.Import(ctx, withWorkerSubdomain(t, current, "e2e-api")))

	setting = &domecf.WorkersDev{Enabled: true}
	emu.ResetLog()
	require.Equal(t, map[string]int{"same": 2, "update": 1, "delete": 1}, e.up())
	require.Equal(t, map[string]any{"enabled": true, "previews_enabled": false}, subdomain())
	require.Equal(t, []string{http.MethodPost + " /client/v4/accounts/" + e2eAccount + "/workers/scripts/e2e-api/subdomain"}, mutations(emu),
		"the script's update sets the setting once; the retired resource's delete makes no call")
	require.NotContains(t, e.stateFile(), "WorkerSubdomain")
	onlySame(t, e.up())
}

// withWorkerSubdomain adds the WorkerSubdomain resource the program
// registered for script before its workers.dev setting moved into the
// script, turned on, as that program's deploy left it.
func withWorkerSubdomain(t *testing.T, d apitype.UntypedDeployment, script string) apitype.UntypedDeployment {
	t.Helper()
	var dep map[string]any
	require.NoError(t, json.Unmarshal(d.Deployment, &dep))
	resources := dep["resources"].([]any)
	var worker map[string]any
	for _, r := range resources {
		if r := r.(map[string]any); r["type"] == domecf.TypeWorkerScript {
			worker = r
		}
	}
	require.NotNil(t, worker)
	urn := worker["urn"].(string)
	inputs := map[string]any{"scriptName": script, "enabled": true, "previewsEnabled": false}
	outputs := map[string]any{"scriptName": script, "enabled": true, "previewsEnabled": false, "url": "https://" + script + ".dome-e2e.workers.dev"}
	dep["resources"] = append(resources, map[string]any{
		"urn":          urn[:len(urn)-len("WorkerScript::api")] + "WorkerSubdomain::api",
		"custom":       true,
		"id":           script,
		"type":         "domecf:index:WorkerSubdomain",
		"inputs":       inputs,
		"outputs":      outputs,
		"parent":       worker["parent"],
		"provider":     worker["provider"],
		"dependencies": []any{urn},
	})
	raw, err := json.Marshal(dep)
	require.NoError(t, err)
	return apitype.UntypedDeployment{Version: d.Version, Deployment: raw}
}
