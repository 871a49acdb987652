// Package config reads one stack's view of Dome: the topology declared once in
// Pulumi.yaml, the settings Pulumi.<stack>.yaml overrides, and the account and
// token from the environment. Load validates everything before returning, so
// a program that gets a *Config can create resources without second-guessing it.
package config

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/graph"
	"github.com/dome/infra/internal/migrations"
	"github.com/dome/infra/internal/naming"
)

// Namespace is the Pulumi config namespace of every key this package reads.
const Namespace = "dome"

// Keys read from the stack's configuration, without the namespace.
const (
	KeyEnvironment   = "environment"
	KeyAccountID     = "accountId"
	KeyAPIHostname   = "apiHostname"
	KeyServicesRoot  = "servicesRoot"
	KeyLogLevel      = "logLevel"
	KeyObservability = "observability"
	KeyProtect       = "protect"
	KeyPlan          = "plan"
	KeyTopology      = "topology"
	// KeyWorkers holds a stack's per-worker overrides (Pulumi.<stack>.yaml).
	KeyWorkers = "workers"
)

// Environment variables that carry credentials. They may come from the
// shell or from a .env.<stack> file beside Pulumi.yaml.
const (
	EnvAccountID = "CLOUDFLARE_ACCOUNT_ID"
	EnvAPIToken  = "CLOUDFLARE_API_TOKEN"
)

// DefaultServicesRoot is where Dome keeps its workers' sources, relative to
// this project: services/<worker>/src/index.ts beside the infra folder.
const DefaultServicesRoot = "../services"

// EnvAllowDelete names the stateful resources one command may delete
// (internal/deletion), by logical name, separated by spaces or commas:
// DOME_ALLOW_DELETE="silo dome-raw". It is given per command, never kept in a .env
// file: a deletion allowed there would stay allowed for every later deploy.
const EnvAllowDelete = "DOME_ALLOW_DELETE"

// EnvBundleDir names the folder bundles are written to, instead of
// DefaultBundleDir (relative to this project).
const (
	EnvBundleDir     = "DOME_BUNDLE_DIR"
	DefaultBundleDir = ".bundles"
)

// Source is where configuration values come from: a running Pulumi program
// (*pulumi.Context satisfies it) or the YAML files read by ReadFiles.
type Source interface {
	Stack() string
	RootDirectory() string
	GetConfig(key string) (string, bool)
	IsConfigSecret(key string) bool
}

// Secret is a string that must never be printed: it formats as "[secret]"
// so a stray %v in a log or error cannot leak it.
type Secret string

func (Secret) String() string { return "[secret]" }

// Format covers every verb (%v, %s, %q, %#v) so no formatting path prints the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON keeps the value out of JSON output too.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[secret]"`), nil }

// Reveal returns the value, for the one place that hands it to a provider as a Pulumi secret.
func (s Secret) Reveal() string { return string(s) }

// Config is everything the program needs to build one stack.
type Config struct {
	Stack        string
	Environment  string // one of naming.Environments
	AccountID    string
	APIToken     Secret
	APIHostname  string // host[:port] of the Cloudflare API; empty for Cloudflare itself
	ServicesRoot string // absolute
	// BundleDir is where workers' bundles are written, one file per content
	// hash, for the provider to upload from: <project>/.bundles unless
	// DOME_BUNDLE_DIR names another folder (CI can cache it between runs).
	BundleDir string // absolute
	LogLevel  string
	// Plan is the account's Workers plan, for the limits workers must meet.
	Plan          Plan
	Observability Observability
	// Protect marks every resource the program creates protected, so no
	// update or destroy can delete or replace one until someone unprotects
	// it. Always on in prod.
	Protect  bool
	Topology Topology
	// overridden records, per worker, the fields Pulumi.<stack>.yaml set,
	// so a problem in one is reported under the key that holds it.
	overridden map[string]map[string]bool
	// Secrets holds the values of the config keys named by workers' secrets,
	// keyed by the key without namespace.
	Secrets map[string]Secret
}

// APIBaseURL is the base URL of the Cloudflare API this stack talks to:
// empty for Cloudflare's own, else https://<apiHostname>/client/v4.
func (c *Config) APIBaseURL() string {
	if c.APIHostname == "" {
		return ""
	}
	return "https://" + c.APIHostname + "/client/v4"
}

// Client opens the stack's Cloudflare account for the commands that run
// beside the program (import, recover, db-status). It keeps to the budget
// the companion provider keeps (CLOUDFLARE_API_BUDGET, default Cloudflare's
// 1,200 per 5 minutes): the budget is the user's, shared by every call made
// with their token, and so kept in the ledger the provider and the other
// commands on this machine book on (CLOUDFLARE_API_BUDGET_DIR). What the
// user should know of a call goes to standard error: a retry and why, or a
// ledger out of reach.
func (c *Config) Client() (*cfapi.Client, error) {
	budget, err := cfapi.BudgetFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	return cfapi.New(cfapi.Options{BaseURL: c.APIBaseURL(), Token: c.APIToken.Reveal(), AccountID: c.AccountID,
		Budget: budget, LedgerDir: cfapi.LedgerDirFromEnv(os.Getenv),
		Logf: func(_ context.Context, format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }})
}

// Name returns the physical name of the resource called logical in this stack.
func (c *Config) Name(logical string) string {
	return naming.Physical(c.Environment, logical)
}

// MigrationsDir is the absolute folder of d's migrations, or "" when it has none.
func (c *Config) MigrationsDir(d Database) string {
	if d.MigrationsDir == "" {
		return ""
	}
	return filepath.Join(c.ServicesRoot, d.MigrationsDir)
}

// Observability is a worker's Workers Logs setting.
type Observability struct {
	Enabled          bool    `json:"enabled"`
	HeadSamplingRate float64 `json:"headSamplingRate"`
}

// Topology is Dome's shape: every resource, declared by logical name, and
// every worker with the bindings that tie it to the rest. Lists rather than
// maps keep the author's order, which is the order errors are reported in.
type Topology struct {
	D1Databases      []Database    `json:"d1Databases"`
	R2Buckets        []Bucket      `json:"r2Buckets"`
	KVNamespaces     []KVNamespace `json:"kvNamespaces"`
	Queues           []Queue       `json:"queues"`
	VectorizeIndexes []Index       `json:"vectorizeIndexes"`
	Workers          []Worker      `json:"workers"`
}

// Database is a D1 database.
type Database struct {
	Name string `json:"name"`
	// MigrationsDir is the folder of the database's schema migrations
	// (NNNN_name.sql), relative to the services root; empty for none.
	MigrationsDir string `json:"migrationsDir,omitempty"`
	// MigrationsTable records applied migrations; empty for wrangler's d1_migrations.
	MigrationsTable string `json:"migrationsTable,omitempty"`
}

// Bucket is an R2 bucket.
type Bucket struct {
	Name string `json:"name"`
	// Location is R2's location hint (WNAM, ENAM, WEUR, EEUR, APAC, OC).
	Location string `json:"location,omitempty"`
	// EventNotifications send the bucket's object events to queues.
	EventNotifications []EventNotification `json:"eventNotifications,omitempty"`
}

// EventNotification is one rule sending a bucket's object events to a
// queue: the actions, for keys starting with Prefix and ending with Suffix.
type EventNotification struct {
	Queue       string   `json:"queue"` // logical name
	Actions     []string `json:"actions"`
	Prefix      string   `json:"prefix,omitempty"`
	Suffix      string   `json:"suffix,omitempty"`
	Description string   `json:"description,omitempty"`
}

// NotifiedQueues lists the queues the bucket's rules send to, in the order
// they first appear: Cloudflare keeps one configuration per (bucket, queue).
func (b Bucket) NotifiedQueues() []string {
	var out []string
	for _, n := range b.EventNotifications {
		if !slices.Contains(out, n.Queue) {
			out = append(out, n.Queue)
		}
	}
	return out
}

// KVNamespace is a Workers KV namespace.
type KVNamespace struct {
	Name string `json:"name"`
}

// Queue is a Workers queue.
type Queue struct {
	Name string `json:"name"`
}

// Index is a Vectorize index: dimensions and metric, or a preset.
type Index struct {
	Name            string          `json:"name"`
	Dimensions      int             `json:"dimensions,omitempty"`
	Metric          string          `json:"metric,omitempty"`
	Preset          string          `json:"preset,omitempty"`
	Description     string          `json:"description,omitempty"`
	MetadataIndexes []MetadataIndex `json:"metadataIndexes,omitempty"`
}

// MetadataIndex makes one metadata property filterable.
type MetadataIndex struct {
	PropertyName string `json:"propertyName"`
	IndexType    string `json:"indexType"`
}

// Worker is one Workers script and everything it is bound to.
type Worker struct {
	Name string `json:"name"`
	// Main is the entry module, relative to the services root: a .ts file is
	// bundled with esbuild, a .js or .mjs file is uploaded as it is.
	Main               string            `json:"main"`
	CompatibilityDate  string            `json:"compatibilityDate"`
	CompatibilityFlags []string          `json:"compatibilityFlags,omitempty"`
	Bindings           []Binding         `json:"bindings,omitempty"`
	Vars               map[string]string `json:"vars,omitempty"`
	// Secrets maps a secret_text binding name to the config key (in the dome
	// namespace) that holds its value as a Pulumi secret.
	Secrets    map[string]string `json:"secrets,omitempty"`
	Consumers  []Consumer        `json:"consumers,omitempty"`
	Crons      []string          `json:"crons,omitempty"`
	Migrations Migrations        `json:"migrations,omitempty"`
	Logpush    bool              `json:"logpush,omitempty"`
	// Placement is "smart" for Smart Placement, empty for the default.
	Placement string   `json:"placement,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	// SourceMaps uploads a bundled worker's source map beside it, so
	// Workers Logs shows stack traces in the sources; on unless set false.
	SourceMaps *bool `json:"sourceMaps,omitempty"`
	// Minify shortens the bundle.
	Minify bool `json:"minify,omitempty"`
	// WorkersDev serves the worker on <script>.<account subdomain>.workers.dev.
	WorkersDev bool `json:"workersDev,omitempty"`
	// PreviewURLs gives every uploaded version a public preview URL on
	// workers.dev. Off unless set: Cloudflare would turn it on with
	// workersDev, publishing versions not yet deployed.
	PreviewURLs   bool           `json:"previewUrls,omitempty"`
	Routes        []Route        `json:"routes,omitempty"`
	CustomDomains []CustomDomain `json:"customDomains,omitempty"`
}

// UploadsSourceMap reports whether the worker's bundle goes with its source map.
func (w Worker) UploadsSourceMap() bool { return w.SourceMaps == nil || *w.SourceMaps }

// Vars the program sets in every worker, and the keys they come from.
var ReservedVars = map[string]string{
	"ENVIRONMENT": key(KeyEnvironment),
	"LOG_LEVEL":   key(KeyLogLevel),
}

// StackVars are the values of ReservedVars in this stack: what every
// worker gets besides its own vars.
func (c *Config) StackVars() map[string]string {
	return map[string]string{"ENVIRONMENT": c.Environment, "LOG_LEVEL": c.LogLevel}
}

// Binding types a worker's bindings list may use. Plain-text and secret
// bindings come from a worker's vars and secrets instead.
const (
	BindD1              = "d1"
	BindR2              = "r2_bucket"
	BindQueue           = "queue"
	BindService         = "service"
	BindAI              = "ai"
	BindVectorize       = "vectorize"
	BindKV              = "kv_namespace"
	BindDurableObject   = "durable_object_namespace"
	BindAnalyticsEngine = "analytics_engine"
	BindHyperdrive      = "hyperdrive"
)

// Binding ties a name in the worker's env to a resource. Target is the
// logical name of the bound database, bucket, queue, index, namespace or
// worker; the program resolves it to this stack's id or physical name.
type Binding struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Target      string `json:"target,omitempty"`
	Environment string `json:"environment,omitempty"` // service bindings
	ClassName   string `json:"className,omitempty"`   // durable objects
	ScriptName  string `json:"scriptName,omitempty"`  // durable objects in another worker (logical name)
	Dataset     string `json:"dataset,omitempty"`     // analytics engine
	ID          string `json:"id,omitempty"`          // hyperdrive config id
}

// Consumer makes the worker consume a queue.
type Consumer struct {
	Queue           string `json:"queue"`
	DeadLetterQueue string `json:"deadLetterQueue,omitempty"`
	BatchSize       *int   `json:"batchSize,omitempty"`
	MaxRetries      *int   `json:"maxRetries,omitempty"`
	MaxWaitTimeMs   *int   `json:"maxWaitTimeMs,omitempty"`
	MaxConcurrency  *int   `json:"maxConcurrency,omitempty"`
	RetryDelay      *int   `json:"retryDelay,omitempty"`
}

// Migrations is a worker's Durable Object migration history, oldest step
// first, as wrangler's [[migrations]]: Cloudflare records the tag a script
// is at, and each deploy applies only the steps after it. In YAML a single
// step may be written as the step itself instead of a one-item list.
type Migrations []Migration

func (Migrations) oneOrMany() {}

// Migration is one step of the history: the class changes it makes, named by tag.
type Migration struct {
	Tag string `json:"tag"`
	// OldTag, on the first step only, is the tag the script was at before
	// this history starts (steps applied by another tool and not listed).
	OldTag           string   `json:"oldTag,omitempty"`
	NewClasses       []string `json:"newClasses,omitempty"`
	NewSqliteClasses []string `json:"newSqliteClasses,omitempty"`
	RenamedClasses   []Rename `json:"renamedClasses,omitempty"`
	DeletedClasses   []string `json:"deletedClasses,omitempty"`
}

// UnmarshalJSON reads a list of steps or a single step, refusing unknown
// fields like the rest of the topology.
func (m *Migrations) UnmarshalJSON(data []byte) error {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var one Migration
		if err := decodeStrict(string(data), &one); err != nil {
			return err
		}
		*m = Migrations{one}
		return nil
	}
	var steps []Migration
	if err := decodeStrict(string(data), &steps); err != nil {
		return err
	}
	*m = steps
	return nil
}

// Rename is a Durable Object class renamed by a migration.
type Rename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// SchemaCheck applies a database's migration files, in order, to an empty
// database, and returns the first statement that fails as a
// *migrations.StatementError (internal/schemacheck's Run).
type SchemaCheck func([]migrations.File) error

// Option adds to what Load checks.
type Option func(*options)

type options struct {
	schema SchemaCheck
	// topologyOnly leaves out every check that looks beyond the
	// configuration files: credentials, entry modules, migration files.
	topologyOnly bool
}

// CheckSchema makes Load run every database's migrations with check and
// report the first statement that fails in each. It is an option because
// the engine that runs them is heavy to build: only the commands that
// validate a stack for a deploy link it.
func CheckSchema(check SchemaCheck) Option {
	return func(o *options) { o.schema = check }
}

// TopologyOnly makes Load check what the configuration files say and
// nothing beside them: no credentials, no worker's entry module, no
// migration files (CheckSchema then runs nothing). It is for what reads the
// topology alone, such as its picture (internal/diagram), which must draw a
// stack on a machine with neither the stack's credentials nor the services'
// sources.
func TopologyOnly() Option {
	return func(o *options) { o.topologyOnly = true }
}

// Load reads, defaults and validates the stack's configuration. getenv
// supplies the credentials (os.Getenv after .env.<stack> is loaded). On bad
// input it returns Problems listing everything wrong at once.
func Load(src Source, getenv func(string) string, opts ...Option) (*Config, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var probs Problems
	c := &Config{Stack: src.Stack(), Secrets: map[string]Secret{}}
	// Every key read is recorded: what is left over is a key nothing reads.
	rec := &recorder{Source: src, read: map[string]bool{}}
	src = rec

	str := func(key string) string {
		v, _ := src.GetConfig(Namespace + ":" + key)
		return v
	}
	c.Environment = str(KeyEnvironment)
	c.AccountID = str(KeyAccountID)
	if c.AccountID == "" {
		c.AccountID = getenv(EnvAccountID)
	}
	c.APIToken = Secret(getenv(EnvAPIToken))
	c.APIHostname = str(KeyAPIHostname)

	c.ServicesRoot = str(KeyServicesRoot)
	if c.ServicesRoot == "" {
		c.ServicesRoot = DefaultServicesRoot
	}
	if !filepath.IsAbs(c.ServicesRoot) {
		c.ServicesRoot = filepath.Join(rootDir(src), c.ServicesRoot)
	}
	c.BundleDir = getenv(EnvBundleDir)
	if c.BundleDir == "" {
		c.BundleDir = DefaultBundleDir
	}
	if !filepath.IsAbs(c.BundleDir) {
		c.BundleDir = filepath.Join(rootDir(src), c.BundleDir)
	}

	c.LogLevel = str(KeyLogLevel)
	if c.LogLevel == "" {
		c.LogLevel = "info"
		if c.Environment == naming.Dev {
			c.LogLevel = "debug"
		}
	}

	c.Plan = Plan(str(KeyPlan))
	if c.Plan == "" {
		c.Plan = PlanPaid
	}

	// Values that could not be decoded, whose zero values are not checked.
	var undecoded []string
	c.Observability = Observability{Enabled: true, HeadSamplingRate: 1}
	if raw := str(KeyObservability); raw != "" {
		ps := decode(raw, key(KeyObservability), &c.Observability)
		for _, p := range ps {
			undecoded = append(undecoded, p.Key)
			p.Message += "; write it as {enabled: true, headSamplingRate: 1}"
			probs = append(probs, p)
		}
	}

	if raw := str(KeyProtect); raw != "" {
		p, err := strconv.ParseBool(raw)
		if err != nil {
			probs.add(key(KeyProtect), "must be true or false (got %q)", raw)
		}
		if !p && (c.Environment == naming.Prod || c.Stack == naming.Prod) {
			probs.add(key(KeyProtect), "cannot be false in prod (got %q): every production resource is always protected; remove the key, and unprotect a single resource with `pulumi state unprotect` if you really mean to delete it", raw)
		}
		c.Protect = p
	}
	if c.Environment == naming.Prod || c.Stack == naming.Prod {
		c.Protect = true
	}

	topologyRead := false
	if raw := str(KeyTopology); raw == "" {
		probs.add(key(KeyTopology), "is not set; declare Dome's resources under config.topology.value in Pulumi.yaml")
	} else {
		ps := decode(raw, key(KeyTopology), &c.Topology)
		for _, p := range ps {
			undecoded = append(undecoded, p.Key)
		}
		probs = append(probs, ps...)
		topologyRead = len(ps) == 0
	}

	for _, w := range c.Topology.Workers {
		for binding, k := range w.Secrets {
			full := Namespace + ":" + k
			v, ok := src.GetConfig(full)
			switch {
			case !ok:
				probs.add(workerKey(w.Name)+".secrets."+binding, "names config key %s, which this stack does not set; run `pulumi config set --secret %s <value> --stack %s`", full, full, c.Stack)
			case !src.IsConfigSecret(full):
				probs.add(full, "holds the value of secret binding %s of worker %q in plain text; store it encrypted with `pulumi config set --secret %s <value> --stack %s`", binding, w.Name, full, c.Stack)
			default:
				c.Secrets[k] = Secret(v)
			}
		}
	}

	// Overrides apply to whatever of the topology could be read, so one
	// mistyped field there does not hide the stack's own problems; a worker
	// that could not be read is only not known.
	if raw, ok := src.GetConfig(key(KeyWorkers)); ok {
		probs = append(probs, c.applyOverrides(raw, topologyRead)...)
	}

	probs = append(probs, c.validate(str(KeyTopology) != "", o).without(undecoded)...)
	if lister, ok := rec.Source.(interface{ Keys() []string }); ok {
		// Without a whole topology the keys its workers' secrets name are unknown.
		probs = append(probs, rec.unread(lister.Keys(), topologyRead && len(c.Topology.Workers) > 0)...)
	}
	if len(probs) > 0 {
		if p, ok := rec.Source.(interface{ Position(string) string }); ok {
			for i := range probs {
				if probs[i].Pos == "" { // a problem in a migration file is placed there
					probs[i].Pos = p.Position(probs[i].Key)
				}
			}
		}
		return nil, probs
	}
	return c, nil
}

// recorder is a Source that remembers which keys were read.
type recorder struct {
	Source
	read map[string]bool
}

func (r *recorder) GetConfig(key string) (string, bool) {
	r.read[key] = true
	return r.Source.GetConfig(key)
}

// unread reports every key in this package's namespace that was not read:
// a misspelt setting silently ignored is a setting silently lost.
// Secret keys are only judged when secretsKnown: a worker's secrets name them.
func (r *recorder) unread(keys []string, secretsKnown bool) Problems {
	var ps Problems
	known := slices.Sorted(maps.Keys(r.read))
	for _, k := range keys {
		if !strings.HasPrefix(k, Namespace+":") || r.read[k] || (!secretsKnown && r.IsConfigSecret(k)) {
			continue
		}
		ps.add(k, "is not a setting this program reads; %s", suggest(k, known, "it reads"))
	}
	return ps
}

func rootDir(src Source) string {
	if d := src.RootDirectory(); d != "" {
		return d
	}
	d, err := filepath.Abs(".")
	if err != nil {
		return "."
	}
	return d
}

// decodeStrict decodes JSON refusing unknown fields, so a misspelt key is
// an error instead of a silently ignored setting.
func decodeStrict(raw string, v any) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the value")
	}
	return nil
}

func key(k string) string { return Namespace + ":" + k }

func workerKey(name string) string {
	return fmt.Sprintf("%s.workers[%s]", key(KeyTopology), name)
}

// Order returns the workers in deploy order: every worker after the
// workers it binds to, otherwise as declared.
func Order(workers []Worker) ([]Worker, error) {
	names := make([]string, len(workers))
	edges := make(map[string][]string, len(workers))
	byName := make(map[string]Worker, len(workers))
	for i, w := range workers {
		names[i] = w.Name
		edges[w.Name] = w.Dependencies()
		byName[w.Name] = w
	}
	sorted, err := graph.Order(names, edges)
	if err != nil {
		return nil, err
	}
	out := make([]Worker, len(sorted))
	for i, n := range sorted {
		out[i] = byName[n]
	}
	return out, nil
}
