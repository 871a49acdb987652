package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/domecf"
)

// chains is a generated topology of workers in service-binding chains:
// width chains, each depth workers long, every worker bound to the one
// before it in its chain.
func chains(baseURL string, width, depth int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, baseURL)
		if err != nil {
			return err
		}
		for c := 0; c < width; c++ {
			var prev *domecf.WorkerScript
			for d := 0; d < depth; d++ {
				name := fmt.Sprintf("w-%d-%d", c, d)
				args := domecf.WorkerScriptArgs{
					Name:              pulumi.String(name),
					Content:           workerCode("export default { fetch() { return new Response('" + name + "'); } };"),
					CompatibilityDate: "2025-04-15",
					WorkersDev:        &domecf.WorkersDev{}, // as the program sends it
				}
				if prev != nil {
					args.Bindings = []domecf.Binding{{Type: "service", Name: "PREV", Service: prev.Name}}
				}
				if prev, err = domecf.NewWorkerScript(ctx, name, args, use); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// timedCLI times each `pulumi up` it runs, from the command's start to its
// exit: what a user running it waits. The automation API follows each up
// with two more commands (the stack's outputs, its history), which no user
// of the recipes waits for.
type timedCLI struct {
	auto.PulumiCommand
	up time.Duration
}

func (c *timedCLI) Run(ctx context.Context, dir string, stdin io.Reader, out, errOut []io.Writer, env []string, args ...string) (string, string, int, error) {
	start := time.Now()
	stdout, stderr, code, err := c.PulumiCommand.Run(ctx, dir, stdin, out, errOut, env, args...)
	if slices.Contains(args, "up") {
		c.up = time.Since(start)
	}
	return stdout, stderr, code, err
}

// BenchmarkDeployLatency deploys a generated topology on the real engine
// with the emulator adding a fixed latency to every request, and compares
// the wall time of `pulumi up` with the ideal: the longest dependency
// chain times the latency of the calls each resource makes in turn (a
// worker create is a GET, a PUT, then its workers.dev setting's POST).
// The engine's fixed start-up cost, measured by the same deploy without
// latency, is also taken out to show the latency-bound part alone.
func BenchmarkDeployLatency(b *testing.B) {
	const (
		width, depth   = 8, 3
		latency        = time.Second
		callsPerCreate = 3
	)
	deploy := func(lat time.Duration) time.Duration {
		emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(emu)
		defer srv.Close()
		if lat > 0 {
			emu.Inject(cfemu.Fault{Latency: lat})
		}
		cli := &timedCLI{PulumiCommand: pulumiCLI(b)}
		e := newEngineOn(b, cli, "bench", chains(srv.URL+"/client/v4", width, depth), nil)
		if changes := e.up(); changes["create"] != width*depth+2 {
			b.Fatalf("created %v", changes)
		}
		return cli.up
	}
	for b.Loop() {
		base := deploy(0)
		wall := deploy(latency)
		ideal := time.Duration(depth*callsPerCreate) * latency
		ratio := float64(wall) / float64(ideal)
		bound := float64(wall-base) / float64(ideal)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(base.Seconds(), "no-latency-s")
		b.ReportMetric(ideal.Seconds(), "ideal-s")
		b.ReportMetric(ratio, "x-ideal")
		b.ReportMetric(bound, "latency-x-ideal")
		b.Logf("%d workers in %d chains of %d, %v per request: wall %v (%.2fx the ideal %v); without latency %v, so the latency-bound part is %.2fx the ideal",
			width*depth, width, depth, latency, wall.Round(time.Millisecond), ratio, ideal, base.Round(time.Millisecond), bound)
	}
}

// BenchmarkBudgetedDeploy deploys 300 and 1,000 workers on the real engine
// against an emulator that enforces Cloudflare's own budget (1,200 calls
// per 5 minutes), with the companion at its default budget, and prints the
// wall time against the budget's floor (each full window of calls after
// the first waits for the one before it; under one window, the floor is
// the same deploy with no budget) and the 429s met. The 1,000-worker run
// takes over ten minutes: Cloudflare's window is the cost.
func BenchmarkBudgetedDeploy(b *testing.B) {
	for _, workers := range []int{300, 1000} {
		b.Run(fmt.Sprintf("%d-workers", workers), func(b *testing.B) {
			deploy := func(limit cfemu.RateLimit, budget string) (time.Duration, int, int) {
				env := newEmulated(b, cfemu.Config{RateLimit: limit}, nil)
				e := newEngine(b, "dev", fleetProgram(fleet(workers, 0), env.api.URL+"/client/v4"), map[string]string{cfapi.EnvBudget: budget})
				start := time.Now()
				if _, err := e.stack.Up(context.Background()); err != nil {
					b.Fatalf("up: %v", err)
				}
				wall := time.Since(start)
				limited := 0
				for _, r := range env.emu.Requests() {
					if r.Status == http.StatusTooManyRequests {
						limited++
					}
				}
				return wall, len(env.emu.Requests()) - limited, limited
			}
			for b.Loop() {
				free, _, _ := deploy(cfemu.RateLimit{}, "100000000/1s")
				wall, calls, limited := deploy(cfemu.CloudflareRateLimit, cfapi.DefaultBudget.String())
				n, w := cfemu.CloudflareRateLimit.Requests, cfemu.CloudflareRateLimit.Window
				floor := max(free, time.Duration((calls+n-1)/n-1)*w)
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(floor.Seconds(), "floor-s")
				b.ReportMetric(float64(wall)/float64(floor), "x-floor")
				b.ReportMetric(float64(limited), "429s")
				b.Logf("%d workers: %d calls at %d per %s; wall %s against the floor %s (%.2fx; with no budget %s); %d answered 429",
					workers, calls, n, w, wall.Round(time.Millisecond), floor.Round(time.Millisecond), float64(wall)/float64(floor), free.Round(time.Millisecond), limited)
			}
		})
	}
}
