package cfemu

import (
	"encoding/json"
	"mime"
	"slices"
	"strings"
)

// Deployment is what runs in the account: every worker with its code,
// settings, bindings and queue consumers, and the data resources their
// bindings reach. A local runtime (internal/runtime) runs it; the account
// builds one after every change, so the runtime always follows the API.
type Deployment struct {
	// Version grows with every change of the account, so a runtime can
	// tell an older snapshot from a newer one when changes race.
	Version          uint64     `json:"-"`
	AccountID        string     `json:"accountId"`
	Workers          []Worker   `json:"workers"`
	D1Databases      []string   `json:"d1Databases"`  // database uuids
	KVNamespaces     []string   `json:"kvNamespaces"` // namespace ids
	Buckets          []Bucket   `json:"buckets"`
	Queues           []string   `json:"queues"` // queue names
	VectorizeIndexes []string   `json:"vectorizeIndexes"`
	Schedules        []Schedule `json:"-"` // run by the Go side, not the runtime
}

// Worker is one uploaded script as the runtime runs it.
type Worker struct {
	Name               string         `json:"name"`
	MainModule         string         `json:"mainModule"`
	Modules            []WorkerModule `json:"modules"`
	CompatibilityDate  string         `json:"compatibilityDate"`
	CompatibilityFlags []string       `json:"compatibilityFlags"`
	Bindings           []Binding      `json:"bindings"`
	DurableObjects     []DOClass      `json:"durableObjects"`
	Consumers          []Consumer     `json:"consumers"`
}

// WorkerModule is one part of a worker's upload. Type is the runtime's
// name for its kind: esm, cjs, text, data, wasm or sourcemap.
type WorkerModule struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	SHA256 string `json:"-"`
	Body   []byte `json:"-"`
}

// Binding is one binding of a worker, with the fields its type uses.
// Secret text is carried in Text: it never leaves the machine.
type Binding struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Text        string          `json:"text,omitempty"`        // plain_text, secret_text
	JSON        json.RawMessage `json:"json,omitempty"`        // json
	ID          string          `json:"id,omitempty"`          // d1
	NamespaceID string          `json:"namespaceId,omitempty"` // kv_namespace
	Bucket      string          `json:"bucket,omitempty"`      // r2_bucket
	Queue       string          `json:"queue,omitempty"`       // queue
	Service     string          `json:"service,omitempty"`     // service
	Entrypoint  string          `json:"entrypoint,omitempty"`  // service
	Index       string          `json:"index,omitempty"`       // vectorize
	ClassName   string          `json:"className,omitempty"`   // durable_object_namespace
	ScriptName  string          `json:"scriptName,omitempty"`  // durable_object_namespace
}

// DOClass is a Durable Object class a worker's migrations declared.
type DOClass struct {
	ClassName string `json:"className"`
	SQLite    bool   `json:"sqlite"`
}

// Consumer is a worker's subscription to a queue, with its delivery
// settings as stored: Cloudflare's defaults were filled in when the
// consumer was created.
type Consumer struct {
	Queue             string `json:"queue"`
	MaxBatchSize      int    `json:"maxBatchSize"`
	MaxWaitTimeMs     int    `json:"maxWaitTimeMs"`
	MaxRetries        int    `json:"maxRetries"`
	RetryDelaySeconds int    `json:"retryDelaySeconds"`
	DeadLetterQueue   string `json:"deadLetterQueue,omitempty"`
}

// Bucket is an R2 bucket with the notification rules of its events.
type Bucket struct {
	Name          string         `json:"name"`
	Notifications []Notification `json:"notifications"`
}

// Notification is one R2 event notification rule, its queue by name.
type Notification struct {
	Queue   string   `json:"queue"`
	Actions []string `json:"actions"`
	Prefix  string   `json:"prefix"`
	Suffix  string   `json:"suffix"`
}

// Schedule is a worker's cron trigger.
type Schedule struct {
	Worker string
	Cron   string
}

// Deployment is a snapshot of what runs in the account now.
func (a *Account) Deployment() Deployment {
	a.mu.RLock()
	defer a.mu.RUnlock()
	d := Deployment{Version: a.version, AccountID: a.id}
	for _, s := range inOrder(a.st.Scripts, func(s *script) string { return s.CreatedOn }) {
		w := Worker{Name: s.Name, MainModule: s.MainModule, CompatibilityDate: s.CompatibilityDate,
			CompatibilityFlags: orEmpty(s.CompatibilityFlags), Bindings: []Binding{}, DurableObjects: []DOClass{}, Consumers: []Consumer{}}
		for _, m := range s.Modules {
			w.Modules = append(w.Modules, WorkerModule{Name: m.Name, Type: moduleType(m), SHA256: m.SHA256, Body: m.Body})
		}
		for _, b := range s.Bindings {
			w.Bindings = append(w.Bindings, deployedBinding(b))
		}
		for _, c := range s.Classes {
			w.DurableObjects = append(w.DurableObjects, DOClass{ClassName: c, SQLite: slices.Contains(s.SQLiteClasses, c)})
		}
		for _, sch := range s.Schedules {
			d.Schedules = append(d.Schedules, Schedule{Worker: s.Name, Cron: sch.Cron})
		}
		d.Workers = append(d.Workers, w)
	}
	for _, c := range inOrder(a.st.Consumers, func(c *consumer) string { return c.CreatedOn }) {
		q := a.st.Queues[c.QueueID]
		i := slices.IndexFunc(d.Workers, func(w Worker) bool { return w.Name == c.Script })
		if q == nil || i < 0 || c.Type != "worker" {
			continue // an HTTP pull consumer reads through the API
		}
		d.Workers[i].Consumers = append(d.Workers[i].Consumers, Consumer{Queue: q.Name,
			MaxBatchSize: c.Settings.BatchSize, MaxWaitTimeMs: c.Settings.MaxWaitTimeMs,
			MaxRetries: c.Settings.MaxRetries, RetryDelaySeconds: c.Settings.RetryDelay, DeadLetterQueue: c.DeadLetterQueue})
	}
	for _, db := range inOrder(a.st.D1, func(db *d1Database) string { return db.CreatedAt }) {
		d.D1Databases = append(d.D1Databases, db.UUID)
	}
	for _, ns := range inOrder(a.st.KV, func(ns *kvNamespace) string { return ns.ID }) {
		d.KVNamespaces = append(d.KVNamespaces, ns.ID)
	}
	for _, b := range inOrder(a.st.Buckets, func(b *r2Bucket) string { return b.Name }) {
		out := Bucket{Name: b.Name, Notifications: []Notification{}}
		for _, r := range a.st.Notifications[b.Name] {
			if q := a.st.Queues[r.QueueID]; q != nil {
				out.Notifications = append(out.Notifications, Notification{Queue: q.Name, Actions: r.Actions, Prefix: r.Prefix, Suffix: r.Suffix})
			}
		}
		d.Buckets = append(d.Buckets, out)
	}
	for _, q := range inOrder(a.st.Queues, func(q *queue) string { return q.Name }) {
		d.Queues = append(d.Queues, q.Name)
	}
	for _, ix := range inOrder(a.st.Indexes, func(ix *vecIndex) string { return ix.Name }) {
		d.VectorizeIndexes = append(d.VectorizeIndexes, ix.Name)
	}
	return d
}

// moduleType maps an upload part's Content-Type to the runtime's module kind.
func moduleType(m Module) string {
	mt, _, _ := mime.ParseMediaType(m.ContentType)
	switch {
	case mt == "application/javascript+module" || mt == "text/javascript+module":
		return "esm"
	case mt == "application/javascript" || mt == "text/javascript":
		return "cjs"
	case mt == "application/wasm":
		return "wasm"
	case mt == "application/source-map" || strings.HasSuffix(m.Name, ".map"):
		return "sourcemap"
	case strings.HasPrefix(mt, "text/"):
		return "text"
	default:
		return "data"
	}
}

// deployedBinding reads a binding as Cloudflare's upload metadata spells it.
func deployedBinding(b binding) Binding {
	out := Binding{Type: b.str("type"), Name: b.str("name")}
	switch out.Type {
	case "plain_text", "secret_text":
		out.Text = b.str("text")
	case "json":
		out.JSON, _ = json.Marshal(b["json"])
	case "d1":
		out.ID = b.str("id")
	case "kv_namespace":
		out.NamespaceID = b.str("namespace_id")
	case "r2_bucket":
		out.Bucket = b.str("bucket_name")
	case "queue":
		out.Queue = b.str("queue_name")
	case "service":
		out.Service, out.Entrypoint = b.str("service"), b.str("entrypoint")
	case "vectorize":
		out.Index = b.str("index_name")
	case "durable_object_namespace":
		out.ClassName, out.ScriptName = b.str("class_name"), b.str("script_name")
	}
	return out
}
