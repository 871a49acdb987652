package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testAccount = "0123456789abcdef0123456789abcdef"
	testToken   = "tok-1234567890123456789012345678901234567"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var goodEnv = env(map[string]string{EnvAccountID: testAccount, EnvAPIToken: testToken})

// fixture is testdata's stack, with the secret's value filled in as the
// Pulumi CLI would after decrypting it.
func fixture(t *testing.T) *Values {
	t.Helper()
	v, err := ReadFiles("testdata", "test")
	require.NoError(t, err)
	v.Config["dome:apiKey"] = "decrypted"
	// Keys that only TestReadFiles reads.
	delete(v.Config, "dome:shortForm")
	delete(v.Config, "dome:count")
	return v
}

func editTopology(t *testing.T, v *Values, edit func(*Topology)) {
	t.Helper()
	var topo Topology
	require.NoError(t, json.Unmarshal([]byte(v.Config["dome:topology"]), &topo))
	edit(&topo)
	b, err := json.Marshal(topo)
	require.NoError(t, err)
	v.Config["dome:topology"] = string(b)
}

func worker(topo *Topology, name string) *Worker {
	for i := range topo.Workers {
		if topo.Workers[i].Name == name {
			return &topo.Workers[i]
		}
	}
	panic("no worker " + name)
}

func ptr(i int) *int { return &i }

func TestLoad(t *testing.T) {
	c, err := Load(fixture(t), goodEnv)
	require.NoError(t, err)
	require.Equal(t, "dev", c.Environment)
	require.Equal(t, testAccount, c.AccountID)
	require.Equal(t, testToken, c.APIToken.Reveal())
	require.Equal(t, "debug", c.LogLevel, "dev defaults to debug")
	require.Equal(t, Observability{Enabled: true, HeadSamplingRate: 0.5}, c.Observability)
	require.False(t, c.Protect)
	require.Equal(t, PlanPaid, c.Plan, "Dome uses Queues, which need Workers Paid")
	abs, err := filepath.Abs("testdata/services")
	require.NoError(t, err)
	require.Equal(t, abs, c.ServicesRoot, "relative to the project folder")
	require.Equal(t, "decrypted", c.Secrets["apiKey"].Reveal())
	require.Equal(t, "meta-dev", c.Name("meta"))
	require.Equal(t, filepath.Join(abs, "meta", "migrations"), c.MigrationsDir(c.Topology.D1Databases[0]))
	require.Len(t, c.Topology.Workers, 3)
	require.Equal(t, []string{"store"}, c.Topology.Workers[0].Dependencies())
	require.Equal(t, []string{"store"}, c.Topology.Workers[2].Dependencies(), "a Durable Object hosted elsewhere is a dependency")
}

func TestLoadDefaultsAndOverrides(t *testing.T) {
	tests := []struct {
		name  string
		set   map[string]string
		env   func(string) string
		check func(*testing.T, *Config)
	}{
		{
			name: "staging defaults to info",
			set:  map[string]string{"dome:environment": "staging"},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, "info", c.LogLevel)
				require.Equal(t, "meta-staging", c.Name("meta"))
			},
		},
		{
			name: "prod is always protected and keeps bare names",
			set:  map[string]string{"dome:environment": "prod"},
			check: func(t *testing.T, c *Config) {
				require.True(t, c.Protect)
				require.Equal(t, "meta", c.Name("meta"))
			},
		},
		{
			name:  "protection can be turned on elsewhere",
			set:   map[string]string{"dome:protect": "true"},
			check: func(t *testing.T, c *Config) { require.True(t, c.Protect) },
		},
		{
			name:  "the free plan",
			set:   map[string]string{"dome:plan": "free"},
			check: func(t *testing.T, c *Config) { require.Equal(t, PlanFree, c.Plan) },
		},
		{
			name:  "log level overridable",
			set:   map[string]string{"dome:logLevel": "warn"},
			check: func(t *testing.T, c *Config) { require.Equal(t, "warn", c.LogLevel) },
		},
		{
			name:  "account id from config wins over the environment",
			set:   map[string]string{"dome:accountId": "ffffffffffffffffffffffffffffffff"},
			check: func(t *testing.T, c *Config) { require.Equal(t, "ffffffffffffffffffffffffffffffff", c.AccountID) },
		},
		{
			name: "observability default is on with full sampling",
			set:  map[string]string{"dome:observability": ""},
			check: func(t *testing.T, c *Config) {
				require.Equal(t, Observability{Enabled: true, HeadSamplingRate: 1}, c.Observability)
			},
		},
		{
			name:  "api hostname for a local API",
			set:   map[string]string{"dome:apiHostname": "127.0.0.1:8787"},
			check: func(t *testing.T, c *Config) { require.Equal(t, "127.0.0.1:8787", c.APIHostname) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := fixture(t)
			for k, val := range tt.set {
				if val == "" {
					delete(v.Config, k)
				} else {
					v.Config[k] = val
				}
			}
			c, err := Load(v, goodEnv)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	c, err := Load(fixture(t), goodEnv)
	require.NoError(t, err)
	for _, s := range []string{
		fmt.Sprint(c.APIToken), fmt.Sprintf("%v %s %q %#v %+v", c.APIToken, c.APIToken, c.APIToken, c.APIToken, c),
	} {
		require.NotContains(t, s, testToken)
		require.NotContains(t, s, "decrypted")
	}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(b), testToken)
	require.NotContains(t, string(b), "decrypted")
}

// TestValidation checks each problem's exact message: they are what a user
// reads to fix their config.
func TestValidation(t *testing.T) {
	tests := []struct {
		name  string
		stack string // default test
		set   map[string]string
		env   func(string) string
		topo  func(*Topology)
		want  []string
	}{
		{
			name: "unknown service target",
			topo: func(tp *Topology) { worker(tp, "api").Bindings[0].Target = "constellation" },
			want: []string{"dome:topology.workers[api].bindings[STORE].target: Service 'constellation' not found; declared: api, store, worker"},
		},
		{
			name: "unknown targets of every kind",
			topo: func(tp *Topology) {
				a := worker(tp, "api")
				a.Bindings[1].Target = "silo"
				a.Bindings[2].Target = "sessions"
				s := worker(tp, "store")
				s.Bindings[0].Target = "content"
				s.Bindings[1].Target = "new-content"
				worker(tp, "worker").Bindings[0].Target = "dome-notes"
			},
			want: []string{
				"dome:topology.workers[api].bindings[DB].target: D1 database 'silo' not found; declared: meta",
				"dome:topology.workers[api].bindings[CACHE].target: KV namespace 'sessions' not found; declared: cache",
				"dome:topology.workers[store].bindings[RAW].target: R2 bucket 'content' not found; declared: raw",
				"dome:topology.workers[store].bindings[JOBS].target: Queue 'new-content' not found; declared: jobs, jobs-dlq",
				"dome:topology.workers[worker].bindings[NOTES].target: Vectorize index 'dome-notes' not found; declared: notes",
			},
		},
		{
			name: "service binding cycle",
			topo: func(tp *Topology) {
				worker(tp, "store").Bindings = append(worker(tp, "store").Bindings, Binding{Type: BindService, Name: "WORKER", Target: "worker"})
				w := worker(tp, "worker")
				w.Bindings = append(w.Bindings[:1], Binding{Type: BindService, Name: "API", Target: "api"})
			},
			want: []string{"dome:topology.workers: Circular dependency detected: api -> store -> worker -> api; a worker cannot be deployed before the workers it binds to, so remove one service binding in this loop (a queue can decouple the two workers)"},
		},
		{
			name: "duplicate names",
			topo: func(tp *Topology) {
				tp.Queues = append(tp.Queues, Queue{Name: "jobs"})
				tp.Workers = append(tp.Workers, Worker{Name: "api", Main: "api/index.ts", CompatibilityDate: "2025-04-15"})
				worker(tp, "api").Vars["STORE"] = "x"
			},
			want: []string{
				`dome:topology.queues[2].name: queue "jobs" is declared twice; rename or remove one`,
				`dome:topology.workers[3].name: worker "api" is declared twice; rename or remove one`,
				`dome:topology.workers[api].vars.STORE: binding name "STORE" is used twice in worker "api"; each binding, var and secret needs its own name`,
			},
		},
		{
			name: "names Cloudflare would refuse",
			topo: func(tp *Topology) {
				tp.R2Buckets = append(tp.R2Buckets, Bucket{Name: "Raw_Data"})
				tp.Queues = append(tp.Queues, Queue{Name: strings.Repeat("q", 62)})
				tp.VectorizeIndexes = append(tp.VectorizeIndexes, Index{Name: "9notes", Dimensions: 3, Metric: "cosine"})
				worker(tp, "api").Vars["my-var"] = "1"
			},
			want: []string{
				`dome:topology.r2Buckets[1].name: R2 bucket name "Raw_Data-dev" would be refused by Cloudflare; use lowercase letters, digits and dashes, starting and ending with a letter or digit`,
				`dome:topology.queues[2].name: queue name "` + strings.Repeat("q", 62) + `-dev" is 66 characters in dev, over Cloudflare's limit of 63; shorten the logical name "` + strings.Repeat("q", 62) + `"`,
				`dome:topology.vectorizeIndexes[1].name: Vectorize index name "9notes-dev" would be refused by Cloudflare; use lowercase letters, digits and dashes, starting and ending with a letter or digit`,
				`dome:topology.workers[api].vars.my-var: binding name "my-var" is not a JavaScript identifier; use letters, digits and underscores, e.g. MY_BINDING`,
			},
		},
		{
			name: "vectorize dimensions and metric",
			topo: func(tp *Topology) {
				tp.VectorizeIndexes[0].Dimensions = 4096
				tp.VectorizeIndexes[0].Metric = "manhattan"
			},
			want: []string{
				"dome:topology.vectorizeIndexes[notes].dimensions: 4096 is outside 1..1536; set it to the embedding model's output size (1536 for OpenAI's text-embedding models)",
				`dome:topology.vectorizeIndexes[notes].metric: "manhattan" is not a Vectorize metric; use one of cosine, euclidean, dot-product`,
			},
		},
		{
			name: "vectorize preset with dimensions, bad metadata index",
			topo: func(tp *Topology) {
				tp.VectorizeIndexes[0].Preset = "@cf/baai/bge-base-en-v1.5"
				tp.VectorizeIndexes[0].MetadataIndexes = append(tp.VectorizeIndexes[0].MetadataIndexes, MetadataIndex{PropertyName: "kind", IndexType: "date"})
			},
			want: []string{
				`dome:topology.vectorizeIndexes[notes]: sets both preset "@cf/baai/bge-base-en-v1.5" and dimensions/metric; give either a preset or dimensions and metric`,
				`dome:topology.vectorizeIndexes[notes].metadataIndexes[1].propertyName: "kind" is indexed twice; remove one`,
				`dome:topology.vectorizeIndexes[notes].metadataIndexes[1].indexType: "date" is not a metadata index type; use one of string, number, boolean`,
			},
		},
		{
			name: "malformed compatibility dates",
			topo: func(tp *Topology) {
				worker(tp, "api").CompatibilityDate = "15/04/2025"
				worker(tp, "store").CompatibilityDate = "2025-02-30"
			},
			want: []string{
				`dome:topology.workers[api].compatibilityDate: "15/04/2025" is not a date; write it as YYYY-MM-DD, e.g. 2025-04-15`,
				`dome:topology.workers[store].compatibilityDate: "2025-02-30" is not a real date; write it as YYYY-MM-DD, e.g. 2025-04-15`,
			},
		},
		{
			name: "consumer of a queue that does not exist",
			topo: func(tp *Topology) {
				c := &worker(tp, "worker").Consumers[0]
				c.Queue = "emails"
				c.DeadLetterQueue = "emails-dlq"
				c.BatchSize = ptr(500)
			},
			want: []string{
				"dome:topology.workers[worker].consumers[0].queue: Queue 'emails' not found; a consumer needs a declared queue (declared: jobs, jobs-dlq)",
				"dome:topology.workers[worker].consumers[0].deadLetterQueue: Queue 'emails-dlq' not found; declare the dead-letter queue under queues (declared: jobs, jobs-dlq)",
				"dome:topology.workers[worker].consumers[0].batchSize: 500 is outside Cloudflare's range 1..100",
			},
		},
		{
			name: "second consumer of a queue, dead-letter queue is the queue",
			topo: func(tp *Topology) {
				worker(tp, "api").Consumers = []Consumer{{Queue: "jobs", DeadLetterQueue: "jobs"}}
			},
			want: []string{
				`dome:topology.workers[api].consumers[0].deadLetterQueue: "jobs" is the consumed queue itself; failed messages need a separate queue`,
				`dome:topology.workers[worker].consumers[0].queue: queue "jobs" is already consumed by worker "api"; a queue has one worker consumer`,
			},
		},
		{
			name: "missing account id and token",
			env:  env(nil),
			want: []string{
				"dome:accountId: the Cloudflare account id is not set; export CLOUDFLARE_ACCOUNT_ID (or put it in .env.test), or set dome:accountId in Pulumi.yaml",
				"CLOUDFLARE_API_TOKEN: the Cloudflare API token is not set; export CLOUDFLARE_API_TOKEN or put it in .env.test (never in a Pulumi.*.yaml file)",
			},
		},
		{
			name: "malformed account id and token",
			env:  env(map[string]string{EnvAccountID: "my-account", EnvAPIToken: "short-token"}),
			want: []string{
				`dome:accountId: "my-account" is not a Cloudflare account id (32 lowercase hex characters); copy it from the dashboard's Workers overview, or fix CLOUDFLARE_ACCOUNT_ID`,
				"CLOUDFLARE_API_TOKEN: is not a Cloudflare API token (11 characters; the official provider accepts only tokens of 40 letters, digits, hyphens and underscores); copy the whole token from the dashboard",
			},
		},
		{
			name: "stack settings",
			set: map[string]string{
				"dome:environment":   "production",
				"dome:logLevel":      "verbose",
				"dome:observability": `{"enabled":true,"headSamplingRate":2}`,
				"dome:apiHostname":   "https://localhost:8787/",
			},
			want: []string{
				`dome:environment: "production" is not an environment; use one of dev, staging, prod`,
				`dome:apiHostname: "https://localhost:8787/" is not host[:port]; give the API host without scheme or path, e.g. 127.0.0.1:8787`,
				`dome:logLevel: "verbose" is not a log level; use one of debug, info, warn, error`,
				"dome:observability.headSamplingRate: 2 is outside 0..1; use 1 to keep every request's logs, 0.1 for one in ten",
			},
		},
		{
			name:  "the prod stack deploys prod",
			stack: "prod",
			set:   map[string]string{"dome:environment": "staging"},
			want:  []string{`dome:environment: "staging" in stack prod, which deploys prod: the stacks named for an environment deploy that environment; set dome:environment: prod in Pulumi.prod.yaml (a stack of another name, like local, may deploy any)`},
		},
		{
			name:  "the dev stack deploys dev",
			stack: "dev",
			set:   map[string]string{"dome:environment": "prod"},
			want:  []string{`dome:environment: "prod" in stack dev, which deploys dev: the stacks named for an environment deploy that environment; set dome:environment: dev in Pulumi.dev.yaml (a stack of another name, like local, may deploy any)`},
		},
		{
			name: "a token with an inline comment after it",
			env:  env(map[string]string{EnvAccountID: testAccount, EnvAPIToken: testToken + " # ci token"}),
			want: []string{"CLOUDFLARE_API_TOKEN: contains a space: a token has none (an inline comment after it in .env.test?); put the token alone on its line"},
		},
		{
			name:  "the prod stack cannot be unprotected",
			stack: "prod",
			set:   map[string]string{"dome:environment": "prod", "dome:protect": "false"},
			want:  []string{`dome:protect: cannot be false in prod (got "false"): every production resource is always protected; remove the key, and unprotect a single resource with ` + "`pulumi state unprotect`" + ` if you really mean to delete it`},
		},
		{
			name: "prod cannot be unprotected",
			set:  map[string]string{"dome:environment": "prod", "dome:protect": "false"},
			want: []string{`dome:protect: cannot be false in prod (got "false"): every production resource is always protected; remove the key, and unprotect a single resource with ` + "`pulumi state unprotect`" + ` if you really mean to delete it`},
		},
		{
			name: "misspelt topology field",
			set:  map[string]string{"dome:topology": `{"workers":[{"name":"api","bindngs":[]}]}`},
			want: []string{
				`dome:topology.workers[api].bindngs: unknown field "bindngs"; did you mean "bindings"?`,
				"dome:topology.workers[api].main: is empty; give the entry module relative to " + mustAbs(t, "testdata/services") + ", e.g. api/src/index.ts",
				`dome:topology.workers[api].compatibilityDate: "" is not a date; write it as YYYY-MM-DD, e.g. 2025-04-15`,
			},
		},
		{
			name: "missing topology and environment",
			set:  map[string]string{"dome:topology": "", "dome:environment": ""},
			want: []string{
				"dome:topology: is not set; declare Dome's resources under config.topology.value in Pulumi.yaml",
				"dome:environment: is not set; set it in Pulumi.test.yaml to one of dev, staging, prod",
			},
		},
		{
			name: "secrets the stack does not set",
			set:  map[string]string{"dome:apiKey": ""},
			topo: func(tp *Topology) { worker(tp, "api").Secrets = map[string]string{"TOKEN": "apiToken"} },
			want: []string{
				"dome:topology.workers[api].secrets.TOKEN: names config key dome:apiToken, which this stack does not set; run `pulumi config set --secret dome:apiToken <value> --stack test`",
				"dome:topology.workers[worker].secrets.API_KEY: names config key dome:apiKey, which this stack does not set; run `pulumi config set --secret dome:apiKey <value> --stack test`",
			},
		},
		{
			name: "entry modules",
			topo: func(tp *Topology) {
				worker(tp, "api").Main = "api/missing.ts"
				worker(tp, "store").Main = "store/index.py"
				worker(tp, "worker").Main = ""
			},
			want: []string{
				"dome:topology.workers[api].main: Module not found: " + mustAbs(t, "testdata/services/api/missing.ts") + "; fix the path, or dome:servicesRoot (" + mustAbs(t, "testdata/services") + ") to point at the services folder",
				`dome:topology.workers[store].main: "store/index.py" is not a .ts, .mts, .js or .mjs module`,
				"dome:topology.workers[worker].main: is empty; give the entry module relative to " + mustAbs(t, "testdata/services") + ", e.g. worker/src/index.ts",
			},
		},
		{
			name: "durable objects, crons, migrations, reserved vars",
			topo: func(tp *Topology) {
				s := worker(tp, "store")
				s.Migrations[0].Tag = ""
				s.Migrations[0].NewSqliteClasses = []string{"Other"}
				w := worker(tp, "worker")
				w.Crons = []string{"every minute", "*/5 * * * *", "*/5 * * * *"}
				w.Bindings[1].ScriptName = "ghost"
				worker(tp, "api").Vars["LOG_LEVEL"] = "trace"
			},
			want: []string{
				`dome:topology.workers[api].vars.LOG_LEVEL: binding name "LOG_LEVEL" is reserved: the program sets it in every worker from dome:logLevel; remove it here`,
				`dome:topology.workers[store].bindings[COUNTER].className: Durable Object class "Counter" is not created by any step of worker "store"'s migrations; add it to a step's newSqliteClasses (or newClasses)`,
				"dome:topology.workers[store].migrations[0].tag: is empty; every migration step needs a tag (e.g. v1) so Cloudflare applies it once",
				"dome:topology.workers[worker].bindings[COUNTER].scriptName: Service 'ghost' not found; declared: api, store, worker",
				`dome:topology.workers[worker].crons[0]: "every minute" is not a cron expression; use five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"`,
				`dome:topology.workers[worker].crons[2]: "*/5 * * * *" is listed twice; remove one`,
			},
		},
		{
			name: "event notifications",
			topo: func(tp *Topology) {
				tp.R2Buckets[0].EventNotifications = []EventNotification{
					{Queue: "jobs", Actions: []string{"PutObject", "CompleteMultipartUpload"}, Prefix: "uploads/"},
					{Queue: "jobs-dlq", Actions: []string{"DeleteObject"}, Prefix: "uploads/"},
					{Queue: "emails", Actions: []string{"GetObject"}},
					{Queue: "jobs-dlq", Actions: []string{"CompleteMultipartUpload"}, Prefix: "uploads/videos/", Suffix: ".mp4"},
					{Queue: "jobs"},
				}
			},
			want: []string{
				`dome:topology.r2Buckets[raw].eventNotifications[2].queue: Queue 'emails' not found; event notifications need a declared queue (declared: jobs, jobs-dlq)`,
				`dome:topology.r2Buckets[raw].eventNotifications[2].actions: "GetObject" is not an R2 event; use some of PutObject, CopyObject, DeleteObject, CompleteMultipartUpload, LifecycleDeletion`,
				`dome:topology.r2Buckets[raw].eventNotifications[3]: overlaps eventNotifications[0] for CompleteMultipartUpload (prefix "uploads/videos/", suffix ".mp4" against prefix "uploads/", suffix ""): an object could match both, which Cloudflare refuses; make the prefixes or suffixes disjoint, or merge the two rules`,
				`dome:topology.r2Buckets[raw].eventNotifications[4].actions: is empty; list the object events to send: some of PutObject, CopyObject, DeleteObject, CompleteMultipartUpload, LifecycleDeletion`,
			},
		},
		{
			name: "migration history",
			topo: func(tp *Topology) {
				worker(tp, "store").Migrations = Migrations{
					{Tag: "v1", NewSqliteClasses: []string{"Counter", "Room"}},
					{Tag: "v2", OldTag: "v1", NewClasses: []string{"Room"}, RenamedClasses: []Rename{{From: "Lobby", To: "Hall"}}},
					{Tag: "v2", DeletedClasses: []string{"Ghost", "Room"}},
					{Tag: "v4", DeletedClasses: []string{"Counter"}},
				}
			},
			want: []string{
				`dome:topology.workers[store].bindings[COUNTER].className: Durable Object class "Counter" is deleted by migration step "v4" of worker "store"; remove this binding, or, if step "v4" is not deployed yet, take "Counter" out of its deletedClasses`,
				`dome:topology.workers[store].migrations[1].oldTag: "v1" is set on step 1; only the first step may name the tag the script was at before this history, since each later step follows the one before it; remove it`,
				`dome:topology.workers[store].migrations[1]: creates class "Room", which an earlier step already created; remove it from this step`,
				`dome:topology.workers[store].migrations[1].renamedClasses[0].from: renames class "Lobby", which no earlier step creates (created so far: Counter, Room); fix the name, or create the class in an earlier step`,
				`dome:topology.workers[store].migrations[2].tag: "v2" is also the tag of step 1; every step needs its own tag (e.g. v3)`,
				`dome:topology.workers[store].migrations[2].deletedClasses[0]: deletes class "Ghost", which no earlier step creates (created so far: Counter, Room); fix the name, or remove the deletion`,
			},
		},
		{
			name: "binding types",
			topo: func(tp *Topology) {
				a := worker(tp, "api")
				a.Bindings = append(a.Bindings,
					Binding{Type: "plain_text", Name: "X"},
					Binding{Type: "websocket", Name: "Y"},
					Binding{Type: BindAI, Name: "AI2", Target: "meta"},
					Binding{Type: BindAnalyticsEngine, Name: "EVENTS"},
					Binding{Type: BindHyperdrive, Name: "PG"},
					Binding{Type: BindService, Name: "SELF", Target: "api"},
				)
			},
			want: []string{
				`dome:topology.workers[api].bindings[X].type: "plain_text" bindings come from the worker's vars (plain text) and secrets (config keys holding Pulumi secrets); move it there`,
				`dome:topology.workers[api].bindings[Y].type: "websocket" is not a binding type; use one of d1, r2_bucket, queue, service, ai, vectorize, kv_namespace, durable_object_namespace, analytics_engine, hyperdrive`,
				`dome:topology.workers[api].bindings[AI2].target: "meta" is set, but ai bindings have no target; remove it`,
				"dome:topology.workers[api].bindings[EVENTS].dataset: is empty; name the Analytics Engine dataset",
				"dome:topology.workers[api].bindings[PG].id: is empty; give the Hyperdrive config id",
				`dome:topology.workers[api].bindings[SELF].target: worker "api" binds to itself; a worker reaches its own handlers without a service binding`,
			},
		},
		{
			name: "migrations",
			topo: func(tp *Topology) {
				tp.D1Databases = append(tp.D1Databases,
					Database{Name: "gone", MigrationsDir: "gone/migrations"},
					Database{Name: "broken", MigrationsDir: "broken-migrations", MigrationsTable: "schema-history"},
					Database{Name: "plain", MigrationsTable: "history"},
				)
			},
			want: []string{
				"dome:topology.d1Databases[gone].migrationsDir: folder " + mustAbs(t, "testdata/services/gone/migrations") + " does not exist; create it and put the NNNN_name.sql files in it, or fix the path",
				`dome:topology.d1Databases[broken].migrationsTable: "schema-history" is not a plain SQL identifier; use letters, digits and _, not starting with a digit, e.g. d1_migrations`,
				"dome:topology.d1Databases[broken].migrationsDir: 0001_a.sql and 0001_b.sql share the number 0001, so their order is ambiguous; give 0001_b.sql the next free number",
				"dome:topology.d1Databases[broken].migrationsDir: add-c.sql is not named NNNN_name.sql (four digits, an underscore, then letters, digits, _ or -); rename it, e.g. 0001_init.sql",
				"dome:topology.d1Databases[plain].migrationsTable: is set, but the database has no migrationsDir; add migrationsDir (relative to " + mustAbs(t, "testdata/services") + "), or remove migrationsTable",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := fixture(t)
			if tt.stack != "" {
				v.Name = tt.stack
			}
			if tt.topo != nil {
				editTopology(t, v, tt.topo)
			}
			for k, val := range tt.set {
				if val == "" {
					delete(v.Config, k)
				} else {
					v.Config[k] = val
				}
			}
			e := tt.env
			if e == nil {
				e = goodEnv
			}
			c, err := Load(v, e)
			require.Nil(t, c)
			var ps Problems
			require.True(t, errors.As(err, &ps), "want Problems, got %v", err)
			got := make([]string, len(ps))
			for i, p := range ps {
				got[i] = p.Key + ": " + p.Message
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// TestBoundClassTakenAway: a binding to a class the history renames or
// deletes names the step that did, and the fix that follows from it.
func TestBoundClassTakenAway(t *testing.T) {
	tests := []struct {
		name  string
		steps Migrations
		want  string // "" when the binding is fine
	}{
		{
			name:  "deleted by a later step",
			steps: Migrations{{Tag: "v1", NewSqliteClasses: []string{"Counter"}}, {Tag: "v2", NewSqliteClasses: []string{"Room"}}, {Tag: "v3", DeletedClasses: []string{"Counter"}}},
			want:  `Durable Object class "Counter" is deleted by migration step "v3" of worker "store"; remove this binding, or, if step "v3" is not deployed yet, take "Counter" out of its deletedClasses`,
		},
		{
			name:  "renamed by a later step",
			steps: Migrations{{Tag: "v1", NewSqliteClasses: []string{"Counter"}}, {Tag: "v2", RenamedClasses: []Rename{{From: "Counter", To: "Tally"}}}},
			want:  `Durable Object class "Counter" is renamed to "Tally" by migration step "v2" of worker "store"; bind it by its new name: className: Tally`,
		},
		{
			name: "renamed twice",
			steps: Migrations{
				{Tag: "v1", NewSqliteClasses: []string{"Counter"}},
				{Tag: "v2", RenamedClasses: []Rename{{From: "Counter", To: "Tally"}}},
				{Tag: "v3", RenamedClasses: []Rename{{From: "Tally", To: "Meter"}}},
			},
			want: `Durable Object class "Counter" is renamed to "Tally" by migration step "v2", then renamed to "Meter" by migration step "v3" of worker "store"; bind it by its new name: className: Meter`,
		},
		{
			name: "renamed, then the new name deleted",
			steps: Migrations{
				{Tag: "v1", NewSqliteClasses: []string{"Counter"}},
				{Tag: "v2", RenamedClasses: []Rename{{From: "Counter", To: "Tally"}}},
				{Tag: "v3", DeletedClasses: []string{"Tally"}},
			},
			want: `Durable Object class "Counter" is renamed to "Tally" by migration step "v2", then deleted by migration step "v3" of worker "store"; remove this binding, or, if step "v3" is not deployed yet, take "Tally" out of its deletedClasses`,
		},
		{
			name:  "never created",
			steps: Migrations{{Tag: "v1", NewSqliteClasses: []string{"Room"}}},
			want:  `Durable Object class "Counter" is not created by any step of worker "store"'s migrations; add it to a step's newSqliteClasses (or newClasses)`,
		},
		{
			name:  "deleted, then created again",
			steps: Migrations{{Tag: "v1", NewClasses: []string{"Counter"}}, {Tag: "v2", DeletedClasses: []string{"Counter"}}, {Tag: "v3", NewSqliteClasses: []string{"Counter"}}},
		},
		{
			name:  "renamed back",
			steps: Migrations{{Tag: "v1", NewSqliteClasses: []string{"Counter"}}, {Tag: "v2", RenamedClasses: []Rename{{From: "Counter", To: "Tally"}}}, {Tag: "v3", RenamedClasses: []Rename{{From: "Tally", To: "Counter"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := fixture(t)
			editTopology(t, v, func(tp *Topology) { worker(tp, "store").Migrations = tt.steps })
			_, err := Load(v, goodEnv)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, []string{"dome:topology.workers[store].bindings[COUNTER].className: " + tt.want}, problems(t, err))
		})
	}
}

func TestPlainTextSecretRefused(t *testing.T) {
	v := fixture(t)
	delete(v.Secrets, "dome:apiKey")
	_, err := Load(v, goodEnv)
	require.EqualError(t, err, "1 configuration problem:\n  - Pulumi.test.yaml:3:3: dome:apiKey: holds the value of secret binding API_KEY of worker \"worker\" in plain text; store it encrypted with `pulumi config set --secret dome:apiKey <value> --stack test`")
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	v := fixture(t)
	editTopology(t, v, func(tp *Topology) {
		tp.VectorizeIndexes[0].Dimensions = 0
		worker(tp, "api").Bindings[0].Target = "nope"
		worker(tp, "worker").Consumers[0].Queue = "nope"
	})
	_, err := Load(v, env(nil))
	require.ErrorContains(t, err, "5 configuration problems:\n  - ")
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

// FuzzLoad feeds arbitrary config values to Load: whatever a user writes,
// the answer is a config or a list of problems, never a panic.
func FuzzLoad(f *testing.F) {
	v, err := ReadFiles("testdata", "test")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v.Config["dome:topology"], "dev", "debug", `{"enabled":true,"headSamplingRate":1}`, "false")
	f.Add(`{"workers":[{"name":"a","bindings":[{"type":"service","name":"B","target":"a"}]}]}`, "prod", "", "", "true")
	f.Add(`{"workers":[{"name":"a","bindings":[{"type":"durable_object_namespace","name":"D","scriptName":"a"}],"migrations":{"deletedClasses":["X"]}}]}`, "", "x", "[]", "maybe")
	f.Add(`{"queues":[{"name":""}],"workers":[{"consumers":[{"queue":""}],"secrets":{"":""}}]}`, "staging", "info", "null", "")
	f.Fuzz(func(t *testing.T, topology, environment, logLevel, observability, protect string) {
		src := &Values{Project: "dome", Dir: "testdata", Name: "fuzz", Secrets: map[string]bool{}, Config: map[string]string{
			"dome:topology":      topology,
			"dome:environment":   environment,
			"dome:logLevel":      logLevel,
			"dome:observability": observability,
			"dome:protect":       protect,
		}}
		c, err := Load(src, goodEnv)
		if (c == nil) == (err == nil) {
			t.Fatalf("Load returned config %v and error %v", c, err)
		}
	})
}

// A worker's migrations are a list of steps; one step may be written alone.
func TestMigrationsDecode(t *testing.T) {
	tests := []struct {
		name, raw string
		want      Migrations
		err       string
	}{
		{name: "one step, as wrangler's single migration", raw: `{"tag":"v1","newSqliteClasses":["Room"]}`,
			want: Migrations{{Tag: "v1", NewSqliteClasses: []string{"Room"}}}},
		{name: "a history", raw: `[{"tag":"v1","newClasses":["A"]},{"tag":"v2","renamedClasses":[{"from":"A","to":"B"}]}]`,
			want: Migrations{{Tag: "v1", NewClasses: []string{"A"}}, {Tag: "v2", RenamedClasses: []Rename{{From: "A", To: "B"}}}}},
		{name: "a misspelt field in a step", raw: `[{"tag":"v1","newClass":["A"]}]`, err: `unknown field "newClass"`},
		{name: "a misspelt field in a single step", raw: `{"tag":"v1","deleted":["A"]}`, err: `unknown field "deleted"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var topo Topology
			err := decodeStrict(`{"workers":[{"name":"w","migrations":`+tt.raw+`}]}`, &topo)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, topo.Workers[0].Migrations)
		})
	}
}

func TestOrder(t *testing.T) {
	workers := []Worker{
		{Name: "dome-api", Bindings: []Binding{{Type: BindService, Name: "SILO", Target: "silo"}}},
		{Name: "rooms", Bindings: []Binding{{Type: BindDurableObject, Name: "ROOM", ClassName: "Room", ScriptName: "silo"}}},
		{Name: "silo"},
	}
	got, err := Order(workers)
	require.NoError(t, err)
	names := make([]string, len(got))
	for i, w := range got {
		names[i] = w.Name
	}
	require.Equal(t, []string{"silo", "dome-api", "rooms"}, names, "targets and Durable Object hosts first")

	workers[2].Bindings = []Binding{{Type: BindService, Name: "API", Target: "dome-api"}}
	_, err = Order(workers)
	require.EqualError(t, err, "Circular dependency detected: dome-api -> silo -> dome-api")
}
