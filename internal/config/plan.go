package config

import (
	"fmt"
	"math"
	"slices"
)

// Plan is the account's Workers plan, which sets how large a worker may be.
type Plan string

// Workers plans. Paid is the default: Dome uses Queues, which need it.
const (
	PlanFree Plan = "free"
	PlanPaid Plan = "paid"
)

var plans = []string{string(PlanFree), string(PlanPaid)}

// Cloudflare's Worker size limits (developers.cloudflare.com/workers/
// platform/limits/#worker-size): the upload after gzip compression may be
// 3 MB on Workers Free and 10 MB on Workers Paid, and 64 MB before
// compression on either. The API counts in MiB: it refuses a 3,218 KiB
// gzip upload on Free with "Your Worker exceeded the size limit of 3 MiB"
// (code 10027).
const (
	mib             = 1 << 20
	maxUncompressed = 64 * mib
)

var maxGzipped = map[Plan]int64{PlanFree: 3 * mib, PlanPaid: 10 * mib}

// CheckSize refuses a worker's bundle that Cloudflare would refuse at
// upload for this stack's plan, naming the size, the limit and the fix.
// size and gzipped are the code's bytes, before and after gzip.
func (c *Config) CheckSize(worker string, size, gzipped int64) error {
	shrink := "shrink it: lighter dependencies, static data in KV or R2 instead of the code"
	if i := slices.IndexFunc(c.Topology.Workers, func(w Worker) bool { return w.Name == worker }); i >= 0 && !c.Topology.Workers[i].Minify {
		shrink = fmt.Sprintf("shrink it: minify: true under the worker in Pulumi.yaml (%s.minify), lighter dependencies, static data in KV or R2 instead of the code", workerKey(worker))
	}
	if size > maxUncompressed {
		return fmt.Errorf("worker %q: bundle is %s before compression, over Cloudflare's %s limit on every plan; %s", worker, mibs(size), mibs(maxUncompressed), shrink)
	}
	limit := maxGzipped[c.Plan]
	if gzipped <= limit {
		return nil
	}
	msg := fmt.Sprintf("worker %q: bundle is %s gzip-compressed, over the %s limit of Cloudflare's %s plan (%s: %s); %s", worker, mibs(gzipped), mibs(limit), c.Plan, key(KeyPlan), c.Plan, shrink)
	if c.Plan == PlanFree && gzipped <= maxGzipped[PlanPaid] {
		msg += fmt.Sprintf("; or, on Workers Paid, set %s: %s in Pulumi.%s.yaml", key(KeyPlan), PlanPaid, c.Stack)
	}
	return fmt.Errorf("%s", msg)
}

// mibs formats n bytes in MiB, as Cloudflare states its limits: "3 MiB",
// "3.40 MiB". Hundredths round up, so a size just over a limit never
// reads as equal to it.
func mibs(n int64) string {
	if n%mib == 0 {
		return fmt.Sprintf("%d MiB", n/mib)
	}
	return fmt.Sprintf("%.2f MiB", math.Ceil(float64(n)*100/mib)/100)
}
