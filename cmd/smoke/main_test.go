package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
)

const (
	account = "00000000000000000000000000000001"
	token   = "local-emulator-token-not-a-real-secret-0"
	bundle  = "export default { fetch() { return new Response('ok'); } };"
)

// TestRun checks outputs recorded by a deploy against an emulated account:
// all present passes; a worker running other code, or a resource gone,
// fails naming it.
func TestRun(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: token, AccountID: account})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(emu)
	defer srv.Close()
	ctx := context.Background()
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: token, AccountID: account, HTTPClient: srv.Client()})
	require.NoError(t, err)

	// What a deploy of a small topology left in the account.
	upload := func(content string) {
		_, err := client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "api-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: content})
		require.NoError(t, err)
	}
	upload(bundle)
	_, err = client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "jobs-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: bundle})
	require.NoError(t, err)
	db := create(t, srv, "/d1/database", `{"name":"silo-dev"}`)
	queue := create(t, srv, "/queues", `{"queue_name":"work-dev"}`)
	ns := create(t, srv, "/storage/kv/namespaces", `{"title":"sessions-dev"}`)
	create(t, srv, "/r2/buckets", `{"name":"content-dev"}`)
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

	dir := project(t, srv)
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

// project is a folder whose dev stack points at the test server, with
// credentials in the environment and the server's certificate trusted. Go
// reads SSL_CERT_FILE once per process: this is the package's only TLS test.
func project(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	dir := t.TempDir()
	host := must(url.Parse(srv.URL)).Host
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: dome\nruntime: go\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte("config:\n  dome:environment: dev\n  dome:apiHostname: "+host+"\n"), 0o644))
	certFile := filepath.Join(dir, "cert.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	t.Setenv("SSL_CERT_FILE", certFile)
	t.Setenv(config.EnvAPIToken, token)
	t.Setenv(config.EnvAccountID, account)
	return dir
}

// create makes a resource directly through the emulated API and returns its result.
func create(t *testing.T, srv *httptest.Server, path, body string) map[string]any {
	t.Helper()
	req := must(http.NewRequest(http.MethodPost, srv.URL+"/client/v4/accounts/"+account+path, strings.NewReader(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env struct {
		Success bool
		Result  map[string]any
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	require.True(t, env.Success, path)
	return env.Result
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
