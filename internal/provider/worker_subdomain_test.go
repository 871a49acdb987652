package provider

import (
	"maps"
	"slices"
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

func subdomainInputs(script string, enabled, previews bool) map[string]property.Value {
	return map[string]property.Value{"scriptName": str(script), "enabled": property.New(enabled), "previewsEnabled": property.New(previews)}
}

func TestWorkerSubdomainLifecycle(t *testing.T) {
	e := newEnv(t)
	e.scripts("dome-api-dev", "dome-web-dev")
	r := e.resource("WorkerSubdomain", "dome-api")
	path := "/workers/scripts/dome-api-dev/subdomain"

	created := r.create(subdomainInputs("dome-api-dev", true, false))
	require.Equal(t, "dome-api-dev", created.ID)
	require.Equal(t, []call{{"POST", path, ""}, {"GET", "/workers/subdomain", ""}}, e.calls())
	// As wrangler sends it: previews off said explicitly, since Cloudflare
	// turns them on with workers.dev when they are left out.
	require.Equal(t, map[string]any{"enabled": true, "previews_enabled": false}, jsonBody(t, e.emu.Requests()[0]))
	require.Equal(t, "https://dome-api-dev.cfemu.workers.dev", created.Properties.Get("url").AsString())

	e.emu.ResetLog()
	r.requireNoRefreshDiff()
	require.Equal(t, []call{{"GET", path, ""}, {"GET", "/workers/subdomain", ""}}, e.calls())

	d, _ := r.diff(subdomainInputs("dome-api-dev", true, false))
	require.False(t, d.HasChanges)

	// Previews are an update in place.
	e.emu.ResetLog()
	r.update(subdomainInputs("dome-api-dev", true, true), "previewsEnabled")
	require.Equal(t, map[string]any{"enabled": true, "previews_enabled": true}, jsonBody(t, e.emu.Requests()[0]))
	r.requireNoRefreshDiff()

	// Turning it off is an update in place; the URL goes with it.
	e.emu.ResetLog()
	updated := r.update(subdomainInputs("dome-api-dev", false, false), "enabled", "previewsEnabled")
	require.Equal(t, []call{{"POST", path, ""}}, e.calls())
	require.Equal(t, map[string]any{"enabled": false, "previews_enabled": false}, jsonBody(t, e.emu.Requests()[0]))
	require.Equal(t, "", updated.Properties.Get("url").AsString())
	r.requireNoRefreshDiff()
	got, err := e.client().GetScriptSubdomain(t.Context(), "dome-api-dev")
	require.NoError(t, err)
	require.False(t, got.Enabled)

	// Another script is another resource.
	d, _ = r.diff(subdomainInputs("dome-web-dev", false, false))
	require.Equal(t, p.UpdateReplace, d.DetailedDiff["scriptName"].Kind)

	// Import by script name reads the live setting.
	r.update(subdomainInputs("dome-api-dev", true, false), "enabled")
	imported := e.importRead("WorkerSubdomain", "dome-api-dev")
	require.Equal(t, "dome-api-dev", imported.ID)
	require.Equal(t, property.NewMap(subdomainInputs("dome-api-dev", true, false)), imported.Inputs)
	require.Equal(t, "https://dome-api-dev.cfemu.workers.dev", imported.Properties.Get("url").AsString())

	// Deleting turns both off.
	e.emu.ResetLog()
	r.delete()
	require.Equal(t, []call{{"POST", path, ""}}, e.calls())
	require.Equal(t, map[string]any{"enabled": false, "previews_enabled": false}, jsonBody(t, e.emu.Requests()[0]))
	got, err = e.client().GetScriptSubdomain(t.Context(), "dome-api-dev")
	require.NoError(t, err)
	require.Equal(t, cfapi.ScriptSubdomain{}, got)
}

// TestWorkerSubdomainDrift: a setting changed outside Pulumi (the
// dashboard, or a wrangler deploy that leaves previews to follow
// workers.dev) is what a refresh reads, and the diff `just drift` shows
// names it.
func TestWorkerSubdomainDrift(t *testing.T) {
	for _, tc := range []struct {
		name      string
		deployed  map[string]property.Value
		outOfBand string // the POST body sent behind Pulumi's back
		live      map[string]property.Value
		changed   []string
	}{
		{
			name: "wrangler turns workers.dev on, previews follow", deployed: subdomainInputs("dome-api-dev", false, false),
			outOfBand: `{"enabled":true}`, live: subdomainInputs("dome-api-dev", true, true), changed: []string{"enabled", "previewsEnabled"},
		},
		{
			name: "previews turned on alone", deployed: subdomainInputs("dome-api-dev", true, false),
			outOfBand: `{"enabled":true,"previews_enabled":true}`, live: subdomainInputs("dome-api-dev", true, true), changed: []string{"previewsEnabled"},
		},
		{
			name: "workers.dev turned off", deployed: subdomainInputs("dome-api-dev", true, false),
			outOfBand: `{"enabled":false}`, live: subdomainInputs("dome-api-dev", false, false), changed: []string{"enabled"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.scripts("dome-api-dev")
			r := e.resource("WorkerSubdomain", "dome-api")
			r.create(tc.deployed)
			e.fixture("POST", "/workers/scripts/dome-api-dev/subdomain", tc.outOfBand)

			read, d := r.refreshDiff()
			require.Equal(t, property.NewMap(tc.live), read.Inputs, "inputs read from Cloudflare")
			require.Equal(t, tc.live["previewsEnabled"], read.Properties.Get("previewsEnabled"))
			require.ElementsMatch(t, tc.changed, slices.Collect(maps.Keys(d.DetailedDiff)))
			for k, v := range d.DetailedDiff {
				require.NotContains(t, []p.DiffKind{p.AddReplace, p.DeleteReplace, p.UpdateReplace}, v.Kind, "%s changes in place", k)
			}
		})
	}
}

// TestWorkerSubdomainStateWithoutPreviews: state written before
// previewsEnabled existed (Cloudflare was never told, so previews may have
// followed workers.dev) leads to one in-place update that sends it, not a
// replacement, and no refresh shows a change afterwards.
func TestWorkerSubdomainStateWithoutPreviews(t *testing.T) {
	e := newEnv(t)
	e.scripts("dome-api-dev")
	r := e.resource("WorkerSubdomain", "dome-api")
	r.create(subdomainInputs("dome-api-dev", true, false))
	// What the earlier provider wrote, and what Cloudflare did with its {"enabled":true}.
	r.state, r.inputs = r.state.Delete("previewsEnabled"), r.inputs.Delete("previewsEnabled")
	e.fixture("POST", "/workers/scripts/dome-api-dev/subdomain", `{"enabled":true}`)

	e.emu.ResetLog()
	r.update(subdomainInputs("dome-api-dev", true, false), "previewsEnabled")
	require.Equal(t, []call{{"POST", "/workers/scripts/dome-api-dev/subdomain", ""}, {"GET", "/workers/subdomain", ""}}, e.calls())
	require.Equal(t, map[string]any{"enabled": true, "previews_enabled": false}, jsonBody(t, e.emu.Requests()[0]))
	r.requireNoRefreshDiff()
	d, _ := r.diff(subdomainInputs("dome-api-dev", true, false))
	require.False(t, d.HasChanges, "sent once")
}

func TestWorkerSubdomainScriptGone(t *testing.T) {
	e := newEnv(t)
	e.scripts("dome-api-dev")
	r := e.resource("WorkerSubdomain", "dome-api")
	r.create(subdomainInputs("dome-api-dev", false, false))
	require.NoError(t, e.client().DeleteScript(t.Context(), "dome-api-dev"))
	require.Empty(t, r.read().ID, "a refresh drops the setting of a deleted script")
	r.delete() // nothing left to turn off: not an error

	err := e.resource("WorkerSubdomain", "ghost").createErr(subdomainInputs("ghost", true, false))
	require.ErrorContains(t, err, `worker "ghost": workers.dev`)
	require.ErrorContains(t, err, "10007")
}
