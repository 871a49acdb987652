// Package deletion keeps a topology edit from deleting data. Dropping a
// database, bucket, namespace, index or queue from the topology makes
// `pulumi up` delete it, and changing what identifies one (a database's
// name, an index's dimensions) makes it replace it: delete it and create an
// empty one. Outside prod nothing else stops either. The program compares
// every stateful resource the stack's state holds, however it got there (a
// deploy, `just recover`, `pulumi import`, a failed deploy), with what the
// configuration declares now, and refuses to go on while one would be
// deleted or replaced that nobody named in DOME_ALLOW_DELETE. Being in the
// program, the check holds for a plain `pulumi preview` or `pulumi up` as
// much as for the just recipes.
package deletion

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dome/infra/internal/config"
)

// Kind is one kind of stateful resource: the Pulumi type that holds it, what
// to call it, and the inputs whose change replaces it, as the configuration
// declares them for a logical name (ok is false when it declares none).
type Kind struct {
	Type     string
	Label    string
	identity func(cfg *config.Config, name string) (inputs map[string]any, ok bool)
}

// Kinds are the stateful kinds, in the order problems are listed.
var Kinds = []Kind{
	{"cloudflare:index/d1Database:D1Database", "D1 database", func(cfg *config.Config, name string) (map[string]any, bool) {
		_, ok := find(cfg.Topology.D1Databases, name, func(d config.Database) string { return d.Name })
		return map[string]any{"name": cfg.Name(name)}, ok
	}},
	{"cloudflare:index/r2Bucket:R2Bucket", "R2 bucket", func(cfg *config.Config, name string) (map[string]any, bool) {
		b, ok := find(cfg.Topology.R2Buckets, name, func(b config.Bucket) string { return b.Name })
		id := map[string]any{"name": cfg.Name(name)}
		if b.Location != "" {
			// Unset, the bucket keeps whatever location Cloudflare chose.
			id["location"] = b.Location
		}
		return id, ok
	}},
	{"cloudflare:index/workersKvNamespace:WorkersKvNamespace", "KV namespace", func(cfg *config.Config, name string) (map[string]any, bool) {
		// A new title is an update in place.
		_, ok := find(cfg.Topology.KVNamespaces, name, func(n config.KVNamespace) string { return n.Name })
		return nil, ok
	}},
	{"domecf:index:VectorizeIndex", "Vectorize index", func(cfg *config.Config, name string) (map[string]any, bool) {
		ix, ok := find(cfg.Topology.VectorizeIndexes, name, func(i config.Index) string { return i.Name })
		id := map[string]any{"name": cfg.Name(name)}
		// Only what the configuration sets is compared: Cloudflare fills in
		// what a preset implies.
		for k, v := range map[string]any{"dimensions": ix.Dimensions, "metric": ix.Metric, "preset": ix.Preset, "description": ix.Description} {
			if v != 0 && v != "" {
				id[k] = v
			}
		}
		return id, ok
	}},
	{"cloudflare:index/queue:Queue", "queue", func(cfg *config.Config, name string) (map[string]any, bool) {
		// A queue is renamed in place.
		_, ok := find(cfg.Topology.Queues, name, func(q config.Queue) string { return q.Name })
		return nil, ok
	}},
}

// Resource is one resource a stack's state holds.
type Resource struct {
	// Name is the logical name, the last part of its URN.
	Name    string
	Type    string
	Outputs map[string]any
}

// Held reads a stack's resources from what Pulumi's
// readStackResourceOutputs returns: for each URN, its type and outputs.
// Entries of another shape are skipped.
func Held(byURN map[string]any) []Resource {
	var out []Resource
	for _, urn := range slices.Sorted(maps.Keys(byURN)) {
		entry, _ := byURN[urn].(map[string]any)
		typ, _ := entry["type"].(string)
		outputs, _ := entry["outputs"].(map[string]any)
		i := strings.LastIndex(urn, "::")
		if typ == "" || i < 0 {
			continue
		}
		out = append(out, Resource{Name: urn[i+2:], Type: typ, Outputs: outputs})
	}
	return out
}

// Check returns an error listing every stateful resource the stack holds
// that the configuration would delete (it no longer declares it) or replace
// (it declares another value of an input that identifies it), unless allow
// (config.EnvAllowDelete's value: logical names separated by spaces or
// commas) names it.
func Check(held []Resource, cfg *config.Config, allow string) error {
	allowed := strings.FieldsFunc(allow, func(r rune) bool { return r == ' ' || r == ',' })
	var deleted, replaced, names []string
	for _, k := range Kinds {
		for _, r := range held {
			if r.Type != k.Type || slices.Contains(allowed, r.Name) {
				continue
			}
			want, declared := k.identity(cfg, r.Name)
			var changes []string
			for _, key := range slices.Sorted(maps.Keys(want)) {
				if have := r.Outputs[key]; !same(have, want[key]) {
					changes = append(changes, fmt.Sprintf("%s %s => %s", key, show(have), show(want[key])))
				}
			}
			switch {
			case !declared:
				deleted = append(deleted, fmt.Sprintf("%s %q", k.Label, r.Name))
			case len(changes) > 0:
				replaced = append(replaced, fmt.Sprintf("%s %q (%s)", k.Label, r.Name, strings.Join(changes, ", ")))
			default:
				continue
			}
			if !slices.Contains(names, r.Name) {
				names = append(names, r.Name)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	var what []string
	if len(deleted) > 0 {
		what = append(what, fmt.Sprintf("delete %s (no longer in the topology)", strings.Join(deleted, ", ")))
	}
	if len(replaced) > 0 {
		what = append(what, fmt.Sprintf("replace %s", strings.Join(replaced, ", ")))
	}
	lose := "its data would be lost"
	if len(deleted)+len(replaced) > 1 {
		lose = "their data would be lost"
	}
	return fmt.Errorf("refusing to %s: %s; put back in Pulumi.yaml what should stay, or, to lose it on purpose, name what may go: %s=%q",
		strings.Join(what, " and to "), lose, config.EnvAllowDelete, strings.Join(names, " "))
}

func find[T any](items []T, name string, nameOf func(T) string) (T, bool) {
	i := slices.IndexFunc(items, func(it T) bool { return nameOf(it) == name })
	if i < 0 {
		var zero T
		return zero, false
	}
	return items[i], true
}

// same compares a state output with a configured value; numbers decode
// from state as float64.
func same(have, want any) bool {
	if w, ok := want.(int); ok {
		f, ok := have.(float64)
		return ok && f == float64(w)
	}
	return have == want
}

func show(v any) string {
	if v == nil || v == "" {
		return "(unset)"
	}
	switch n := v.(type) {
	case float64:
		return fmt.Sprint(int(n))
	case int:
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%q", v)
}
