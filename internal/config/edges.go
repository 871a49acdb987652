package config

import "slices"

// The topology as a graph: each resource, Durable Object class and entry
// point is a node, each binding, consumer, event notification and trigger
// an edge. What a binding points at is decided here once (bindingTarget),
// for the picture (internal/diagram) and the deploy order (Dependencies)
// alike.

// NodeKind is what a node of the topology's graph stands for.
type NodeKind string

// The kinds of node: one per kind of resource a binding can point at, and
// one per kind of entry point.
const (
	NodeWorker        NodeKind = "worker"
	NodeD1            NodeKind = "d1"
	NodeR2            NodeKind = "r2"
	NodeKV            NodeKind = "kv"
	NodeQueue         NodeKind = "queue"
	NodeVectorize     NodeKind = "vectorize"
	NodeAI            NodeKind = "ai"
	NodeDurableObject NodeKind = "durable_object"
	NodeAnalytics     NodeKind = "analytics_engine"
	NodeHyperdrive    NodeKind = "hyperdrive"
	NodeWorkersDev    NodeKind = "workers_dev"
	NodeRoute         NodeKind = "route"
	NodeCustomDomain  NodeKind = "custom_domain"
	NodeCron          NodeKind = "cron"
)

// Node is one part of the topology.
type Node struct {
	Kind NodeKind
	// Name is the logical name as the topology declares it; for the
	// others, what names them there: a class, a dataset, a Hyperdrive
	// config id, a route's pattern, a domain's hostname, a cron expression,
	// and "workers.dev".
	Name string
	// Physical is the name the resource has in Cloudflare in this stack,
	// for the kinds the stack names (naming.Physical); empty for the others.
	Physical string
	// Worker is the worker a Durable Object class, an entry point or a
	// cron trigger belongs to; empty for the other kinds.
	Worker string
}

// ID identifies the node within its graph.
func (n Node) ID() string {
	if n.Worker != "" {
		return string(n.Kind) + ":" + n.Worker + "/" + n.Name
	}
	return string(n.Kind) + ":" + n.Name
}

// EdgeKind is what ties two nodes. A worker's binding is an edge of its
// binding type (BindD1, BindService, ...); the others are below.
type EdgeKind string

const (
	// EdgeConsumer goes from a queue to the worker that consumes it.
	EdgeConsumer EdgeKind = "consumer"
	// EdgeDeadLetter goes from a consumed queue to its consumer's dead-letter queue.
	EdgeDeadLetter EdgeKind = "dead_letter"
	// EdgeNotification goes from a bucket to a queue its event notifications go to.
	EdgeNotification EdgeKind = "notification"
	// EdgeEntry goes from workers.dev, a route or a custom domain to its worker.
	EdgeEntry EdgeKind = "entry"
	// EdgeCron goes from a cron trigger to its worker.
	EdgeCron EdgeKind = "cron"
	// EdgeHosts goes from a worker to a Durable Object class its
	// migrations create and that it does not bind itself.
	EdgeHosts EdgeKind = "hosts"
)

// Edge is one tie between two nodes, given by their IDs.
type Edge struct {
	From, To string
	Kind     EdgeKind
	// Label is the binding's name in the worker's env; empty for the other kinds.
	Label string
}

// Graph is a stack's topology as nodes and edges, in the order the
// configuration declares them, so that drawing it twice draws it the same.
type Graph struct {
	Stack string
	Nodes []Node
	Edges []Edge
}

// Node returns the node of that ID.
func (g Graph) Node(id string) (Node, bool) {
	i := slices.IndexFunc(g.Nodes, func(n Node) bool { return n.ID() == id })
	if i < 0 {
		return Node{}, false
	}
	return g.Nodes[i], true
}

// bindingNodes is the kind of node each binding type points at.
var bindingNodes = map[string]NodeKind{
	BindService:         NodeWorker,
	BindD1:              NodeD1,
	BindR2:              NodeR2,
	BindKV:              NodeKV,
	BindQueue:           NodeQueue,
	BindVectorize:       NodeVectorize,
	BindAI:              NodeAI,
	BindDurableObject:   NodeDurableObject,
	BindAnalyticsEngine: NodeAnalytics,
	BindHyperdrive:      NodeHyperdrive,
}

// workersAI names the one AI node: Workers AI is the account's, not a resource of the stack.
const workersAI = "Workers AI"

// bindingTarget is the node b, a binding of w, points at.
func (w Worker) bindingTarget(b Binding) Node {
	n := Node{Kind: bindingNodes[b.Type], Name: b.Target}
	switch b.Type {
	case BindAI:
		n.Name = workersAI
	case BindDurableObject:
		// A class without a script is the binding worker's own.
		n.Name, n.Worker = b.ClassName, b.ScriptName
		if n.Worker == "" {
			n.Worker = w.Name
		}
	case BindAnalyticsEngine:
		n.Name = b.Dataset
	case BindHyperdrive:
		n.Name = b.ID
	}
	return n
}

// Dependencies returns the workers w must be deployed after: the targets of
// its service bindings and the workers hosting its Durable Object classes.
func (w Worker) Dependencies() []string {
	var deps []string
	for _, b := range w.Bindings {
		n := w.bindingTarget(b)
		host := n.Worker
		if n.Kind == NodeWorker {
			host = n.Name
		}
		if (n.Kind == NodeWorker || n.Kind == NodeDurableObject) && host != "" && host != w.Name {
			deps = append(deps, host)
		}
	}
	return deps
}

// Graph is the stack's topology as a graph: every declared resource, every
// Durable Object class created or bound, Workers AI when bound, every entry
// point and cron trigger, and the edges between them.
func (c *Config) Graph() Graph {
	g := Graph{Stack: c.Stack}
	seen := map[string]bool{}
	add := func(n Node) string {
		id := n.ID()
		if !seen[id] {
			seen[id] = true
			g.Nodes = append(g.Nodes, n)
		}
		return id
	}
	named := func(kind NodeKind, logical string) string {
		return add(Node{Kind: kind, Name: logical, Physical: c.Name(logical)})
	}
	edge := func(from, to string, kind EdgeKind, label string) {
		g.Edges = append(g.Edges, Edge{From: from, To: to, Kind: kind, Label: label})
	}

	t := c.Topology
	for _, w := range t.Workers {
		named(NodeWorker, w.Name)
	}
	for _, d := range t.D1Databases {
		named(NodeD1, d.Name)
	}
	for _, b := range t.R2Buckets {
		named(NodeR2, b.Name)
	}
	for _, n := range t.KVNamespaces {
		named(NodeKV, n.Name)
	}
	for _, q := range t.Queues {
		named(NodeQueue, q.Name)
	}
	for _, ix := range t.VectorizeIndexes {
		named(NodeVectorize, ix.Name)
	}

	for _, w := range t.Workers {
		worker := Node{Kind: NodeWorker, Name: w.Name}.ID()
		entry := func(kind NodeKind, name string, edgeKind EdgeKind) {
			edge(add(Node{Kind: kind, Name: name, Worker: w.Name}), worker, edgeKind, "")
		}
		if w.WorkersDev {
			entry(NodeWorkersDev, "workers.dev", EdgeEntry)
		}
		for _, r := range w.Routes {
			entry(NodeRoute, r.Pattern, EdgeEntry)
		}
		for _, d := range w.CustomDomains {
			entry(NodeCustomDomain, d.Hostname, EdgeEntry)
		}
		for _, cron := range w.Crons {
			entry(NodeCron, cron, EdgeCron)
		}

		bound := map[string]bool{}
		for _, b := range w.Bindings {
			// A declared target is a node already; the others are added on first use.
			id := add(w.bindingTarget(b))
			bound[id] = true
			edge(worker, id, EdgeKind(b.Type), b.Name)
		}
		// A class nobody binds yet, or bound only by other workers, is
		// still created by this worker's migrations.
		for _, class := range w.Migrations.liveClasses() {
			if id := add(Node{Kind: NodeDurableObject, Name: class, Worker: w.Name}); !bound[id] {
				edge(worker, id, EdgeHosts, "")
			}
		}
		for _, cons := range w.Consumers {
			queue := Node{Kind: NodeQueue, Name: cons.Queue}.ID()
			edge(queue, worker, EdgeConsumer, "")
			if cons.DeadLetterQueue != "" {
				edge(queue, Node{Kind: NodeQueue, Name: cons.DeadLetterQueue}.ID(), EdgeDeadLetter, "")
			}
		}
	}
	for _, b := range t.R2Buckets {
		for _, q := range b.NotifiedQueues() {
			edge(Node{Kind: NodeR2, Name: b.Name}.ID(), Node{Kind: NodeQueue, Name: q}.ID(), EdgeNotification, "")
		}
	}
	return g
}

// liveClasses lists the Durable Object classes m leaves once every step is
// applied, in the order its steps create them.
func (m Migrations) liveClasses() []string {
	h := m.classes()
	var out []string
	for _, step := range m {
		created := slices.Concat(step.NewClasses, step.NewSqliteClasses)
		for _, r := range step.RenamedClasses {
			created = append(created, r.To)
		}
		for _, class := range created {
			if h.has(class) && !slices.Contains(out, class) {
				out = append(out, class)
			}
		}
	}
	return out
}
