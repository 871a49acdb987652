package provider

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

func metaIndexes(pairs ...string) property.Value {
	var vs []property.Value
	for i := 0; i < len(pairs); i += 2 {
		vs = append(vs, obj(map[string]property.Value{"propertyName": str(pairs[i]), "indexType": str(pairs[i+1])}))
	}
	return arr(vs...)
}

func notesIndex(metas ...string) map[string]property.Value {
	return map[string]property.Value{
		"name":            str("dome-notes"),
		"dimensions":      num(768),
		"metric":          str("cosine"),
		"description":     str("note embeddings"),
		"metadataIndexes": metaIndexes(metas...),
	}
}

func TestVectorizeIndexLifecycle(t *testing.T) {
	e := newEnv(t)
	v := e.resource("VectorizeIndex", "notes")

	// Create; metadata indexes come out sorted by property name.
	created := v.create(notesIndex("user", "string", "kind", "string"))
	require.Equal(t, "dome-notes", created.ID)
	require.Equal(t, []call{
		{"POST", "/vectorize/v2/indexes", ""},
		{"GET", "/vectorize/v2/indexes/dome-notes/metadata_index/list", ""},
		{"POST", "/vectorize/v2/indexes/dome-notes/metadata_index/create", ""},
		{"POST", "/vectorize/v2/indexes/dome-notes/metadata_index/create", ""},
	}, e.calls())
	reqs := e.emu.Requests()
	require.Equal(t, map[string]any{
		"name": "dome-notes", "description": "note embeddings",
		"config": map[string]any{"dimensions": float64(768), "metric": "cosine"},
	}, jsonBody(t, reqs[0]))
	require.Equal(t, map[string]any{"propertyName": "kind", "indexType": "string"}, jsonBody(t, reqs[2]))
	require.Equal(t, map[string]any{"propertyName": "user", "indexType": "string"}, jsonBody(t, reqs[3]))
	require.Equal(t, metaIndexes("kind", "string", "user", "string"), created.Properties.Get("metadataIndexes"))
	require.NotEmpty(t, created.Properties.Get("createdOn").AsString())

	e.emu.ResetLog()
	v.requireNoRefreshDiff()
	require.Equal(t, []call{
		{"GET", "/vectorize/v2/indexes/dome-notes", ""},
		{"GET", "/vectorize/v2/indexes/dome-notes/metadata_index/list", ""},
	}, e.calls())

	// Reordering metadata indexes is no change at all.
	d, _ := v.diff(notesIndex("kind", "string", "user", "string"))
	require.False(t, d.HasChanges)

	// Metadata index changes are updates: add one, retype one, drop one.
	e.emu.ResetLog()
	v.update(notesIndex("kind", "number", "source", "string"), "metadataIndexes")
	require.Equal(t, []call{
		{"GET", "/vectorize/v2/indexes/dome-notes/metadata_index/list", ""},
		{"POST", "/vectorize/v2/indexes/dome-notes/metadata_index/delete", ""},
		{"POST", "/vectorize/v2/indexes/dome-notes/metadata_index/delete", ""},
		{"POST", "/vectorize/v2/indexes/dome-notes/metadata_index/create", ""},
		{"POST", "/vectorize/v2/indexes/dome-notes/metadata_index/create", ""},
	}, e.calls())
	reqs = e.emu.Requests()
	require.Equal(t, map[string]any{"propertyName": "kind"}, jsonBody(t, reqs[1]))
	require.Equal(t, map[string]any{"propertyName": "user"}, jsonBody(t, reqs[2]))
	require.Equal(t, map[string]any{"propertyName": "kind", "indexType": "number"}, jsonBody(t, reqs[3]))
	require.Equal(t, map[string]any{"propertyName": "source", "indexType": "string"}, jsonBody(t, reqs[4]))
	v.requireNoRefreshDiff()

	// Anything else replaces the index, and the diff names the property.
	for _, tc := range []struct {
		prop  string
		value property.Value
		kind  p.DiffKind
	}{
		{"dimensions", num(1024), p.UpdateReplace},
		{"metric", str("euclidean"), p.UpdateReplace},
		{"description", str("other"), p.UpdateReplace},
		{"name", str("dome-notes-2"), p.UpdateReplace},
	} {
		in := notesIndex("kind", "number", "source", "string")
		in[tc.prop] = tc.value
		d, _ := v.diff(in)
		require.Equal(t, map[string]p.PropertyDiff{tc.prop: {Kind: tc.kind, InputDiff: true}}, d.DetailedDiff, tc.prop)
		// Two indexes cannot share a name, so the old one must go first.
		require.Equal(t, tc.prop != "name", d.DeleteBeforeReplace, tc.prop)
	}
	in := notesIndex()
	delete(in, "description")
	d, _ = v.diff(in)
	require.Equal(t, p.DeleteReplace, d.DetailedDiff["description"].Kind)

	// Carry out a replacement the way the engine does for delete-before-replace.
	e.emu.ResetLog()
	v.delete()
	bigger := notesIndex("kind", "number")
	bigger["dimensions"] = num(1024)
	v.create(bigger)
	require.Equal(t, []call{
		{"DELETE", "/vectorize/v2/indexes/dome-notes", ""},
		{"POST", "/vectorize/v2/indexes", ""},
		{"GET", "/vectorize/v2/indexes/dome-notes/metadata_index/list", ""},
		{"POST", "/vectorize/v2/indexes/dome-notes/metadata_index/create", ""},
	}, e.calls())
	require.Equal(t, float64(1024), jsonBody(t, e.emu.Requests()[1]).(map[string]any)["config"].(map[string]any)["dimensions"])

	// Import fills every input from Cloudflare.
	got := e.importRead("VectorizeIndex", "dome-notes")
	require.Equal(t, "dome-notes", got.ID)
	require.Equal(t, property.NewMap(bigger), got.Inputs)

	e.emu.ResetLog()
	v.delete()
	require.Equal(t, []call{{"DELETE", "/vectorize/v2/indexes/dome-notes", ""}}, e.calls())
	gone := v.read()
	require.Empty(t, gone.ID)
}

func TestVectorizeIndexPreset(t *testing.T) {
	e := newEnv(t)
	v := e.resource("VectorizeIndex", "notes")
	v.create(map[string]property.Value{"name": str("dome-notes"), "preset": str("@cf/baai/bge-base-en-v1.5")})
	require.Equal(t, map[string]any{"name": "dome-notes", "config": map[string]any{"preset": "@cf/baai/bge-base-en-v1.5"}},
		jsonBody(t, e.emu.Requests()[0]))
	// Cloudflare answers with the preset's dimensions and metric; the preset stays.
	v.requireNoRefreshDiff()
}

func TestVectorizeIndexCreateRefusesExisting(t *testing.T) {
	e := newEnv(t)
	e.fixture("POST", "/vectorize/v2/indexes", `{"name":"dome-notes","config":{"dimensions":3,"metric":"cosine"}}`)
	err := e.resource("VectorizeIndex", "notes").createErr(notesIndex())
	require.ErrorContains(t, err, `VectorizeIndex "dome-notes" already exists`)
	require.ErrorContains(t, err, "pulumi import --stack test domecf:index:VectorizeIndex notes dome-notes --provider domecf=urn:pulumi:test::dome::pulumi:providers:domecf::domecf --generate-code=false --yes")
	require.ErrorContains(t, err, "code 3002")
}

func TestVectorizeIndexCheck(t *testing.T) {
	e := newEnv(t)
	with := func(kv ...any) map[string]property.Value {
		m := notesIndex()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1].(property.Value)
		}
		return m
	}
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprintf("p%02d", i), "string")
	}
	namePattern := `must match ^[a-z]+[a-z0-9_-]*[a-z0-9]+$ and be at most 64 characters`
	tests := []struct {
		name     string
		inputs   map[string]property.Value
		failures []p.CheckFailure
	}{
		{"valid", with(), nil},
		{"upper case name", with("name", str("Notes")), []p.CheckFailure{{Property: "name", Reason: `index name "Notes" ` + namePattern}}},
		{"name too long", with("name", str("a"+fmt.Sprintf("%065d", 0))), []p.CheckFailure{{Property: "name",
			Reason: fmt.Sprintf("index name %q %s", "a"+fmt.Sprintf("%065d", 0), namePattern)}}},
		{"zero dimensions", with("dimensions", num(0)), []p.CheckFailure{{Property: "dimensions", Reason: "dimensions must be between 1 and 1536, got 0"}}},
		{"too many dimensions", with("dimensions", num(1537)), []p.CheckFailure{{Property: "dimensions", Reason: "dimensions must be between 1 and 1536, got 1537"}}},
		{"unknown metric", with("metric", str("manhattan")), []p.CheckFailure{{Property: "metric", Reason: `metric must be one of cosine, euclidean, dot-product, got "manhattan"`}}},
		{"preset and dimensions", with("preset", str("@cf/baai/bge-base-en-v1.5")), []p.CheckFailure{{Property: "preset", Reason: "set either preset or dimensions and metric, not both"}}},
		{"neither", with("dimensions", nil, "metric", nil), []p.CheckFailure{{Property: "dimensions", Reason: "set dimensions and metric, or a preset"}}},
		{"eleven metadata indexes", with("metadataIndexes", metaIndexes(eleven...)), []p.CheckFailure{{Property: "metadataIndexes", Reason: "at most 10 metadata indexes, got 11"}}},
		{"property indexed twice", with("metadataIndexes", metaIndexes("a", "string", "a", "number")), []p.CheckFailure{{Property: "metadataIndexes[1].propertyName", Reason: `property "a" is indexed twice`}}},
		{"bad index type", with("metadataIndexes", metaIndexes("a", "date")), []p.CheckFailure{{Property: "metadataIndexes[0].indexType", Reason: `indexType must be one of string, number, boolean, got "date"`}}},
		{"unknown dimensions at preview", with("dimensions", property.New(property.Computed)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.resource("VectorizeIndex", "v").check(tc.inputs)
			require.Equal(t, tc.failures, resp.Failures)
		})
	}
}

// TestVectorizeIndexDrift: an index changed, or deleted and created again,
// outside Pulumi is read as Cloudflare holds it, and the diff `just drift`
// shows names what differs. Cloudflare reports dimensions and metric, not
// presets, so a preset survives only while the index has what it stands for.
func TestVectorizeIndexDrift(t *testing.T) {
	preset := func(name string) map[string]property.Value {
		return map[string]property.Value{"name": str("dome-notes"), "preset": str(name)}
	}
	dims := func(n float64, metric string) map[string]property.Value {
		return map[string]property.Value{"name": str("dome-notes"), "dimensions": num(n), "metric": str(metric)}
	}
	for _, tc := range []struct {
		name      string
		deployed  map[string]property.Value
		recreated string // the body of the create made outside Pulumi; "" changes nothing
		metadata  string // a metadata index created outside Pulumi
		live      map[string]property.Value
		changed   []string
	}{
		{
			name: "other dimensions", deployed: dims(768, "cosine"),
			recreated: `{"name":"dome-notes","config":{"dimensions":1024,"metric":"cosine"}}`,
			live:      dims(1024, "cosine"), changed: []string{"dimensions"},
		},
		{
			name: "other metric", deployed: dims(768, "cosine"),
			recreated: `{"name":"dome-notes","config":{"dimensions":768,"metric":"euclidean"}}`,
			live:      dims(768, "euclidean"), changed: []string{"metric"},
		},
		{
			name: "a preset in place of dimensions", deployed: dims(768, "euclidean"),
			recreated: `{"name":"dome-notes","config":{"preset":"@cf/baai/bge-small-en-v1.5"}}`,
			live:      dims(384, "cosine"), changed: []string{"dimensions", "metric"},
		},
		{
			name: "another preset", deployed: preset("@cf/baai/bge-base-en-v1.5"),
			recreated: `{"name":"dome-notes","config":{"preset":"@cf/baai/bge-large-en-v1.5"}}`,
			live:      dims(1024, "cosine"), changed: []string{"preset", "dimensions", "metric"},
		},
		{
			name: "dimensions in place of a preset", deployed: preset("@cf/baai/bge-base-en-v1.5"),
			recreated: `{"name":"dome-notes","config":{"dimensions":768,"metric":"dot-product"}}`,
			live:      dims(768, "dot-product"), changed: []string{"preset", "dimensions", "metric"},
		},
		{
			name: "the same preset again", deployed: preset("@cf/baai/bge-base-en-v1.5"),
			recreated: `{"name":"dome-notes","config":{"preset":"@cf/baai/bge-base-en-v1.5"}}`,
			live:      preset("@cf/baai/bge-base-en-v1.5"),
		},
		{
			name: "another description", deployed: map[string]property.Value{"name": str("dome-notes"), "dimensions": num(768), "metric": str("cosine"), "description": str("notes")},
			recreated: `{"name":"dome-notes","description":"other","config":{"dimensions":768,"metric":"cosine"}}`,
			live:      map[string]property.Value{"name": str("dome-notes"), "dimensions": num(768), "metric": str("cosine"), "description": str("other")},
			changed:   []string{"description"},
		},
		{
			name: "a metadata index added", deployed: dims(768, "cosine"),
			metadata: `{"propertyName":"kind","indexType":"string"}`,
			live:     map[string]property.Value{"name": str("dome-notes"), "dimensions": num(768), "metric": str("cosine"), "metadataIndexes": metaIndexes("kind", "string")},
			changed:  []string{"metadataIndexes"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.resource("VectorizeIndex", "notes")
			v.create(tc.deployed)
			v.requireNoRefreshDiff()
			if tc.recreated != "" {
				e.fixture("DELETE", "/vectorize/v2/indexes/dome-notes", "")
				e.fixture("POST", "/vectorize/v2/indexes", tc.recreated)
			}
			if tc.metadata != "" {
				e.fixture("POST", "/vectorize/v2/indexes/dome-notes/metadata_index/create", tc.metadata)
			}

			read, d := v.refreshDiff()
			require.Equal(t, property.NewMap(tc.live), read.Inputs, "inputs read from Cloudflare")
			require.ElementsMatch(t, tc.changed, slices.Collect(maps.Keys(d.DetailedDiff)))
			require.Equal(t, len(tc.changed) > 0, d.HasChanges)
		})
	}
}

// TestVectorizeLiveConfig covers what the emulator cannot make: a preset
// this provider's table lacks, and Cloudflare naming the preset itself.
func TestVectorizeLiveConfig(t *testing.T) {
	const created = "2025-01-01T00:00:00.000000Z"
	newPreset := ptr("@cf/some/new-model")
	for _, tc := range []struct {
		name                 string
		live                 cfapi.VectorizeIndex
		prior                VectorizeIndexState
		wantDims             *int
		wantMetric, wantPset *string
	}{
		{
			name:     "unknown preset, same index",
			live:     cfapi.VectorizeIndex{Config: cfapi.VectorizeConfig{Dimensions: 512, Metric: "cosine"}, CreatedOn: created},
			prior:    VectorizeIndexState{VectorizeIndexArgs: VectorizeIndexArgs{Preset: newPreset}, CreatedOn: created},
			wantPset: newPreset,
		},
		{
			name:       "unknown preset, index created again",
			live:       cfapi.VectorizeIndex{Config: cfapi.VectorizeConfig{Dimensions: 512, Metric: "cosine"}, CreatedOn: "2025-02-01T00:00:00.000000Z"},
			prior:      VectorizeIndexState{VectorizeIndexArgs: VectorizeIndexArgs{Preset: newPreset}, CreatedOn: created},
			wantDims:   ptr(512),
			wantMetric: ptr("cosine"),
		},
		{
			name:     "Cloudflare names the preset",
			live:     cfapi.VectorizeIndex{Config: cfapi.VectorizeConfig{Dimensions: 768, Metric: "cosine", Preset: "@cf/baai/bge-base-en-v1.5"}},
			wantPset: ptr("@cf/baai/bge-base-en-v1.5"),
		},
		{
			name:       "import: no preset to keep",
			live:       cfapi.VectorizeIndex{Config: cfapi.VectorizeConfig{Dimensions: 768, Metric: "cosine"}, CreatedOn: created},
			wantDims:   ptr(768),
			wantMetric: ptr("cosine"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dims, metric, preset := liveConfig(tc.live, tc.prior)
			require.Equal(t, tc.wantDims, dims)
			require.Equal(t, tc.wantMetric, metric)
			require.Equal(t, tc.wantPset, preset)
		})
	}
}
