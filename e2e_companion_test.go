package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/domecf"
)

const (
	e2eAccount = "0123456789abcdef0123456789abcdef"
	e2eToken   = "e2e-token-do-not-leak-00000000000000000000"
	e2eSecret  = "e2e-webhook-secret-do-not-leak"
)

// e2eProvider is the companion provider pointed at the emulator at baseURL.
func e2eProvider(ctx *pulumi.Context, baseURL string) (pulumi.ResourceOption, error) {
	prov, err := domecf.NewProvider(ctx, "domecf", domecf.ProviderArgs{
		APIToken:   pulumi.ToSecret(pulumi.String(e2eToken)).(pulumi.StringOutput),
		AccountID:  pulumi.String(e2eAccount),
		APIBaseURL: pulumi.String(baseURL),
	})
	if err != nil {
		return nil, err
	}
	return pulumi.Provider(prov), nil
}

// companion is what the companion-provider program deploys; tests change
// it between runs.
type companion struct {
	content   string
	dims      int
	metadata  []domecf.MetadataIndex
	withIndex bool
	protect   bool
	batchSize int
	// The worker's Durable Object history, whether it keeps its WEBHOOK
	// secret, and the actions the bucket notifies the jobs queue of.
	migrations    []domecf.Migration
	withSecret    bool
	notifyActions []string
}

// program deploys workers with every binding type, a Vectorize index and a
// queue consumer through the companion provider, bound to a D1 database,
// R2 bucket, queues and KV namespace that already exist in the account.
func (c *companion) program(baseURL string, ids map[string]string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, baseURL)
		if err != nil {
			return err
		}
		target, err := domecf.NewWorkerScript(ctx, "target", domecf.WorkerScriptArgs{
			Name:              pulumi.String("e2e-target"),
			Content:           workerCode("export default { fetch() { return new Response('target'); } };"),
			CompatibilityDate: "2025-04-15",
		}, use)
		if err != nil {
			return err
		}
		bindings := []domecf.Binding{
			{Type: "d1", Name: "DB", ID: pulumi.String(ids["d1"])},
			{Type: "r2_bucket", Name: "BUCKET", BucketName: pulumi.String("e2e-bucket")},
			{Type: "queue", Name: "JOBS", QueueName: pulumi.String("e2e-jobs")},
			{Type: "service", Name: "TARGET", Service: target.Name},
			{Type: "plain_text", Name: "VERSION", Text: pulumi.String("1")},
			{Type: "ai", Name: "AI"},
			{Type: "kv_namespace", Name: "CACHE", NamespaceID: pulumi.String(ids["kv"])},
			{Type: "durable_object_namespace", Name: "COUNTER", ClassName: pulumi.String("Counter")},
			{Type: "analytics_engine", Name: "EVENTS", Dataset: pulumi.String("e2e_events")},
			{Type: "hyperdrive", Name: "PG", ID: pulumi.String("0123456789abcdef0123456789abcdef")},
		}
		if c.withSecret {
			bindings = append(bindings, domecf.Binding{Type: "secret_text", Name: "WEBHOOK", Text: pulumi.ToSecret(pulumi.String(e2eSecret)).(pulumi.StringOutput)})
		}
		if _, err := domecf.NewR2EventNotification(ctx, "uploads", domecf.R2EventNotificationArgs{
			BucketName: pulumi.String("e2e-bucket"),
			QueueID:    pulumi.String(ids["jobs"]),
			Rules:      []domecf.R2NotificationRule{{Actions: c.notifyActions, Prefix: "uploads/", Description: "uploaded files"}},
		}, use); err != nil {
			return err
		}
		var deps []pulumi.Resource
		if c.withIndex {
			index, err := domecf.NewVectorizeIndex(ctx, "notes", domecf.VectorizeIndexArgs{
				Name:            pulumi.String("e2e-notes"),
				Dimensions:      c.dims,
				Metric:          "cosine",
				MetadataIndexes: c.metadata,
			}, use, pulumi.Protect(c.protect))
			if err != nil {
				return err
			}
			bindings = append(bindings, domecf.Binding{Type: "vectorize", Name: "NOTES", IndexName: index.Name})
			deps = append(deps, index)
		}
		sourceMap := workerCode(`{"version":3,"sources":["index.ts"],"mappings":"AAAA"}`)
		api, err := domecf.NewWorkerScript(ctx, "api", domecf.WorkerScriptArgs{
			Name:               pulumi.String("e2e-api"),
			Content:            workerCode(c.content),
			CompatibilityDate:  "2025-04-15",
			CompatibilityFlags: []string{"nodejs_als"},
			Bindings:           bindings,
			Observability:      &domecf.Observability{Enabled: true, HeadSamplingRate: 1},
			Placement:          "smart",
			Tags:               []string{"e2e"},
			Migrations:         c.migrations,
			SourceMap:          &sourceMap,
		}, use, pulumi.DependsOn(deps))
		if err != nil {
			return err
		}
		batch := c.batchSize
		_, err = domecf.NewQueueConsumer(ctx, "jobs", domecf.QueueConsumerArgs{
			QueueID:         pulumi.String(ids["jobs"]),
			ScriptName:      api.Name,
			DeadLetterQueue: pulumi.String("e2e-jobs-dlq"),
			BatchSize:       &batch,
		}, use)
		if err != nil {
			return err
		}
		ctx.Export("api", api.Name)
		ctx.Export("target", target.Name)
		return nil
	}
}

// TestCompanionLifecycle drives the companion provider's resources through
// the real engine: up, a preview and refresh that find nothing to do, an
// in-place update, a replacement, protection refusing a deletion, destroy.
func TestCompanionLifecycle(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	ids := map[string]string{
		"d1":   seed(t, srv, e2eToken, e2eAccount, "/d1/database", `{"name":"e2e-db"}`)["uuid"].(string),
		"kv":   seed(t, srv, e2eToken, e2eAccount, "/storage/kv/namespaces", `{"title":"e2e-cache"}`)["id"].(string),
		"jobs": seed(t, srv, e2eToken, e2eAccount, "/queues", `{"queue_name":"e2e-jobs"}`)["queue_id"].(string),
	}
	seed(t, srv, e2eToken, e2eAccount, "/r2/buckets", `{"name":"e2e-bucket"}`)
	seed(t, srv, e2eToken, e2eAccount, "/queues", `{"queue_name":"e2e-jobs-dlq"}`)

	spec := &companion{
		content:       "export class Counter {} export default { fetch() { return new Response('v1'); } };",
		dims:          32,
		metadata:      []domecf.MetadataIndex{{PropertyName: "kind", IndexType: "string"}},
		withIndex:     true,
		batchSize:     10,
		migrations:    []domecf.Migration{{Tag: "v1", NewSqliteClasses: []string{"Counter"}}},
		withSecret:    true,
		notifyActions: []string{"PutObject"},
	}
	e := newEngine(t, "companion", spec.program(srv.URL+"/client/v4", ids), nil)
	defer e.dump()

	// Create everything.
	require.Equal(t, map[string]int{"create": 7}, e.up(), "stack, provider, two workers, index, consumer, notification")
	status, settings := get(t, srv, e2eToken, e2eAccount, "/workers/scripts/e2e-api/settings")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, settings["bindings"], 12, "every binding type reached Cloudflare")
	require.Equal(t, map[string]any{"enabled": true, "head_sampling_rate": 1.0}, settings["observability"])
	_, index := get(t, srv, e2eToken, e2eAccount, "/vectorize/v2/indexes/e2e-notes")
	require.Equal(t, 32.0, index["config"].(map[string]any)["dimensions"])

	// Outputs have their shape, and nothing secret is in state in plain text.
	require.Equal(t, map[string]any{"api": "e2e-api", "target": "e2e-target"}, e.outputsJSON())
	state := e.stateFile()
	require.NotContains(t, state, e2eSecret)
	require.NotContains(t, state, e2eToken)
	require.Contains(t, state, "e2e-notes")

	// Nothing changed: the preview says so, and a second up makes no mutating call.
	onlySame(t, e.preview())
	emu.ResetLog()
	onlySame(t, e.up())
	require.Empty(t, mutations(emu), "a no-op deploy must not write to Cloudflare")

	// Refresh right after a deploy finds no drift.
	onlySame(t, e.refresh())
	onlySame(t, e.preview())

	// New code, consumer settings, a migration step, a dropped secret and
	// new notification rules all update in place.
	spec.content = strings.Replace(spec.content, "v1", "v2", 1) + " export class Limiter {}"
	spec.batchSize = 20
	spec.metadata = append(spec.metadata, domecf.MetadataIndex{PropertyName: "year", IndexType: "number"})
	spec.migrations = append(spec.migrations, domecf.Migration{Tag: "v2", NewClasses: []string{"Limiter"}})
	spec.withSecret = false
	spec.notifyActions = []string{"PutObject", "CompleteMultipartUpload"}
	emu.ResetLog()
	require.Equal(t, map[string]int{"same": 3, "update": 4}, e.up())
	_, q := get(t, srv, e2eToken, e2eAccount, "/queues/"+ids["jobs"])
	consumer := q["consumers"].([]any)[0].(map[string]any)
	require.Equal(t, 20.0, consumer["settings"].(map[string]any)["batch_size"])
	var upload cfemu.Request
	for _, r := range emu.Requests() {
		if r.Method == http.MethodPut && strings.HasSuffix(r.Path, "/workers/scripts/e2e-api") {
			upload = r
		}
	}
	require.Contains(t, string(upload.Body), `"migrations":{"new_tag":"v2","old_tag":"v1","new_classes":["Limiter"]}`, "only the new step is sent")
	require.Contains(t, string(upload.Body), "application/source-map")
	status, secrets := getList(t, srv, e2eToken, e2eAccount, "/workers/scripts/e2e-api/secrets")
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, secrets, "the secret left the config, so it left the worker")
	_, notifications := get(t, srv, e2eToken, e2eAccount, "/event_notifications/r2/e2e-bucket/configuration")
	rules := notifications["queues"].([]any)[0].(map[string]any)["rules"].([]any)
	require.Equal(t, []any{"PutObject", "CompleteMultipartUpload"}, rules[0].(map[string]any)["actions"])
	onlySame(t, e.refresh())

	// Changing the index's dimensions replaces it.
	spec.dims = 64
	require.Equal(t, map[string]int{"same": 6, "replace": 1}, e.up(), "the index is replaced under the same name, so its binding is unchanged")
	_, index = get(t, srv, e2eToken, e2eAccount, "/vectorize/v2/indexes/e2e-notes")
	require.Equal(t, 64.0, index["config"].(map[string]any)["dimensions"])

	// A protected index cannot be deleted or replaced.
	spec.protect = true
	e.up()
	spec.dims = 128
	_, err = e.stack.Preview(context.Background(), optpreview.Diff())
	require.ErrorContains(t, err, `unable to replace resource "urn:pulumi:companion::dome::domecf:index:VectorizeIndex::notes"`, "the preview already fails")
	require.ErrorContains(t, err, "~ dimensions: 64 => 128", "and shows the property forcing the replacement")
	err = e.upErr()
	require.ErrorContains(t, err, `unable to replace resource "urn:pulumi:companion::dome::domecf:index:VectorizeIndex::notes"`)
	spec.dims = 64
	spec.withIndex = false
	err = e.upErr()
	require.ErrorContains(t, err, "protect")
	_, index = get(t, srv, e2eToken, e2eAccount, "/vectorize/v2/indexes/e2e-notes")
	require.NotNil(t, index, "the protected index is still there")

	// Unprotected, everything is destroyed.
	spec.withIndex, spec.protect = true, false
	e.up()
	e.destroy()
	for _, path := range []string{"/workers/scripts/e2e-api/settings", "/workers/scripts/e2e-target/settings", "/vectorize/v2/indexes/e2e-notes"} {
		status, _ := get(t, srv, e2eToken, e2eAccount, path)
		require.Equal(t, http.StatusNotFound, status, path)
	}
	_, q = get(t, srv, e2eToken, e2eAccount, "/queues/"+ids["jobs"])
	require.EqualValues(t, 0, q["consumers_total_count"])
	_, notifications = get(t, srv, e2eToken, e2eAccount, "/event_notifications/r2/e2e-bucket/configuration")
	require.Empty(t, notifications["queues"])
}
