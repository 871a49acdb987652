// Package workers bundles and uploads Dome's workers with their
// workers.dev setting (companion provider, which knows every binding type)
// and sets their cron triggers (official provider).
package workers

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/bundle"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Worker is an uploaded worker and what the stack reports about it.
type Worker struct {
	Script       *domecf.WorkerScript
	Crons        *cloudflare.WorkersCronTrigger // nil without crons
	BundleSHA256 string
	Bindings     []string // binding names, in upload order
}

// Create uploads every worker, keyed by logical name. Workers are
// registered in config.Order, so each service binding's target exists (and
// its name output is known) before the worker that binds it; everything
// else about a worker waits only on the resources it actually binds.
func Create(ctx *pulumi.Context, cfg *config.Config, res bindings.Resources, opts ...pulumi.ResourceOption) (map[string]*Worker, error) {
	ordered, err := config.Order(cfg.Topology.Workers)
	if err != nil {
		return nil, err
	}
	mods, err := bundle.Workers(cfg, ordered)
	if err != nil {
		return nil, err
	}
	res.Workers = make(map[string]*domecf.WorkerScript, len(ordered))
	out := make(map[string]*Worker, len(ordered))
	for i, w := range ordered {
		mod := mods[i]
		binds, err := bindings.Resolve(cfg, w, res)
		if err != nil {
			return nil, err
		}
		script, err := domecf.NewWorkerScript(ctx, w.Name, domecf.WorkerScriptArgs{
			Name:               pulumi.String(cfg.Name(w.Name)),
			MainModule:         "index.js",
			Content:            domecf.Code{File: mod.File, SHA256: mod.SHA256},
			CompatibilityDate:  w.CompatibilityDate,
			CompatibilityFlags: w.CompatibilityFlags,
			Bindings:           binds,
			Observability: &domecf.Observability{
				Enabled:          cfg.Observability.Enabled,
				HeadSamplingRate: cfg.Observability.HeadSamplingRate,
			},
			Logpush:    w.Logpush,
			Placement:  w.Placement,
			Tags:       w.Tags,
			Migrations: migrations(w.Migrations),
			SourceMap:  sourceMap(mod),
			// Always sent, off included, so a script that wrangler left
			// on workers.dev is turned off unless the config asks for it.
			WorkersDev: &domecf.WorkersDev{Enabled: w.WorkersDev, Previews: w.PreviewURLs},
		}, append(opts, schemaFirst(w, res))...)
		if err != nil {
			return nil, fmt.Errorf("worker %q: %w", w.Name, err)
		}
		res.Workers[w.Name] = script

		worker := &Worker{Script: script, BundleSHA256: mod.SHA256}
		for _, b := range binds {
			worker.Bindings = append(worker.Bindings, b.Name)
		}
		if len(w.Crons) > 0 {
			worker.Crons, err = cloudflare.NewWorkersCronTrigger(ctx, w.Name, &cloudflare.WorkersCronTriggerArgs{
				AccountId:  pulumi.String(cfg.AccountID),
				ScriptName: script.Name,
				Schedules:  pulumi.ToStringArray(w.Crons),
			}, opts...)
			if err != nil {
				return nil, fmt.Errorf("worker %q: cron triggers: %w", w.Name, err)
			}
		}
		out[w.Name] = worker
	}
	return out, nil
}

// schemaFirst makes a worker wait for the schema migrations of every
// database it binds, so new code never meets an old schema.
func schemaFirst(w config.Worker, res bindings.Resources) pulumi.ResourceOption {
	var deps []pulumi.Resource
	for _, b := range w.Bindings {
		if m, ok := res.Migrations[b.Target]; ok && b.Type == config.BindD1 {
			deps = append(deps, m)
		}
	}
	return pulumi.DependsOn(deps)
}

// sourceMap is the bundle's map, nil (no map part) without one.
func sourceMap(mod bundle.Module) *domecf.Code {
	if mod.MapFile == "" {
		return nil
	}
	return &domecf.Code{File: mod.MapFile, SHA256: mod.MapSHA256}
}

func migrations(steps config.Migrations) []domecf.Migration {
	out := make([]domecf.Migration, 0, len(steps))
	for _, m := range steps {
		step := domecf.Migration{
			Tag:              m.Tag,
			OldTag:           m.OldTag,
			NewClasses:       m.NewClasses,
			NewSqliteClasses: m.NewSqliteClasses,
			DeletedClasses:   m.DeletedClasses,
		}
		for _, r := range m.RenamedClasses {
			step.RenamedClasses = append(step.RenamedClasses, domecf.RenamedClass{From: r.From, To: r.To})
		}
		out = append(out, step)
	}
	return out
}
