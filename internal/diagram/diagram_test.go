package diagram

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

// graph is a stack's graph, read as `just diagram` reads it: from the
// stack's two files alone.
func graph(t *testing.T, dir, stack string) config.Graph {
	t.Helper()
	cfg, err := config.LoadTopology(dir, stack)
	require.NoError(t, err)
	return cfg.Graph()
}

// step is a step of the engine's JSON for a resource of the dev stack.
func step(op, typ, name string, old map[string]any) Step {
	s := Step{Op: op, URN: "urn:pulumi:dev::dome::" + typ + "::" + name}
	if old != nil {
		s.OldState = &state{Inputs: old, Outputs: old}
	}
	return s
}

func TestPreview(t *testing.T) {
	fixture, err := os.Open("testdata/preview-dev.json")
	require.NoError(t, err)
	defer fixture.Close()
	fromFixture, err := ReadPreview(fixture)
	require.NoError(t, err)

	tests := []struct {
		name    string
		preview *Preview
		nodes   map[string]Change // every other node is unchanged
		edges   map[config.Edge]Change
		added   []config.Node // drawn though the configuration no longer has them
		mermaid []string
	}{
		{
			name:    "the engine's JSON: one create, one update, one replace",
			preview: fromFixture,
			nodes: map[string]Change{
				"worker:dome-notify": Created,
				"worker:dome-api":    Updated,
				"d1:silo":            Replaced,
			},
			mermaid: []string{
				"  classDef created fill:#d8f5dd,stroke:#1e8e3e,color:#202124,stroke-width:2px\n  class worker_dome_notify created\n",
				"  class worker_dome_api updated\n",
				"  class d1_silo replaced\n",
			},
		},
		{
			name: "a worker's parts and settings, consumers and notifications",
			preview: &Preview{Steps: []Step{
				step("update", "domecf:index:D1Migrations", "dome-meta", nil),
				// dome-notify stays off workers.dev; silo is turned on.
				step("update", "domecf:index:WorkerScript", "dome-notify", map[string]any{"workersDev": false}),
				step("update", "domecf:index:WorkerScript", "silo", map[string]any{"workersDev": false}),
				step("update", "cloudflare:index/workersCronTrigger:WorkersCronTrigger", "dome-cron", nil),
				step("update", "domecf:index:QueueConsumer", "new-content-ai", nil),
				step("create", "domecf:index:R2EventNotification", "silo-content/silo-content-uploaded", nil),
			}},
			nodes: map[string]Change{
				"d1:dome-meta":                 Updated,
				"worker:dome-notify":           Updated,
				"worker:silo":                  Updated,
				"workers_dev:silo/workers.dev": Created,
				"cron:dome-cron/0 * * * *":     Updated,
			},
			edges: map[config.Edge]Change{
				{From: "queue:new-content-ai", To: "worker:ai-processor", Kind: config.EdgeConsumer}:        Updated,
				{From: "queue:new-content-ai", To: "queue:new-content-ai-dlq", Kind: config.EdgeDeadLetter}: Updated,
				{From: "r2:silo-content", To: "queue:silo-content-uploaded", Kind: config.EdgeNotification}: Created,
				{From: "workers_dev:silo/workers.dev", To: "worker:silo", Kind: config.EdgeEntry}:           Created,
				{From: "cron:dome-cron/0 * * * *", To: "worker:dome-cron", Kind: config.EdgeCron}:           Updated,
			},
		},
		{
			name: "workers.dev moving into the script: its old resource is not drawn, and the route was already on",
			preview: &Preview{Steps: []Step{
				step("update", "domecf:index:WorkerScript", "silo", map[string]any{"name": "silo-dev"}),
				step("delete", "domecf:index:WorkerSubdomain", "silo", map[string]any{"enabled": true}),
			}},
			nodes: map[string]Change{"worker:silo": Updated},
		},
		{
			name: "deleted resources the configuration no longer has are still drawn",
			preview: &Preview{Steps: []Step{
				// Deletions come after the steps of what depended on them.
				step("delete", "domecf:index:QueueConsumer", "old-jobs", map[string]any{"scriptName": "ai-processor-dev"}),
				step("delete", "cloudflare:index/workersRoute:WorkersRoute", "dome.example/old/*", map[string]any{"scriptName": "dome-api-dev"}),
				step("delete", "cloudflare:index/workersCronTrigger:WorkersCronTrigger", "dome-notify", nil),
				// Turned off workers.dev.
				step("update", "domecf:index:WorkerScript", "dome-notify", map[string]any{"workersDev": true}),
				step("delete", "cloudflare:index/queue:Queue", "old-jobs", map[string]any{"name": "old-jobs-dev"}),
				step("delete", "cloudflare:index/workersKvNamespace:WorkersKvNamespace", "sessions", map[string]any{"title": "sessions-dev"}),
			}},
			nodes: map[string]Change{
				"queue:old-jobs":                      Deleted,
				"kv:sessions":                         Deleted,
				"route:dome-api/dome.example/old/*":   Deleted,
				"cron:dome-notify/cron triggers":      Deleted,
				"worker:dome-notify":                  Updated,
				"workers_dev:dome-notify/workers.dev": Deleted,
			},
			edges: map[config.Edge]Change{
				{From: "queue:old-jobs", To: "worker:ai-processor", Kind: config.EdgeConsumer}:                  Deleted,
				{From: "route:dome-api/dome.example/old/*", To: "worker:dome-api", Kind: config.EdgeEntry}:      Deleted,
				{From: "cron:dome-notify/cron triggers", To: "worker:dome-notify", Kind: config.EdgeCron}:       Deleted,
				{From: "workers_dev:dome-notify/workers.dev", To: "worker:dome-notify", Kind: config.EdgeEntry}: Deleted,
			},
			added: []config.Node{
				{Kind: config.NodeQueue, Name: "old-jobs", Physical: "old-jobs-dev"},
				{Kind: config.NodeKV, Name: "sessions", Physical: "sessions-dev"},
				{Kind: config.NodeRoute, Name: "dome.example/old/*", Worker: "dome-api"},
				{Kind: config.NodeCron, Name: "cron triggers", Worker: "dome-notify"},
				{Kind: config.NodeWorkersDev, Name: "workers.dev", Worker: "dome-notify"},
			},
			mermaid: []string{
				"  classDef deleted fill:#fde2e1,stroke:#c92a2a,color:#202124,stroke-width:2px,stroke-dasharray:5 3\n",
				`    queue_old_jobs[["old-jobs-dev<br/><small>queue</small>"]]`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := graph(t, "../..", "dev")
			p := New(g, tt.preview)
			require.Equal(t, g.Nodes, p.Nodes[:len(g.Nodes)])
			require.Equal(t, tt.added, append([]config.Node(nil), p.Nodes[len(g.Nodes):]...))
			for _, n := range p.Nodes {
				require.Equal(t, tt.nodes[n.ID()], p.NodeChange(n.ID()), n.ID())
			}
			for i, e := range p.Edges {
				require.Equal(t, tt.edges[e], p.EdgeChange(i), "%+v", e)
				_, from := p.Node(e.From)
				_, to := p.Node(e.To)
				require.True(t, from && to, "%+v ties two nodes of the picture", e)
			}
			mermaid := Mermaid(p)
			for _, want := range tt.mermaid {
				require.Contains(t, mermaid, want)
			}
			// Unchanged parts stay, faded, for context.
			require.Contains(t, mermaid, "  classDef unchanged fill:#fafafa,stroke:#d0d0d0,color:#9a9a9a\n")
			require.Contains(t, mermaid, "worker_constellation")
		})
	}
}

func TestReadPreview(t *testing.T) {
	tests := []struct {
		name, json string
		ops        []string // of the steps kept
		err        string
	}{
		{
			name: "only changes are kept, a replacement's halves included",
			json: `{"steps": [{"op": "same", "urn": "a"}, {"op": "read", "urn": "b"}, {"op": "create-replacement", "urn": "c"}, {"op": "delete-replaced", "urn": "d"}, {"op": "delete", "urn": "e"}]}`,
			ops:  []string{"create-replacement", "delete-replaced", "delete"},
		},
		{
			name: "a failed preview is refused with the engine's errors",
			json: `{"steps": [{"op": "create", "urn": "a"}], "diagnostics": [{"severity": "warning", "message": "slow"}, {"severity": "error", "message": "refusing to delete D1 database \"silo\"\n"}]}`,
			err:  "the preview failed, so its changes are not all known:\n  refusing to delete D1 database \"silo\"",
		},
		{
			name: "not the engine's JSON",
			json: "+ pulumi preview",
			err:  "reading the preview (the JSON of pulumi preview --json): invalid character '+'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPreview(strings.NewReader(tt.json))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			var ops []string
			for _, s := range p.Steps {
				ops = append(ops, s.Op)
			}
			require.Equal(t, tt.ops, ops)
		})
	}
}

func TestStepURN(t *testing.T) {
	s := Step{URN: "urn:pulumi:dev::dome::pulumi:pulumi:Stack$domecf:index:R2EventNotification::silo-content/silo-content-uploaded"}
	require.Equal(t, "domecf:index:R2EventNotification", s.Type(), "the parents' types are not the resource's")
	require.Equal(t, "silo-content/silo-content-uploaded", s.Name())
	require.True(t, s.Drawn())
	require.False(t, Step{URN: "urn:pulumi:dev::dome::pulumi:providers:cloudflare::cloudflare"}.Drawn())
}

// The report CI shows: the changes counted, the picture, and every change,
// those the picture does not draw included.
func TestMarkdown(t *testing.T) {
	g := graph(t, "../..", "dev")
	require.Equal(t, "### Topology of `dev`\n\n```mermaid\n"+Mermaid(New(g, nil))+"```\n", Markdown(New(g, nil)))

	p := New(g, &Preview{Steps: []Step{
		step("create", "domecf:index:WorkerScript", "dome-notify", nil),
		step("update", "pulumi:providers:cloudflare", "cloudflare", nil),
	}})
	report := Markdown(p)
	require.True(t, strings.HasPrefix(report, "### Topology of `dev`: 1 to create, 1 to update, 0 to replace, 0 to delete\n\n```mermaid\n"), report)
	require.True(t, strings.HasSuffix(report, "```\n\nGreen: created; yellow: updated; orange: replaced; red, dashed: deleted; grey: unchanged.\n\n"+
		"| change | resource | type |\n|---|---|---|\n"+
		"| created | `dome-notify` | `domecf:index:WorkerScript` |\n"+
		"| updated | `cloudflare` | `pulumi:providers:cloudflare` |\n"), report)

	require.Contains(t, Markdown(New(g, &Preview{})), "The preview changes nothing.\n")
}

// The SVG at Dome's real size (8 workers, 45 bindings) and at dev's is
// well-formed and names every worker, queue, database and bucket by its
// physical name.
func TestSVG(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed (apt-get install graphviz): the SVG is not checked; the Mermaid text is")
	}
	for _, tt := range []struct{ dir, stack string }{{"../..", "dev"}, {"testdata/large", "dev"}} {
		t.Run(tt.dir, func(t *testing.T) {
			g := graph(t, tt.dir, tt.stack)
			svg, err := SVG(context.Background(), New(g, nil))
			require.NoError(t, err)
			texts := svgText(t, svg)
			named := 0
			for _, n := range g.Nodes {
				switch n.Kind {
				case config.NodeWorker, config.NodeQueue, config.NodeD1, config.NodeR2:
					require.Contains(t, texts, n.Physical)
					named++
				}
			}
			require.Positive(t, named)
		})
	}
	binds := 0
	for _, e := range graph(t, "testdata/large", "dev").Edges {
		if e.Label != "" {
			binds++
		}
	}
	require.Equal(t, 45, binds, "the large fixture is Dome's real size")
}

// svgText parses the SVG, failing on malformed XML, and returns the text
// it writes.
func svgText(t *testing.T, svg []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	// dot writes the XML declaration and the SVG 1.1 DOCTYPE; neither needs fetching.
	dec.Strict = true
	var texts []string
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		}
	}
	require.NotEmpty(t, texts)
	return texts
}

func TestSVGWithoutDot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := SVG(context.Background(), New(graph(t, "../..", "dev"), nil))
	require.ErrorIs(t, err, ErrNoDot)
	require.ErrorContains(t, err, "apt-get install graphviz")
}
