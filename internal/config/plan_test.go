package config

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckSize: a bundle Cloudflare would refuse is refused first, with
// its size, the limit and the fix.
func TestCheckSize(t *testing.T) {
	tests := []struct {
		name   string
		worker string
		size   int64
		want   string // "" when the bundle fits
	}{
		{name: "at the limit", worker: "api", size: 64 * mib},
		{
			name: "over the limit", worker: "api", size: 64*mib + 1,
			want: `worker "api": bundle is 64.01 MiB, over Cloudflare's 64 MiB limit for a worker's code (every plan); shrink it: minify: true under the worker in Pulumi.yaml (dome:topology.workers[api].minify), lighter dependencies, static data in KV or R2 instead of the code`,
		},
		{
			name: "over the limit, already minified", worker: "store", size: 70 * mib,
			want: `worker "store": bundle is 70 MiB, over Cloudflare's 64 MiB limit for a worker's code (every plan); shrink it: lighter dependencies, static data in KV or R2 instead of the code`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Stack: "test", Plan: PlanFree, Topology: Topology{Workers: []Worker{{Name: "api"}, {Name: "store", Minify: true}}}}
			err := c.CheckSize(tt.worker, tt.size)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
		})
	}
}

// TestValidatePlan: a topology the stack's plan cannot hold is refused
// with the count, the plan's limit and the fix; the same topology passes
// on the plan that holds it.
func TestValidatePlan(t *testing.T) {
	workers := func(n int, each func(*Worker)) []Worker {
		ws := make([]Worker, n)
		for i := range ws {
			ws[i].Name = fmt.Sprintf("w%d", i)
			if each != nil {
				each(&ws[i])
			}
		}
		return ws
	}
	vars := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("V%d", i)] = "x"
		}
		return m
	}
	tests := []struct {
		name    string
		plan    Plan
		workers []Worker
		want    []string
	}{
		{name: "free plan within its limits", plan: PlanFree, workers: workers(100, func(w *Worker) { w.Vars = vars(62) })},
		{
			name: "more workers than the free plan allows", plan: PlanFree, workers: workers(101, nil),
			want: []string{"dome:topology.workers: declares 101 workers, over the 100 of Cloudflare's free plan (dome:plan: free); merge workers that need not deploy apart; or, on Workers Paid, set dome:plan: paid in Pulumi.test.yaml"},
		},
		{
			name: "more variables than a free worker may have", plan: PlanFree,
			workers: workers(1, func(w *Worker) { w.Vars, w.Secrets = vars(60), map[string]string{"A": "a", "B": "b", "C": "c"} }),
			want:    []string{"dome:topology.workers[w0]: has 65 environment variables (60 vars, 3 secrets and the program's 2), over the 64 per worker of Cloudflare's free plan (dome:plan: free); move settings into a KV namespace or a single JSON var; or, on Workers Paid, set dome:plan: paid in Pulumi.test.yaml"},
		},
		{
			name: "more cron triggers than the free plan allows", plan: PlanFree,
			workers: workers(3, func(w *Worker) { w.Crons = []string{"0 * * * *", "30 * * * *"} }),
			want:    []string{"dome:topology.workers: declares 6 cron triggers in all, over the 5 per account of Cloudflare's free plan (dome:plan: free); let one scheduled worker dispatch the others' jobs; or, on Workers Paid, set dome:plan: paid in Pulumi.test.yaml"},
		},
		{
			name: "the same topologies on the paid plan", plan: PlanPaid,
			workers: workers(101, func(w *Worker) { w.Vars, w.Crons = vars(70), []string{"0 * * * *", "30 * * * *"} }),
		},
		{
			name: "more than the paid plan allows", plan: PlanPaid,
			workers: workers(501, func(w *Worker) { w.Vars = vars(127) }),
			want: append([]string{"dome:topology.workers: declares 501 workers, over the 500 of Cloudflare's paid plan (dome:plan: paid); merge workers that need not deploy apart"},
				"dome:topology.workers[w0]: has 129 environment variables (127 vars, 0 secrets and the program's 2), over the 128 per worker of Cloudflare's paid plan (dome:plan: paid); move settings into a KV namespace or a single JSON var"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Stack: "test", Plan: tt.plan, Topology: Topology{Workers: tt.workers}}
			var ps Problems
			c.validatePlan(&ps)
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if len(got) > 2 {
				got = got[:2] // one worker's problem stands for all of them
			}
			require.Equal(t, tt.want, got)
		})
	}
}
