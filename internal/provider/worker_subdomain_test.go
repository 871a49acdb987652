package provider

import (
	"testing"

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

// oldSubdomain is a WorkerSubdomain as a stack deployed before holds it,
// with workers.dev on and previews off, as it set them on Cloudflare.
func (e *env) oldSubdomain(script string, previewsKnown bool) *lifecycle {
	e.t.Helper()
	_, err := e.client().SetScriptSubdomain(e.t.Context(), script, cfapi.ScriptSubdomain{Enabled: true})
	require.NoError(e.t, err)
	e.emu.ResetLog()
	in := property.NewMap(subdomainInputs(script, true, false))
	if !previewsKnown {
		in = in.Delete("previewsEnabled")
	}
	r := e.resource("WorkerSubdomain", "dome-api")
	r.id, r.inputs, r.state = script, in, in.Set("url", str("https://"+script+".cfemu.workers.dev"))
	return r
}

// TestWorkerSubdomainRetired: the state of stacks deployed before still
// refreshes, and its delete, in the deploy that moves the setting to the
// WorkerScript, calls nothing and leaves the setting on.
func TestWorkerSubdomainRetired(t *testing.T) {
	for _, tc := range []struct {
		name          string
		previewsKnown bool
	}{
		{"state with previewsEnabled", true},
		{"state from before previewsEnabled", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.scripts("dome-api-dev")
			r := e.oldSubdomain("dome-api-dev", tc.previewsKnown)

			read := r.read()
			require.Equal(t, "dome-api-dev", read.ID)
			require.Equal(t, property.NewMap(subdomainInputs("dome-api-dev", true, false)), read.Inputs)
			require.Equal(t, str("https://dome-api-dev.cfemu.workers.dev"), read.Properties.Get("url"))
			require.Equal(t, []call{{"GET", "/workers/scripts/dome-api-dev/subdomain", ""}, {"GET", "/workers/subdomain", ""}}, e.calls())

			e.emu.ResetLog()
			r.delete()
			require.Empty(t, e.calls(), "the setting is the WorkerScript's now")
			got, err := e.client().GetScriptSubdomain(t.Context(), "dome-api-dev")
			require.NoError(t, err)
			require.Equal(t, cfapi.ScriptSubdomain{Enabled: true}, got)
		})
	}
}

func TestWorkerSubdomainCannotBeCreated(t *testing.T) {
	e := newEnv(t)
	e.scripts("dome-api-dev")
	err := e.resource("WorkerSubdomain", "dome-api").createErr(subdomainInputs("dome-api-dev", true, false))
	require.ErrorContains(t, err, "domecf:index:WorkerSubdomain is retired: the workers.dev setting is part of the worker now; "+
		"set workersDev and previewUrls on its domecf:index:WorkerScript instead")
	require.Empty(t, e.calls())
}

func TestWorkerSubdomainScriptGone(t *testing.T) {
	e := newEnv(t)
	e.scripts("dome-api-dev")
	r := e.oldSubdomain("dome-api-dev", true)
	require.NoError(t, e.client().DeleteScript(t.Context(), "dome-api-dev"))
	require.Empty(t, r.read().ID, "a refresh drops the setting of a deleted script")
	r.delete()
}

// TestWorkerSubdomainFoldedIntoWorkerScript is the deploy that moves a
// stack from before onto the folded setting: the WorkerScript, whose state
// has neither the setting nor a url, takes the setting with one call and
// no upload, and the WorkerSubdomain the program no longer registers is
// deleted without a call, leaving workers.dev on.
func TestWorkerSubdomainFoldedIntoWorkerScript(t *testing.T) {
	e := newEnv(t)
	w := e.resource("WorkerScript", "w")
	w.create(devWorker(t, "export default {}", devUnset))
	w.state = w.state.Delete("url")
	sd := e.oldSubdomain("dome-w", true)

	updated := w.update(devWorker(t, "export default {}", devOn), "workersDev", "previewUrls")
	sd.delete()
	require.Equal(t, []call{setDev, getAccount}, e.calls())
	require.Equal(t, str(devURL), updated.Properties.Get("url"))
	require.Equal(t, cfapi.ScriptSubdomain{Enabled: true}, e.live())
	w.requireNoRefreshDiff()
}
