// Package deletion keeps a topology edit from deleting data. Dropping a
// database, bucket, namespace, index or queue from the topology makes
// `pulumi up` delete it (and, outside prod, nothing else stops it). The
// program compares what the stack deployed last, read from its own
// outputs, with what the configuration declares now, and refuses to go on
// while a stateful resource would disappear that nobody named in
// DOME_ALLOW_DELETE. Being in the program, the check holds for a plain
// `pulumi preview` or `pulumi up` as much as for the just recipes.
package deletion

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dome/infra/internal/config"
)

// Kind is one kind of stateful resource: the stack output (and topology
// list) that holds it, keyed by logical name, and what to call it.
type Kind struct {
	Output string
	Label  string
	names  func(config.Topology) []string
}

// Kinds are the stateful kinds, in the order problems are listed.
var Kinds = []Kind{
	{"d1Databases", "D1 database", func(t config.Topology) []string {
		return names(t.D1Databases, func(d config.Database) string { return d.Name })
	}},
	{"r2Buckets", "R2 bucket", func(t config.Topology) []string {
		return names(t.R2Buckets, func(b config.Bucket) string { return b.Name })
	}},
	{"kvNamespaces", "KV namespace", func(t config.Topology) []string {
		return names(t.KVNamespaces, func(n config.KVNamespace) string { return n.Name })
	}},
	{"vectorizeIndexes", "Vectorize index", func(t config.Topology) []string {
		return names(t.VectorizeIndexes, func(i config.Index) string { return i.Name })
	}},
	{"queues", "queue", func(t config.Topology) []string {
		return names(t.Queues, func(q config.Queue) string { return q.Name })
	}},
}

// Inventory is the logical names of a stack's stateful resources, by the
// output that holds each kind.
type Inventory map[string][]string

// Declared is what the topology declares.
func Declared(t config.Topology) Inventory {
	inv := Inventory{}
	for _, k := range Kinds {
		inv[k.Output] = k.names(t)
	}
	return inv
}

// Deployed is what the stack's outputs say it holds: the keys of each
// kind's output map. A missing or malformed output holds nothing.
func Deployed(outputs map[string]any) Inventory {
	inv := Inventory{}
	for _, k := range Kinds {
		if m, ok := outputs[k.Output].(map[string]any); ok {
			inv[k.Output] = slices.Sorted(maps.Keys(m))
		}
	}
	return inv
}

// Check returns an error listing every resource deployed but no longer
// declared whose logical name allow (config.EnvAllowDelete's value: logical
// names separated by spaces or commas) does not name.
func Check(deployed, declared Inventory, allow string) error {
	allowed := strings.FieldsFunc(allow, func(r rune) bool { return r == ' ' || r == ',' })
	var refused, names []string
	for _, k := range Kinds {
		for _, name := range deployed[k.Output] {
			if slices.Contains(declared[k.Output], name) || slices.Contains(allowed, name) {
				continue
			}
			refused = append(refused, fmt.Sprintf("%s %q", k.Label, name))
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if len(refused) == 0 {
		return nil
	}
	they, their := "it would be", "its"
	if len(refused) > 1 {
		they, their = "they would be", "their"
	}
	return fmt.Errorf("refusing to delete %s: no longer in the topology, %s deleted with %s data; "+
		"put back what should stay in Pulumi.yaml, or, to delete on purpose, name what may go: %s=%q",
		strings.Join(refused, ", "), they, their, config.EnvAllowDelete, strings.Join(names, " "))
}

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}
