package adopt

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
)

const (
	account = "0123456789abcdef0123456789abcdef"
	token   = "adopt-test-token"
)

// api is a test's view of an emulated account.
type api struct {
	t      *testing.T
	srv    *httptest.Server
	client *cfapi.Client
}

func newAPI(t *testing.T) *api {
	t.Helper()
	emu, err := cfemu.New(cfemu.Config{Token: token, AccountID: account, Zones: []string{"dome.example"}})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: token, AccountID: account})
	require.NoError(t, err)
	return &api{t: t, srv: srv, client: c}
}

// post creates a resource the way any client would and returns its result.
func (a *api) post(path, body string) map[string]any {
	a.t.Helper()
	return a.send(http.MethodPost, path, body)
}

func (a *api) send(method, path, body string) map[string]any {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+"/client/v4/accounts/"+account+path, strings.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	require.Equal(a.t, http.StatusOK, resp.StatusCode, string(raw))
	var env struct {
		Result map[string]any `json:"result"`
	}
	require.NoError(a.t, json.Unmarshal(raw, &env))
	return env.Result
}

func TestBuild(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()

	// The account holds dev's resources, some of prod's, and one stranger.
	silo := a.post("/d1/database", `{"name":"silo-dev"}`)["uuid"].(string)
	a.post("/d1/database", `{"name":"silo"}`)
	a.post("/r2/buckets", `{"name":"silo-content-dev"}`)
	a.post("/storage/kv/namespaces", `{"title":"other-dev"}`)
	queue := a.post("/queues", `{"queue_name":"jobs-dev"}`)["queue_id"].(string)
	dlq := a.post("/queues", `{"queue_name":"jobs-dlq-dev"}`)["queue_id"].(string)
	require.NoError(t, a.client.PutR2EventNotification(ctx, "silo-content-dev", queue, []cfapi.NotificationRule{{Actions: []string{"PutObject"}}}))
	_, err := a.client.CreateVectorizeIndex(ctx, cfapi.CreateVectorizeIndexParams{Name: "notes-dev", Config: cfapi.VectorizeConfig{Dimensions: 3, Metric: "cosine"}})
	require.NoError(t, err)
	_, err = a.client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "worker-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}"})
	require.NoError(t, err)
	consumer, err := a.client.CreateQueueConsumer(ctx, queue, cfapi.ConsumerParams{ScriptName: "worker-dev", DeadLetterQueue: "jobs-dlq-dev"})
	require.NoError(t, err)
	a.send(http.MethodPut, "/workers/scripts/worker-dev/schedules", `[{"cron":"*/5 * * * *"}]`)
	_, err = a.client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "cron-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}"})
	require.NoError(t, err)

	cfg := &config.Config{Environment: "dev", AccountID: account, APIHostname: "127.0.0.1:8787", Topology: config.Topology{
		D1Databases: []config.Database{{Name: "silo"}, {Name: "meta"}},
		R2Buckets: []config.Bucket{{Name: "silo-content", EventNotifications: []config.EventNotification{
			{Queue: "jobs", Actions: []string{"PutObject"}},
			{Queue: "jobs-dlq", Actions: []string{"DeleteObject"}}, // no rules in the account yet
		}}},
		KVNamespaces:     []config.KVNamespace{{Name: "cache"}},
		Queues:           []config.Queue{{Name: "jobs"}, {Name: "jobs-dlq"}},
		VectorizeIndexes: []config.Index{{Name: "notes"}},
		Workers: []config.Worker{
			{Name: "worker", Consumers: []config.Consumer{{Queue: "jobs", DeadLetterQueue: "jobs-dlq"}}, Crons: []string{"*/5 * * * *"}},
			{Name: "api"},
			{Name: "cron", Crons: []string{"0 * * * *"}}, // exists, but has no triggers yet
		},
	}}
	plan, err := Build(ctx, cfg, a.client)
	require.NoError(t, err)

	require.Equal(t, []Spec{
		{Type: "pulumi:providers:cloudflare", Name: "cloudflare", Version: "5.49.1", Inputs: map[string]any{"apiHostname": "127.0.0.1:8787"}},
		{Type: "pulumi:providers:domecf", Name: "domecf", Inputs: map[string]any{"accountId": account, "apiBaseUrl": "https://127.0.0.1:8787/client/v4"}},
		{Type: typeD1, Name: "silo", ID: account + "/" + silo, Provider: "cloudflare", Version: "5.49.1"},
		{Type: typeR2, Name: "silo-content", ID: account + "/silo-content-dev", Provider: "cloudflare", Version: "5.49.1"},
		{Type: typeQueue, Name: "jobs", ID: account + "/" + queue, Provider: "cloudflare", Version: "5.49.1"},
		{Type: typeQueue, Name: "jobs-dlq", ID: account + "/" + dlq, Provider: "cloudflare", Version: "5.49.1"},
		{Type: "domecf:index:R2EventNotification", Name: "silo-content/jobs", ID: "silo-content-dev/" + queue, Provider: "domecf"},
		{Type: "domecf:index:VectorizeIndex", Name: "notes", ID: "notes-dev", Provider: "domecf"},
		{Type: "domecf:index:WorkerScript", Name: "worker", ID: "worker-dev", Provider: "domecf"},
		{Type: typeCron, Name: "worker", ID: account + "/worker-dev", Provider: "cloudflare", Version: "5.49.1"},
		{Type: "domecf:index:QueueConsumer", Name: "jobs", ID: queue + "/" + consumer.ConsumerID, Provider: "domecf"},
		{Type: "domecf:index:WorkerScript", Name: "cron", ID: "cron-dev", Provider: "domecf"},
	}, plan.File.Resources)
	require.Equal(t, 10, plan.Found())
	require.Equal(t, []string{
		"D1 database meta (meta-dev)",
		"KV namespace cache (cache-dev)",
		"event notifications silo-content/jobs-dlq (silo-content-dev to jobs-dlq-dev)",
		"worker api (api-dev)",
	}, plan.Missing)

	raw, err := json.Marshal(plan.File)
	require.NoError(t, err)
	require.NotContains(t, string(raw), token, "the import file never holds the token")
}

func TestBuildEntryPoints(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	_, err := a.client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "api", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}"})
	require.NoError(t, err)
	zones, err := a.client.ListZones(ctx)
	require.NoError(t, err)
	zone := zones[0].ID
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/client/v4/zones/"+zone+"/workers/routes", strings.NewReader(`{"pattern":"dome.example/api/*","script":"api"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var created struct{ Result struct{ ID string } }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&created))
	res.Body.Close()
	domain := a.send(http.MethodPut, "/workers/domains", `{"zone_id":"`+zone+`","hostname":"api.dome.example","service":"api","environment":"production"}`)["id"].(string)

	cfg := &config.Config{Environment: "prod", AccountID: account, Topology: config.Topology{Workers: []config.Worker{{
		Name:          "api",
		Routes:        []config.Route{{Pattern: "dome.example/api/*", Zone: "dome.example"}, {Pattern: "dome.example/v2/*", Zone: "dome.example"}},
		CustomDomains: []config.CustomDomain{{Hostname: "api.dome.example", Zone: "dome.example"}, {Hostname: "www.dome.example", Zone: "dome.example"}},
	}}}}
	plan, err := Build(ctx, cfg, a.client)
	require.NoError(t, err)
	require.Equal(t, []Spec{
		{Type: "domecf:index:WorkerScript", Name: "api", ID: "api", Provider: "domecf"},
		{Type: typeRoute, Name: "dome.example/api/*", ID: zone + "/" + created.Result.ID, Provider: "cloudflare", Version: "5.49.1"},
		{Type: typeDomain, Name: "api.dome.example", ID: account + "/" + domain, Provider: "cloudflare", Version: "5.49.1"},
	}, plan.File.Resources[2:])
	require.Equal(t, []string{"route dome.example/v2/* of worker api", "custom domain www.dome.example of worker api"}, plan.Missing)
}

func TestBuildReportsAPIErrors(t *testing.T) {
	a := newAPI(t)
	bad, err := cfapi.New(cfapi.Options{BaseURL: a.srv.URL + "/client/v4", Token: "wrong", AccountID: account, MaxAttempts: 1})
	require.NoError(t, err)
	_, err = Build(context.Background(), &config.Config{Environment: "dev", AccountID: account}, bad)
	require.ErrorContains(t, err, "list D1 databases: ")
	require.ErrorContains(t, err, "Authentication error")
}

// TestLacking keeps what a stack's state lacks, naming the providers the
// state has through the name table and creating only the ones it lacks.
func TestLacking(t *testing.T) {
	plan := &Plan{File: File{Resources: []Spec{
		{Type: "pulumi:providers:cloudflare", Name: "cloudflare", Version: cloudflareVersion},
		{Type: "pulumi:providers:domecf", Name: "domecf"},
		{Type: typeD1, Name: "silo", ID: "acc/1", Provider: "cloudflare", Version: cloudflareVersion},
		{Type: typeQueue, Name: "jobs", ID: "acc/2", Provider: "cloudflare", Version: cloudflareVersion},
		{Type: "domecf:index:WorkerScript", Name: "api", ID: "api-dev", Provider: "domecf"},
	}}}
	urn := func(typ, name string) string { return URN("dev", "dome", typ, name) }
	tests := []struct {
		name    string
		inState []string
		want    File
	}{
		{
			name:    "a stack that holds everything lacks nothing",
			inState: []string{urn("pulumi:providers:cloudflare", "cloudflare"), urn("pulumi:providers:domecf", "domecf"), urn(typeD1, "silo"), urn(typeQueue, "jobs"), urn("domecf:index:WorkerScript", "api")},
			want:    File{},
		},
		{
			name:    "orphans use the providers the state holds",
			inState: []string{urn("pulumi:providers:cloudflare", "cloudflare"), urn("pulumi:providers:domecf", "domecf"), urn(typeD1, "silo")},
			want: File{
				NameTable: map[string]string{"cloudflare": urn("pulumi:providers:cloudflare", "cloudflare"), "domecf": urn("pulumi:providers:domecf", "domecf")},
				Resources: []Spec{plan.File.Resources[3], plan.File.Resources[4]},
			},
		},
		{
			name:    "a provider the state lacks is created, one it holds is named",
			inState: []string{urn("pulumi:providers:cloudflare", "cloudflare"), urn(typeQueue, "jobs"), urn(typeD1, "silo")},
			want: File{
				Resources: []Spec{plan.File.Resources[1], plan.File.Resources[4]},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]bool{}
			for _, u := range tc.inState {
				in[u] = true
			}
			got := plan.Lacking("dev", "dome", in)
			require.Equal(t, tc.want, got)
			require.Equal(t, len(tc.want.Resources)-countProviders(tc.want), got.Imports())
		})
	}
}

func countProviders(f File) int {
	n := 0
	for _, s := range f.Resources {
		if s.ID == "" {
			n++
		}
	}
	return n
}
