// Command cron runs a worker's scheduled handler now on the local
// emulator's runtime, as its cron trigger would: for the worker's first
// cron trigger, or the expression given. Cloudflare itself runs cron
// triggers only on their schedule, so only a stack whose apiHostname is
// the emulator can be asked.
//
//	go run ./cmd/cron [-dir DIR] -worker NAME [-cron EXPR] STACK
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/stackcmd"
)

func main() {
	cmd := stackcmd.New("cron", "cron [-dir DIR] -worker NAME [-cron EXPR] STACK")
	worker := cmd.String("worker", "", "the worker's logical name, as Pulumi.yaml names it")
	cron := cmd.String("cron", "", "the cron expression the handler sees (default: the worker's first cron trigger)")
	cmd.Run(func(ctx context.Context, dir, stack string) error {
		return run(ctx, os.Stdout, dir, stack, *worker, *cron)
	})
}

func run(ctx context.Context, w io.Writer, dir, stack, worker, cron string) error {
	cfg, err := config.LoadStack(dir, stack)
	if err != nil {
		return err
	}
	if cfg.APIHostname == "" {
		return fmt.Errorf("stack %s deploys to Cloudflare, which runs cron triggers only on their schedule; 'just cron' runs them on the local emulator (just cron local <worker>)", stack)
	}
	names := make([]string, len(cfg.Topology.Workers))
	for i, wk := range cfg.Topology.Workers {
		names[i] = wk.Name
	}
	if !slices.Contains(names, worker) {
		return fmt.Errorf("-worker %q: no such worker in Pulumi.yaml; use one of %v", worker, names)
	}
	client, err := cfg.Client()
	if err != nil {
		return err
	}
	physical := cfg.Name(worker)
	ran, err := client.RunScheduled(ctx, physical, cron)
	if err != nil {
		return fmt.Errorf("worker %q (%s): %w", worker, physical, err)
	}
	fmt.Fprintf(w, "ran the scheduled handler of %s (%s) for %q\n", worker, physical, ran.Cron)
	return nil
}
