package config

import (
	"fmt"
	"math"
	"slices"
)

// Plan is the account's Workers plan, which sets how many workers, vars
// and cron triggers a stack may have.
type Plan string

// Workers plans. Paid is the default: Dome uses Queues, which need it.
const (
	PlanFree Plan = "free"
	PlanPaid Plan = "paid"
)

var plans = []string{string(PlanFree), string(PlanPaid)}

// planLimits are Cloudflare's per-plan limits that a stack's configuration
// alone can break (developers.cloudflare.com/workers/platform/limits/).
// Workers and cron triggers are counted per account there; a stack can
// only count its own, so an account that holds several stacks can still
// hit them.
type planLimits struct {
	workers, varsPerWorker, cronTriggers int
}

var limits = map[Plan]planLimits{
	PlanFree: {workers: 100, varsPerWorker: 64, cronTriggers: 5},
	PlanPaid: {workers: 500, varsPerWorker: 128, cronTriggers: 250},
}

// maxWorkerSize is Cloudflare's limit on a worker's code, before
// compression, on every plan. Until 2026-09-04 the limit was on the
// gzip-compressed upload and differed by plan (3 MiB free, 10 MiB paid);
// Cloudflare then dropped it for this one (Workers changelog, "increased
// Worker size limit"). The source map does not count.
const (
	mib           = 1 << 20
	maxWorkerSize = 64 * mib
)

// CheckSize refuses a worker's bundle of size bytes that Cloudflare would
// refuse at upload, naming the size, the limit and the fix.
func (c *Config) CheckSize(worker string, size int64) error {
	if size <= maxWorkerSize {
		return nil
	}
	shrink := "shrink it: lighter dependencies, static data in KV or R2 instead of the code"
	if i := slices.IndexFunc(c.Topology.Workers, func(w Worker) bool { return w.Name == worker }); i >= 0 && !c.Topology.Workers[i].Minify {
		shrink = fmt.Sprintf("shrink it: minify: true under the worker in Pulumi.yaml (%s.minify), lighter dependencies, static data in KV or R2 instead of the code", workerKey(worker))
	}
	return fmt.Errorf("worker %q: bundle is %s, over Cloudflare's %s limit for a worker's code (every plan); %s", worker, mibs(size), mibs(maxWorkerSize), shrink)
}

// validatePlan checks the topology against the stack's plan.
func (c *Config) validatePlan(ps *Problems) {
	l, ok := limits[c.Plan]
	if !ok {
		return // an unknown plan is reported on its own
	}
	upgrade := ""
	if c.Plan == PlanFree {
		upgrade = fmt.Sprintf("; or, on Workers Paid, set %s: %s in Pulumi.%s.yaml", key(KeyPlan), PlanPaid, c.Stack)
	}
	t := c.Topology
	if n := len(t.Workers); n > l.workers {
		ps.add(key(KeyTopology)+".workers", "declares %d workers, over the %d of Cloudflare's %s plan (%s: %s); merge workers that need not deploy apart%s", n, l.workers, c.Plan, key(KeyPlan), c.Plan, upgrade)
	}
	crons := 0
	for _, w := range t.Workers {
		crons += len(w.Crons)
		if n := len(ReservedVars) + len(w.Vars) + len(w.Secrets); n > l.varsPerWorker {
			ps.add(workerKey(w.Name), "has %d environment variables (%d vars, %d secrets and the program's %d), over the %d per worker of Cloudflare's %s plan (%s: %s); move settings into a KV namespace or a single JSON var%s",
				n, len(w.Vars), len(w.Secrets), len(ReservedVars), l.varsPerWorker, c.Plan, key(KeyPlan), c.Plan, upgrade)
		}
	}
	if crons > l.cronTriggers {
		ps.add(key(KeyTopology)+".workers", "declares %d cron triggers in all, over the %d per account of Cloudflare's %s plan (%s: %s); let one scheduled worker dispatch the others' jobs%s", crons, l.cronTriggers, c.Plan, key(KeyPlan), c.Plan, upgrade)
	}
}

// mibs formats n bytes in MiB, as Cloudflare states its limits: "64 MiB",
// "64.01 MiB". Hundredths round up, so a size just over a limit never
// reads as equal to it.
func mibs(n int64) string {
	if n%mib == 0 {
		return fmt.Sprintf("%d MiB", n/mib)
	}
	return fmt.Sprintf("%.2f MiB", math.Ceil(float64(n)*100/mib)/100)
}
