package main

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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

// BenchmarkDeployLatency deploys a generated topology on the real engine
// with the emulator adding a fixed latency to every request, and compares
// the wall time with the ideal: the longest dependency chain times the
// latency of the calls each resource makes in turn (a worker create is a
// GET then a PUT). Parallelism must keep the wall time within 1.5x of the
// ideal; the engine's fixed start-up cost, measured by the same deploy
// without latency, is also taken out to show the latency-bound part alone.
func BenchmarkDeployLatency(b *testing.B) {
	const (
		width, depth   = 8, 3
		latency        = time.Second
		callsPerCreate = 2
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
		e := newEngine(b, "bench", chains(srv.URL+"/client/v4", width, depth), nil)
		start := time.Now()
		changes := e.up()
		took := time.Since(start)
		if changes["create"] != width*depth+2 {
			b.Fatalf("created %v", changes)
		}
		return took
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
