package diagram

import "github.com/dome/infra/internal/config"

// group is a box of the picture holding the nodes of related kinds, drawn
// in the group's colours. Kept together, a kind's nodes line up instead of
// scattering among the others, which keeps Dome's 45 bindings readable.
type group struct {
	id, title    string
	fill, stroke string
}

// The groups, in the order they are drawn: requests come in through the
// entry points, reach the workers, which use the rest.
var groups = []group{
	{"entry", "entry points", "#f1f3f4", "#5f6368"},
	{"workers", "workers", "#fdebd8", "#f38020"},
	{"storage", "storage: D1, R2, KV", "#e4f3e8", "#2f8f4e"},
	{"ai", "Vectorize and AI", "#f1e6fa", "#8445b0"},
	{"queues", "queues", "#e3ecfa", "#3b6fc4"},
}

func groupOf(k config.NodeKind) group {
	for _, g := range groups {
		if g.id == looks[k].group {
			return g
		}
	}
	return groups[0]
}

// look is how one kind of node is drawn, in either language.
type look struct {
	group   string
	caption string // the kind, under the node's name
	// mermaid is the shape's brackets around the label.
	mermaid [2]string
	dot     string // Graphviz shape
}

var looks = map[config.NodeKind]look{
	config.NodeWorkersDev:    {"entry", "workers.dev", [2]string{"([", "])"}, "box"},
	config.NodeRoute:         {"entry", "route", [2]string{"([", "])"}, "box"},
	config.NodeCustomDomain:  {"entry", "custom domain", [2]string{"([", "])"}, "box"},
	config.NodeCron:          {"entry", "cron trigger", [2]string{"([", "])"}, "box"},
	config.NodeWorker:        {"workers", "worker", [2]string{"(", ")"}, "box"},
	config.NodeQueue:         {"queues", "queue", [2]string{"[[", "]]"}, "box"},
	config.NodeD1:            {"storage", "D1 database", [2]string{"[(", ")]"}, "cylinder"},
	config.NodeR2:            {"storage", "R2 bucket", [2]string{"[(", ")]"}, "cylinder"},
	config.NodeKV:            {"storage", "KV namespace", [2]string{"[(", ")]"}, "cylinder"},
	config.NodeHyperdrive:    {"storage", "Hyperdrive", [2]string{"[(", ")]"}, "cylinder"},
	config.NodeAnalytics:     {"storage", "Analytics Engine", [2]string{"[(", ")]"}, "cylinder"},
	config.NodeDurableObject: {"storage", "Durable Object", [2]string{"[", "]"}, "box3d"},
	config.NodeVectorize:     {"ai", "Vectorize index", [2]string{"[(", ")]"}, "cylinder"},
	config.NodeAI:            {"ai", "", [2]string{"{{", "}}"}, "hexagon"},
}

// changeLook is how a preview's change is drawn, over the kind's colours.
var changeLook = map[Change]struct{ fill, stroke, dash string }{
	Created:  {"#d8f5dd", "#1e8e3e", ""},
	Updated:  {"#fff4c2", "#b08800", ""},
	Replaced: {"#ffe0c7", "#d9480f", ""},
	Deleted:  {"#fde2e1", "#c92a2a", "5 3"},
}

// text is the colour of a node's name.
const text = "#202124"

// Faded parts, in a previewed picture, are what the preview leaves as it is.
const (
	fadedFill   = "#fafafa"
	fadedStroke = "#d0d0d0"
	fadedText   = "#9a9a9a"
)

// edgeLook is how each kind of edge is drawn: its colour, whether dashed,
// and the word on it when it is not a binding (whose name is the label).
type edgeLook struct {
	color  string
	dashed bool
	word   string
}

func edgeLookOf(k config.EdgeKind) edgeLook {
	switch k {
	case config.EdgeEntry:
		return edgeLook{color: "#5f6368"}
	case config.EdgeCron:
		return edgeLook{color: "#5f6368", dashed: true}
	case config.EdgeConsumer:
		return edgeLook{color: "#3b6fc4", dashed: true, word: "consumes"}
	case config.EdgeDeadLetter:
		return edgeLook{color: "#c92a2a", dashed: true, word: "dead letters"}
	case config.EdgeNotification:
		return edgeLook{color: "#2f8f4e", dashed: true, word: "notifies"}
	case config.EdgeHosts:
		return edgeLook{color: "#2f8f4e", dashed: true, word: "hosts"}
	case config.BindService:
		return edgeLook{color: "#f38020"}
	case config.BindQueue:
		return edgeLook{color: "#3b6fc4"}
	case config.BindVectorize, config.BindAI:
		return edgeLook{color: "#8445b0"}
	}
	return edgeLook{color: "#2f8f4e"} // storage
}

// label is a node's name as drawn: the name it has in Cloudflare in this
// stack when it has one of its own.
func label(n config.Node) string {
	if n.Physical != "" {
		return n.Physical
	}
	return n.Name
}
