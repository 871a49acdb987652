package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

// generated returns the config of a synthetic Dome with n workers, each
// with a prebuilt bundle, a D1 and an R2 binding (one database and bucket
// per ten workers), a queue it produces to and a consumer of it, and a
// service binding to the previous worker in chains of ten.
func generated(tb testing.TB, n int) *config.Values {
	tb.Helper()
	dir := tb.TempDir()
	topo := config.Topology{Queues: []config.Queue{{Name: "dlq"}}}
	for i := 0; i <= n/10; i++ {
		topo.D1Databases = append(topo.D1Databases, config.Database{Name: fmt.Sprintf("db-%d", i)})
		topo.R2Buckets = append(topo.R2Buckets, config.Bucket{Name: fmt.Sprintf("bucket-%d", i)})
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("w-%d", i)
		require.NoError(tb, os.WriteFile(filepath.Join(dir, name+".js"), []byte(fmt.Sprintf("export default { fetch() { return new Response(%q); } };\n", name)), 0o644))
		queue := "q-" + name
		topo.Queues = append(topo.Queues, config.Queue{Name: queue})
		w := config.Worker{
			Name:              name,
			Main:              name + ".js",
			CompatibilityDate: "2025-04-15",
			Bindings: []config.Binding{
				{Type: config.BindD1, Name: "DB", Target: fmt.Sprintf("db-%d", i/10)},
				{Type: config.BindR2, Name: "BUCKET", Target: fmt.Sprintf("bucket-%d", i/10)},
				{Type: config.BindQueue, Name: "OUT", Target: queue},
				{Type: config.BindAI, Name: "AI"},
			},
			Vars:      map[string]string{"VERSION": "1"},
			Consumers: []config.Consumer{{Queue: queue, DeadLetterQueue: "dlq"}},
		}
		if i%10 != 0 {
			w.Bindings = append(w.Bindings, config.Binding{Type: config.BindService, Name: "PREV", Target: fmt.Sprintf("w-%d", i-1)})
		}
		topo.Workers = append(topo.Workers, w)
	}
	raw, err := json.Marshal(topo)
	require.NoError(tb, err)
	return &config.Values{Project: "dome", Dir: dir, Name: "dev", Secrets: map[string]bool{}, Config: map[string]string{
		"dome:environment":  "dev",
		"dome:servicesRoot": dir,
		"dome:topology":     string(raw),
	}}
}

// BenchmarkProgram runs the whole program under mocks on generated
// topologies and reports the cost per registered resource, which must stay
// flat as Dome grows: at 1,000 workers within 1.5x of the cost at 10.
func BenchmarkProgram(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			vals := generated(b, n)
			resources := 0
			for b.Loop() {
				d, err := runMocked(vals, testEnv, nil)
				if err != nil {
					b.Fatal(err)
				}
				resources = len(d.mocks.seen)
			}
			b.ReportMetric(float64(resources), "resources")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(resources), "ns/resource")
		})
	}
}

func TestGeneratedTopologyDeploys(t *testing.T) {
	d, err := runMocked(generated(t, 30), testEnv, nil)
	require.NoError(t, err)
	// 30 workers, 30 consumers, 31 queues, 4 databases, 4 buckets, 2
	// providers.
	require.Len(t, d.mocks.seen, 30+30+31+4+4+2)
}
