package diagram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"os/exec"
	"slices"
	"strings"

	"github.com/dome/infra/internal/config"
)

// DOT is the picture in Graphviz's language, for `dot -Tsvg`.
//
// Left to right, it has four columns (see columns): entry points; workers;
// storage, Vectorize and AI, and queues, stacked; dead-letter queues. A
// worker is a table listing its bindings, grouped as the column to its
// right is stacked, and each binding's edge leaves from its row: the row
// names it, so no label tangles with the edges. A consumer, whose messages
// flow from a queue back to its worker, leaves from the worker's
// "consumes" row with its arrowhead at the worker (dir=back), so it is laid
// out like the worker's other edges.
func DOT(p *Picture) string {
	var b strings.Builder
	ids := p.ids()
	title := "Dome's topology, stack " + p.Stack
	if p.Previewed {
		title += ", as the preview would change it"
	}
	fmt.Fprintf(&b, "digraph %q {\n", "dome-"+p.Stack)
	fmt.Fprintf(&b, "  graph [rankdir=LR, newrank=true, nodesep=0.18, ranksep=1.1, fontname=\"Helvetica,Arial,sans-serif\", fontsize=13, labelloc=t, label=%q]\n", title)
	b.WriteString("  node [fontname=\"Helvetica,Arial,sans-serif\", fontsize=10, shape=box, style=\"rounded,filled\", margin=\"0.12,0.04\", height=0.4]\n")
	b.WriteString("  edge [fontname=\"Helvetica,Arial,sans-serif\", fontsize=8, arrowsize=0.6]\n")
	for _, g := range groups {
		nodes := p.inGroup(g.id)
		if len(nodes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  subgraph cluster_%s {\n", g.id)
		fmt.Fprintf(&b, "    graph [label=%q, style=\"rounded,filled\", fillcolor=\"#fbfbfb\", color=\"#d9d9d9\", fontsize=11]\n", g.title)
		for _, n := range nodes {
			fmt.Fprintf(&b, "    %s [%s]\n", ids[n.ID()], p.dotNode(n))
		}
		b.WriteString("  }\n")
	}
	for _, col := range p.columns() {
		if len(col) > 0 {
			fmt.Fprintf(&b, "  {rank=same; %s}\n", strings.Join(col, "; "))
		}
	}
	for i, e := range p.Edges {
		from, to := ids[e.From], ids[e.To]
		attrs := p.dotEdge(i)
		if e.Kind == config.EdgeConsumer {
			from, to = to, from
			attrs = append(attrs, "dir=back")
		}
		toWorker := p.nodeKind(p.drawnTo(i)) == config.NodeWorker
		switch {
		// A service binding joins two workers of one column: by their west
		// sides it is a short arc in the gutter, clear of the edges going right.
		case p.fromRow(i) && toWorker:
			from += ":" + port(i) + ":w"
		case p.fromRow(i):
			from += ":" + port(i) + ":e"
		}
		if toWorker {
			to += ":name:w"
		}
		fmt.Fprintf(&b, "  %s -> %s [%s]\n", from, to, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.String()
}

// drawnFrom and drawnTo are the nodes Edges[i] is drawn from and to: a
// consumer is drawn from its worker.
func (p *Picture) drawnFrom(i int) string {
	if e := p.Edges[i]; e.Kind == config.EdgeConsumer {
		return e.To
	}
	return p.Edges[i].From
}

func (p *Picture) drawnTo(i int) string {
	if e := p.Edges[i]; e.Kind == config.EdgeConsumer {
		return e.From
	}
	return p.Edges[i].To
}

// fromRow reports whether Edges[i] leaves from a row of a worker's table.
func (p *Picture) fromRow(i int) bool {
	return p.nodeKind(p.drawnFrom(i)) == config.NodeWorker
}

func port(i int) string { return fmt.Sprintf("e%d", i) }

// columns places every node in one of four columns, left to right: the
// entry points, the workers, what the workers use, and the dead-letter
// queues. Left to itself, dot would put a resource no worker binds in the
// first column, and a worker right of each worker calling it, so that a
// caller's edges to what it uses would cross the callee's column. In one
// column, a service binding is a short arc beside it instead.
func (p *Picture) columns() [4][]string {
	ids := p.ids()
	deadLetters := map[string]bool{}
	for _, e := range p.Edges {
		if e.Kind == config.EdgeDeadLetter {
			deadLetters[e.To] = true
		}
	}
	var cols [4][]string
	for _, n := range p.Nodes {
		col := 2
		switch {
		case looks[n.Kind].group == "entry":
			col = 0
		case n.Kind == config.NodeWorker:
			col = 1
		case deadLetters[n.ID()]:
			col = 3
		}
		cols[col] = append(cols[col], ids[n.ID()])
	}
	return cols
}

// dotNode is a node's attributes: an HTML-like label giving its name and,
// smaller, its kind; a worker's is a table with a row for each edge it
// draws.
func (p *Picture) dotNode(n config.Node) string {
	l, g := looks[n.Kind], groupOf(n.Kind)
	fill, stroke, color, border, dashed := g.fill, g.stroke, text, 1, false
	change := p.nodes[n.ID()]
	if p.Previewed {
		fill, stroke, color = fadedFill, fadedStroke, fadedText
		if change != Unchanged {
			cl := changeLook[change]
			fill, stroke, color, border, dashed = cl.fill, cl.stroke, text, 2, cl.dash != ""
		}
	}
	name := "<B>" + html.EscapeString(label(n)) + "</B>"
	if c := l.caption; c != "" && c != label(n) {
		name += fmt.Sprintf(`<BR/><FONT POINT-SIZE="8" COLOR="%s">%s</FONT>`, caption(color), html.EscapeString(c))
	}
	if change != Unchanged {
		name += fmt.Sprintf(`<BR/><FONT POINT-SIZE="8" COLOR="%s"><I>%s</I></FONT>`, changeLook[change].stroke, change)
	}

	if n.Kind == config.NodeWorker {
		style := "rounded"
		if dashed {
			style += ",dashed"
		}
		var rows strings.Builder
		for _, i := range p.rows(n.ID()) {
			e := p.Edges[i]
			word := e.Label
			if word == "" {
				word = edgeLookOf(e.Kind).word
			}
			fmt.Fprintf(&rows, `<TR><TD PORT="%s" ALIGN="RIGHT"><FONT POINT-SIZE="8" COLOR="%s">%s</FONT></TD></TR>`, port(i), p.edgeColor(i), html.EscapeString(word))
		}
		return fmt.Sprintf(`shape=plain, label=<<TABLE BORDER="%d" STYLE="%s" COLOR="%s" BGCOLOR="%s" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2"><TR><TD PORT="name" CELLPADDING="5"><FONT COLOR="%s">%s</FONT></TD></TR>%s</TABLE>>`,
			border, style, stroke, fill, color, name, rows.String())
	}

	style := "filled"
	if l.dot == "box" {
		style = "rounded,filled"
	}
	if dashed {
		style += ",dashed"
	}
	return fmt.Sprintf(`label=<%s>, shape=%s, style=%q, fillcolor=%q, color=%q, fontcolor=%q, penwidth=%d`, name, l.dot, style, fill, stroke, color, border)
}

// rows lists the edges a worker's table has a row for, grouped as the
// groups are stacked to its right (then consumers after producers), so
// that its edges leave it without crossing each other.
func (p *Picture) rows(worker string) []int {
	var out []int
	for i := range p.Edges {
		if p.drawnFrom(i) == worker {
			out = append(out, i)
		}
	}
	key := func(i int) int {
		k := 2 * slices.Index(groups, groupOf(p.nodeKind(p.drawnTo(i))))
		if p.Edges[i].Kind == config.EdgeConsumer {
			k++
		}
		return k
	}
	slices.SortStableFunc(out, func(a, b int) int { return key(a) - key(b) })
	return out
}

// caption is the colour of a kind's name under a node's, a shade lighter
// than the node's text.
func caption(color string) string {
	if color == fadedText {
		return fadedText
	}
	return "#5f6368"
}

// edgeColor is Edges[i]'s colour: its kind's, its change's, or faded.
func (p *Picture) edgeColor(i int) string {
	switch c := p.EdgeChange(i); {
	case c != Unchanged:
		return changeLook[c].stroke
	case p.faded(i):
		return fadedStroke
	}
	return edgeLookOf(p.Edges[i].Kind).color
}

func (p *Picture) dotEdge(i int) []string {
	el := edgeLookOf(p.Edges[i].Kind)
	width := 1
	if p.EdgeChange(i) != Unchanged {
		width = 2
	}
	attrs := []string{fmt.Sprintf("color=%q", p.edgeColor(i)), fmt.Sprintf("penwidth=%d", width)}
	if el.dashed || p.EdgeChange(i) == Deleted {
		attrs = append(attrs, "style=dashed")
	}
	// A worker's edges are named by the row they leave from.
	if !p.fromRow(i) && el.word != "" {
		fontColor := "#5f6368"
		if p.faded(i) {
			fontColor = fadedText
		}
		attrs = append(attrs, fmt.Sprintf("label=%q, fontcolor=%q", el.word, fontColor))
	}
	return attrs
}

// ErrNoDot is returned by SVG where Graphviz is not installed.
var ErrNoDot = errors.New("no SVG was drawn: Graphviz's dot is not installed; install it with `apt-get install graphviz` (Debian, Ubuntu) or `brew install graphviz` (macOS); the Mermaid text needs nothing")

// SVG runs Graphviz's dot on the picture's DOT and returns the SVG it draws.
func SVG(ctx context.Context, p *Picture) ([]byte, error) {
	if _, err := exec.LookPath("dot"); err != nil {
		return nil, ErrNoDot
	}
	cmd := exec.CommandContext(ctx, "dot", "-Tsvg")
	cmd.Stdin = strings.NewReader(DOT(p))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dot -Tsvg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}
