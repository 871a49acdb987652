package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGraph(t *testing.T) {
	// The fixture's nodes, which every case has: declared resources first,
	// then what the workers' bindings and entry points add, in that order.
	declared := []Node{
		{Kind: NodeWorker, Name: "api", Physical: "api-dev"},
		{Kind: NodeWorker, Name: "store", Physical: "store-dev"},
		{Kind: NodeWorker, Name: "worker", Physical: "worker-dev"},
		{Kind: NodeD1, Name: "meta", Physical: "meta-dev"},
		{Kind: NodeR2, Name: "raw", Physical: "raw-dev"},
		{Kind: NodeKV, Name: "cache", Physical: "cache-dev"},
		{Kind: NodeQueue, Name: "jobs", Physical: "jobs-dev"},
		{Kind: NodeQueue, Name: "jobs-dlq", Physical: "jobs-dlq-dev"},
		{Kind: NodeVectorize, Name: "notes", Physical: "notes-dev"},
	}
	tests := []struct {
		name  string
		topo  func(*Topology)
		nodes []Node // after the declared ones
		edges []Edge
	}{
		{
			name: "every binding by kind, the consumer and its dead-letter queue, a cron trigger",
			nodes: []Node{
				{Kind: NodeAI, Name: "Workers AI"},
				{Kind: NodeDurableObject, Name: "Counter", Worker: "store"},
				{Kind: NodeCron, Name: "*/5 * * * *", Worker: "worker"},
			},
			edges: []Edge{
				{From: "worker:api", To: "worker:store", Kind: BindService, Label: "STORE"},
				{From: "worker:api", To: "d1:meta", Kind: BindD1, Label: "DB"},
				{From: "worker:api", To: "kv:cache", Kind: BindKV, Label: "CACHE"},
				{From: "worker:api", To: "ai:Workers AI", Kind: BindAI, Label: "AI"},
				{From: "worker:store", To: "r2:raw", Kind: BindR2, Label: "RAW"},
				{From: "worker:store", To: "queue:jobs", Kind: BindQueue, Label: "JOBS"},
				{From: "worker:store", To: "durable_object:store/Counter", Kind: BindDurableObject, Label: "COUNTER"},
				{From: "cron:worker/*/5 * * * *", To: "worker:worker", Kind: EdgeCron},
				{From: "worker:worker", To: "vectorize:notes", Kind: BindVectorize, Label: "NOTES"},
				{From: "worker:worker", To: "durable_object:store/Counter", Kind: BindDurableObject, Label: "COUNTER"},
				{From: "queue:jobs", To: "worker:worker", Kind: EdgeConsumer},
				{From: "queue:jobs", To: "queue:jobs-dlq", Kind: EdgeDeadLetter},
			},
		},
		{
			name: "entry points, event notifications, a class its host does not bind, Analytics Engine and Hyperdrive",
			topo: func(tp *Topology) {
				tp.R2Buckets[0].EventNotifications = []EventNotification{
					{Queue: "jobs", Actions: []string{"PutObject"}, Prefix: "a/"},
					{Queue: "jobs", Actions: []string{"PutObject"}, Prefix: "b/"},
				}
				api := worker(tp, "api")
				api.Bindings = []Binding{
					{Type: BindAnalyticsEngine, Name: "EVENTS", Dataset: "dome_events"},
					{Type: BindHyperdrive, Name: "PG", ID: "0123"},
				}
				api.WorkersDev = true
				api.Routes = []Route{{Pattern: "dome.example/api/*", Zone: "dome.example"}}
				api.CustomDomains = []CustomDomain{{Hostname: "api.dome.example", Zone: "dome.example"}}
				store := worker(tp, "store")
				store.Bindings = store.Bindings[:2]
				// Created, renamed, deleted: only what is left is drawn.
				store.Migrations = Migrations{
					{Tag: "v1", NewSqliteClasses: []string{"Counter", "Old"}},
					{Tag: "v2", RenamedClasses: []Rename{{From: "Counter", To: "Tally"}}, DeletedClasses: []string{"Old"}},
				}
				w := worker(tp, "worker")
				w.Bindings = []Binding{{Type: BindDurableObject, Name: "TALLY", ClassName: "Tally", ScriptName: "store"}}
				w.Crons = nil
				w.Consumers = []Consumer{{Queue: "jobs"}}
			},
			nodes: []Node{
				{Kind: NodeWorkersDev, Name: "workers.dev", Worker: "api"},
				{Kind: NodeRoute, Name: "dome.example/api/*", Worker: "api"},
				{Kind: NodeCustomDomain, Name: "api.dome.example", Worker: "api"},
				{Kind: NodeAnalytics, Name: "dome_events"},
				{Kind: NodeHyperdrive, Name: "0123"},
				{Kind: NodeDurableObject, Name: "Tally", Worker: "store"},
			},
			edges: []Edge{
				{From: "workers_dev:api/workers.dev", To: "worker:api", Kind: EdgeEntry},
				{From: "route:api/dome.example/api/*", To: "worker:api", Kind: EdgeEntry},
				{From: "custom_domain:api/api.dome.example", To: "worker:api", Kind: EdgeEntry},
				{From: "worker:api", To: "analytics_engine:dome_events", Kind: BindAnalyticsEngine, Label: "EVENTS"},
				{From: "worker:api", To: "hyperdrive:0123", Kind: BindHyperdrive, Label: "PG"},
				{From: "worker:store", To: "r2:raw", Kind: BindR2, Label: "RAW"},
				{From: "worker:store", To: "queue:jobs", Kind: BindQueue, Label: "JOBS"},
				{From: "worker:store", To: "durable_object:store/Tally", Kind: EdgeHosts},
				{From: "worker:worker", To: "durable_object:store/Tally", Kind: BindDurableObject, Label: "TALLY"},
				{From: "queue:jobs", To: "worker:worker", Kind: EdgeConsumer},
				// Two rules to one queue are one notification configuration.
				{From: "r2:raw", To: "queue:jobs", Kind: EdgeNotification},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := fixture(t)
			if tt.topo != nil {
				editTopology(t, v, tt.topo)
			}
			c, err := Load(v, goodEnv)
			require.NoError(t, err)
			g := c.Graph()
			require.Equal(t, "test", g.Stack)
			require.Equal(t, append(append([]Node{}, declared...), tt.nodes...), g.Nodes)
			require.Equal(t, tt.edges, g.Edges)
			for _, e := range g.Edges {
				_, from := g.Node(e.From)
				_, to := g.Node(e.To)
				require.True(t, from && to, "%+v ties two nodes of the graph", e)
			}
		})
	}
}

// TopologyOnly checks the configuration files alone: a machine without the
// stack's credentials or the services' sources can still read the topology,
// and a mistake in the files is still refused.
func TestTopologyOnly(t *testing.T) {
	v := fixture(t)
	v.Config["dome:servicesRoot"] = t.TempDir() // no entry module, no migrations folder
	noEnv := env(nil)

	_, err := Load(v, noEnv)
	require.ErrorContains(t, err, "the Cloudflare account id is not set")
	require.ErrorContains(t, err, "Module not found")
	require.ErrorContains(t, err, "migrationsDir")

	c, err := Load(v, noEnv, TopologyOnly())
	require.NoError(t, err)
	require.Len(t, c.Graph().Nodes, 12)

	editTopology(t, v, func(tp *Topology) { worker(tp, "api").Bindings[1].Target = "silo" })
	_, err = Load(v, noEnv, TopologyOnly())
	require.EqualError(t, err, "1 configuration problem:\n  - Pulumi.yaml:35:36: dome:topology.workers[api].bindings[DB].target: D1 database 'silo' not found; declared: meta")
}
