// Package diagram draws a stack's topology (config.Graph): as Mermaid text,
// which GitHub renders in Markdown, and as Graphviz DOT, which `dot` turns
// into an SVG. After a preview, each part is marked with what the preview
// would do to it and the rest is faded. The picture is a pure function of
// the validated configuration and, for a preview, of the engine's JSON:
// nothing else is read, so it draws offline, like `just validate`.
package diagram

import (
	"slices"

	"github.com/dome/infra/internal/config"
)

// Change is what a preview would do to a part of the picture.
type Change string

// The changes a preview can bring, weakest first: a node that two steps
// change (a database and its migrations) shows the stronger.
const (
	Unchanged Change = ""
	Updated   Change = "updated"
	Created   Change = "created"
	Deleted   Change = "deleted"
	Replaced  Change = "replaced"
)

var strength = []Change{Unchanged, Updated, Created, Deleted, Replaced}

func stronger(a, b Change) Change {
	if slices.Index(strength, b) > slices.Index(strength, a) {
		return b
	}
	return a
}

// Picture is what is drawn: a stack's graph and, once previewed, what the
// preview would change.
type Picture struct {
	config.Graph
	// Previewed is set when the picture carries a preview: its unchanged
	// parts are then drawn faded, for context.
	Previewed bool
	// Steps are the preview's changes, in the engine's order.
	Steps []Step

	nodes map[string]Change // by node ID
	edges map[int]Change    // by index in Edges
}

// New is the picture of g; with a preview, marked with what it would
// change, resources it would delete included though g no longer has them.
func New(g config.Graph, preview *Preview) *Picture {
	p := &Picture{Graph: g, nodes: map[string]Change{}, edges: map[int]Change{}}
	// The graph is the caller's: what a preview adds goes to copies.
	p.Nodes = slices.Clone(g.Nodes)
	p.Edges = slices.Clone(g.Edges)
	if preview != nil {
		p.Previewed = true
		p.mark(preview.Steps)
	}
	return p
}

// NodeChange is what the preview would do to the node of that ID.
func (p *Picture) NodeChange(id string) Change { return p.nodes[id] }

// EdgeChange is what the preview would do to Edges[i]. An entry point's or
// a cron trigger's edge is that resource; a new worker's bindings are new.
func (p *Picture) EdgeChange(i int) Change {
	if c := p.edges[i]; c != Unchanged {
		return c
	}
	e := p.Edges[i]
	switch from := p.nodes[e.From]; {
	case e.Kind == config.EdgeEntry || e.Kind == config.EdgeCron:
		return from
	case from == Created && p.nodeKind(e.From) == config.NodeWorker:
		return Created
	}
	return Unchanged
}

// faded reports whether, in a previewed picture, Edges[i] is only context:
// neither it nor either end changes.
func (p *Picture) faded(i int) bool {
	e := p.Edges[i]
	return p.Previewed && p.EdgeChange(i) == Unchanged && p.nodes[e.From] == Unchanged && p.nodes[e.To] == Unchanged
}

func (p *Picture) nodeKind(id string) config.NodeKind {
	if n, ok := p.Node(id); ok {
		return n.Kind
	}
	return ""
}

func (p *Picture) markNode(id string, c Change) {
	p.nodes[id] = stronger(p.nodes[id], c)
}

func (p *Picture) markEdge(i int, c Change) {
	p.edges[i] = stronger(p.edges[i], c)
}
