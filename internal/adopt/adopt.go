// Package adopt brings resources that already exist in a Cloudflare account
// under Dome's management: it lists the account, matches what it finds to
// the stack's config by physical name, and writes the file that
// `pulumi import --file` takes. It never imports anything itself.
package adopt

import (
	"context"
	"fmt"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Types of the official provider's resources, and the version the program
// pins; the import must use the same, or the next `up` would see a new
// provider.
const (
	cloudflareVersion = "5.49.1"

	typeD1     = "cloudflare:index/d1Database:D1Database"
	typeR2     = "cloudflare:index/r2Bucket:R2Bucket"
	typeQueue  = "cloudflare:index/queue:Queue"
	typeKV     = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
	typeCron   = "cloudflare:index/workersCronTrigger:WorkersCronTrigger"
	typeRoute  = "cloudflare:index/workersRoute:WorkersRoute"
	typeDomain = "cloudflare:index/workersDomain:WorkersDomain"

	// The program's explicit providers, which imported resources must use.
	cloudflareProvider = "cloudflare"
	domecfProvider     = domecf.Package
)

// File is the input of `pulumi import --file`. NameTable maps a provider
// name used by the specs to the URN of a provider the stack already has.
type File struct {
	NameTable map[string]string `json:"nameTable,omitempty"`
	Resources []Spec            `json:"resources"`
}

// Spec is one resource to import, or (with no ID) a provider to create
// for the imports that name it.
type Spec struct {
	Type     string         `json:"type"`
	Name     string         `json:"name"`
	ID       string         `json:"id,omitempty"`
	Provider string         `json:"provider,omitempty"`
	Version  string         `json:"version,omitempty"`
	Inputs   map[string]any `json:"inputs,omitempty"`
}

// Plan is what adopting a stack would do.
type Plan struct {
	File File
	// Missing lists the configured resources the account does not have:
	// the next `pulumi up` creates them.
	Missing []string
}

// Found reports how many existing resources the plan imports.
func (p *Plan) Found() int { return p.File.Imports() }

// Account is what Build reads from Cloudflare; *cfapi.Client implements it.
type Account interface {
	ListD1Databases(context.Context) ([]cfapi.D1Database, error)
	ListR2Buckets(context.Context) ([]cfapi.R2Bucket, error)
	ListQueues(context.Context) ([]cfapi.Queue, error)
	ListKVNamespaces(context.Context) ([]cfapi.KVNamespace, error)
	ListVectorizeIndexes(context.Context) ([]cfapi.VectorizeIndex, error)
	ListScripts(context.Context) ([]cfapi.Script, error)
	GetSchedules(ctx context.Context, scriptName string) ([]cfapi.Schedule, error)
	ListQueueConsumers(ctx context.Context, queueID string) ([]cfapi.Consumer, error)
	GetR2EventNotifications(ctx context.Context, bucket string) (cfapi.BucketNotifications, error)
	ListZones(context.Context) ([]cfapi.Zone, error)
	ListWorkerRoutes(ctx context.Context, zoneID string) ([]cfapi.WorkerRoute, error)
	ListWorkersDomains(context.Context) ([]cfapi.WorkersDomain, error)
}

// Build lists the account and matches it to cfg. Import ids follow each
// provider's convention: <account>/<id> for the official one (the script
// name for cron triggers), the name for companion workers and indexes,
// <queue id>/<consumer id> for consumers, <zone id>/<route id> for routes,
// <bucket>/<queue id> for event notifications.
func Build(ctx context.Context, cfg *config.Config, acct Account) (*Plan, error) {
	p := &Plan{}
	acc := func(id string) string { return cfg.AccountID + "/" + id }
	add := func(typ, logical, id, provider string) {
		spec := Spec{Type: typ, Name: logical, ID: id, Provider: provider}
		if provider == cloudflareProvider {
			spec.Version = cloudflareVersion
		}
		p.File.Resources = append(p.File.Resources, spec)
	}
	missing := func(kind, logical string) {
		p.Missing = append(p.Missing, fmt.Sprintf("%s %s (%s)", kind, logical, cfg.Name(logical)))
	}
	t := cfg.Topology

	dbs, err := acct.ListD1Databases(ctx)
	if err != nil {
		return nil, fmt.Errorf("list D1 databases: %w", err)
	}
	dbIDs := index(dbs, func(d cfapi.D1Database) (string, string) { return d.Name, d.UUID })
	for _, d := range t.D1Databases {
		if id, ok := dbIDs[cfg.Name(d.Name)]; ok {
			add(typeD1, d.Name, acc(id), cloudflareProvider)
		} else {
			missing("D1 database", d.Name)
		}
	}

	buckets, err := acct.ListR2Buckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list R2 buckets: %w", err)
	}
	bucketNames := index(buckets, func(b cfapi.R2Bucket) (string, string) { return b.Name, b.Name })
	for _, b := range t.R2Buckets {
		if name, ok := bucketNames[cfg.Name(b.Name)]; ok {
			add(typeR2, b.Name, acc(name), cloudflareProvider)
		} else {
			missing("R2 bucket", b.Name)
		}
	}

	namespaces, err := acct.ListKVNamespaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("list KV namespaces: %w", err)
	}
	nsIDs := index(namespaces, func(n cfapi.KVNamespace) (string, string) { return n.Title, n.ID })
	for _, n := range t.KVNamespaces {
		if id, ok := nsIDs[cfg.Name(n.Name)]; ok {
			add(typeKV, n.Name, acc(id), cloudflareProvider)
		} else {
			missing("KV namespace", n.Name)
		}
	}

	queues, err := acct.ListQueues(ctx)
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	queueIDs := index(queues, func(q cfapi.Queue) (string, string) { return q.QueueName, q.QueueID })
	for _, q := range t.Queues {
		if id, ok := queueIDs[cfg.Name(q.Name)]; ok {
			add(typeQueue, q.Name, acc(id), cloudflareProvider)
		} else {
			missing("queue", q.Name)
		}
	}

	for _, b := range t.R2Buckets {
		if err := adoptNotifications(ctx, cfg, acct, b, bucketNames, queueIDs, add, p); err != nil {
			return nil, err
		}
	}

	indexes, err := acct.ListVectorizeIndexes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list Vectorize indexes: %w", err)
	}
	indexNames := index(indexes, func(ix cfapi.VectorizeIndex) (string, string) { return ix.Name, ix.Name })
	for _, ix := range t.VectorizeIndexes {
		if name, ok := indexNames[cfg.Name(ix.Name)]; ok {
			add(domecf.TypeVectorizeIndex, ix.Name, name, domecfProvider)
		} else {
			missing("Vectorize index", ix.Name)
		}
	}

	scripts, err := acct.ListScripts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list worker scripts: %w", err)
	}
	scriptNames := index(scripts, func(s cfapi.Script) (string, string) { return s.ID, s.ID })
	entry, err := listEntryPoints(ctx, cfg, acct)
	if err != nil {
		return nil, err
	}
	for _, w := range t.Workers {
		name, ok := scriptNames[cfg.Name(w.Name)]
		if !ok {
			missing("worker", w.Name)
			continue
		}
		// The script's import reads its workers.dev setting too, so the
		// next preview shows whether it differs from the config.
		add(domecf.TypeWorkerScript, w.Name, name, domecfProvider)
		for _, r := range w.Routes {
			if id, ok := entry.routes[r.Zone+" "+r.Pattern]; ok {
				add(typeRoute, r.Pattern, entry.zones[r.Zone]+"/"+id, cloudflareProvider) // named as entrypoints names it
			} else {
				p.Missing = append(p.Missing, fmt.Sprintf("route %s of worker %s", r.Pattern, w.Name))
			}
		}
		for _, d := range w.CustomDomains {
			if id, ok := entry.domains[d.Hostname]; ok {
				add(typeDomain, d.Hostname, acc(id), cloudflareProvider)
			} else {
				p.Missing = append(p.Missing, fmt.Sprintf("custom domain %s of worker %s", d.Hostname, w.Name))
			}
		}
		if len(w.Crons) > 0 {
			schedules, err := acct.GetSchedules(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("cron triggers of worker %s: %w", name, err)
			}
			// A script without triggers has nothing to adopt: the next up sets them.
			if len(schedules) > 0 {
				add(typeCron, w.Name, acc(name), cloudflareProvider)
			}
		}
		for _, c := range w.Consumers {
			queueID, ok := queueIDs[cfg.Name(c.Queue)]
			if !ok {
				continue
			}
			consumers, err := acct.ListQueueConsumers(ctx, queueID)
			if err != nil {
				return nil, fmt.Errorf("list consumers of queue %s: %w", cfg.Name(c.Queue), err)
			}
			for _, qc := range consumers {
				if qc.ScriptOf() == name {
					add(domecf.TypeQueueConsumer, c.Queue, queueID+"/"+qc.ConsumerID, domecfProvider)
				}
			}
		}
	}

	p.File.Resources = append(providers(cfg), p.File.Resources...)
	return p, nil
}

// adoptNotifications imports each (bucket, queue) pair of b's event
// notifications that the account already has rules for.
func adoptNotifications(ctx context.Context, cfg *config.Config, acct Account, b config.Bucket, buckets, queueIDs map[string]string,
	add func(typ, logical, id, provider string), p *Plan) error {
	pairs := b.NotifiedQueues()
	bucket, exists := buckets[cfg.Name(b.Name)]
	var live cfapi.BucketNotifications
	if exists && len(pairs) > 0 {
		var err error
		if live, err = acct.GetR2EventNotifications(ctx, bucket); err != nil {
			return fmt.Errorf("event notifications of bucket %s: %w", bucket, err)
		}
	}
	for _, q := range pairs {
		queueID, ok := queueIDs[cfg.Name(q)]
		if _, found := live.Queue(queueID); exists && ok && found {
			add(domecf.TypeR2EventNotification, b.Name+"/"+q, bucket+"/"+queueID, domecfProvider)
		} else {
			p.Missing = append(p.Missing, fmt.Sprintf("event notifications %s/%s (%s to %s)", b.Name, q, cfg.Name(b.Name), cfg.Name(q)))
		}
	}
	return nil
}

// entryPoints is what the account routes: zone ids by name, route ids by
// "<zone> <pattern>", custom domain ids by hostname.
type entryPoints struct {
	zones, routes, domains map[string]string
}

// listEntryPoints reads the zones the config names and their routes, and
// the custom domains; a config without any reads nothing.
func listEntryPoints(ctx context.Context, cfg *config.Config, acct Account) (entryPoints, error) {
	e := entryPoints{zones: map[string]string{}, routes: map[string]string{}, domains: map[string]string{}}
	if !cfg.Topology.HasEntryPoints() {
		return e, nil
	}
	zones, err := acct.ListZones(ctx)
	if err != nil {
		return e, fmt.Errorf("list zones: %w", err)
	}
	ids := index(zones, func(z cfapi.Zone) (string, string) { return z.Name, z.ID })
	for _, name := range cfg.Topology.Zones() {
		id, ok := ids[name]
		if !ok {
			continue
		}
		e.zones[name] = id
		routes, err := acct.ListWorkerRoutes(ctx, id)
		if err != nil {
			return e, fmt.Errorf("list routes of zone %s: %w", name, err)
		}
		for _, r := range routes {
			e.routes[name+" "+r.Pattern] = r.ID
		}
	}
	domains, err := acct.ListWorkersDomains(ctx)
	if err != nil {
		return e, fmt.Errorf("list custom domains: %w", err)
	}
	e.domains = index(domains, func(d cfapi.WorkersDomain) (string, string) { return d.Hostname, d.ID })
	return e, nil
}

// providers declares the program's explicit providers, created by the
// import. The token is left out: the providers read CLOUDFLARE_API_TOKEN,
// and the next `up` stores it, encrypted, from the program.
func providers(cfg *config.Config) []Spec {
	cf := Spec{Type: "pulumi:providers:" + cloudflareProvider, Name: cloudflareProvider, Version: cloudflareVersion, Inputs: map[string]any{}}
	dc := Spec{Type: "pulumi:providers:" + domecfProvider, Name: domecfProvider, Inputs: map[string]any{"accountId": cfg.AccountID}}
	if cfg.APIHostname != "" {
		cf.Inputs["apiHostname"] = cfg.APIHostname
		dc.Inputs["apiBaseUrl"] = cfg.APIBaseURL()
	}
	return []Spec{cf, dc}
}

// URN is the URN the program gives a top-level resource of this stack.
func URN(stack, project, typ, name string) string {
	return "urn:pulumi:" + stack + "::" + project + "::" + typ + "::" + name
}

// Lacking is the import file for what this plan found that a stack's state
// does not hold yet, given the URNs the state holds. The program's providers
// that the state holds are named through the name table, so the imports use
// them and their settings (apiHostname, the token); the ones it lacks are
// created by the import, as for a new stack.
func (p *Plan) Lacking(stack, project string, inState map[string]bool) File {
	f := File{NameTable: map[string]string{}}
	var providers, resources []Spec
	used := map[string]bool{}
	for _, s := range p.File.Resources {
		switch {
		case s.ID == "":
			providers = append(providers, s)
		case !inState[URN(stack, project, s.Type, s.Name)]:
			resources = append(resources, s)
			used[s.Provider] = true
		}
	}
	for _, prov := range providers {
		if !used[prov.Name] {
			continue
		}
		if u := URN(stack, project, prov.Type, prov.Name); inState[u] {
			f.NameTable[prov.Name] = u
		} else {
			f.Resources = append(f.Resources, prov)
		}
	}
	f.Resources = append(f.Resources, resources...)
	if len(f.NameTable) == 0 {
		f.NameTable = nil
	}
	return f
}

// Imports counts the resources a file imports (providers it creates aside).
func (f File) Imports() int {
	n := 0
	for _, s := range f.Resources {
		if s.ID != "" {
			n++
		}
	}
	return n
}

// index maps each item's name to its id.
func index[T any](items []T, nameID func(T) (string, string)) map[string]string {
	m := make(map[string]string, len(items))
	for _, it := range items {
		name, id := nameID(it)
		m[name] = id
	}
	return m
}
