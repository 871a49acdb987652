package diagram

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dome/infra/internal/config"
)

// Preview is what `pulumi preview --json` prints, as far as the picture
// reads it: the steps that change something.
type Preview struct {
	Steps []Step
}

// Step is the engine's operation on one resource.
type Step struct {
	Op       string `json:"op"`
	URN      string `json:"urn"`
	OldState *state `json:"oldState,omitempty"`
}

// state is a resource as the stack's state holds it, before the step.
type state struct {
	Inputs  map[string]any `json:"inputs"`
	Outputs map[string]any `json:"outputs"`
}

// ReadPreview reads the engine's JSON. A preview that failed is refused
// with the engine's errors: its steps end where it stopped, so a picture
// of them would leave changes out.
func ReadPreview(r io.Reader) (*Preview, error) {
	var digest struct {
		Steps       []Step `json:"steps"`
		Diagnostics []struct {
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"diagnostics"`
	}
	if err := json.NewDecoder(r).Decode(&digest); err != nil {
		return nil, fmt.Errorf("reading the preview (the JSON of pulumi preview --json): %w", err)
	}
	var errs []string
	for _, d := range digest.Diagnostics {
		if d.Severity == "error" {
			errs = append(errs, "  "+strings.TrimSpace(d.Message))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("the preview failed, so its changes are not all known:\n%s", strings.Join(errs, "\n"))
	}
	p := &Preview{}
	for _, s := range digest.Steps {
		if s.Change() != Unchanged {
			p.Steps = append(p.Steps, s)
		}
	}
	return p, nil
}

// Change is what the step does, as the picture marks it. The engine's
// other operations (same, read, refresh) change nothing.
func (s Step) Change() Change {
	switch s.Op {
	case "create":
		return Created
	case "update":
		return Updated
	// The last two are the replacement's halves, listed with --show-replacement-steps.
	case "replace", "create-replacement", "delete-replaced":
		return Replaced
	case "delete":
		return Deleted
	}
	return Unchanged
}

// urn splits the URN, urn:pulumi:<stack>::<project>::<type>::<name>, where
// the type is prefixed with its parents' types, each followed by "$".
func (s Step) urn() (typ, name string) {
	parts := strings.SplitN(s.URN, "::", 4)
	if len(parts) < 4 {
		return "", ""
	}
	typ = parts[2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	return typ, parts[3]
}

// Type is the resource's type token, e.g. domecf:index:WorkerScript.
func (s Step) Type() string {
	t, _ := s.urn()
	return t
}

// Name is the resource's logical name, the URN's last part.
func (s Step) Name() string {
	_, n := s.urn()
	return n
}

// old returns a string the resource held before the step, among its
// inputs or outputs, or "".
func (s Step) old(key string) string {
	if s.OldState == nil {
		return ""
	}
	for _, m := range []map[string]any{s.OldState.Inputs, s.OldState.Outputs} {
		if v, ok := m[key].(string); ok {
			return v
		}
	}
	return ""
}

// role is how a resource appears in the picture.
type role int

const (
	// asNode: the node of its kind and logical name.
	asNode role = iota
	// asPart: a setting of the node of its kind and name (a database's
	// migrations); any change to it updates that node.
	asPart
	// ofWorker: named by its worker, it is that worker's nodes of its kind
	// (the cron triggers), or a setting of the worker when it has none.
	ofWorker
	// asEntry: the entry point of its kind and name (a route's pattern, a
	// domain's hostname); its worker, once deleted, is read from the input
	// named by workerInput.
	asEntry
	// asConsumer: the consumer edge of the queue it is named by, with its
	// dead-letter edge.
	asConsumer
	// asNotification: the notification edge of "<bucket>/<queue>".
	asNotification
)

// resources is each resource type the program registers and what it is in
// the picture. The providers and the stack itself are not drawn.
var resources = map[string]struct {
	role        role
	kind        config.NodeKind
	workerInput string
}{
	"domecf:index:WorkerScript":                              {role: asNode, kind: config.NodeWorker},
	"cloudflare:index/d1Database:D1Database":                 {role: asNode, kind: config.NodeD1},
	"domecf:index:D1Migrations":                              {role: asPart, kind: config.NodeD1},
	"cloudflare:index/r2Bucket:R2Bucket":                     {role: asNode, kind: config.NodeR2},
	"cloudflare:index/workersKvNamespace:WorkersKvNamespace": {role: asNode, kind: config.NodeKV},
	"cloudflare:index/queue:Queue":                           {role: asNode, kind: config.NodeQueue},
	"domecf:index:VectorizeIndex":                            {role: asNode, kind: config.NodeVectorize},
	"cloudflare:index/workersCronTrigger:WorkersCronTrigger": {role: ofWorker, kind: config.NodeCron},
	"cloudflare:index/workersRoute:WorkersRoute":             {role: asEntry, kind: config.NodeRoute, workerInput: "scriptName"},
	"cloudflare:index/workersDomain:WorkersDomain":           {role: asEntry, kind: config.NodeCustomDomain, workerInput: "service"},
	"domecf:index:QueueConsumer":                             {role: asConsumer, workerInput: "scriptName"},
	"domecf:index:R2EventNotification":                       {role: asNotification},
}

// Drawn reports whether the step's resource is a part of the picture.
func (s Step) Drawn() bool {
	_, ok := resources[s.Type()]
	return ok
}

// mark records each step's change on its part of the picture. Resources
// first, so that a deleted entry point, consumer or notification finds the
// deleted worker, queue or bucket it belonged to.
func (p *Picture) mark(steps []Step) {
	p.Steps = steps
	for _, s := range steps {
		if r, ok := resources[s.Type()]; ok && r.role == asNode {
			id := config.Node{Kind: r.kind, Name: s.Name()}.ID()
			if _, ok := p.Node(id); !ok {
				physical := s.old("name")
				if physical == "" {
					physical = s.old("title") // a KV namespace's
				}
				p.Nodes = append(p.Nodes, config.Node{Kind: r.kind, Name: s.Name(), Physical: physical})
			}
			p.markNode(id, s.Change())
		}
	}
	for _, s := range steps {
		r, ok := resources[s.Type()]
		if !ok {
			continue
		}
		c, name := s.Change(), s.Name()
		switch r.role {
		case asNode:
			if r.kind == config.NodeWorker {
				p.markWorkersDev(s)
			}
		case asPart:
			if id := (config.Node{Kind: r.kind, Name: name}).ID(); p.has(id) {
				p.markNode(id, Updated)
			}
		case ofWorker:
			worker := config.Node{Kind: config.NodeWorker, Name: name}.ID()
			ids := p.find(func(n config.Node) bool { return n.Kind == r.kind && n.Worker == name })
			// Cron triggers taken away.
			gone := c == Deleted && p.has(worker)
			switch {
			case len(ids) > 0:
				for _, id := range ids {
					p.markNode(id, c)
				}
			case gone:
				p.addEntry(config.Node{Kind: r.kind, Name: "cron triggers", Worker: name}, c)
			case p.has(worker):
				p.markNode(worker, Updated)
			}
		case asEntry:
			ids := p.find(func(n config.Node) bool { return n.Kind == r.kind && n.Name == name })
			if len(ids) == 0 {
				p.addEntry(config.Node{Kind: r.kind, Name: name, Worker: p.workerNamed(s.old(r.workerInput))}, c)
				continue
			}
			p.markNode(ids[0], c)
		case asConsumer:
			queue := config.Node{Kind: config.NodeQueue, Name: name}.ID()
			marked := false
			for i, e := range p.Edges {
				if e.From == queue && (e.Kind == config.EdgeConsumer || e.Kind == config.EdgeDeadLetter) {
					p.markEdge(i, c)
					marked = true
				}
			}
			if worker := p.workerNamed(s.old(r.workerInput)); !marked && worker != "" && p.has(queue) {
				p.addEdge(config.Edge{From: queue, To: config.Node{Kind: config.NodeWorker, Name: worker}.ID(), Kind: config.EdgeConsumer}, c)
			}
		case asNotification:
			bucket, queue, _ := strings.Cut(name, "/")
			e := config.Edge{From: config.Node{Kind: config.NodeR2, Name: bucket}.ID(), To: config.Node{Kind: config.NodeQueue, Name: queue}.ID(), Kind: config.EdgeNotification}
			if i := slices.Index(p.Edges, e); i >= 0 {
				p.markEdge(i, c)
			} else if p.has(e.From) && p.has(e.To) {
				p.addEdge(e, c)
			}
		}
	}
}

// markWorkersDev draws a change to a worker's workers.dev route, which is
// a setting of its script: the route appears with a worker created on it
// or a worker turned on, and is drawn deleted when the worker was on it
// and is gone or turned off. The state says whether it was on; state from
// before the setting moved into the script does not, and then the worker's
// own mark stands for the change.
func (p *Picture) markWorkersDev(s Step) {
	name, c := s.Name(), s.Change()
	ids := p.find(func(n config.Node) bool { return n.Kind == config.NodeWorkersDev && n.Worker == name })
	was, known := false, c == Created
	if s.OldState != nil {
		was, known = s.OldState.Inputs["workersDev"].(bool)
	}
	switch {
	case !known:
	case len(ids) > 0 && !was:
		p.markNode(ids[0], Created)
	case len(ids) == 0 && was && p.has(config.Node{Kind: config.NodeWorker, Name: name}.ID()):
		p.addEntry(config.Node{Kind: config.NodeWorkersDev, Name: "workers.dev", Worker: name}, Deleted)
	}
}

func (p *Picture) has(id string) bool {
	_, ok := p.Node(id)
	return ok
}

func (p *Picture) find(match func(config.Node) bool) []string {
	var ids []string
	for _, n := range p.Nodes {
		if match(n) {
			ids = append(ids, n.ID())
		}
	}
	return ids
}

// workerNamed is the logical name of the worker whose physical name is
// physical, or "" when the picture has none.
func (p *Picture) workerNamed(physical string) string {
	for _, n := range p.Nodes {
		if n.Kind == config.NodeWorker && physical != "" && n.Physical == physical {
			return n.Name
		}
	}
	return ""
}

// addEntry draws an entry point the configuration no longer has, tied to
// its worker when that is known.
func (p *Picture) addEntry(n config.Node, c Change) {
	p.Nodes = append(p.Nodes, n)
	p.markNode(n.ID(), c)
	if n.Worker != "" {
		kind := config.EdgeEntry
		if n.Kind == config.NodeCron {
			kind = config.EdgeCron
		}
		p.addEdge(config.Edge{From: n.ID(), To: config.Node{Kind: config.NodeWorker, Name: n.Worker}.ID(), Kind: kind}, c)
	}
}

func (p *Picture) addEdge(e config.Edge, c Change) {
	p.Edges = append(p.Edges, e)
	p.markEdge(len(p.Edges)-1, c)
}
