package diagram

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dome/infra/internal/config"
)

// Mermaid is the picture as a Mermaid flowchart, which GitHub draws where a
// Markdown file or comment holds it in a ```mermaid block.
func Mermaid(p *Picture) string {
	var b strings.Builder
	ids := p.ids()
	fmt.Fprintf(&b, "%%%% Dome's topology, stack %s (just diagram %s)\n", p.Stack, p.Stack)
	b.WriteString("flowchart LR\n")
	for _, g := range groups {
		nodes := p.inGroup(g.id)
		if len(nodes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  subgraph %s_group[%q]\n", g.id, g.title)
		for _, n := range nodes {
			l := looks[n.Kind]
			fmt.Fprintf(&b, "    %s%s\"%s\"%s\n", ids[n.ID()], l.mermaid[0], mermaidLabel(n), l.mermaid[1])
		}
		b.WriteString("  end\n")
		fmt.Fprintf(&b, "  style %s_group fill:#fbfbfb,stroke:#d9d9d9,color:#202124\n", g.id)
	}

	// Edges are styled by their index, so the same colour's are listed together.
	var styles []string
	byStyle := map[string][]string{}
	for i, e := range p.Edges {
		el := edgeLookOf(e.Kind)
		text := e.Label
		if text == "" {
			text = el.word
		}
		from, to := ids[e.From], ids[e.To]
		arrow := "-->"
		switch {
		// A consumer is drawn from its worker, so that queues stay to the
		// workers' right: no arrowhead, the word says which way it reads.
		case e.Kind == config.EdgeConsumer:
			from, to, arrow = to, from, "-.-"
		case el.dashed:
			arrow = "-.->"
		}
		if text != "" {
			arrow += "|" + text + "|"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", from, arrow, to)

		style := "stroke:" + el.color
		switch c := p.EdgeChange(i); {
		case c != Unchanged:
			style = "stroke:" + changeLook[c].stroke + ",stroke-width:2px"
		case p.faded(i):
			style = "stroke:" + fadedStroke
		}
		if _, ok := byStyle[style]; !ok {
			styles = append(styles, style)
		}
		byStyle[style] = append(byStyle[style], strconv.Itoa(i))
	}

	// Nodes are styled by class: their group's colours, or the change a
	// preview marks, or faded.
	classes := map[string][]string{}
	var order []string
	for _, n := range p.Nodes {
		class := groupOf(n.Kind).id
		if p.Previewed {
			class = "unchanged"
			if c := p.nodes[n.ID()]; c != Unchanged {
				class = string(c)
			}
		}
		if _, ok := classes[class]; !ok {
			order = append(order, class)
		}
		classes[class] = append(classes[class], ids[n.ID()])
	}
	for _, class := range order {
		fmt.Fprintf(&b, "  classDef %s %s\n", class, mermaidClass(class))
		fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classes[class], ","), class)
	}
	for _, style := range styles {
		fmt.Fprintf(&b, "  linkStyle %s %s\n", strings.Join(byStyle[style], ","), style)
	}
	return b.String()
}

// mermaidClass is the style of a class Mermaid names: a group, a Change,
// or "unchanged". The text colour is set too: GitHub's dark theme would
// write light text on these light fills.
func mermaidClass(class string) string {
	if class == "unchanged" {
		return fmt.Sprintf("fill:%s,stroke:%s,color:%s", fadedFill, fadedStroke, fadedText)
	}
	if cl, ok := changeLook[Change(class)]; ok {
		s := fmt.Sprintf("fill:%s,stroke:%s,color:%s,stroke-width:2px", cl.fill, cl.stroke, text)
		if cl.dash != "" {
			s += ",stroke-dasharray:" + cl.dash
		}
		return s
	}
	for _, g := range groups {
		if g.id == class {
			return fmt.Sprintf("fill:%s,stroke:%s,color:%s", g.fill, g.stroke, text)
		}
	}
	return ""
}

// mermaidLabel is a node's label: its name, and under it its kind. A
// quote would end the label, so it is written as Mermaid's entity.
func mermaidLabel(n config.Node) string {
	text := strings.ReplaceAll(label(n), `"`, "#quot;")
	if c := looks[n.Kind].caption; c != "" && c != text {
		text += "<br/><small>" + c + "</small>"
	}
	return text
}

// inGroup lists the picture's nodes of group g, in the picture's order.
func (p *Picture) inGroup(g string) []config.Node {
	var out []config.Node
	for _, n := range p.Nodes {
		if looks[n.Kind].group == g {
			out = append(out, n)
		}
	}
	return out
}

// ids names every node with an identifier both languages accept, made of
// its kind and name so the text reads well, and unique.
func (p *Picture) ids() map[string]string {
	out := make(map[string]string, len(p.Nodes))
	used := map[string]bool{}
	for _, n := range p.Nodes {
		name := n.Name
		switch {
		case n.Kind == config.NodeWorkersDev:
			name = n.Worker // its name is its kind's
		case n.Worker != "":
			name = n.Worker + "_" + n.Name
		}
		base := string(n.Kind) + "_" + identifier(name)
		id := base
		for i := 2; used[id]; i++ {
			id = base + "_" + strconv.Itoa(i)
		}
		used[id] = true
		out[n.ID()] = id
	}
	return out
}

// identifier keeps letters and digits and turns every run of anything else
// into one underscore.
func identifier(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			under = false
		} else if !under {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.Trim(b.String(), "_")
}
