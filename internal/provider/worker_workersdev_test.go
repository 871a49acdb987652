package provider

import (
	"maps"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

// workersDev is a worker's workers.dev inputs; the zero value leaves them out.
type workersDev struct{ set, enabled, previews bool }

var (
	devUnset    = workersDev{}
	devOff      = workersDev{set: true}
	devOn       = workersDev{set: true, enabled: true}
	devPreviews = workersDev{set: true, enabled: true, previews: true}
)

const (
	devScript = "/workers/scripts/dome-w"
	devPath   = devScript + "/subdomain"
	devURL    = "https://dome-w.cfemu.workers.dev"
)

// Calls the workers.dev setting makes.
var (
	setDev     = call{"POST", devPath, ""}
	getDev     = call{"GET", devPath, ""}
	getAccount = call{"GET", "/workers/subdomain", ""}
	putScript  = call{"PUT", devScript, ""}
)

// devWorker is a worker with no Durable Objects, so that its calls are the
// upload and the workers.dev setting only.
func devWorker(t *testing.T, code string, d workersDev) map[string]property.Value {
	in := withCode(t, map[string]property.Value{"name": str("dome-w")}, code)
	if d.set {
		in["workersDev"], in["previewUrls"] = property.New(d.enabled), property.New(d.previews)
	}
	return in
}

// live is the script's workers.dev setting on the emulator.
func (e *env) live() cfapi.ScriptSubdomain {
	e.t.Helper()
	got, err := e.client().GetScriptSubdomain(e.t.Context(), "dome-w")
	require.NoError(e.t, err)
	return got
}

func TestWorkerScriptWorkersDevCreate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dev     workersDev
		calls   []call // after the name check and the upload
		body    map[string]any
		url     string
		refresh []call // after the settings and content reads
	}{
		{
			name: "on: previews sent off", dev: devOn, calls: []call{setDev, getAccount},
			body: map[string]any{"enabled": true, "previews_enabled": false}, url: devURL,
			refresh: []call{getDev, getAccount},
		},
		{
			name: "on with previews", dev: devPreviews, calls: []call{setDev, getAccount},
			body: map[string]any{"enabled": true, "previews_enabled": true}, url: devURL,
			refresh: []call{getDev, getAccount},
		},
		{
			name: "off: no account subdomain read", dev: devOff, calls: []call{setDev},
			body: map[string]any{"enabled": false, "previews_enabled": false}, refresh: []call{getDev},
		},
		{name: "unset: no call, none on refresh either", dev: devUnset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.resource("WorkerScript", "w")
			created := w.create(devWorker(t, "export default {}", tc.dev))
			require.Equal(t, append([]call{{"GET", devScript + "/settings", ""}, putScript}, tc.calls...), e.calls())
			if tc.body != nil {
				require.Equal(t, tc.body, jsonBody(t, e.lastRequest("POST", devPath)))
			}
			require.Equal(t, str(tc.url), created.Properties.Get("url"))
			require.Equal(t, cfapi.ScriptSubdomain{Enabled: tc.dev.enabled, PreviewsEnabled: tc.dev.previews}, e.live())

			e.emu.ResetLog()
			w.requireNoRefreshDiff()
			require.Equal(t, append([]call{{"GET", devScript + "/settings", ""}, {"GET", devScript + "/content/v2", ""}}, tc.refresh...), e.calls())
		})
	}
}

// TestWorkerScriptWorkersDevUpdate: the setting is its own call, never an
// upload; an upload sends it again when it is set, and unsetting it leaves
// Cloudflare's as it is.
func TestWorkerScriptWorkersDevUpdate(t *testing.T) {
	const v1, v2 = "export default {}", "export default { fetch() {} }"
	for _, tc := range []struct {
		name     string
		from, to workersDev
		code     string
		changed  []string
		calls    []call
		url      string
		live     cfapi.ScriptSubdomain
	}{
		{
			name: "turned on alone: one call, no upload", from: devUnset, to: devOn, code: v1,
			changed: []string{"workersDev", "previewUrls"}, calls: []call{setDev, getAccount}, url: devURL,
			live: cfapi.ScriptSubdomain{Enabled: true},
		},
		{
			name: "previews turned on", from: devOn, to: devPreviews, code: v1,
			changed: []string{"previewUrls"}, calls: []call{setDev, getAccount}, url: devURL,
			live: cfapi.ScriptSubdomain{Enabled: true, PreviewsEnabled: true},
		},
		{
			name: "turned off: the URL goes", from: devPreviews, to: devOff, code: v1,
			changed: []string{"workersDev", "previewUrls"}, calls: []call{setDev},
		},
		{
			name: "unset: no call, the setting stays", from: devOn, to: devUnset, code: v1,
			changed: []string{"workersDev", "previewUrls"}, live: cfapi.ScriptSubdomain{Enabled: true},
		},
		{
			name: "code only, set: the upload, then the setting again", from: devOn, to: devOn, code: v2,
			changed: []string{"contentSha256"}, calls: []call{putScript, setDev, getAccount}, url: devURL,
			live: cfapi.ScriptSubdomain{Enabled: true},
		},
		{
			name: "code only, unset: the upload alone", from: devUnset, to: devUnset, code: v2,
			changed: []string{"contentSha256"}, calls: []call{putScript},
		},
		{
			name: "code and the setting", from: devUnset, to: devOn, code: v2,
			changed: []string{"contentSha256", "workersDev", "previewUrls"}, calls: []call{putScript, setDev, getAccount}, url: devURL,
			live: cfapi.ScriptSubdomain{Enabled: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.resource("WorkerScript", "w")
			w.create(devWorker(t, v1, tc.from))
			e.emu.ResetLog()

			updated := w.update(devWorker(t, tc.code, tc.to), tc.changed...)
			require.Equal(t, tc.calls, e.calls())
			require.Equal(t, str(tc.url), updated.Properties.Get("url"))
			require.Equal(t, tc.live, e.live())
			w.requireNoRefreshDiff()
			d, _ := w.diff(devWorker(t, tc.code, tc.to))
			require.False(t, d.HasChanges, "converged")
		})
	}
}

// TestWorkerScriptWorkersDevDrift: a setting changed outside Pulumi (the
// dashboard, or a wrangler deploy that leaves previews to follow
// workers.dev) is what a refresh reads where the program sets it, and the
// diff `just drift` shows names it; where the program leaves it out,
// nothing is read.
func TestWorkerScriptWorkersDevDrift(t *testing.T) {
	for _, tc := range []struct {
		name      string
		deployed  workersDev
		outOfBand string // the POST body sent behind Pulumi's back
		live      workersDev
		url       string
		changed   []string
	}{
		{
			name: "wrangler turns workers.dev on, previews follow", deployed: devOff,
			outOfBand: `{"enabled":true}`, live: devPreviews, url: devURL, changed: []string{"workersDev", "previewUrls"},
		},
		{
			name: "previews turned on alone", deployed: devOn,
			outOfBand: `{"enabled":true,"previews_enabled":true}`, live: devPreviews, url: devURL, changed: []string{"previewUrls"},
		},
		{
			name: "workers.dev turned off", deployed: devOn,
			outOfBand: `{"enabled":false}`, live: devOff, changed: []string{"workersDev"},
		},
		{
			name: "not the program's: not read", deployed: devUnset,
			outOfBand: `{"enabled":true}`, live: devUnset,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			w := e.resource("WorkerScript", "w")
			w.create(devWorker(t, "export default {}", tc.deployed))
			e.fixture("POST", devPath, tc.outOfBand)

			read, d := w.refreshDiff()
			want := property.NewMap(devWorker(t, "export default {}", tc.live))
			for _, k := range []string{"workersDev", "previewUrls"} {
				require.Equal(t, want.Get(k), read.Inputs.Get(k), "%s as read", k)
			}
			require.Equal(t, str(tc.url), read.Properties.Get("url"))
			require.ElementsMatch(t, tc.changed, slices.Collect(maps.Keys(d.DetailedDiff)))
			for k, v := range d.DetailedDiff {
				require.NotContains(t, []p.DiffKind{p.AddReplace, p.DeleteReplace, p.UpdateReplace}, v.Kind, "%s changes in place", k)
			}
		})
	}
}

// TestWorkerScriptWorkersDevImport: an import reads the live setting,
// which the program's inputs then match.
func TestWorkerScriptWorkersDevImport(t *testing.T) {
	for name, dev := range map[string]workersDev{"off": devOff, "on": devOn, "on with previews": devPreviews} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			w := e.resource("WorkerScript", "w")
			w.create(devWorker(t, "export default {}", dev))

			got := e.importRead("WorkerScript", "dome-w")
			require.Equal(t, property.New(dev.enabled), got.Inputs.Get("workersDev"))
			require.Equal(t, property.New(dev.previews), got.Inputs.Get("previewUrls"))
			require.Equal(t, w.state.Get("url"), got.Properties.Get("url"))
			imported := &lifecycle{e: e, urn: urn("WorkerScript", "imported"), id: got.ID, inputs: got.Inputs, state: got.Properties}
			d, _ := imported.diff(devWorker(t, "export default {}", dev))
			require.False(t, d.HasChanges, "%v", d.DetailedDiff)
		})
	}
}

func TestWorkerScriptWorkersDevCheck(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name     string
		in       map[string]property.Value
		previews property.Value // as checked
		failures []p.CheckFailure
	}{
		{name: "both", in: map[string]property.Value{"workersDev": property.New(true), "previewUrls": property.New(true)}, previews: property.New(true)},
		{name: "workersDev alone: previews off, spelled out", in: map[string]property.Value{"workersDev": property.New(true)}, previews: property.New(false)},
		{name: "neither"},
		{
			name: "previewUrls alone", in: map[string]property.Value{"previewUrls": property.New(false)}, previews: property.New(false),
			failures: []p.CheckFailure{{Property: "previewUrls", Reason: "previewUrls is part of the workers.dev setting and is sent only with it; " +
				"set workersDev too (false keeps the worker off workers.dev), or leave both out"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := devWorker(t, "export default {}", devUnset)
			maps.Copy(in, tc.in)
			resp := e.resource("WorkerScript", "w").check(in)
			require.Equal(t, tc.failures, resp.Failures)
			require.Equal(t, tc.previews, resp.Inputs.Get("previewUrls"))
		})
	}
}

// TestWorkerScriptWorkersDevFailure: a setting Cloudflare refuses after the
// upload leaves the script in the state, its initialization failed and the
// setting not recorded, so the next deploy sends the setting alone.
func TestWorkerScriptWorkersDevFailure(t *testing.T) {
	e := newEnv(t)
	w := e.resource("WorkerScript", "w")
	in := devWorker(t, "export default {}", devOn)
	checked := w.checkOK(in)
	e.emu.Inject(cfemu.Fault{Method: "POST", PathPrefix: accPath + devPath, Count: 1, Status: 403})
	resp, err := e.server.Create(p.CreateRequest{Urn: w.urn, Properties: checked})
	require.ErrorContains(t, err, "resource failed to initialize")
	require.NotNil(t, resp.PartialState)
	require.Len(t, resp.PartialState.Reasons, 1)
	require.Contains(t, resp.PartialState.Reasons[0], "worker dome-w: setting workers.dev")
	require.Equal(t, "dome-w", resp.ID)
	require.NotContains(t, resp.Properties.AsMap(), "workersDev", "not recorded: the next deploy sends it")
	w.id, w.inputs, w.state = resp.ID, checked, resp.Properties

	e.emu.ResetLog()
	w.update(in, "workersDev", "previewUrls")
	require.Equal(t, []call{setDev, getAccount}, e.calls())
	require.Equal(t, cfapi.ScriptSubdomain{Enabled: true}, e.live())
	w.requireNoRefreshDiff()
}
