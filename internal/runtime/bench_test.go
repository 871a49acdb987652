package runtime

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// realSize pads a worker's source with code the bundle keeps and workerd
// compiles, to about the 190 KB of Dome's bundled workers: a one-line
// worker hides what a reload of real bundles costs.
func realSize(source string) string {
	var b strings.Builder
	b.WriteString(source)
	b.WriteString("\nexport const __table = [\n")
	for i := 0; b.Len() < 190_000; i++ {
		fmt.Fprintf(&b, "  (input: string) => input.split(%q).map((part, n) => part.length * %d + n).reduce((a, c) => a + c, 0),\n", strconv.Itoa(i%10), i)
	}
	b.WriteString("];\n")
	return b.String()
}

// domeTopology is Dome's 8 workers, in upload order: dome-api calls
// silo, which reads D1.
func domeTopology(dbID string, version int) []worker {
	out := []worker{
		{name: "silo", source: realSize(`
interface Env { DB: D1Database }
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const row = await env.DB.prepare("SELECT count(*) AS n FROM notes").first();
    return Response.json(row);
  },
};`), bindings: []map[string]any{{"type": "d1", "name": "DB", "id": dbID}}},
		{name: "dome-api", source: realSize(fmt.Sprintf(`
interface Env { SILO: Fetcher }
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const notes = await env.SILO.fetch("https://silo/notes");
    return new Response("v%d " + await notes.text());
  },
};`, version)), bindings: []map[string]any{{"type": "service", "name": "SILO", "service": "silo"}}},
	}
	for _, name := range []string{"constellation", "ai-processor", "dome-cron", "dome-notify", "dome-meta", "dome-auth"} {
		out = append(out, worker{name: name, source: realSize(fmt.Sprintf(`
export default { fetch(): Response { return new Response(%q); } };`, name))})
	}
	return out
}

// rss is the resident memory of a process and its descendants, in bytes.
func rss(pid int) int64 {
	var total int64
	pids := []int{pid}
	for len(pids) > 0 {
		p := pids[0]
		pids = pids[1:]
		status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if kb, found := strings.CutPrefix(line, "VmRSS:"); found {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				total += n * 1024
			}
		}
		children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p, p))
		for _, c := range strings.Fields(string(children)) {
			n, _ := strconv.Atoi(c)
			pids = append(pids, n)
		}
	}
	return total
}

// BenchmarkLocalDome measures what the issue names for a developer's local
// Dome: 8 workers of real size deployed through the API, then how soon
// they answer, how soon a code change is live, a request's latency through
// dome-api → silo → D1, and the runtime's resident memory.
func BenchmarkLocalDome(b *testing.B) {
	for range b.N {
		a := newAccount(b)
		var db struct {
			UUID string `json:"uuid"`
		}
		require.NoError(b, json.Unmarshal(a.must(http.MethodPost, "/d1/database", map[string]any{"name": "silo"}), &db))
		a.must(http.MethodPost, "/d1/database/"+db.UUID+"/query", map[string]any{"sql": "CREATE TABLE notes (id TEXT); INSERT INTO notes VALUES ('n1')"})

		start := time.Now()
		var uploads []time.Duration
		for _, w := range domeTopology(db.UUID, 1) {
			t0 := time.Now()
			require.NoError(b, a.upload(w))
			uploads = append(uploads, time.Since(t0))
		}
		deployed := time.Now()
		for _, w := range domeTopology(db.UUID, 1) {
			a.enableWorkersDev(w.name)
		}
		for _, w := range domeTopology(db.UUID, 1) {
			for {
				if status, _ := a.get(dev(w.name), "/"); status == http.StatusOK {
					break
				}
			}
		}
		answering := time.Since(deployed)

		// A code change: the upload's answer, then its first request.
		t0 := time.Now()
		require.NoError(b, a.upload(domeTopology(db.UUID, 2)[1]))
		uploaded := time.Since(t0)
		t1 := time.Now()
		_, body := a.get(dev("dome-api"), "/")
		require.True(b, strings.HasPrefix(body, "v2 "), body)
		live := time.Since(t1)

		var lat []time.Duration
		for range 200 {
			t0 := time.Now()
			status, body := a.get(dev("dome-api"), "/")
			lat = append(lat, time.Since(t0))
			require.Equal(b, http.StatusOK, status, body)
		}
		slices.Sort(lat)

		a.rt.mu.Lock()
		pid := a.rt.host.cmd.Process.Pid
		a.rt.mu.Unlock()
		mem := rss(pid)

		slices.Sort(uploads)
		b.ReportMetric(float64(deployed.Sub(start).Milliseconds()), "deploy-ms")
		b.ReportMetric(float64(uploads[len(uploads)/2].Milliseconds()), "upload-p50-ms")
		b.ReportMetric(float64(answering.Milliseconds()), "all-answering-after-deploy-ms")
		b.ReportMetric(float64(uploaded.Milliseconds()), "change-upload-ms")
		b.ReportMetric(float64(live.Microseconds())/1000, "change-live-after-answer-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "api-silo-d1-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "api-silo-d1-p99-ms")
		b.ReportMetric(float64(mem)/(1<<20), "runtime-rss-MiB")
	}
}
