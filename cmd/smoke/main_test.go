package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu/cfemutest"
)

const bundle = "export default { fetch() { return new Response('ok'); } };"

// TestRun checks outputs recorded by a deploy against an emulated account:
// all present passes; a worker running other code, or a resource gone,
// fails naming it.
func TestRun(t *testing.T) {
	srv := cfemutest.Start(t)
	ctx := context.Background()
	client := srv.API

	// What a deploy of a small topology left in the account.
	upload := func(content string) {
		_, err := client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "api-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: content})
		require.NoError(t, err)
	}
	upload(bundle)
	_, err := client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "jobs-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: bundle})
	require.NoError(t, err)
	db := srv.Create(t, "/d1/database", `{"name":"silo-dev"}`)
	queue := srv.Create(t, "/queues", `{"queue_name":"work-dev"}`)
	ns := srv.Create(t, "/storage/kv/namespaces", `{"title":"sessions-dev"}`)
	srv.Create(t, "/r2/buckets", `{"name":"content-dev"}`)
	_, err = client.CreateVectorizeIndex(ctx, cfapi.CreateVectorizeIndexParams{Name: "notes-dev", Config: cfapi.VectorizeConfig{Dimensions: 32, Metric: "cosine"}})
	require.NoError(t, err)
	consumer, err := client.CreateQueueConsumer(ctx, queue["queue_id"].(string), cfapi.ConsumerParams{ScriptName: "jobs-dev", Type: "worker"})
	require.NoError(t, err)

	sum := sha256.Sum256([]byte(bundle))
	outs := map[string]any{
		"environment":      "dev",
		"d1Databases":      map[string]any{"silo": map[string]any{"name": "silo-dev", "id": db["uuid"]}},
		"r2Buckets":        map[string]any{"content": map[string]any{"name": "content-dev", "id": "content-dev"}},
		"kvNamespaces":     map[string]any{"sessions": map[string]any{"name": "sessions-dev", "id": ns["id"]}},
		"queues":           map[string]any{"work": map[string]any{"name": "work-dev", "id": queue["queue_id"]}},
		"vectorizeIndexes": map[string]any{"notes": map[string]any{"name": "notes-dev", "id": "notes-dev"}},
		"workers": map[string]any{
			"api":  map[string]any{"name": "api-dev", "id": "api-dev", "bundleSha256": hex.EncodeToString(sum[:]), "bindings": []string{}},
			"jobs": map[string]any{"name": "jobs-dev", "id": "jobs-dev", "bundleSha256": hex.EncodeToString(sum[:]), "bindings": []string{}},
		},
		"queueConsumers": map[string]any{"work": map[string]any{"id": queue["queue_id"].(string) + "/" + consumer.ConsumerID, "worker": "jobs"}},
	}
	raw := string(must(json.Marshal(outs)))

	dir := srv.Project(t, "dev", "dev")
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, dir, "dev", raw), out.String())
	require.Contains(t, out.String(), "ok   worker api (api-dev)\n")
	require.Contains(t, out.String(), "ok   queue consumer work (jobs)\n")
	require.Contains(t, out.String(), "stack dev: every resource in its outputs is deployed as recorded")
	require.Equal(t, 8, strings.Count(out.String(), "ok   "))

	// Someone uploads other code, and the database's id is not the recorded one.
	upload("export default {};")
	outs["d1Databases"].(map[string]any)["silo"].(map[string]any)["id"] = "00000000-0000-0000-0000-000000000000"
	out.Reset()
	err = run(ctx, &out, dir, "dev", string(must(json.Marshal(outs))))
	require.ErrorContains(t, err, "2 of the stack's resources do not match Cloudflare")
	require.ErrorContains(t, err, `D1 database silo (silo-dev): not in the account under id "00000000-0000-0000-0000-000000000000"`)
	require.ErrorContains(t, err, "worker api (api-dev): runs a bundle with SHA-256 ")
	require.Contains(t, out.String(), "FAIL worker api (api-dev)")

	require.ErrorContains(t, run(ctx, &out, dir, "dev", ""), "DOME_OUTPUTS is empty: set it to the stack's outputs (`just outputs dev`)")
	require.ErrorContains(t, run(ctx, &out, dir, "dev", "Diagnostics:"), "DOME_OUTPUTS: not the stack outputs")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
