// Package bindings turns the bindings a worker declares by logical name into
// the ones Cloudflare needs: ids and physical names of this stack's
// resources, taken from the resources themselves so that every binding is
// also a dependency edge Pulumi waits on.
package bindings

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Ref is what a binding, and a resource that follows another, needs of a
// resource: its id and its physical name, as outputs of the resource, so
// that using them is also a dependency edge Pulumi waits on.
type Ref struct {
	ID   pulumi.StringOutput
	Name pulumi.StringOutput
}

// Resources is everything a binding can point at, keyed by logical name.
type Resources struct {
	Databases  map[string]Ref
	Buckets    map[string]Ref
	Namespaces map[string]Ref
	Queues     map[string]Ref
	Indexes    map[string]*domecf.VectorizeIndex
	// Migrations holds the schema migrations of the databases that have
	// them: a worker binding such a database waits for them.
	Migrations map[string]*domecf.D1Migrations
	// Workers holds the workers created so far; config.Order guarantees a worker's
	// targets are among them when it is resolved.
	Workers map[string]*domecf.WorkerScript
}

// Resolve returns w's complete binding list: its declared bindings, then
// the vars every worker gets (ENVIRONMENT, LOG_LEVEL), its own vars and
// its secrets, each group in a stable order.
func Resolve(cfg *config.Config, w config.Worker, r Resources) ([]domecf.Binding, error) {
	out := make([]domecf.Binding, 0, len(w.Bindings)+len(w.Vars)+len(w.Secrets)+2)
	for _, b := range w.Bindings {
		rb, err := resolve(w.Name, b, r)
		if err != nil {
			return nil, fmt.Errorf("worker %q: binding %q: %w", w.Name, b.Name, err)
		}
		out = append(out, rb)
	}
	stack := cfg.StackVars()
	for _, name := range slices.Sorted(maps.Keys(stack)) {
		out = append(out, plain(name, stack[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(w.Vars)) {
		out = append(out, plain(name, w.Vars[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(w.Secrets)) {
		value, ok := cfg.Secrets[w.Secrets[name]]
		if !ok {
			return nil, fmt.Errorf("worker %q: secret %q: config key %s:%s has no value", w.Name, name, config.Namespace, w.Secrets[name])
		}
		out = append(out, domecf.Binding{
			Type: "secret_text",
			Name: name,
			Text: pulumi.ToSecret(pulumi.String(value.Reveal())).(pulumi.StringOutput),
		})
	}
	return out, nil
}

func resolve(self string, b config.Binding, r Resources) (domecf.Binding, error) {
	out := domecf.Binding{Type: b.Type, Name: b.Name}
	var err error
	switch b.Type {
	case config.BindD1:
		err = use(r.Databases, b.Target, "D1 database", func(db Ref) { out.ID = db.ID })
	case config.BindR2:
		err = use(r.Buckets, b.Target, "R2 bucket", func(bucket Ref) { out.BucketName = bucket.Name })
	case config.BindQueue:
		err = use(r.Queues, b.Target, "queue", func(q Ref) { out.QueueName = q.Name })
	case config.BindVectorize:
		err = use(r.Indexes, b.Target, "Vectorize index", func(ix *domecf.VectorizeIndex) { out.IndexName = ix.Name })
	case config.BindKV:
		err = use(r.Namespaces, b.Target, "KV namespace", func(ns Ref) { out.NamespaceID = ns.ID })
	case config.BindService:
		err = use(r.Workers, b.Target, "worker", func(w *domecf.WorkerScript) { out.Service = w.Name })
		if b.Environment != "" {
			out.Environment = pulumi.String(b.Environment)
		}
	case config.BindDurableObject:
		out.ClassName = pulumi.String(b.ClassName)
		if b.ScriptName != "" && b.ScriptName != self {
			err = use(r.Workers, b.ScriptName, "worker", func(host *domecf.WorkerScript) { out.ScriptName = host.Name })
		}
	case config.BindAnalyticsEngine:
		out.Dataset = pulumi.String(b.Dataset)
	case config.BindHyperdrive:
		out.ID = pulumi.String(b.ID)
	case config.BindAI:
	default:
		err = fmt.Errorf("unknown binding type %q", b.Type)
	}
	return out, err
}

// use hands set the resource called name, or says it is not in this stack:
// validation makes that a bug, but one that must not become a wrong binding.
func use[R any](m map[string]R, name, kind string, set func(R)) error {
	res, ok := m[name]
	if !ok {
		return fmt.Errorf("%s %q is not in this stack", kind, name)
	}
	set(res)
	return nil
}

func plain(name, text string) domecf.Binding {
	return domecf.Binding{Type: "plain_text", Name: name, Text: pulumi.String(text)}
}
