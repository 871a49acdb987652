package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckSize: a bundle Cloudflare would refuse for the stack's plan is
// refused first, with its size, the limit and the fix.
func TestCheckSize(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name          string
		plan          Plan
		worker        string
		size, gzipped int64
		want          string // "" when the bundle fits
	}{
		{name: "within the free limit", plan: PlanFree, worker: "api", size: 9 * mib, gzipped: 3 * mib},
		{
			name: "over the free limit, within paid", plan: PlanFree, worker: "api", size: 9 * mib, gzipped: 3*mib + 419430,
			want: `worker "api": bundle is 3.40 MiB gzip-compressed, over the 3 MiB limit of Cloudflare's free plan (dome:plan: free); shrink it: minify: true under the worker in Pulumi.yaml (dome:topology.workers[api].minify), lighter dependencies, static data in KV or R2 instead of the code; or, on Workers Paid, set dome:plan: paid in Pulumi.test.yaml`,
		},
		{
			name: "over both plans' limits, already minified", plan: PlanFree, worker: "store", size: 30 * mib, gzipped: 11 * mib,
			want: `worker "store": bundle is 11 MiB gzip-compressed, over the 3 MiB limit of Cloudflare's free plan (dome:plan: free); shrink it: lighter dependencies, static data in KV or R2 instead of the code`,
		},
		{name: "within the paid limit", plan: PlanPaid, worker: "api", size: 30 * mib, gzipped: 10 * mib},
		{
			name: "over the paid limit", plan: PlanPaid, worker: "api", size: 30 * mib, gzipped: 10*mib + 1,
			want: `worker "api": bundle is 10.01 MiB gzip-compressed, over the 10 MiB limit of Cloudflare's paid plan (dome:plan: paid); shrink it: minify: true under the worker in Pulumi.yaml (dome:topology.workers[api].minify), lighter dependencies, static data in KV or R2 instead of the code`,
		},
		{
			name: "over the uncompressed limit of every plan", plan: PlanPaid, worker: "api", size: 64*mib + 1, gzipped: 2 * mib,
			want: `worker "api": bundle is 64.01 MiB before compression, over Cloudflare's 64 MiB limit on every plan; shrink it: minify: true under the worker in Pulumi.yaml (dome:topology.workers[api].minify), lighter dependencies, static data in KV or R2 instead of the code`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Stack: "test", Plan: tt.plan, Topology: Topology{Workers: []Worker{{Name: "api"}, {Name: "store", Minify: true}}}}
			err := c.CheckSize(tt.worker, tt.size, tt.gzipped)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
		})
	}
}
