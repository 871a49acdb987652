package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/bundle"
	"github.com/dome/infra/internal/config"
)

const (
	testAccount = "0123456789abcdef0123456789abcdef"
	testToken   = "test-token-value-never-printed-000000000"
)

var testEnv = map[string]string{config.EnvAccountID: testAccount, config.EnvAPIToken: testToken}

// registered is one resource as the mocks saw it.
type registered struct {
	Type, Name, ID string
	URN            string
	Inputs         resource.PropertyMap
	Protect        bool
	Deps           []string
}

// mocks records every resource the program registers, in order.
type mocks struct {
	mu        sync.Mutex
	seen      []*registered
	zoneReads int
	// held is what the stack's state holds from earlier deploys, by URN,
	// as the engine's readStackResourceOutputs returns it.
	held map[string]any
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	typ := args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:]
	id := strings.ToLower(typ) + "-" + args.Name
	if strings.HasPrefix(args.TypeToken, "pulumi:providers:") {
		id = "provider-" + args.Name
	}
	r := &registered{Type: args.TypeToken, Name: args.Name, ID: id, Inputs: args.Inputs}
	outs := args.Inputs.Copy()
	if args.TypeToken == tWorker && args.Inputs["workersDev"].BoolValue() {
		outs["url"] = resource.NewProperty("https://" + args.Inputs["name"].StringValue() + ".dome-team.workers.dev")
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Protect = rpc.GetProtect()
		r.Deps = rpc.GetDependencies()
		r.URN = fmt.Sprintf("%s::%s", args.TypeToken, args.Name)
	}
	m.mu.Lock()
	m.seen = append(m.seen, r)
	m.mu.Unlock()
	return id, outs, nil
}

// testZones are the zones the mocked account has, by name.
var testZones = map[string]string{"dome.example": "zone-dome-example", "dome.test": "zone-dome-test"}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token == "pulumi:pulumi:readStackResourceOutputs" {
		return resource.NewPropertyMapFromMap(map[string]any{"name": args.Args["stackName"], "outputs": m.held}), nil
	}
	if args.Token == "cloudflare:index/getZones:getZones" {
		m.mu.Lock()
		m.zoneReads++
		m.mu.Unlock()
		var zones []any
		for name, id := range testZones {
			zones = append(zones, map[string]any{"id": id, "name": name})
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": "zones", "filter": args.Args["filter"], "zones": zones}), nil
	}
	return args.Args, nil
}

// find returns the resource of type token named name.
func (m *mocks) find(t testing.TB, token, name string) *registered {
	t.Helper()
	for _, r := range m.seen {
		if r.Type == token && r.Name == name {
			return r
		}
	}
	require.Failf(t, "resource not registered", "%s %q", token, name)
	return nil
}

// index returns the position at which the resource was registered.
func (m *mocks) index(token, name string) int {
	return slices.IndexFunc(m.seen, func(r *registered) bool { return r.Type == token && r.Name == name })
}

type deployment struct {
	mocks   *mocks
	outputs map[string]any
}

// deploy runs the real program under mocks on the real stack files, with the
// example workers under testdata/ as the services root. edit, if set, changes
// the config before the run.
func deploy(t testing.TB, stack string, env map[string]string, edit func(*config.Values)) (*deployment, error) {
	t.Helper()
	vals, err := config.ReadFiles(".", stack)
	require.NoError(t, err)
	vals.Config["dome:servicesRoot"] = "testdata/services"
	if edit != nil {
		edit(vals)
	}
	return runMocked(vals, env, nil)
}

// runMocked runs the program under mocks with the given configuration, on
// a stack whose state holds held (see mocks.held). On failure it returns
// the deployment too, without outputs.
func runMocked(vals *config.Values, env map[string]string, held map[string]any) (*deployment, error) {
	if _, set := env[config.EnvBundleDir]; !set {
		env = maps.Clone(env)
		env[config.EnvBundleDir] = filepath.Join(scratch(), "bundles")
	}
	d := &deployment{mocks: &mocks{held: held}}
	var wg sync.WaitGroup
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		outs, err := run(ctx, func(k string) string { return env[k] })
		if err != nil {
			return err
		}
		wg.Add(1)
		outs.ToMapOutput().ApplyT(func(v map[string]any) error {
			d.outputs = v
			wg.Done()
			return nil
		})
		return nil
	}, pulumi.WithMocks("dome", vals.Stack(), d.mocks), func(info *pulumi.RunInfo) {
		info.Config = vals.Config
		info.ConfigSecretKeys = vals.SecretKeys()
	})
	if err != nil {
		// What was registered before the failure stays readable.
		return d, err
	}
	wg.Wait()
	return d, nil
}

func str(t testing.TB, m resource.PropertyMap, key string) string {
	t.Helper()
	v, ok := m[resource.PropertyKey(key)]
	require.True(t, ok, "property %q missing in %v", key, m)
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	require.True(t, v.IsString(), "property %q is %v", key, v)
	return v.StringValue()
}

// bindingsOf returns a worker's uploaded bindings by name.
func bindingsOf(t testing.TB, r *registered) map[string]resource.PropertyMap {
	t.Helper()
	out := map[string]resource.PropertyMap{}
	for _, b := range r.Inputs["bindings"].ArrayValue() {
		if b.IsSecret() {
			b = b.SecretValue().Element
		}
		out[str(t, b.ObjectValue(), "name")] = b.ObjectValue()
	}
	return out
}

const (
	tD1       = "cloudflare:index/d1Database:D1Database"
	tR2       = "cloudflare:index/r2Bucket:R2Bucket"
	tQueue    = "cloudflare:index/queue:Queue"
	tCron     = "cloudflare:index/workersCronTrigger:WorkersCronTrigger"
	tWorker   = "domecf:index:WorkerScript"
	tIndex    = "domecf:index:VectorizeIndex"
	tConsumer = "domecf:index:QueueConsumer"
	tRoute    = "cloudflare:index/workersRoute:WorkersRoute"
	tDomain   = "cloudflare:index/workersDomain:WorkersDomain"
	tNotify   = "domecf:index:R2EventNotification"
)

func TestStacks(t *testing.T) {
	for _, tt := range []struct {
		stack, suffix, logLevel string
		protected               bool
		cron                    string // staging overrides dome-cron's
	}{
		{"dev", "-dev", "debug", false, "0 * * * *"},
		{"staging", "-staging", "info", false, "0 */6 * * *"},
		{"prod", "", "info", true, "0 * * * *"},
	} {
		t.Run(tt.stack, func(t *testing.T) {
			d, err := deploy(t, tt.stack, testEnv, nil)
			require.NoError(t, err)
			m := d.mocks
			phys := func(logical string) string { return logical + tt.suffix }

			// Every resource, with its physical name and its protection.
			stateful := []struct{ token, name string }{
				{tD1, "dome-meta"}, {tD1, "silo"},
				{tR2, "dome-raw"}, {tR2, "silo-content"},
				{tQueue, "new-content-constellation"}, {tQueue, "new-content-constellation-dlq"},
				{tQueue, "new-content-ai"}, {tQueue, "new-content-ai-dlq"}, {tQueue, "silo-content-uploaded"},
				{tIndex, "dome-notes"},
			}
			for _, s := range stateful {
				r := m.find(t, s.token, s.name)
				require.Equal(t, phys(s.name), str(t, r.Inputs, "name"), s.name)
				require.Equal(t, tt.protected, r.Protect, "%s %s protection", s.token, s.name)
				if s.token != tIndex {
					require.Equal(t, testAccount, str(t, r.Inputs, "accountId"))
				}
				// Stateful resources wait on nothing but their provider.
				require.Empty(t, r.Deps, "%s %s should not be serialized behind anything", s.token, s.name)
			}
			workers := []string{"dome-api", "constellation", "silo", "ai-processor", "dome-cron", "dome-notify"}
			for _, w := range workers {
				r := m.find(t, tWorker, w)
				require.Equal(t, phys(w), str(t, r.Inputs, "name"))
				b := bindingsOf(t, r)
				require.Equal(t, tt.logLevel, str(t, b["LOG_LEVEL"], "text"))
				require.Equal(t, tt.stack, str(t, b["ENVIRONMENT"], "text"))
				obs := r.Inputs["observability"].ObjectValue()
				require.True(t, obs["enabled"].BoolValue())
				require.Equal(t, 1.0, obs["headSamplingRate"].NumberValue())
			}
			require.Len(t, slices.DeleteFunc(slices.Clone(m.seen), func(r *registered) bool { return r.Type != tWorker }), len(workers))
			// In prod everything the program owns is protected, so that not
			// even a bare `pulumi destroy` deletes a worker or an entry point
			// before it stops at a database; the providers own nothing.
			for _, r := range m.seen {
				if !strings.HasPrefix(r.Type, "pulumi:providers:") {
					require.Equal(t, tt.protected, r.Protect, "%s %s protection", r.Type, r.Name)
				}
			}

			// Bindings resolve to this stack's ids and physical names.
			api := m.find(t, tWorker, "dome-api")
			b := bindingsOf(t, api)
			require.Equal(t, "ai", str(t, b["AI"], "type"))
			require.Equal(t, phys("constellation"), str(t, b["CONSTELLATION"], "service"))
			require.Equal(t, phys("silo"), str(t, b["SILO"], "service"))
			require.Equal(t, "0.1.0", str(t, b["VERSION"], "text"))
			require.Equal(t, "2025-04-15", str(t, api.Inputs, "compatibilityDate"))
			require.Equal(t, []resource.PropertyValue{resource.NewProperty("nodejs_als")}, api.Inputs["compatibilityFlags"].ArrayValue())

			silo := bindingsOf(t, m.find(t, tWorker, "silo"))
			require.Equal(t, "d1database-silo", str(t, silo["DB"], "id"))
			require.Equal(t, phys("silo-content"), str(t, silo["BUCKET"], "bucketName"))
			require.Equal(t, phys("new-content-constellation"), str(t, silo["NEW_CONTENT_CONSTELLATION"], "queueName"))
			require.Equal(t, phys("new-content-ai"), str(t, silo["NEW_CONTENT_AI"], "queueName"))

			constellation := bindingsOf(t, m.find(t, tWorker, "constellation"))
			require.Equal(t, phys("dome-notes"), str(t, constellation["VECTORIZE"], "indexName"))
			index := m.find(t, tIndex, "dome-notes")
			require.Equal(t, 1536.0, index.Inputs["dimensions"].NumberValue())
			require.Equal(t, "cosine", str(t, index.Inputs, "metric"))

			// Service-binding targets are registered first and are dependencies.
			apiAt := m.index(tWorker, "dome-api")
			for _, target := range []string{"constellation", "silo"} {
				require.Less(t, m.index(tWorker, target), apiAt, "%s must be uploaded before dome-api", target)
				require.Contains(t, api.Deps, urn(tt.stack, tWorker, target))
			}

			// Consumers and crons point at the right queue ids and scripts.
			for queue, worker := range map[string]string{"new-content-constellation": "constellation", "new-content-ai": "ai-processor"} {
				c := m.find(t, tConsumer, queue)
				require.Equal(t, "queue-"+queue, str(t, c.Inputs, "queueId"))
				require.Equal(t, phys(worker), str(t, c.Inputs, "scriptName"))
				require.Equal(t, phys(queue+"-dlq"), str(t, c.Inputs, "deadLetterQueue"))
				require.Equal(t, 10.0, c.Inputs["batchSize"].NumberValue())
				require.Contains(t, c.Deps, urn(tt.stack, tWorker, worker))
			}
			// silo-content announces stored objects on silo-content-uploaded,
			// once both exist.
			notify := m.find(t, tNotify, "silo-content/silo-content-uploaded")
			require.Equal(t, phys("silo-content"), str(t, notify.Inputs, "bucketName"))
			require.Equal(t, "queue-silo-content-uploaded", str(t, notify.Inputs, "queueId"))
			require.Equal(t, resource.NewPropertyValue([]any{map[string]any{
				"actions":     []any{"PutObject", "CompleteMultipartUpload"},
				"description": "New content stored by silo.",
			}}), notify.Inputs["rules"])
			require.ElementsMatch(t, []string{urn(tt.stack, tR2, "silo-content"), urn(tt.stack, tQueue, "silo-content-uploaded")}, notify.Deps)

			cron := m.find(t, tCron, "dome-cron")
			require.Equal(t, phys("dome-cron"), str(t, cron.Inputs, "scriptName"))
			require.Equal(t, tt.cron, cron.Inputs["schedules"].ArrayValue()[0].StringValue())

			// Both providers get the token, as a secret.
			for _, p := range []string{"pulumi:providers:cloudflare", "pulumi:providers:domecf"} {
				prov := m.find(t, p, strings.TrimPrefix(p, "pulumi:providers:"))
				require.True(t, prov.Inputs["apiToken"].IsSecret(), "%s token must be a secret", p)
			}
			// The official provider retries within seconds, not its default 30.
			cf := m.find(t, "pulumi:providers:cloudflare", "cloudflare")
			for k, want := range map[string]float64{"retries": 6, "minBackoff": 1, "maxBackoff": 2} {
				require.Equal(t, want, cf.Inputs[resource.PropertyKey(k)].NumberValue(), k)
			}

			// Outputs: the documented shape.
			require.Equal(t, tt.stack, d.outputs["environment"])
			dbs := d.outputs["d1Databases"].(map[string]any)
			require.Equal(t, map[string]any{"name": phys("silo"), "id": "d1database-silo"}, dbs["silo"])
			require.Len(t, dbs, 2)
			require.Len(t, d.outputs["r2Buckets"], 2)
			require.Len(t, d.outputs["queues"], 5)
			require.Equal(t, map[string]any{"name": phys("dome-notes"), "id": "vectorizeindex-dome-notes"}, d.outputs["vectorizeIndexes"].(map[string]any)["dome-notes"])
			require.Empty(t, d.outputs["kvNamespaces"])
			wo := d.outputs["workers"].(map[string]any)
			require.Len(t, wo, len(workers))
			apiOut := wo["dome-api"].(map[string]any)
			require.Equal(t, phys("dome-api"), apiOut["name"])
			require.Equal(t, []string{"AI", "CONSTELLATION", "SILO", "ENVIRONMENT", "LOG_LEVEL", "CORS_ORIGIN", "VERSION"}, apiOut["bindings"])
			mod := bundled(t, "dome-api", bundle.Options{SourceMap: true})
			require.Equal(t, mod.SHA256, apiOut["bundleSha256"])
			requireCode(t, api, mod)
			require.Equal(t, map[string]any{"id": "queueconsumer-new-content-ai", "worker": "ai-processor"}, d.outputs["queueConsumers"].(map[string]any)["new-content-ai"])
		})
	}
}

// urn is the URN the mocks give a resource of the dome project.
func urn(stack, token, name string) string {
	return fmt.Sprintf("urn:pulumi:%s::dome::%s::%s", stack, token, name)
}

func TestTokenNeverInPlainText(t *testing.T) {
	d, err := deploy(t, "dev", testEnv, nil)
	require.NoError(t, err)
	for _, r := range d.mocks.seen {
		for k, v := range r.Inputs {
			if v.IsString() {
				require.NotContains(t, v.StringValue(), testToken, "%s %s.%s", r.Type, r.Name, k)
			}
		}
	}
	require.NotContains(t, fmt.Sprint(d.outputs), testToken)
}

func TestSecretsAndKV(t *testing.T) {
	d, err := deploy(t, "dev", testEnv, func(v *config.Values) {
		topo := v.Config["dome:topology"]
		topo = strings.Replace(topo, `"d1Databases":`, `"kvNamespaces":[{"name":"sessions"}],"d1Databases":`, 1)
		topo = strings.Replace(topo, `"name":"dome-notify"`, `"name":"dome-notify","secrets":{"WEBHOOK_SECRET":"notifyWebhook"},"bindings":[{"type":"kv_namespace","name":"SESSIONS","target":"sessions"}]`, 1)
		v.Config["dome:topology"] = topo
		v.Config["dome:notifyWebhook"] = "hunter2-webhook"
		v.Secrets["dome:notifyWebhook"] = true
	})
	require.NoError(t, err)
	notify := d.mocks.find(t, tWorker, "dome-notify")
	b := bindingsOf(t, notify)
	require.Equal(t, "workerskvnamespace-sessions", str(t, b["SESSIONS"], "namespaceId"))
	require.Equal(t, "secret_text", str(t, b["WEBHOOK_SECRET"], "type"))
	require.True(t, b["WEBHOOK_SECRET"]["text"].IsSecret(), "a secret binding's text must stay a Pulumi secret")
	ns := d.mocks.find(t, "cloudflare:index/workersKvNamespace:WorkersKvNamespace", "sessions")
	require.Equal(t, "sessions-dev", str(t, ns.Inputs, "title"))
	require.Equal(t, map[string]any{"name": "sessions-dev", "id": "workerskvnamespace-sessions"}, d.outputs["kvNamespaces"].(map[string]any)["sessions"])
}

func TestProgramRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		edit func(*config.Values)
		want []string
	}{
		{
			name: "missing account id and token",
			env:  map[string]string{},
			want: []string{
				"dome:accountId: the Cloudflare account id is not set; export CLOUDFLARE_ACCOUNT_ID (or put it in .env.dev), or set dome:accountId in Pulumi.yaml",
				"CLOUDFLARE_API_TOKEN: the Cloudflare API token is not set",
			},
		},
		{
			name: "missing entry module",
			env:  testEnv,
			edit: func(v *config.Values) { v.Config["dome:servicesRoot"] = "testdata/nowhere" },
			want: []string{"dome:topology.workers[dome-api].main: Module not found: " + filepath.Join(mustAbs(t, "testdata/nowhere"), "dome-api/src/index.ts")},
		},
		{
			name: "a migration SQLite refuses",
			env:  testEnv,
			edit: func(v *config.Values) {
				dir := t.TempDir()
				require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/services")))
				bad := "CREATE TABLE links (from_id TEXT, to_id TEXT);\nCREATE INDEX links_to ON linkz (to_id);\n"
				require.NoError(t, os.WriteFile(filepath.Join(dir, "silo/migrations/0004_links.sql"), []byte(bad), 0o644))
				v.Config["dome:servicesRoot"] = dir
			},
			want: []string{"/silo/migrations/0004_links.sql:2: dome:topology.d1Databases[silo].migrationsDir: no such table: main.linkz"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := deploy(t, "dev", tt.env, tt.edit)
			require.Error(t, err)
			require.Empty(t, d.mocks.seen, "nothing is registered, not even a provider")
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestBundleErrorNamesWorkerAndFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/services")))
	broken := filepath.Join(dir, "silo/src/index.ts")
	require.NoError(t, os.WriteFile(broken, []byte("export default {\n  fetch( {\n};\n"), 0o644))
	_, err := deploy(t, "dev", testEnv, func(v *config.Values) { v.Config["dome:servicesRoot"] = dir })
	require.Error(t, err)
	require.Contains(t, err.Error(), `worker "silo": esbuild: `+broken+":3:")
}

func mustAbs(t testing.TB, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

// The worker settings of issue 8 are YAML edits: a migration history, source
// maps off for one worker, minify for another.
func TestWorkerBuildSettingsFromYAML(t *testing.T) {
	d, err := deploy(t, "dev", testEnv, func(v *config.Values) {
		topo := v.Config["dome:topology"]
		topo = strings.Replace(topo, `"name":"dome-notify"`, `"name":"dome-notify","sourceMaps":false,"bindings":[{"type":"durable_object_namespace","name":"HALLS","className":"Hall"}],`+
			`"migrations":[{"tag":"v1","newSqliteClasses":["Room"]},{"tag":"v2","renamedClasses":[{"from":"Room","to":"Hall"}]}]`, 1)
		topo = strings.Replace(topo, `"name":"dome-cron"`, `"name":"dome-cron","minify":true`, 1)
		v.Config["dome:topology"] = topo
	})
	require.NoError(t, err)

	notify := d.mocks.find(t, tWorker, "dome-notify")
	requireCode(t, notify, bundled(t, "dome-notify", bundle.Options{}))
	require.Equal(t, resource.NewPropertyValue([]any{
		map[string]any{"tag": "v1", "newSqliteClasses": []any{"Room"}},
		map[string]any{"tag": "v2", "renamedClasses": []any{map[string]any{"from": "Room", "to": "Hall"}}},
	}), notify.Inputs["migrations"])

	cron := d.mocks.find(t, tWorker, "dome-cron")
	requireCode(t, cron, bundled(t, "dome-cron", bundle.Options{SourceMap: true, Minify: true}))
}

// bundled is an example worker bundled on its own, to compare with what
// the program uploads.
func bundled(t *testing.T, worker string, opts bundle.Options) bundle.Module {
	t.Helper()
	store, err := bundle.Open(t.TempDir())
	require.NoError(t, err)
	mods, err := store.Build([]bundle.Job{{Entry: "testdata/services/" + worker + "/src/index.ts", Options: opts}})
	require.NoError(t, err)
	return mods[0]
}

// requireCode checks that a worker uploads want: its inputs name the code
// and the map by file and hash, never inline, and each file in the stack's
// bundle folder holds exactly the bytes of its hash.
func requireCode(t *testing.T, w *registered, want bundle.Module) {
	t.Helper()
	require.NotContains(t, w.Inputs, resource.PropertyKey("content"), "state must not hold the code")
	require.NotContains(t, w.Inputs, resource.PropertyKey("sourceMap"))
	files := map[string]string{"content": want.SHA256}
	if want.MapFile != "" {
		files["sourceMap"] = want.MapSHA256
	} else {
		require.NotContains(t, w.Inputs, resource.PropertyKey("sourceMapFile"), "no map, no map part")
	}
	for prop, sum := range files {
		require.Equal(t, sum, str(t, w.Inputs, prop+"Sha256"), prop)
		file := str(t, w.Inputs, prop+"File")
		require.Equal(t, filepath.Join(scratch(), "bundles"), filepath.Dir(file), "%s: in the stack's bundle folder", prop)
		got := sha256.Sum256(must(os.ReadFile(file)))
		require.Equal(t, sum, hex.EncodeToString(got[:]), "%s: the file holds what its hash says", prop)
	}
}

// TestDeletingDataMustBeAskedFor: a topology that drops or replaces a
// stateful resource the stack's state holds fails before anything is
// registered, unless DOME_ALLOW_DELETE names it.
func TestDeletingDataMustBeAskedFor(t *testing.T) {
	vals, err := config.ReadFiles(".", "dev")
	require.NoError(t, err)
	vals.Config["dome:servicesRoot"] = "testdata/services"
	first, err := runMocked(vals, testEnv, nil)
	require.NoError(t, err)

	// What the first deploy left in state, as readStackResourceOutputs
	// returns it, plus a database and a bucket since dropped (say `just
	// recover` imported them, so no output ever named them).
	held := map[string]any{}
	for _, r := range first.mocks.seen {
		held[urn("dev", r.Type, r.Name)] = map[string]any{"type": r.Type, "outputs": r.Inputs.Mappable()}
	}
	_, err = runMocked(vals, testEnv, held)
	require.NoError(t, err, "an unchanged topology deletes nothing")

	held[urn("dev", tD1, "old-db")] = map[string]any{"type": tD1, "outputs": map[string]any{"name": "old-db-dev"}}
	held[urn("dev", tR2, "archive")] = map[string]any{"type": tR2, "outputs": map[string]any{"name": "archive-dev"}}
	d, err := runMocked(vals, testEnv, held)
	require.ErrorContains(t, err, `refusing to delete D1 database "old-db", R2 bucket "archive" (no longer in the topology): their data would be lost; put back in Pulumi.yaml what should stay, or, to lose it on purpose, name what may go: DOME_ALLOW_DELETE="old-db archive"`)
	for _, r := range d.mocks.seen {
		require.True(t, strings.HasPrefix(r.Type, "pulumi:providers:"), "nothing but the providers is registered before the check fails: %s %s", r.Type, r.Name)
	}

	allow := maps.Clone(testEnv)
	allow["DOME_ALLOW_DELETE"] = "old-db archive"
	_, err = runMocked(vals, allow, held)
	require.NoError(t, err, "deletions named in DOME_ALLOW_DELETE go ahead")

	// An index of another dimension is replaced: deleted with its vectors.
	vals.Config["dome:topology"] = strings.Replace(vals.Config["dome:topology"], `"dimensions":1536`, `"dimensions":768`, 1)
	_, err = runMocked(vals, allow, held)
	require.ErrorContains(t, err, `refusing to replace Vectorize index "dome-notes" (dimensions 1536 => 768)`)
}

// TestRetiredTypesInProd: a prod stack deployed when workers.dev was a
// resource of its own holds one, protected, per worker. The deploy could
// drop them only after every update, and would then fail on their
// protection, so the program stops first and names `just recover prod`,
// which drops them; a stack that does not protect its resources lets the
// deploy drop them.
func TestRetiredTypesInProd(t *testing.T) {
	for _, tt := range []struct {
		stack string
		err   string
	}{
		{"prod", "stack prod holds 2 resources of a type the program no longer registers (domecf:index:WorkerSubdomain: dome-api, silo): " +
			"each worker's workers.dev setting is its script's own now. Protected, they cannot be dropped by a deploy: " +
			"run 'just recover prod', which drops them from the state and changes nothing in Cloudflare, then deploy again"},
		{"dev", ""},
	} {
		t.Run(tt.stack, func(t *testing.T) {
			vals, err := config.ReadFiles(".", tt.stack)
			require.NoError(t, err)
			vals.Config["dome:servicesRoot"] = "testdata/services"
			held := map[string]any{}
			for _, w := range []string{"dome-api", "silo"} {
				held[urn(tt.stack, "domecf:index:WorkerSubdomain", w)] = map[string]any{"type": "domecf:index:WorkerSubdomain", "outputs": map[string]any{"enabled": true}}
			}
			d, err := runMocked(vals, testEnv, held)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
			for _, r := range d.mocks.seen {
				require.True(t, strings.HasPrefix(r.Type, "pulumi:providers:"), "nothing but the providers is registered before the check fails: %s %s", r.Type, r.Name)
			}
		})
	}
}
