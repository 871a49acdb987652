package provider

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

func (e *env) scripts(names ...string) {
	e.t.Helper()
	for _, s := range names {
		_, err := e.client().UploadScript(e.t.Context(), cfapi.UploadScriptParams{
			ScriptName: s, Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}",
		})
		require.NoError(e.t, err)
	}
	e.emu.ResetLog()
}

func subdomainInputs(script string, enabled bool) map[string]property.Value {
	return map[string]property.Value{"scriptName": str(script), "enabled": property.New(enabled)}
}

func TestWorkerSubdomainLifecycle(t *testing.T) {
	e := newEnv(t)
	e.scripts("dome-api-dev", "dome-web-dev")
	r := e.resource("WorkerSubdomain", "dome-api")
	path := "/workers/scripts/dome-api-dev/subdomain"

	created := r.create(subdomainInputs("dome-api-dev", true))
	require.Equal(t, "dome-api-dev", created.ID)
	require.Equal(t, []call{{"POST", path, ""}, {"GET", "/workers/subdomain", ""}}, e.calls())
	require.Equal(t, map[string]any{"enabled": true}, jsonBody(t, e.emu.Requests()[0]))
	require.Equal(t, "https://dome-api-dev.cfemu.workers.dev", created.Properties.Get("url").AsString())

	e.emu.ResetLog()
	r.requireNoRefreshDiff()
	require.Equal(t, []call{{"GET", path, ""}, {"GET", "/workers/subdomain", ""}}, e.calls())

	d, _ := r.diff(subdomainInputs("dome-api-dev", true))
	require.False(t, d.HasChanges)

	// Turning it off is an update in place; the URL goes with it.
	e.emu.ResetLog()
	updated := r.update(subdomainInputs("dome-api-dev", false), "enabled")
	require.Equal(t, []call{{"POST", path, ""}}, e.calls())
	require.Equal(t, map[string]any{"enabled": false}, jsonBody(t, e.emu.Requests()[0]))
	require.Equal(t, "", updated.Properties.Get("url").AsString())
	r.requireNoRefreshDiff()
	got, err := e.client().GetScriptSubdomain(t.Context(), "dome-api-dev")
	require.NoError(t, err)
	require.False(t, got.Enabled)

	// Another script is another resource.
	d, _ = r.diff(subdomainInputs("dome-web-dev", false))
	require.Equal(t, p.UpdateReplace, d.DetailedDiff["scriptName"].Kind)

	// Import by script name reads the live setting.
	r.update(subdomainInputs("dome-api-dev", true), "enabled")
	imported := e.importRead("WorkerSubdomain", "dome-api-dev")
	require.Equal(t, "dome-api-dev", imported.ID)
	require.Equal(t, property.NewMap(subdomainInputs("dome-api-dev", true)), imported.Inputs)
	require.Equal(t, "https://dome-api-dev.cfemu.workers.dev", imported.Properties.Get("url").AsString())

	// Deleting turns it off.
	e.emu.ResetLog()
	r.delete()
	require.Equal(t, []call{{"POST", path, ""}}, e.calls())
	require.Equal(t, map[string]any{"enabled": false}, jsonBody(t, e.emu.Requests()[0]))
	got, err = e.client().GetScriptSubdomain(t.Context(), "dome-api-dev")
	require.NoError(t, err)
	require.False(t, got.Enabled)
}

func TestWorkerSubdomainScriptGone(t *testing.T) {
	e := newEnv(t)
	e.scripts("dome-api-dev")
	r := e.resource("WorkerSubdomain", "dome-api")
	r.create(subdomainInputs("dome-api-dev", false))
	require.NoError(t, e.client().DeleteScript(t.Context(), "dome-api-dev"))
	require.Empty(t, r.read().ID, "a refresh drops the setting of a deleted script")
	r.delete() // nothing left to turn off: not an error

	err := e.resource("WorkerSubdomain", "ghost").createErr(subdomainInputs("ghost", true))
	require.ErrorContains(t, err, `worker "ghost": workers.dev`)
	require.ErrorContains(t, err, "10007")
}
