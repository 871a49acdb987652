// Command dome is the Pulumi program that builds Dome's Cloudflare
// infrastructure for one stack: it reads the stack's config, validates all
// of it, creates each kind of resource, wires them into the workers'
// bindings and exports what CI reads.
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/databases"
	"github.com/dome/infra/internal/deletion"
	"github.com/dome/infra/internal/domecf"
	"github.com/dome/infra/internal/entrypoints"
	"github.com/dome/infra/internal/fresh"
	"github.com/dome/infra/internal/kv"
	"github.com/dome/infra/internal/queues"
	"github.com/dome/infra/internal/schemacheck"
	"github.com/dome/infra/internal/storage"
	"github.com/dome/infra/internal/vectorize"
	"github.com/dome/infra/internal/workers"
)

func main() {
	// Pulumi runs the prebuilt bin/dome (Pulumi.yaml's runtime.options.binary):
	// it must never run code older than the tree it is started in.
	if err := fresh.Ensure("."); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	pulumi.Run(func(ctx *pulumi.Context) error {
		if err := config.LoadDotEnv(ctx.RootDirectory(), ctx.Stack()); err != nil {
			return err
		}
		outs, err := run(ctx, os.Getenv)
		if err != nil {
			return err
		}
		for name, value := range outs {
			ctx.Export(name, value)
		}
		return nil
	})
}

// run is the whole program, returning the stack outputs. The environment is
// passed in so tests can run it under mocks without touching the process's
// variables, and can read the outputs, which mocks do not record.
func run(ctx *pulumi.Context, getenv func(string) string) (pulumi.Map, error) {
	cfg, err := config.Load(config.WithFiles(ctx), getenv, config.CheckSchema(schemacheck.Run))
	if err != nil {
		return nil, err
	}
	if err := guardDeletions(ctx, cfg, getenv); err != nil {
		return nil, err
	}
	providers, cf, err := newProviders(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// Zones are resolved first: a zone the account lacks fails the preview
	// before anything is created.
	zones, err := entrypoints.LookupZones(ctx, cfg, pulumi.Provider(cf))
	if err != nil {
		return nil, err
	}
	// In prod every resource is protected: the engine checks protection only
	// as it reaches each delete, so a bare `pulumi destroy` or an up that
	// drops a worker would otherwise take the workers, routes and consumers
	// down before it stopped at the first protected database. Nothing is
	// deleted or replaced until someone unprotects that one resource.
	owned := pulumi.Composite(providers, pulumi.Protect(cfg.Protect))

	res := bindings.Resources{}
	if res.Databases, err = databases.Create(ctx, cfg, owned); err != nil {
		return nil, err
	}
	if res.Migrations, err = databases.Migrate(ctx, cfg, res.Databases, owned); err != nil {
		return nil, err
	}
	if res.Buckets, err = storage.Create(ctx, cfg, owned); err != nil {
		return nil, err
	}
	if res.Namespaces, err = kv.Create(ctx, cfg, owned); err != nil {
		return nil, err
	}
	if res.Queues, err = queues.Create(ctx, cfg, owned); err != nil {
		return nil, err
	}
	if res.Indexes, err = vectorize.Create(ctx, cfg, owned); err != nil {
		return nil, err
	}
	if _, err = storage.Notify(ctx, cfg, res.Buckets, res.Queues, owned); err != nil {
		return nil, err
	}
	ws, err := workers.Create(ctx, cfg, res, owned)
	if err != nil {
		return nil, err
	}
	scripts := make(map[string]*domecf.WorkerScript, len(ws))
	entries := make(map[string]*entrypoints.Entry, len(ws))
	for _, w := range cfg.Topology.Workers {
		scripts[w.Name] = ws[w.Name].Script
		if entries[w.Name], err = entrypoints.Create(ctx, cfg, w, ws[w.Name].Script, zones, owned); err != nil {
			return nil, err
		}
	}
	consumers, err := queues.Consume(ctx, cfg, res.Queues, scripts, owned)
	if err != nil {
		return nil, err
	}
	return outputs(cfg, res, ws, entries, consumers), nil
}

// guardDeletions fails the run, before any resource is registered, when
// the configuration would delete or replace a stateful resource the stack
// holds and DOME_ALLOW_DELETE does not name it. What the stack holds is read
// from its state through the engine's readStackResourceOutputs: every
// resource, however it got there, with any backend, in a plain `pulumi
// preview` too. Being an invoke, not a resource, the read leaves nothing in
// state for a refresh to find changed or a preview to print.
func guardDeletions(ctx *pulumi.Context, cfg *config.Config, getenv func(string) string) error {
	org := ctx.Organization()
	if org == "" {
		org = "organization" // the file backend's
	}
	var state struct {
		Outputs map[string]any `pulumi:"outputs"`
	}
	args := map[string]any{"stackName": org + "/" + ctx.Project() + "/" + ctx.Stack()}
	// The read races the engine's first save of the deploy, and a file
	// backend read while it writes the checkpoint's metadata in place fails
	// with "failed to load checkpoint: EOF"; the save is over in
	// milliseconds.
	var err error
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		_, err = ctx.InvokePackageRaw("pulumi:pulumi:readStackResourceOutputs", args, &state, "")
		if err == nil || !strings.Contains(err.Error(), "failed to load checkpoint") || wait > time.Second {
			break
		}
		time.Sleep(wait)
	}
	if err != nil {
		return fmt.Errorf("reading what this stack's state holds: %w", err)
	}
	held := deletion.Held(state.Outputs)
	if err := guardRetired(held, cfg, ctx.Stack()); err != nil {
		return err
	}
	return deletion.Check(held, cfg, getenv(config.EnvAllowDelete))
}

// guardRetired stops a protected stack that still holds resources of a
// retired type: the deploy would drop them from the state only after every
// update, and then fail on their protection. Dropping them changes
// nothing in Cloudflare, and `just recover` does it.
func guardRetired(held []deletion.Resource, cfg *config.Config, stack string) error {
	if !cfg.Protect {
		return nil // the deploy drops them itself
	}
	var names []string
	for _, r := range held {
		if slices.Contains(domecf.Retired, r.Type) {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	count := fmt.Sprintf("%d resources", len(names))
	if len(names) == 1 {
		count = "1 resource"
	}
	return fmt.Errorf("stack %s holds %s of a type the program no longer registers (%s: %s): each worker's workers.dev setting is its script's own now. "+
		"Protected, they cannot be dropped by a deploy: run 'just recover %s', which drops them from the state and changes nothing in Cloudflare, then deploy again",
		stack, count, strings.Join(domecf.Retired, ", "), strings.Join(names, ", "), stack)
}

// The official provider's retry settings: attempts after the first, and
// the shortest and longest wait between them, in seconds.
const (
	officialRetries    = 6
	officialMinBackoff = 1
	officialMaxBackoff = 2
)

// newProviders creates explicit instances of both providers, so the token
// loaded from .env.<stack> reaches them (as a Pulumi secret, encrypted in
// state) and one setting points both at another API such as the emulator.
// The official provider is also returned alone, for invokes.
func newProviders(ctx *pulumi.Context, cfg *config.Config) (pulumi.ResourceOption, *cloudflare.Provider, error) {
	token := pulumi.ToSecret(pulumi.String(cfg.APIToken.Reveal())).(pulumi.StringOutput)

	cfArgs := &cloudflare.ProviderArgs{
		ApiToken: token,
		// Its defaults wait up to 30 s before retrying a D1 or R2 call
		// that met a 503 or 429; these keep a retry to seconds. Its pace is
		// CLOUDFLARE_RPS, which the companion provider reads too.
		Retries:    pulumi.IntPtr(officialRetries),
		MinBackoff: pulumi.IntPtr(officialMinBackoff),
		MaxBackoff: pulumi.IntPtr(officialMaxBackoff),
	}
	dcArgs := domecf.ProviderArgs{APIToken: token, AccountID: pulumi.String(cfg.AccountID)}
	if h := cfg.APIHostname; h != "" {
		cfArgs.ApiHostname = pulumi.StringPtr(h)
		dcArgs.APIBaseURL = pulumi.String(cfg.APIBaseURL())
	}
	cf, err := cloudflare.NewProvider(ctx, "cloudflare", cfArgs)
	if err != nil {
		return nil, nil, fmt.Errorf("cloudflare provider: %w", err)
	}
	dc, err := domecf.NewProvider(ctx, domecf.Package, dcArgs)
	if err != nil {
		return nil, nil, fmt.Errorf("domecf provider: %w", err)
	}
	return pulumi.Providers(cf, dc), cf, nil
}
