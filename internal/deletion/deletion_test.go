package deletion

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

const (
	tD1    = "cloudflare:index/d1Database:D1Database"
	tR2    = "cloudflare:index/r2Bucket:R2Bucket"
	tQueue = "cloudflare:index/queue:Queue"
	tIndex = "domecf:index:VectorizeIndex"
)

func urn(typ, name string) string { return "urn:pulumi:dev::dome::" + typ + "::" + name }

func TestHeld(t *testing.T) {
	held := Held(map[string]any{
		urn(tD1, "silo"):                 map[string]any{"type": tD1, "outputs": map[string]any{"name": "silo-dev"}},
		urn("pulumi:pulumi:Stack", "x"):  map[string]any{"type": "pulumi:pulumi:Stack"},
		"not a urn":                      map[string]any{"type": tD1},
		urn(tQueue, "jobs"):              "not an entry",
		urn(tR2+"$"+tR2, "nested::name"): map[string]any{"type": tR2, "outputs": map[string]any{}},
	})
	require.Equal(t, []Resource{
		{Name: "silo", Type: tD1, Outputs: map[string]any{"name": "silo-dev"}},
		{Name: "name", Type: tR2, Outputs: map[string]any{}},
		{Name: "x", Type: "pulumi:pulumi:Stack"},
	}, held)
}

func TestCheck(t *testing.T) {
	cfg := &config.Config{Environment: "dev", Topology: config.Topology{
		D1Databases:      []config.Database{{Name: "dome-meta"}},
		R2Buckets:        []config.Bucket{{Name: "raw", Location: "WEUR"}, {Name: "any"}},
		Queues:           []config.Queue{{Name: "jobs"}, {Name: "new"}},
		VectorizeIndexes: []config.Index{{Name: "notes", Dimensions: 768, Metric: "cosine"}, {Name: "docs", Preset: "@cf/baai/bge-base-en-v1.5"}},
		Workers:          []config.Worker{{Name: "api"}},
	}}
	kept := []Resource{
		{Name: "dome-meta", Type: tD1, Outputs: map[string]any{"name": "dome-meta-dev", "id": "1"}},
		{Name: "raw", Type: tR2, Outputs: map[string]any{"name": "raw-dev", "location": "WEUR"}},
		{Name: "any", Type: tR2, Outputs: map[string]any{"name": "any-dev", "location": "ENAM"}},
		{Name: "jobs", Type: tQueue, Outputs: map[string]any{"name": "renamed-in-place"}},
		{Name: "notes", Type: tIndex, Outputs: map[string]any{"name": "notes-dev", "dimensions": 768.0, "metric": "cosine"}},
		{Name: "docs", Type: tIndex, Outputs: map[string]any{"name": "docs-dev", "dimensions": 768.0, "metric": "cosine", "preset": "@cf/baai/bge-base-en-v1.5"}},
		{Name: "api", Type: "domecf:index:WorkerScript", Outputs: map[string]any{"name": "something-else"}},
		{Name: "gone-worker", Type: "domecf:index:WorkerScript"},
	}
	require.NoError(t, Check(kept, cfg, ""), "what the topology declares, as declared, is neither deleted nor replaced")
	require.NoError(t, Check(nil, cfg, ""), "a first deploy deletes nothing")

	with := func(extra ...Resource) []Resource { return append(append([]Resource{}, kept...), extra...) }
	changed := func(name string, outputs map[string]any) []Resource {
		out := append([]Resource{}, kept...)
		for i, r := range out {
			if r.Name == name {
				out[i].Outputs = outputs
			}
		}
		return out
	}
	tests := []struct {
		name  string
		held  []Resource
		allow string
		want  string
	}{
		{"a dropped database and bucket, however they got into state", with(
			Resource{Name: "silo", Type: tD1, Outputs: map[string]any{"name": "silo-dev"}},
			Resource{Name: "archive", Type: tR2}), "",
			`refusing to delete D1 database "silo", R2 bucket "archive" (no longer in the topology): their data would be lost; put back in Pulumi.yaml what should stay, or, to lose it on purpose, name what may go: DOME_ALLOW_DELETE="silo archive"`},
		{"only what is named is allowed", with(
			Resource{Name: "silo", Type: tD1}, Resource{Name: "archive", Type: tR2}), "archive",
			`refusing to delete D1 database "silo" (no longer in the topology): its data would be lost; put back in Pulumi.yaml what should stay, or, to lose it on purpose, name what may go: DOME_ALLOW_DELETE="silo"`},
		{"named by spaces or commas", with(Resource{Name: "silo", Type: tD1}, Resource{Name: "archive", Type: tR2}), " silo,archive ", ""},
		{"a renamed database is replaced", changed("dome-meta", map[string]any{"name": "dome-meta-staging"}), "",
			`refusing to replace D1 database "dome-meta" (name "dome-meta-staging" => "dome-meta-dev"): its data would be lost; put back in Pulumi.yaml what should stay, or, to lose it on purpose, name what may go: DOME_ALLOW_DELETE="dome-meta"`},
		{"a moved bucket is replaced", changed("raw", map[string]any{"name": "raw-dev", "location": "ENAM"}), "",
			`refusing to replace R2 bucket "raw" (location "ENAM" => "WEUR"): its data would be lost; put back in Pulumi.yaml what should stay, or, to lose it on purpose, name what may go: DOME_ALLOW_DELETE="raw"`},
		{"an index of another shape is replaced, and a dropped queue deleted", append(changed("notes", map[string]any{"name": "notes-dev", "dimensions": 1536.0, "metric": "euclidean"}),
			Resource{Name: "old-jobs", Type: tQueue}), "",
			`refusing to delete queue "old-jobs" (no longer in the topology) and to replace Vectorize index "notes" (dimensions 1536 => 768, metric "euclidean" => "cosine"): their data would be lost; put back in Pulumi.yaml what should stay, or, to lose it on purpose, name what may go: DOME_ALLOW_DELETE="notes old-jobs"`},
		{"a replacement named goes ahead", changed("notes", map[string]any{"name": "notes-dev", "dimensions": 1536.0}), "notes", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.held, cfg, tt.allow)
			if tt.want == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, tt.want)
			}
		})
	}
}
