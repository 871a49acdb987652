package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/dome/infra/internal/cron"
	"github.com/dome/infra/internal/graph"
	"github.com/dome/infra/internal/migrations"
	"github.com/dome/infra/internal/naming"
)

// Name rules, checked on the physical name (suffix included) because that is
// what Cloudflare sees. Vectorize's pattern is from Cloudflare's OpenAPI
// schema; the others follow Cloudflare's documented naming rules.
var (
	workerName   = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$`)
	bucketName   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	queueName    = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$`)
	databaseName = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$`)
	indexName    = regexp.MustCompile(`^[a-z]+[a-z0-9_-]*[a-z0-9]+$`)
	jsIdentifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)
	accountID    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	// The official provider's own check of api_token, unanchored as it is
	// there: a longer token of those characters passes it too.
	apiToken      = regexp.MustCompile(`[A-Za-z0-9-_]{40}`)
	hostPort      = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$`)
	compatDate    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	configKeyName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
)

var (
	logLevels       = []string{"debug", "info", "warn", "error"}
	metrics         = []string{"cosine", "euclidean", "dot-product"}
	metadataTypes   = []string{"string", "number", "boolean"}
	bucketLocations = []string{"WNAM", "ENAM", "WEUR", "EEUR", "APAC", "OC"}
	r2Actions       = []string{"PutObject", "CopyObject", "DeleteObject", "CompleteMultipartUpload", "LifecycleDeletion"}
	bindingTypes    = []string{BindD1, BindR2, BindQueue, BindService, BindAI, BindVectorize, BindKV, BindDurableObject, BindAnalyticsEngine, BindHyperdrive}
)

// Cloudflare's limits on queue consumer settings.
var consumerLimits = []struct {
	field    string
	get      func(Consumer) *int
	min, max int
}{
	{"batchSize", func(c Consumer) *int { return c.BatchSize }, 1, 100},
	{"maxRetries", func(c Consumer) *int { return c.MaxRetries }, 0, 100},
	{"maxWaitTimeMs", func(c Consumer) *int { return c.MaxWaitTimeMs }, 0, 60000},
	{"maxConcurrency", func(c Consumer) *int { return c.MaxConcurrency }, 1, 250},
	{"retryDelay", func(c Consumer) *int { return c.RetryDelay }, 0, 43200},
}

const (
	maxIndexDimensions = 1536
	maxMetadataIndexes = 10
	maxNameLength      = 63
	maxIndexNameLength = 64
)

// now is the clock compatibility dates are checked against.
var now = time.Now

// validate checks a decoded Config; every check runs, whatever failed
// before. o.schema, when set, runs the databases' migrations.
func (c *Config) validate(topologySet bool, o options) Problems {
	var ps Problems
	c.validateStack(&ps, o.topologyOnly)

	t := c.Topology
	if topologySet && len(t.D1Databases)+len(t.R2Buckets)+len(t.KVNamespaces)+len(t.Queues)+len(t.VectorizeIndexes)+len(t.Workers) == 0 {
		ps.add(key(KeyTopology), "declares nothing; an empty topology would delete every resource of the stack, data included; declare Dome's resources under config.topology.value in Pulumi.yaml (to tear a stack down on purpose, use pulumi destroy)")
	}
	databases := c.names(&ps, "d1Databases", "D1 database", len(t.D1Databases), func(i int) string { return t.D1Databases[i].Name }, databaseName, maxNameLength)
	buckets := c.names(&ps, "r2Buckets", "R2 bucket", len(t.R2Buckets), func(i int) string { return t.R2Buckets[i].Name }, bucketName, maxNameLength)
	namespaces := c.names(&ps, "kvNamespaces", "KV namespace", len(t.KVNamespaces), func(i int) string { return t.KVNamespaces[i].Name }, nil, 512)
	queues := c.names(&ps, "queues", "queue", len(t.Queues), func(i int) string { return t.Queues[i].Name }, queueName, maxNameLength)
	indexes := c.names(&ps, "vectorizeIndexes", "Vectorize index", len(t.VectorizeIndexes), func(i int) string { return t.VectorizeIndexes[i].Name }, indexName, maxIndexNameLength)
	workers := c.names(&ps, "workers", "worker", len(t.Workers), func(i int) string { return t.Workers[i].Name }, workerName, maxNameLength)

	for _, d := range t.D1Databases {
		c.validateMigrations(&ps, d, o)
	}
	for _, b := range t.R2Buckets {
		if b.Location != "" && !slices.Contains(bucketLocations, b.Location) {
			ps.add(itemKey("r2Buckets", b.Name)+".location", "%q is not an R2 location hint; use one of %s, or leave it out", b.Location, strings.Join(bucketLocations, ", "))
		}
		validateNotifications(&ps, b, queues)
	}
	for _, ix := range t.VectorizeIndexes {
		validateIndex(&ps, ix)
	}

	targets := map[string]targetKind{
		BindD1:        {"D1 database", "a D1 database", databases},
		BindR2:        {"R2 bucket", "an R2 bucket", buckets},
		BindQueue:     {"Queue", "a queue", queues},
		BindVectorize: {"Vectorize index", "a Vectorize index", indexes},
		BindKV:        {"KV namespace", "a KV namespace", namespaces},
		BindService:   {"Service", "a worker", workers},
	}
	consumed := map[string]string{}
	edges := map[string][]string{}
	order := make([]string, 0, len(t.Workers))
	for _, w := range t.Workers {
		order = append(order, w.Name)
		c.validateWorker(&ps, w, targets, queues, workers, consumed, o.topologyOnly)
		edges[w.Name] = w.Dependencies()
	}
	c.validateEntryPoints(&ps)
	c.validatePlan(&ps)
	if _, err := graph.Order(order, edges); err != nil {
		var cycle *graph.CycleError
		if errors.As(err, &cycle) {
			ps.add(key(KeyTopology)+".workers", "%s; a worker cannot be deployed before the workers it binds to, so remove one service binding in this loop (a queue can decouple the two workers)", cycle)
		}
	}
	return ps
}

// validateStack checks the stack-wide settings; the credentials only when
// they are needed (not topologyOnly).
func (c *Config) validateStack(ps *Problems, topologyOnly bool) {
	switch {
	case c.Environment == "":
		ps.add(key(KeyEnvironment), "is not set; set it in Pulumi.%s.yaml to one of %s", c.Stack, strings.Join(naming.Environments, ", "))
	case !naming.Known(c.Environment):
		ps.add(key(KeyEnvironment), "%q is not an environment; use one of %s", c.Environment, strings.Join(naming.Environments, ", "))
	case naming.Known(c.Stack) && c.Environment != c.Stack:
		// Names and protection follow the environment: a prod stack set to
		// another would rename every resource, replacing prod's data, with
		// its protection already off.
		ps.add(key(KeyEnvironment), "%q in stack %s, which deploys %s: the stacks named for an environment deploy that environment; set %s: %s in Pulumi.%s.yaml (a stack of another name, like local, may deploy any)",
			c.Environment, c.Stack, c.Stack, key(KeyEnvironment), c.Stack, c.Stack)
	}
	switch {
	case topologyOnly: // the credentials are not read
	case c.AccountID == "":
		ps.add(key(KeyAccountID), "the Cloudflare account id is not set; export %s (or put it in .env.%s), or set %s in Pulumi.yaml", EnvAccountID, c.Stack, key(KeyAccountID))
	case !accountID.MatchString(c.AccountID):
		ps.add(key(KeyAccountID), "%q is not a Cloudflare account id (32 lowercase hex characters); copy it from the dashboard's Workers overview, or fix %s", c.AccountID, EnvAccountID)
	}
	switch {
	case topologyOnly: // the credentials are not read
	case c.APIToken == "":
		ps.add(EnvAPIToken, "the Cloudflare API token is not set; export %s or put it in .env.%s (never in a Pulumi.*.yaml file)", EnvAPIToken, c.Stack)
	case strings.HasPrefix(strings.ToLower(c.APIToken.Reveal()), "bearer "):
		ps.add(EnvAPIToken, "starts with \"Bearer \": that is the Authorization header, not the token; set %s to the token alone, without the \"Bearer \" prefix", EnvAPIToken)
	case strings.ContainsFunc(c.APIToken.Reveal(), unicode.IsSpace):
		// The provider's check would pass it; Cloudflare's would not.
		ps.add(EnvAPIToken, "contains a space: a token has none (an inline comment after it in .env.%s?); put the token alone on its line", c.Stack)
	case !apiToken.MatchString(c.APIToken.Reveal()):
		// The value itself is never echoed: it is a secret even when malformed.
		ps.add(EnvAPIToken, "is not a Cloudflare API token (%d characters; the official provider accepts only tokens of 40 letters, digits, hyphens and underscores); copy the whole token from the dashboard", len(c.APIToken.Reveal()))
	}
	if c.APIHostname != "" && !hostPort.MatchString(c.APIHostname) {
		ps.add(key(KeyAPIHostname), "%q is not host[:port]; give the API host without scheme or path, e.g. 127.0.0.1:8787", c.APIHostname)
	}
	if !slices.Contains(logLevels, c.LogLevel) {
		ps.add(key(KeyLogLevel), "%q is not a log level; use one of %s", c.LogLevel, strings.Join(logLevels, ", "))
	}
	if !slices.Contains(plans, string(c.Plan)) {
		ps.add(key(KeyPlan), "%q is not a Workers plan; use one of %s (the account's plan, under Workers & Pages > Plans in the dashboard)", c.Plan, strings.Join(plans, ", "))
	}
	if r := c.Observability.HeadSamplingRate; r < 0 || r > 1 {
		ps.add(key(KeyObservability)+".headSamplingRate", "%v is outside 0..1; use 1 to keep every request's logs, 0.1 for one in ten", r)
	}
}

// nameSet is the logical names declared for one kind of resource.
type nameSet struct {
	field string // the topology list that declares them
	names []string
	set   map[string]bool
}

func (s nameSet) has(name string) bool { return s.set[name] }

func (s nameSet) list() string {
	if len(s.names) == 0 {
		return fmt.Sprintf("none are declared: declare one under config.topology.value.%s in Pulumi.yaml", s.field)
	}
	return "declared: " + strings.Join(slices.Sorted(slices.Values(s.names)), ", ")
}

type targetKind struct {
	label string // as Cloudflare's errors name the kind
	noun  string // with its article, as a sentence names it
	names nameSet
}

// names checks one kind's names (set, unique, acceptable to Cloudflare once
// suffixed) and returns them.
func (c *Config) names(ps *Problems, field, kind string, n int, name func(int) string, pattern *regexp.Regexp, maxLen int) nameSet {
	s := nameSet{field: field, set: make(map[string]bool, n)}
	for i := 0; i < n; i++ {
		logical := name(i)
		k := fmt.Sprintf("%s.%s[%d].name", key(KeyTopology), field, i)
		if logical == "" {
			ps.add(k, "is empty; every %s needs a name", kind)
			continue
		}
		if s.set[logical] {
			ps.add(k, "%s %q is declared twice; rename or remove one", kind, logical)
			continue
		}
		s.set[logical] = true
		s.names = append(s.names, logical)
		physical := c.Name(logical)
		if len(physical) > maxLen {
			ps.add(k, "%s name %q is %d characters in %s, over Cloudflare's limit of %d; shorten the logical name %q", kind, physical, len(physical), c.Environment, maxLen, logical)
		}
		if pattern != nil && !pattern.MatchString(physical) {
			ps.add(k, "%s name %q would be refused by Cloudflare; use lowercase letters, digits and dashes, starting and ending with a letter or digit", kind, physical)
		}
	}
	return s
}

// validateNotifications checks a bucket's event notification rules as
// Cloudflare would: a declared queue, known actions, and no two rules (for
// any queue) that one object could match for the same action.
func validateNotifications(ps *Problems, b Bucket, queues nameSet) {
	k := itemKey("r2Buckets", b.Name) + ".eventNotifications"
	for i, n := range b.EventNotifications {
		nk := fmt.Sprintf("%s[%d]", k, i)
		if !queues.has(n.Queue) {
			ps.add(nk+".queue", "Queue '%s' not found; event notifications need a declared queue (%s)", n.Queue, queues.list())
		}
		if len(n.Actions) == 0 {
			ps.add(nk+".actions", "is empty; list the object events to send: some of %s", strings.Join(r2Actions, ", "))
		}
		for _, a := range n.Actions {
			if !slices.Contains(r2Actions, a) {
				ps.add(nk+".actions", "%q is not an R2 event; use some of %s", a, strings.Join(r2Actions, ", "))
			}
		}
		for j, o := range b.EventNotifications[:i] {
			if a := sharedAction(n, o); a != "" && rangesOverlap(n, o) {
				ps.add(nk, "overlaps eventNotifications[%d] for %s (prefix %q, suffix %q against prefix %q, suffix %q): an object could match both, which Cloudflare refuses; make the prefixes or suffixes disjoint, or merge the two rules", j, a, n.Prefix, n.Suffix, o.Prefix, o.Suffix)
			}
		}
	}
}

func sharedAction(a, b EventNotification) string {
	for _, x := range a.Actions {
		if slices.Contains(b.Actions, x) {
			return x
		}
	}
	return ""
}

// rangesOverlap reports whether some key starts with both prefixes and
// ends with both suffixes: one prefix extends the other, and so do the suffixes.
func rangesOverlap(a, b EventNotification) bool {
	return (strings.HasPrefix(a.Prefix, b.Prefix) || strings.HasPrefix(b.Prefix, a.Prefix)) &&
		(strings.HasSuffix(a.Suffix, b.Suffix) || strings.HasSuffix(b.Suffix, a.Suffix))
}

func validateIndex(ps *Problems, ix Index) {
	k := itemKey("vectorizeIndexes", ix.Name)
	switch {
	case ix.Preset != "" && (ix.Dimensions != 0 || ix.Metric != ""):
		ps.add(k, "sets both preset %q and dimensions/metric; give either a preset or dimensions and metric", ix.Preset)
	case ix.Preset == "":
		if ix.Dimensions < 1 || ix.Dimensions > maxIndexDimensions {
			ps.add(k+".dimensions", "%d is outside 1..%d; set it to the embedding model's output size (1536 for OpenAI's text-embedding models)", ix.Dimensions, maxIndexDimensions)
		}
		if !slices.Contains(metrics, ix.Metric) {
			ps.add(k+".metric", "%q is not a Vectorize metric; use one of %s", ix.Metric, strings.Join(metrics, ", "))
		}
	}
	if len(ix.MetadataIndexes) > maxMetadataIndexes {
		ps.add(k+".metadataIndexes", "has %d entries; Vectorize allows at most %d per index", len(ix.MetadataIndexes), maxMetadataIndexes)
	}
	seen := map[string]bool{}
	for i, m := range ix.MetadataIndexes {
		mk := fmt.Sprintf("%s.metadataIndexes[%d]", k, i)
		if m.PropertyName == "" {
			ps.add(mk+".propertyName", "is empty; name the metadata property to index")
		} else if seen[m.PropertyName] {
			ps.add(mk+".propertyName", "%q is indexed twice; remove one", m.PropertyName)
		}
		seen[m.PropertyName] = true
		if !slices.Contains(metadataTypes, m.IndexType) {
			ps.add(mk+".indexType", "%q is not a metadata index type; use one of %s", m.IndexType, strings.Join(metadataTypes, ", "))
		}
	}
}

func (c *Config) validateWorker(ps *Problems, w Worker, targets map[string]targetKind, queues, workers nameSet, consumed map[string]string, topologyOnly bool) {
	k := workerKey(w.Name)
	c.validateEntry(ps, w, k, topologyOnly)

	if !compatDate.MatchString(w.CompatibilityDate) {
		ps.add(k+".compatibilityDate", "%q is not a date; write it as YYYY-MM-DD, e.g. 2025-04-15", w.CompatibilityDate)
	} else if d, err := time.Parse(time.DateOnly, w.CompatibilityDate); err != nil {
		ps.add(k+".compatibilityDate", "%q is not a real date; write it as YYYY-MM-DD, e.g. 2025-04-15", w.CompatibilityDate)
	} else if today := now().UTC().Format(time.DateOnly); d.Format(time.DateOnly) > today {
		ps.add(k+".compatibilityDate", "%q is after today (%s UTC); Cloudflare refuses a future compatibility date at upload (code 10021); use today's date or an earlier one", w.CompatibilityDate, today)
	}
	if w.Placement != "" && w.Placement != "smart" {
		ps.add(c.FieldKey(w.Name, "placement"), "%q is not a placement mode; use \"smart\" or leave it out", w.Placement)
	}

	// Bindings, vars and secrets share the worker's env object.
	envNames := map[string]bool{}
	claim := func(bk, name string) {
		if !jsIdentifier.MatchString(name) {
			ps.add(bk, "binding name %q is not a JavaScript identifier; use letters, digits and underscores, e.g. MY_BINDING", name)
		}
		if from, ok := ReservedVars[name]; ok {
			ps.add(bk, "binding name %q is reserved: the program sets it in every worker from %s; remove it here", name, from)
		}
		if envNames[name] {
			ps.add(bk, "binding name %q is used twice in worker %q; each binding, var and secret needs its own name", name, w.Name)
		}
		envNames[name] = true
	}

	classes := w.Migrations.classes()
	for i, b := range w.Bindings {
		bk := fmt.Sprintf("%s.bindings[%d]", k, i)
		if b.Name != "" {
			bk = fmt.Sprintf("%s.bindings[%s]", k, b.Name)
		}
		claim(bk, b.Name)
		validateBinding(ps, bk, w, b, targets, workers, classes)
	}
	for _, name := range slices.Sorted(maps.Keys(w.Vars)) {
		claim(c.FieldKey(w.Name, "vars."+name), name)
	}
	for _, name := range slices.Sorted(maps.Keys(w.Secrets)) {
		claim(k+".secrets."+name, name)
		if !configKeyName.MatchString(w.Secrets[name]) {
			ps.add(k+".secrets."+name, "%q is not a config key; name the key in the %s namespace that holds the secret, e.g. openaiApiKey", w.Secrets[name], Namespace)
		}
	}

	for i, cons := range w.Consumers {
		ck := fmt.Sprintf("%s.consumers[%d]", k, i)
		switch {
		case !queues.has(cons.Queue):
			ps.add(ck+".queue", "Queue '%s' not found; a consumer needs a declared queue (%s)", cons.Queue, queues.list())
		case consumed[cons.Queue] != "":
			ps.add(ck+".queue", "queue %q is already consumed by worker %q; a queue has one worker consumer", cons.Queue, consumed[cons.Queue])
		default:
			consumed[cons.Queue] = w.Name
		}
		if d := cons.DeadLetterQueue; d != "" {
			if !queues.has(d) {
				ps.add(ck+".deadLetterQueue", "Queue '%s' not found; declare the dead-letter queue under queues (%s)", d, queues.list())
			} else if d == cons.Queue {
				ps.add(ck+".deadLetterQueue", "%q is the consumed queue itself; failed messages need a separate queue", d)
			}
		}
		for _, l := range consumerLimits {
			if v := l.get(cons); v != nil && (*v < l.min || *v > l.max) {
				ps.add(ck+"."+l.field, "%d is outside Cloudflare's range %d..%d", *v, l.min, l.max)
			}
		}
	}

	seen := map[string]bool{}
	for i, expr := range w.Crons {
		ck := fmt.Sprintf("%s[%d]", c.FieldKey(w.Name, "crons"), i)
		if _, err := cron.Parse(expr); errors.Is(err, cron.ErrFieldCount) {
			ps.add(ck, "%q is not a cron expression; use five fields: minute hour day-of-month month day-of-week, e.g. \"*/5 * * * *\"", expr)
		} else if err != nil {
			ps.add(ck, "%q would be refused by Cloudflare: %v; minute is 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is Sunday)", expr, err)
		}
		if seen[expr] {
			ps.add(ck, "%q is listed twice; remove one", expr)
		}
		seen[expr] = true
	}
	validateMigrations(ps, k+".migrations", w.Migrations)
}

// validateMigrations checks the history as Cloudflare would apply it, step
// by step: a class can be renamed or deleted only once a step created it.
// When the history starts from an oldTag, the classes created before it
// are unknown, so renames and deletions are not checked against them.
func validateMigrations(ps *Problems, k string, steps Migrations) {
	tags := map[string]int{}
	var created []string
	known := len(steps) == 0 || steps[0].OldTag == ""
	sofar := func() string {
		if len(created) == 0 {
			return "none so far"
		}
		return "created so far: " + strings.Join(created, ", ")
	}
	for i, m := range steps {
		sk := fmt.Sprintf("%s[%d]", k, i)
		switch prev, dup := tags[m.Tag]; {
		case m.Tag == "":
			ps.add(sk+".tag", "is empty; every migration step needs a tag (e.g. v1) so Cloudflare applies it once")
		case dup:
			ps.add(sk+".tag", "%q is also the tag of step %d; every step needs its own tag (e.g. v%d)", m.Tag, prev, i+1)
		default:
			tags[m.Tag] = i
		}
		if i > 0 && m.OldTag != "" {
			ps.add(sk+".oldTag", "%q is set on step %d; only the first step may name the tag the script was at before this history, since each later step follows the one before it; remove it", m.OldTag, i)
		}
		for _, c := range slices.Concat(m.NewClasses, m.NewSqliteClasses) {
			if slices.Contains(created, c) {
				ps.add(sk, "creates class %q, which an earlier step already created; remove it from this step", c)
				continue
			}
			created = append(created, c)
		}
		for j, r := range m.RenamedClasses {
			at := slices.Index(created, r.From)
			if at < 0 && known {
				ps.add(fmt.Sprintf("%s.renamedClasses[%d].from", sk, j), "renames class %q, which no earlier step creates (%s); fix the name, or create the class in an earlier step", r.From, sofar())
				continue
			}
			if at >= 0 {
				created[at] = r.To
			} else {
				created = append(created, r.To)
			}
		}
		for j, c := range m.DeletedClasses {
			at := slices.Index(created, c)
			if at < 0 && known {
				ps.add(fmt.Sprintf("%s.deletedClasses[%d]", sk, j), "deletes class %q, which no earlier step creates (%s); fix the name, or remove the deletion", c, sofar())
				continue
			}
			if at >= 0 {
				created = slices.Delete(created, at, at+1)
			}
		}
	}
}

// validateMigrations checks a database's migration files offline: the
// folder exists, every .sql file is NNNN_name.sql, no two share a number;
// then, with o.schema, that they apply in order to an empty database.
// With o.topologyOnly the files are not read.
func (c *Config) validateMigrations(ps *Problems, d Database, o options) {
	k := itemKey("d1Databases", d.Name)
	if d.MigrationsTable != "" && !migrations.ValidTable(d.MigrationsTable) {
		ps.add(k+".migrationsTable", "%q is not a plain SQL identifier; use letters, digits and _, not starting with a digit, e.g. %s", d.MigrationsTable, migrations.DefaultTable)
	}
	if d.MigrationsDir == "" {
		if d.MigrationsTable != "" {
			ps.add(k+".migrationsTable", "is set, but the database has no migrationsDir; add migrationsDir (relative to %s), or remove migrationsTable", c.ServicesRoot)
		}
		return
	}
	if o.topologyOnly {
		return
	}
	dir := c.MigrationsDir(d)
	files, probs := migrations.Scan(dir)
	for _, p := range probs {
		ps.add(k+".migrationsDir", "%s", p)
	}
	// Run on part of the history, a file could fail for want of one left out.
	if o.schema == nil || len(probs) > 0 {
		return
	}
	err := o.schema(files)
	var se *migrations.StatementError
	switch {
	case errors.As(err, &se):
		*ps = append(*ps, Problem{
			Key:     k + ".migrationsDir",
			Pos:     fmt.Sprintf("%s:%d", filepath.Join(dir, se.File), se.Line),
			Message: fmt.Sprintf("%v, running the files in order on an empty SQLite database; D1 would stop the deploy here, after applying the files before it; fix the statement", se.Err),
		})
	case err != nil:
		ps.add(k+".migrationsDir", "its files could not be run on an empty database (%v); run the validation again, and check the files by hand if it fails the same way", err)
	}
}

// validateEntry checks w's entry module: its name, and that the file
// exists unless topologyOnly.
func (c *Config) validateEntry(ps *Problems, w Worker, k string, topologyOnly bool) {
	switch ext := filepath.Ext(w.Main); {
	case w.Main == "":
		ps.add(k+".main", "is empty; give the entry module relative to %s, e.g. %s/src/index.ts", c.ServicesRoot, w.Name)
	case ext != ".ts" && ext != ".mts" && ext != ".js" && ext != ".mjs":
		ps.add(k+".main", "%q is not a .ts, .mts, .js or .mjs module", w.Main)
	case topologyOnly: // the sources are not looked at
	default:
		path := filepath.Join(c.ServicesRoot, w.Main)
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			ps.add(k+".main", "Module not found: %s; fix the path, or %s (%s) to point at the services folder", path, key(KeyServicesRoot), c.ServicesRoot)
		}
	}
}

func validateBinding(ps *Problems, bk string, w Worker, b Binding, targets map[string]targetKind, workers nameSet, classes classHistory) {
	if b.Type == "plain_text" || b.Type == "secret_text" {
		ps.add(bk+".type", "%q bindings come from the worker's vars (plain text) and secrets (config keys holding Pulumi secrets); move it there", b.Type)
		return
	}
	if !slices.Contains(bindingTypes, b.Type) {
		ps.add(bk+".type", "%q is not a binding type; use one of %s", b.Type, strings.Join(bindingTypes, ", "))
		return
	}
	if tk, ok := targets[b.Type]; ok {
		switch {
		case b.Target == "":
			ps.add(bk+".target", "is empty; name the %s this binding points at (%s)", strings.ToLower(tk.label), tk.names.list())
		case !tk.names.has(b.Target):
			if other, ok := kindOf(targets, b.Target); ok {
				ps.add(bk+".target", "'%s' is %s, not %s; bind it with type %s, or declare %s named %s under %s", b.Target, targets[other].noun, tk.noun, other, tk.noun, b.Target, tk.names.field)
			} else {
				ps.add(bk+".target", "%s '%s' not found; %s", tk.label, b.Target, tk.names.list())
			}
		case b.Type == BindService && b.Target == w.Name:
			ps.add(bk+".target", "worker %q binds to itself; a worker reaches its own handlers without a service binding", w.Name)
		}
		return
	}
	if b.Target != "" {
		ps.add(bk+".target", "%q is set, but %s bindings have no target; remove it", b.Target, b.Type)
	}
	switch b.Type {
	case BindDurableObject:
		switch {
		case b.ClassName == "":
			ps.add(bk+".className", "is empty; name the Durable Object class")
		case b.ScriptName != "" && b.ScriptName != w.Name:
			if !workers.has(b.ScriptName) {
				ps.add(bk+".scriptName", "Service '%s' not found; %s", b.ScriptName, workers.list())
			}
		case !classes.has(b.ClassName):
			ps.add(bk+".className", "%s", classes.missing(b.ClassName, w.Name))
		}
	case BindAnalyticsEngine:
		if b.Dataset == "" {
			ps.add(bk+".dataset", "is empty; name the Analytics Engine dataset")
		}
	case BindHyperdrive:
		if b.ID == "" {
			ps.add(bk+".id", "is empty; give the Hyperdrive config id")
		}
	}
}

// kindOf returns the binding type of the other kind that declares name.
func kindOf(targets map[string]targetKind, name string) (string, bool) {
	for _, t := range bindingTypes {
		if tk, ok := targets[t]; ok && tk.names.has(name) {
			return t, true
		}
	}
	return "", false
}

// classHistory is what a worker's migration history leaves of its Durable
// Object classes once every step has been applied.
type classHistory struct {
	declared map[string]bool
	// gone holds, for each class a step took away, the last step that did,
	// so a binding to it can be told which step that was.
	gone map[string]classChange
}

// classChange is a step renaming a class (to is the new name) or deleting it (to is "").
type classChange struct {
	tag string
	to  string
}

func (m Migrations) classes() classHistory {
	h := classHistory{declared: map[string]bool{}, gone: map[string]classChange{}}
	add := func(c string) {
		h.declared[c] = true
		delete(h.gone, c)
	}
	for _, step := range m {
		for _, c := range slices.Concat(step.NewClasses, step.NewSqliteClasses) {
			add(c)
		}
		for _, r := range step.RenamedClasses {
			delete(h.declared, r.From)
			h.gone[r.From] = classChange{tag: step.Tag, to: r.To}
			add(r.To)
		}
		for _, c := range step.DeletedClasses {
			delete(h.declared, c)
			h.gone[c] = classChange{tag: step.Tag}
		}
	}
	return h
}

func (h classHistory) has(class string) bool { return h.declared[class] }

// missing says why worker has no class of that name, and the fix: a class
// renamed (perhaps more than once) is bound by its last name; a deleted
// one is gone with its data, unless the deleting step is not deployed yet.
func (h classHistory) missing(class, worker string) string {
	change, ok := h.gone[class]
	if !ok {
		return fmt.Sprintf("Durable Object class %q is not created by any step of worker %q's migrations; add it to a step's newSqliteClasses (or newClasses)", class, worker)
	}
	var what []string
	name := class
	// The chain ends: a rename's new name is declared from that step on,
	// so it is in gone only if a later step took it away.
	for ok {
		if change.to == "" {
			what = append(what, fmt.Sprintf("deleted by migration step %q", change.tag))
			return fmt.Sprintf("Durable Object class %q is %s of worker %q; remove this binding, or, if step %q is not deployed yet, take %q out of its deletedClasses",
				class, strings.Join(what, ", then "), worker, change.tag, name)
		}
		what = append(what, fmt.Sprintf("renamed to %q by migration step %q", change.to, change.tag))
		name = change.to
		change, ok = h.gone[name]
	}
	return fmt.Sprintf("Durable Object class %q is %s of worker %q; bind it by its new name: className: %s", class, strings.Join(what, ", then "), worker, name)
}

func itemKey(field, name string) string {
	return fmt.Sprintf("%s.%s[%s]", key(KeyTopology), field, name)
}
