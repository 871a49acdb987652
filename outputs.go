package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
	"github.com/dome/infra/internal/entrypoints"
	"github.com/dome/infra/internal/workers"
)

// Stack outputs, the contract CI reads with `pulumi stack output --json`
// (docs/configuration.md, "Stack outputs", documents their shape). Every map is keyed by logical name.
const (
	outEnvironment      = "environment"
	outD1Databases      = "d1Databases"
	outR2Buckets        = "r2Buckets"
	outKVNamespaces     = "kvNamespaces"
	outQueues           = "queues"
	outVectorizeIndexes = "vectorizeIndexes"
	outWorkers          = "workers"
	outQueueConsumers   = "queueConsumers"
)

// refMap exports {name, id} for each resource of one kind.
func refMap(m map[string]bindings.Ref) pulumi.Map {
	out := make(pulumi.Map, len(m))
	for logical, r := range m {
		out[logical] = pulumi.Map{"name": r.Name, "id": r.ID}
	}
	return out
}

func outputs(cfg *config.Config, res bindings.Resources, ws map[string]*workers.Worker, entries map[string]*entrypoints.Entry, consumers map[string]*domecf.QueueConsumer) pulumi.Map {
	out := pulumi.Map{outEnvironment: pulumi.String(cfg.Environment)}
	out[outD1Databases] = refMap(res.Databases)
	out[outR2Buckets] = refMap(res.Buckets)
	out[outKVNamespaces] = refMap(res.Namespaces)
	out[outQueues] = refMap(res.Queues)
	indexes := make(map[string]bindings.Ref, len(res.Indexes))
	for logical, ix := range res.Indexes {
		indexes[logical] = bindings.Ref{ID: ix.ID().ToStringOutput(), Name: ix.Name}
	}
	out[outVectorizeIndexes] = refMap(indexes)

	workerOut := make(pulumi.Map, len(ws))
	for _, wc := range cfg.Topology.Workers {
		w, e := ws[wc.Name], entries[wc.Name]
		routes, domains := pulumi.StringArray{}, pulumi.StringArray{}
		for _, r := range e.Routes {
			routes = append(routes, r.Pattern)
		}
		for _, d := range e.Domains {
			domains = append(domains, d.Hostname)
		}
		one := pulumi.Map{
			"name":         w.Script.Name,
			"id":           w.Script.ID().ToStringOutput(),
			"bundleSha256": pulumi.String(w.BundleSHA256),
			"bindings":     pulumi.ToStringArray(w.Bindings),
			"routes":       routes,
			"domains":      domains,
		}
		// The URL is exported only where workers.dev is on, so its absence
		// says the worker is not on workers.dev.
		if wc.WorkersDev {
			one["url"] = w.Script.URL
		}
		workerOut[wc.Name] = one
	}
	out[outWorkers] = workerOut

	consumerOut := make(pulumi.Map, len(consumers))
	for _, w := range cfg.Topology.Workers {
		for _, c := range w.Consumers {
			if qc, ok := consumers[c.Queue]; ok {
				consumerOut[c.Queue] = pulumi.Map{"id": qc.ID().ToStringOutput(), "worker": pulumi.String(w.Name)}
			}
		}
	}
	out[outQueueConsumers] = consumerOut
	return out
}
