package main

// Shared state, locking and drift on the real CLI: the team backend is an
// S3-compatible bucket (an in-process S3 server here, R2 for Dome), two
// deploys of one stack exclude each other through Pulumi's lock, and
// `just drift` tells a stack that still matches Cloudflare from one changed
// behind Pulumi's back.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/domecf"
)

// worker deploys one worker through the companion provider; its content
// is what the next up uploads.
type worker struct{ content atomic.Value }

func newWorker(content string) *worker {
	w := &worker{}
	w.content.Store(content)
	return w
}

func (w *worker) program(baseURL string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, baseURL)
		if err != nil {
			return err
		}
		api, err := domecf.NewWorkerScript(ctx, "api", domecf.WorkerScriptArgs{
			Name:              pulumi.String("e2e-api"),
			Content:           workerCode(w.content.Load().(string)),
			CompatibilityDate: "2025-04-15",
			Bindings:          []domecf.Binding{{Type: "plain_text", Name: "VERSION", Text: pulumi.String("1")}},
		}, use)
		if err != nil {
			return err
		}
		ctx.Export("workers", pulumi.Map{"api": pulumi.Map{"name": api.Name, "bundleSha256": api.ContentSha256}})
		return nil
	}
}

// bucket is an in-process S3 server holding one bucket for Pulumi state.
type bucket struct {
	backend *s3mem.Backend
	name    string
	url     string // PULUMI_BACKEND_URL for it
}

func newBucket(t *testing.T) *bucket {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	b := &bucket{backend: backend, name: "dome-pulumi-state"}
	require.NoError(t, backend.CreateBucket(b.name))
	// The shape of the R2 URL in the README: an endpoint and a region,
	// plus plain http and path-style addressing for a loopback server.
	b.url = "s3://" + b.name + "?endpoint=" + must(url.Parse(srv.URL)).Host + "&disableSSL=true&s3ForcePathStyle=true&region=auto"
	return b
}

// env is what the CLI needs to use the bucket.
func (b *bucket) env() map[string]string {
	return map[string]string{
		"PULUMI_BACKEND_URL":          b.url,
		"AWS_ACCESS_KEY_ID":           "e2e-access-key",
		"AWS_SECRET_ACCESS_KEY":       "e2e-secret-key",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	}
}

func (b *bucket) keys(t *testing.T, prefix string) []string {
	t.Helper()
	list, err := b.backend.ListBucket(b.name, &gofakes3.Prefix{Prefix: prefix, HasPrefix: true}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	var out []string
	for _, o := range list.Contents {
		out = append(out, o.Key)
	}
	return out
}

func (b *bucket) read(t *testing.T, key string) []byte {
	t.Helper()
	obj, err := b.backend.GetObject(b.name, key, nil)
	require.NoError(t, err, key)
	defer obj.Contents.Close()
	return must(io.ReadAll(obj.Contents))
}

// checkpoint is a stack's state as the backend stores it.
type checkpoint struct {
	Checkpoint struct {
		Latest struct {
			Resources []struct {
				URN     string         `json:"urn"`
				Type    string         `json:"type"`
				Outputs map[string]any `json:"outputs"`
			} `json:"resources"`
			PendingOperations []any `json:"pending_operations"`
		} `json:"latest"`
	} `json:"checkpoint"`
}

func (b *bucket) checkpoint(t *testing.T, stack string) (checkpoint, string) {
	t.Helper()
	raw := b.read(t, ".pulumi/stacks/dome/"+stack+".json")
	var cp checkpoint
	require.NoError(t, json.Unmarshal(raw, &cp))
	return cp, string(raw)
}

// stackOutputs are the stack's outputs as its checkpoint records them.
func (cp checkpoint) stackOutputs(t *testing.T) map[string]any {
	t.Helper()
	for _, r := range cp.Checkpoint.Latest.Resources {
		if r.Type == "pulumi:pulumi:Stack" {
			return r.Outputs
		}
	}
	t.Fatal("no stack resource in the checkpoint")
	return nil
}

// recipesOn returns a copy of the project whose recipes run the suite's CLI
// with env, against the stack state the engine tests leave.
func recipesOn(t *testing.T, env map[string]string) *project {
	t.Helper()
	p := newProject(t)
	require.NoError(t, os.MkdirAll(filepath.Join(p.dir, ".tools", "bin"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(pulumiRoot(t), "bin", "pulumi"), filepath.Join(p.dir, ".tools", "bin", "pulumi")))
	for k, v := range env {
		p.env = append(p.env, k+"="+v)
	}
	return p
}

// TestSharedState deploys through an S3 backend and reads the outputs back
// from the bucket, through the CLI and `just outputs` too.
func TestSharedState(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	api := httptest.NewServer(emu)
	defer api.Close()
	b := newBucket(t)

	w := newWorker("export default { fetch() { return new Response('v1'); } };")
	e := newEngine(t, "staging", w.program(api.URL+"/client/v4"), b.env())
	defer e.dump()
	require.Equal(t, map[string]int{"create": 3}, e.up(), "stack, provider, worker")

	// The state is in the bucket, not on this machine, and holds no secret in plain text.
	cp, raw := b.checkpoint(t, "staging")
	require.NotContains(t, raw, e2eToken)
	_, err = os.Stat(filepath.Join(e.dir, "state", ".pulumi"))
	require.True(t, os.IsNotExist(err), "nothing is written to the local folder")

	// The outputs the bucket holds are what the CLI and the recipe CI runs print.
	outs := e.outputsJSON()
	require.Equal(t, "e2e-api", outs["workers"].(map[string]any)["api"].(map[string]any)["name"])
	require.Equal(t, outs, cp.stackOutputs(t))
	p := recipesOn(t, e.env)
	printed, err := p.just(nil, "outputs", "staging")
	require.NoError(t, err, printed)
	var viaJust map[string]any
	require.NoError(t, json.Unmarshal([]byte(printed[strings.Index(printed, "{"):]), &viaJust), printed)
	require.Equal(t, outs, viaJust)

	// CI hands them to later jobs as the step output `json`.
	stepOutputs := filepath.Join(t.TempDir(), "github-output")
	printed, err = p.just([]string{"GITHUB_OUTPUT=" + stepOutputs}, "ci-outputs", "staging")
	require.NoError(t, err, printed)
	written := string(must(os.ReadFile(stepOutputs)))
	header, rest, ok := strings.Cut(written, "\n")
	require.True(t, ok, written)
	delimiter, found := strings.CutPrefix(header, "json<<")
	require.True(t, found, written)
	body, ok := strings.CutSuffix(rest, "\n"+delimiter+"\n")
	require.True(t, ok, written)
	var viaStep map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &viaStep), written)
	require.Equal(t, outs, viaStep)
}

// TestLocking runs two deploys of one stack at once on the S3 backend: the
// second is refused with Pulumi's lock message, the first completes, and a
// third finds nothing to do. A lock left by a process that died is cleared
// with `pulumi cancel`, as the README says.
func TestLocking(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	// Holds the first deploy inside its first write to Cloudflare, with
	// the stack locked, until the test lets it go.
	var hold atomic.Bool
	var once sync.Once
	held, release := make(chan struct{}), make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if hold.Load() && r.Method != http.MethodGet {
			once.Do(func() {
				close(held)
				<-release
			})
		}
		emu.ServeHTTP(rw, r)
	}))
	defer api.Close()
	b := newBucket(t)

	w := newWorker("export default { fetch() { return new Response('v1'); } };")
	first := newEngine(t, "staging", w.program(api.URL+"/client/v4"), b.env())
	defer first.dump()
	first.up()
	// A teammate's machine: its own workspace and Pulumi home, the same bucket.
	second := newEngine(t, "staging", w.program(api.URL+"/client/v4"), b.env())
	defer second.dump()

	w.content.Store("export default { fetch() { return new Response('v2'); } };")
	hold.Store(true)
	done := make(chan map[string]int)
	go func() {
		changes, err := first.stack.Up(context.Background())
		if err != nil {
			t.Error(err)
			close(done)
			return
		}
		done <- *changes.Summary.ResourceChanges
	}()
	<-held
	locks := b.keys(t, ".pulumi/locks/")
	require.Len(t, locks, 1, "the running deploy holds the stack's lock")

	err = second.upErr()
	require.ErrorContains(t, err, "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.")
	require.ErrorContains(t, err, "s3://"+b.name+"/"+locks[0]+"?", "the message names the lock object")

	close(release)
	require.Equal(t, map[string]int{"same": 2, "update": 1}, <-done, "the first deploy completes")
	require.Empty(t, b.keys(t, ".pulumi/locks/"), "and releases its lock")

	// Nothing was lost: the state has the new code, no operation pending,
	// and a third deploy has nothing to do.
	cp, _ := b.checkpoint(t, "staging")
	require.Empty(t, cp.Checkpoint.Latest.PendingOperations)
	require.Len(t, cp.Checkpoint.Latest.Resources, 3)
	_, content := get(t, api, e2eToken, e2eAccount, "/workers/scripts/e2e-api/settings")
	require.NotNil(t, content)
	emu.ResetLog()
	onlySame(t, second.up())
	require.Empty(t, mutations(emu), "the third deploy writes nothing to Cloudflare")

	// A deploy killed mid-way leaves its lock behind; `pulumi cancel` removes it.
	stale := ".pulumi/locks/organization/dome/staging/0b0e8a8e-6f60-4c62-9a33-2b1b8d0f7c51.json"
	lock := `{"pid":4242,"username":"ci","hostname":"runner","timestamp":"2026-01-01T00:00:00Z"}`
	_, err = b.backend.PutObject(b.name, stale, nil, strings.NewReader(lock), int64(len(lock)), nil)
	require.NoError(t, err)
	err = second.upErr()
	require.ErrorContains(t, err, "s3://"+b.name+"/"+stale+"?", "the message names the stale lock object")
	require.ErrorContains(t, err, "created by ci@runner (pid 4242) at 2026-01-01T00:00:00Z")
	second.cli("cancel", "--yes")
	require.Empty(t, b.keys(t, ".pulumi/locks/"))
	onlySame(t, second.up())
}

// TestDrift runs `just drift` on a deployed stack: clean, it exits 0; once a
// setting is changed behind Pulumi's back, it fails naming the property, and
// `just ci-report` puts that diff in the job summary.
func TestDrift(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	api := httptest.NewServer(emu)
	defer api.Close()

	w := newWorker("export default { fetch() { return new Response('v1'); } };")
	e := newEngine(t, "dev", w.program(api.URL+"/client/v4"), nil)
	defer e.dump()
	e.up()

	deployed := e.stateFile()
	p := recipesOn(t, e.env)
	creds := []string{"CLOUDFLARE_API_TOKEN=" + e2eToken, "CLOUDFLARE_ACCOUNT_ID=" + e2eAccount}
	out, err := p.just(creds, "drift", "dev")
	require.NoError(t, err, out)
	require.Contains(t, out, "+ pulumi refresh --stack dev --preview-only --expect-no-changes --diff")
	require.Contains(t, out, "Previewing refresh (dev)")
	require.NotContains(t, out, "drifted")

	// Logpush switched on in the dashboard.
	send(t, api, e2eToken, e2eAccount, http.MethodPatch, "/workers/scripts/e2e-api/script-settings", `{"logpush": true}`)
	emu.ResetLog()
	out, err = p.just(creds, "drift", "dev")
	require.Error(t, err, out)
	require.Contains(t, out, "~ domecf:index:WorkerScript: (update)")
	require.Contains(t, out, "+ logpush: true", "the diff names the property Cloudflare changed")
	require.Contains(t, out, "error: stack 'dev' has drifted: Cloudflare no longer matches its state")
	require.Empty(t, mutations(emu), "a drift check changes nothing in Cloudflare")

	summary := filepath.Join(t.TempDir(), "summary.md")
	out, err = p.just(append(creds, "GITHUB_STEP_SUMMARY="+summary), "ci-report", "drift", "dev")
	require.Error(t, err, out)
	report := string(must(os.ReadFile(summary)))
	require.Contains(t, report, "### `just drift dev`: failed (exit ")
	require.Contains(t, report, "+ logpush: true")
	require.NotContains(t, report, "\x1b[", "no terminal colours in the summary")
	require.Equal(t, report, string(must(os.ReadFile(filepath.Join(p.dir, ".reports", "drift-dev.md")))))

	require.Equal(t, deployed, e.stateFile(), "a drift check writes nothing to the state")
}

// TestDriftNamesWhatChanged changes each companion resource's settings in
// the account behind Pulumi's back, and `just drift` names every one: an
// index recreated with another shape, a consumer's batch size and its
// dead-letter queue removed, a worker's preview URLs turned on.
func TestDriftNamesWhatChanged(t *testing.T) {
	env := newEmulated(t, cfemu.Config{}, nil)
	jobs := seed(t, env.api, e2eToken, e2eAccount, "/queues", `{"queue_name":"e2e-jobs"}`)["queue_id"].(string)
	seed(t, env.api, e2eToken, e2eAccount, "/queues", `{"queue_name":"e2e-jobs-dlq"}`)
	program := func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, env.api.URL+"/client/v4")
		if err != nil {
			return err
		}
		if _, err := domecf.NewVectorizeIndex(ctx, "notes", domecf.VectorizeIndexArgs{Name: pulumi.String("e2e-notes"), Dimensions: 32, Metric: "cosine"}, use); err != nil {
			return err
		}
		api, err := domecf.NewWorkerScript(ctx, "api", domecf.WorkerScriptArgs{
			Name:              pulumi.String("e2e-api"),
			Content:           workerCode("export default { fetch() { return new Response('api'); }, queue() {} };"),
			CompatibilityDate: "2025-04-15",
			WorkersDev:        &domecf.WorkersDev{Enabled: true},
		}, use)
		if err != nil {
			return err
		}
		batch := 10
		_, err = domecf.NewQueueConsumer(ctx, "jobs", domecf.QueueConsumerArgs{
			QueueID: pulumi.String(jobs), ScriptName: api.Name, DeadLetterQueue: pulumi.String("e2e-jobs-dlq"), BatchSize: &batch,
		}, use)
		return err
	}
	e := newEngine(t, "dev", program, nil)
	defer e.dump()
	e.up()
	p := recipesOn(t, e.env)
	creds := []string{"CLOUDFLARE_API_TOKEN=" + e2eToken, "CLOUDFLARE_ACCOUNT_ID=" + e2eAccount}
	out, err := p.just(creds, "drift", "dev")
	require.NoError(t, err, out)

	ctx, c := context.Background(), env.client
	require.NoError(t, c.DeleteVectorizeIndex(ctx, "e2e-notes"))
	_, err = c.CreateVectorizeIndex(ctx, cfapi.CreateVectorizeIndexParams{Name: "e2e-notes", Config: cfapi.VectorizeConfig{Dimensions: 64, Metric: "euclidean"}})
	require.NoError(t, err)
	consumers, err := c.ListQueueConsumers(ctx, jobs)
	require.NoError(t, err)
	require.Len(t, consumers, 1)
	batch := 50
	_, err = c.UpdateQueueConsumer(ctx, jobs, consumers[0].ConsumerID, cfapi.ConsumerParams{ScriptName: "e2e-api", Settings: cfapi.ConsumerSettings{BatchSize: &batch}})
	require.NoError(t, err)
	_, err = c.SetScriptSubdomain(ctx, "e2e-api", cfapi.ScriptSubdomain{Enabled: true, PreviewsEnabled: true})
	require.NoError(t, err)

	env.emu.ResetLog()
	out, err = p.just(creds, "drift", "dev")
	require.Error(t, err, out)
	require.Contains(t, out, "error: stack 'dev' has drifted")
	for _, want := range []string{
		"~ domecf:index:VectorizeIndex: (update)", "~ dimensions: 32 => 64", `~ metric    : "cosine" => "euclidean"`,
		"~ domecf:index:QueueConsumer: (update)", "~ batchSize      : 10 => 50", `- deadLetterQueue: "e2e-jobs-dlq"`,
		"~ domecf:index:WorkerScript: (update)", "~ previewUrls: false => true",
	} {
		require.Contains(t, out, want)
	}
	require.Empty(t, mutations(env.emu), "a drift check changes nothing in Cloudflare")
}
