package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

const secretValue = "s3cr3t-api-key-value"

// workerFixtures creates what a worker's bindings point at, the way the
// official provider would have before domecf runs.
type workerFixtures struct{ d1ID, kvID string }

func (e *env) workerFixtures() workerFixtures {
	db := e.fixture("POST", "/d1/database", `{"name":"dome-db"}`)
	e.fixture("POST", "/r2/buckets", `{"name":"dome-files"}`)
	e.fixture("POST", "/queues", `{"queue_name":"dome-jobs"}`)
	kv := e.fixture("POST", "/storage/kv/namespaces", `{"title":"dome-cache"}`)
	e.fixture("POST", "/vectorize/v2/indexes", `{"name":"dome-notes","config":{"dimensions":768,"metric":"cosine"}}`)
	_, err := e.client().UploadScript(e.t.Context(), cfapi.UploadScriptParams{
		ScriptName: "dome-auth", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}",
	})
	require.NoError(e.t, err)
	e.emu.ResetLog()
	return workerFixtures{d1ID: db["uuid"].(string), kvID: kv["id"].(string)}
}

// allBindings has one binding of every type, the secret passed as a plain
// string as a careless program would.
func (f workerFixtures) allBindings() property.Value {
	b := func(typ, name string, kv ...string) property.Value {
		m := map[string]property.Value{"type": str(typ), "name": str(name)}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = str(kv[i+1])
		}
		return obj(m)
	}
	return arr(
		b("d1", "DB", "id", f.d1ID),
		b("r2_bucket", "FILES", "bucketName", "dome-files", "jurisdiction", "eu"),
		b("queue", "JOBS", "queueName", "dome-jobs"),
		b("service", "AUTH", "service", "dome-auth", "environment", "production"),
		b("plain_text", "MODE", "text", "prod"),
		b("secret_text", "API_KEY", "text", secretValue),
		b("ai", "AI"),
		b("vectorize", "NOTES", "indexName", "dome-notes"),
		b("kv_namespace", "CACHE", "namespaceId", f.kvID),
		b("durable_object_namespace", "COUNTER", "className", "Counter"),
		b("analytics_engine", "EVENTS", "dataset", "dome_events"),
		b("hyperdrive", "PG", "id", "hd-123"),
	)
}

// wireBindings is allBindings as Cloudflare's metadata must carry them.
func (f workerFixtures) wireBindings() []any {
	return []any{
		map[string]any{"type": "d1", "name": "DB", "id": f.d1ID},
		map[string]any{"type": "r2_bucket", "name": "FILES", "bucket_name": "dome-files", "jurisdiction": "eu"},
		map[string]any{"type": "queue", "name": "JOBS", "queue_name": "dome-jobs"},
		map[string]any{"type": "service", "name": "AUTH", "service": "dome-auth", "environment": "production"},
		map[string]any{"type": "plain_text", "name": "MODE", "text": "prod"},
		map[string]any{"type": "secret_text", "name": "API_KEY", "text": secretValue},
		map[string]any{"type": "ai", "name": "AI"},
		map[string]any{"type": "vectorize", "name": "NOTES", "index_name": "dome-notes"},
		map[string]any{"type": "kv_namespace", "name": "CACHE", "namespace_id": f.kvID},
		map[string]any{"type": "durable_object_namespace", "name": "COUNTER", "class_name": "Counter"},
		map[string]any{"type": "analytics_engine", "name": "EVENTS", "dataset": "dome_events"},
		map[string]any{"type": "hyperdrive", "name": "PG", "id": "hd-123"},
	}
}

func apiWorker(t *testing.T, f workerFixtures, content string) map[string]property.Value {
	return withCode(t, map[string]property.Value{
		"name":               str("dome-api"),
		"compatibilityDate":  str("2025-01-01"),
		"compatibilityFlags": strs("nodejs_compat"),
		"bindings":           f.allBindings(),
		"observability":      obj(map[string]property.Value{"enabled": property.New(true), "headSamplingRate": num(0.5)}),
		"logpush":            property.New(true),
		"placement":          obj(map[string]property.Value{"mode": str("smart")}),
		"tags":               strs("dome", "api"),
		"migrations":         arr(obj(map[string]property.Value{"tag": str("v1"), "newClasses": strs("Counter")})),
	}, content)
}

// uploaded returns the metadata and module parts of the last upload of script.
func (e *env) uploaded(script string) (map[string]any, part) {
	e.t.Helper()
	parts := multipartParts(e.t, e.lastRequest("PUT", "/workers/scripts/"+script))
	require.Len(e.t, parts, 2)
	meta := parts[0]
	require.Equal(e.t, "metadata", meta.Name)
	require.Equal(e.t, "application/json", meta.ContentType)
	var m map[string]any
	require.NoError(e.t, json.Unmarshal(meta.Body, &m))
	return m, parts[1]
}

func TestWorkerScriptLifecycle(t *testing.T) {
	e := newEnv(t)
	f := e.workerFixtures()
	w := e.resource("WorkerScript", "api")
	const v1 = "export default { fetch() { return new Response('v1') } }"

	// Create: a GET to make sure the name is free, then one upload.
	created := w.create(apiWorker(t, f, v1))
	require.Equal(t, "dome-api", created.ID)
	require.Equal(t, []call{
		{"GET", "/workers/scripts/dome-api/settings", ""},
		{"PUT", "/workers/scripts/dome-api", ""},
	}, e.calls())
	meta, module := e.uploaded("dome-api")
	require.Equal(t, map[string]any{
		"main_module":         "index.js",
		"bindings":            f.wireBindings(),
		"compatibility_date":  "2025-01-01",
		"compatibility_flags": []any{"nodejs_compat"},
		"observability":       map[string]any{"enabled": true, "head_sampling_rate": 0.5},
		"logpush":             true,
		"placement":           map[string]any{"mode": "smart"},
		"tags":                []any{"dome", "api"},
		"migrations":          map[string]any{"new_tag": "v1", "new_classes": []any{"Counter"}},
	}, meta)
	require.Equal(t, part{"index.js", "index.js", cfapi.ModuleContentType, []byte(v1)}, module)
	require.Equal(t, str(sha256Hex(v1)), created.Properties.Get("contentSha256"))
	require.Equal(t, str("v1"), created.Properties.Get("migrationTag"))
	require.Equal(t, str("index.js"), created.Properties.Get("mainModule"), "default main module")

	// Refresh right after the deploy: reads settings, content and (for a
	// worker with Durable Objects) its migration tag from the scripts list,
	// and changes nothing.
	e.emu.ResetLog()
	w.requireNoRefreshDiff()
	require.Equal(t, []call{
		{"GET", "/workers/scripts/dome-api/settings", ""},
		{"GET", "/workers/scripts/dome-api/content/v2", ""},
		{"GET", "/workers/scripts", ""},
	}, e.calls())

	// New code is an in-place re-upload; the migration tag is read from the
	// scripts list, and the step already applied is not resent.
	const v2 = "export default { fetch() { return new Response('v2') } }"
	e.emu.ResetLog()
	updated := w.update(apiWorker(t, f, v2), "contentSha256")
	require.Equal(t, []call{{"GET", "/workers/scripts", ""}, {"PUT", "/workers/scripts/dome-api", ""}}, e.calls())
	meta, module = e.uploaded("dome-api")
	require.NotContains(t, meta, "migrations")
	require.Equal(t, f.wireBindings(), meta["bindings"])
	require.Equal(t, []byte(v2), module.Body)
	require.Equal(t, str(sha256Hex(v2)), updated.Properties.Get("contentSha256"))
	w.requireNoRefreshDiff()

	// A new migration tag is sent, from the tag the script is at.
	in := apiWorker(t, f, v2)
	in["migrations"] = arr(
		obj(map[string]property.Value{"tag": str("v1"), "newClasses": strs("Counter")}),
		obj(map[string]property.Value{"tag": str("v2"), "newClasses": strs("Limiter")}),
	)
	e.emu.ResetLog()
	updated = w.update(in, "migrations")
	require.Equal(t, []call{{"GET", "/workers/scripts", ""}, {"PUT", "/workers/scripts/dome-api", ""}}, e.calls())
	meta, _ = e.uploaded("dome-api")
	require.Equal(t, map[string]any{"new_tag": "v2", "old_tag": "v1", "new_classes": []any{"Limiter"}}, meta["migrations"])
	require.Equal(t, str("v2"), updated.Properties.Get("migrationTag"))
	w.requireNoRefreshDiff()

	// Settings removed from the program are switched off, not left behind.
	for _, k := range []string{"observability", "logpush", "placement", "tags", "compatibilityFlags"} {
		delete(in, k)
	}
	e.emu.ResetLog()
	w.update(in, "observability", "logpush", "placement", "tags", "compatibilityFlags")
	meta, _ = e.uploaded("dome-api")
	require.Equal(t, false, meta["logpush"])
	require.Equal(t, map[string]any{"enabled": false}, meta["observability"])
	require.NotContains(t, meta, "placement")
	require.Equal(t, []any{}, meta["tags"])
	require.Equal(t, []any{}, meta["compatibility_flags"])
	w.requireNoRefreshDiff()

	// Drift made outside Pulumi shows up on refresh.
	_, err := e.client().UploadScript(t.Context(), cfapi.UploadScriptParams{ScriptName: "dome-api",
		Metadata: cfapi.ScriptMetadata{MainModule: "index.js", Bindings: []cfapi.WorkerBinding{{Type: "ai", Name: "AI"}}},
		Content:  "export default {}"})
	require.NoError(t, err)
	drift := w.read()
	require.Equal(t, str(sha256Hex("export default {}")), drift.Inputs.Get("contentSha256"))
	// The secret outlives an upload that leaves it out, as on Cloudflare;
	// moved from its position, its value is not read back from state.
	require.Equal(t, arr(
		obj(map[string]property.Value{"type": str("secret_text"), "name": str("API_KEY")}),
		obj(map[string]property.Value{"type": str("ai"), "name": str("AI")}),
	), drift.Inputs.Get("bindings"))

	// A new name is a replacement, and the diff says which property forces it.
	renamed := apiWorker(t, f, v2)
	renamed["name"] = str("dome-api-v2")
	delete(renamed, "migrations")
	renamed["bindings"] = arr(obj(map[string]property.Value{"type": str("ai"), "name": str("AI")}))
	d, _ := w.diff(renamed)
	require.True(t, d.HasChanges)
	require.Equal(t, p.UpdateReplace, d.DetailedDiff["name"].Kind)
	require.False(t, d.DeleteBeforeReplace, "the new script can exist beside the old one")
	w2 := e.resource("WorkerScript", "api")
	w2.create(renamed)
	require.Equal(t, "dome-api-v2", w2.id)

	// Delete forces, so a worker that is still bound or consuming goes too.
	e.emu.ResetLog()
	w.delete()
	require.Equal(t, []call{{"DELETE", "/workers/scripts/dome-api", "force=true"}}, e.calls())

	// A script deleted outside Pulumi reads as gone.
	gone, err := e.server.Read(p.ReadRequest{ID: w.id, Urn: w.urn, Properties: w.state, Inputs: w.inputs})
	require.NoError(t, err)
	require.Empty(t, gone.ID)
	w2.delete()
}

func TestWorkerScriptImport(t *testing.T) {
	e := newEnv(t)
	f := e.workerFixtures()
	w := e.resource("WorkerScript", "api")
	w.create(apiWorker(t, f, "export default {}"))

	got := e.importRead("WorkerScript", "dome-api")
	require.Equal(t, "dome-api", got.ID)
	want := property.NewMap(apiWorker(t, f, "export default {}"))
	// The code is known by its hash; the file is the program's to name.
	want = want.Set("mainModule", str("index.js")).Set("contentFile", str(""))
	// Cloudflare never returns a secret's value, nor the migration steps.
	bindings := want.Get("bindings").AsArray().AsSlice()
	bindings[5] = obj(map[string]property.Value{"type": str("secret_text"), "name": str("API_KEY")})
	want = want.Set("bindings", arr(bindings...)).Delete("migrations")
	// An import reads the workers.dev setting too: off for a script uploaded through the API.
	want = want.Set("workersDev", property.New(false)).Set("previewUrls", property.New(false))
	require.Equal(t, want, got.Inputs)
	require.Equal(t, str("v1"), got.Properties.Get("migrationTag"))
	require.Equal(t, str(""), got.Properties.Get("url"))

	// The import can then be checked and diffed against the program's
	// inputs: only the secret's value and the migration, which Cloudflare
	// cannot return, differ.
	imported := &lifecycle{e: e, urn: urn("WorkerScript", "imported"), id: got.ID, inputs: got.Inputs, state: got.Properties}
	program := apiWorker(t, f, "export default {}")
	program["workersDev"], program["previewUrls"] = property.New(false), property.New(false)
	d, _ := imported.diff(program)
	require.ElementsMatch(t, []string{"bindings", "migrations"}, slices.Collect(maps.Keys(d.DetailedDiff)))
}

func TestWorkerScriptCreateRefusesExisting(t *testing.T) {
	e := newEnv(t)
	e.workerFixtures() // uploads dome-auth
	w := e.resource("WorkerScript", "auth")
	err := w.createErr(withCode(t, map[string]property.Value{"name": str("dome-auth")}, "export default {}"))
	require.ErrorContains(t, err, `WorkerScript "dome-auth" already exists`)
	require.ErrorContains(t, err, "run: just recover test")
	require.ErrorContains(t, err, "pulumi import --stack test domecf:index:WorkerScript auth dome-auth --provider domecf=urn:pulumi:test::dome::pulumi:providers:domecf::domecf --generate-code=false --yes")
	for _, c := range e.calls() {
		require.Equal(t, "GET", c.Method, "nothing may be overwritten")
	}
}

func TestWorkerScriptCheck(t *testing.T) {
	e := newEnv(t)
	binding := func(kv ...any) property.Value {
		m := map[string]property.Value{}
		for i := 0; i < len(kv); i += 2 {
			v, ok := kv[i+1].(property.Value)
			if !ok {
				v = str(kv[i+1].(string))
			}
			m[kv[i].(string)] = v
		}
		return obj(m)
	}
	tests := []struct {
		name     string
		bindings property.Value
		failures []p.CheckFailure
	}{
		{
			name:     "every type with its fields passes",
			bindings: workerFixtures{d1ID: "x", kvID: "y"}.allBindings(),
		},
		{
			name:     "a d1 binding needs an id",
			bindings: arr(binding("type", "d1", "name", "DB")),
			failures: []p.CheckFailure{{Property: "bindings[0].id", Reason: `binding "DB" (d1) needs id`}},
		},
		{
			name:     "an empty required field counts as missing",
			bindings: arr(binding("type", "vectorize", "name", "NOTES", "indexName", "")),
			failures: []p.CheckFailure{{Property: "bindings[0].indexName", Reason: `binding "NOTES" (vectorize) needs indexName`}},
		},
		{
			name:     "a field of another type is refused",
			bindings: arr(binding("type", "queue", "name", "Q", "queueName", "q", "bucketName", "b")),
			failures: []p.CheckFailure{{Property: "bindings[0].bucketName", Reason: `binding "Q" (queue) does not take bucketName`}},
		},
		{
			name:     "an unknown type is refused",
			bindings: arr(binding("type", "wasm_module", "name", "W")),
			failures: []p.CheckFailure{{Property: "bindings[0].type", Reason: `binding "W": unknown type "wasm_module"; expected one of ` +
				"ai, analytics_engine, d1, durable_object_namespace, hyperdrive, kv_namespace, plain_text, queue, " +
				"r2_bucket, secret_text, service, vectorize"}},
		},
		{
			name:     "names are unique",
			bindings: arr(binding("type", "ai", "name", "AI"), binding("type", "ai", "name", "AI")),
			failures: []p.CheckFailure{{Property: "bindings[1].name", Reason: `binding "AI": the name is already used by binding 0`}},
		},
		{
			name:     "a secret needs its text",
			bindings: arr(binding("type", "secret_text", "name", "KEY")),
			failures: []p.CheckFailure{{Property: "bindings[0].text", Reason: `binding "KEY" (secret_text) needs text`}},
		},
		{
			name: "an id still unknown at preview is not missing",
			bindings: arr(binding("type", "d1", "name", "DB", "id", property.New(property.Computed)),
				binding("type", "hyperdrive", "name", "PG", "id", property.New(property.Computed))),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.resource("WorkerScript", "w").check(withCode(t, map[string]property.Value{
				"name": str("w"), "bindings": tc.bindings,
			}, "export default {}"))
			require.Equal(t, tc.failures, resp.Failures)
		})
	}

	resp := e.resource("WorkerScript", "w").check(withCode(t, map[string]property.Value{
		"name":          str("w"),
		"observability": obj(map[string]property.Value{"enabled": property.New(true), "headSamplingRate": num(10)}),
	}, "export default {}"))
	require.Equal(t, []p.CheckFailure{{Property: "observability.headSamplingRate",
		Reason: "headSamplingRate is a fraction between 0 and 1, got 10"}}, resp.Failures)
}

// Cloudflare answers with defaults the program never set; reading them
// back as set would show a change on every refresh.
func TestSettingsReadBack(t *testing.T) {
	one, half := 1.0, 0.5
	tests := []struct {
		name  string
		live  *cfapi.Observability
		prior *WorkerObservability
		want  *WorkerObservability
	}{
		{"absent", nil, nil, nil},
		{"disabled default, program silent", &cfapi.Observability{}, nil, nil},
		{"disabled with default rate, program silent", &cfapi.Observability{HeadSamplingRate: &one}, nil, nil},
		{"disabled, program said disabled", &cfapi.Observability{}, &WorkerObservability{}, &WorkerObservability{}},
		{"enabled with default rate, program gave no rate", &cfapi.Observability{Enabled: true, HeadSamplingRate: &one},
			&WorkerObservability{Enabled: true}, &WorkerObservability{Enabled: true}},
		{"enabled, import", &cfapi.Observability{Enabled: true, HeadSamplingRate: &one}, nil, &WorkerObservability{Enabled: true}},
		{"enabled with a rate", &cfapi.Observability{Enabled: true, HeadSamplingRate: &half},
			&WorkerObservability{Enabled: true, HeadSamplingRate: &half}, &WorkerObservability{Enabled: true, HeadSamplingRate: &half}},
		{"rate 1 the program asked for", &cfapi.Observability{Enabled: true, HeadSamplingRate: &one},
			&WorkerObservability{Enabled: true, HeadSamplingRate: &one}, &WorkerObservability{Enabled: true, HeadSamplingRate: &one}},
		{"turned off outside Pulumi", &cfapi.Observability{}, &WorkerObservability{Enabled: true}, &WorkerObservability{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, observabilityFromAPI(tc.live, tc.prior))
		})
	}

	yes, no := true, false
	require.Nil(t, logpushFromAPI(&no, nil), "Cloudflare's false, program silent")
	require.Equal(t, &no, logpushFromAPI(&no, &no))
	require.Equal(t, &yes, logpushFromAPI(&yes, nil))
	require.Nil(t, logpushFromAPI(nil, &yes))
}

func TestWorkerScriptDiffTakesTheDefaultSamplingRateAsUnset(t *testing.T) {
	rate := func(v float64) *float64 { return &v }
	args := func(o *WorkerObservability) WorkerScriptArgs {
		return WorkerScriptArgs{Name: "w", ContentSha256: sha256Hex("export default {}"), Observability: o}
	}
	tests := []struct {
		name     string
		old, new *WorkerObservability
		changes  bool
	}{
		{"unset then the default", &WorkerObservability{Enabled: true}, &WorkerObservability{Enabled: true, HeadSamplingRate: rate(1)}, false},
		{"the default then unset", &WorkerObservability{Enabled: true, HeadSamplingRate: rate(1)}, &WorkerObservability{Enabled: true}, false},
		{"unset then a tenth", &WorkerObservability{Enabled: true}, &WorkerObservability{Enabled: true, HeadSamplingRate: rate(0.1)}, true},
		{"observability turned off", &WorkerObservability{Enabled: true}, &WorkerObservability{Enabled: false}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := (&WorkerScript{}).Diff(context.Background(), infer.DiffRequest[WorkerScriptArgs, WorkerScriptState]{
				ID: "w", State: WorkerScriptState{WorkerScriptArgs: args(tt.old)}, Inputs: args(tt.new),
			})
			require.NoError(t, err)
			require.Equal(t, tt.changes, d.HasChanges, "%v", d.DetailedDiff)
		})
	}
}

// patchSettings changes a script's settings outside Pulumi, as the
// dashboard does: a multipart PATCH of /settings with one settings part.
func (e *env) patchSettings(script, settings string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormField("settings")
	require.NoError(e.t, err)
	_, err = w.Write([]byte(settings))
	require.NoError(e.t, err)
	require.NoError(e.t, mw.Close())
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPatch, e.srv.URL+accPath+"/workers/scripts/"+script+"/settings", &body)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.StatusCode, string(out))
}

// TestWorkerScriptSettingsDrift: each setting changed outside Pulumi is
// read from Cloudflare, and the diff `just drift` shows names it.
func TestWorkerScriptSettingsDrift(t *testing.T) {
	for _, tc := range []struct {
		name, settings string
		live           property.Value // the changed input as read; null is absent
		changed        string
	}{
		{"compatibility date", `{"compatibility_date":"2025-03-01"}`, str("2025-03-01"), "compatibilityDate"},
		{"compatibility flags", `{"compatibility_flags":[]}`, property.Value{}, "compatibilityFlags"},
		{"logpush", `{"logpush":false}`, property.New(false), "logpush"},
		{"observability off", `{"observability":{"enabled":false}}`, obj(map[string]property.Value{"enabled": property.New(false)}), "observability"},
		{"sampling rate", `{"observability":{"enabled":true,"head_sampling_rate":0.1}}`,
			obj(map[string]property.Value{"enabled": property.New(true), "headSamplingRate": num(0.1)}), "observability"},
		{"placement", `{"placement":{}}`, property.Value{}, "placement"},
		{"tags", `{"tags":["other"]}`, strs("other"), "tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			f := e.workerFixtures()
			w := e.resource("WorkerScript", "api")
			w.create(apiWorker(t, f, "export default {}"))
			e.patchSettings("dome-api", tc.settings)

			read, d := w.refreshDiff()
			require.Equal(t, tc.live, read.Inputs.Get(tc.changed), "input as read")
			require.Equal(t, []string{tc.changed}, slices.Collect(maps.Keys(d.DetailedDiff)))
			require.NotEqual(t, p.UpdateReplace, d.DetailedDiff[tc.changed].Kind, "a re-upload in place")
		})
	}
}
