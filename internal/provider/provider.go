package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/dome/infra/internal/cfapi"
)

// Name is the Pulumi package name; the plugin binary is pulumi-resource-domecf.
const Name = "domecf"

// Version is the plugin version, set at build time with
// -ldflags "-X github.com/dome/infra/internal/provider.Version=...".
var Version = "0.1.0"

// Environment variables read when the matching config key is not set.
const (
	envToken   = "CLOUDFLARE_API_TOKEN"
	envAccount = "CLOUDFLARE_ACCOUNT_ID"
	envBaseURL = "CLOUDFLARE_API_BASE_URL"
)

// New returns the domecf provider.
func New() p.Provider {
	return newProvider(cfapi.Options{})
}

// newProvider lets tests tune the API client (backoff, HTTP client) that
// Configure builds; Configure fills in token, account and base URL.
func newProvider(client cfapi.Options) p.Provider {
	prov, err := infer.NewProviderBuilder().
		WithDisplayName("Dome Cloudflare companion").
		WithDescription("Cloudflare resources pulumi-cloudflare v5 cannot manage: Vectorize indexes, "+
			"workers with AI/Vectorize/Durable Object bindings and observability, queue consumers, workers.dev routes, R2 event notifications, D1 schema migrations.").
		WithNamespace("dome").
		WithConfig(infer.Config(&Config{clientOptions: client})).
		// Go's package name would make the tokens domecf:provider:*; the
		// program's wrappers use domecf:index:*.
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{"provider": "index"}).
		WithResources(
			infer.Resource(&WorkerScript{}),
			infer.Resource(&VectorizeIndex{}),
			infer.Resource(&QueueConsumer{}),
			infer.Resource(&R2EventNotification{}),
			// Retired, but registered: stacks deployed before hold one per
			// worker, which their next deploy deletes.
			infer.Resource(&WorkerSubdomain{}),
			infer.Resource(&D1Migrations{}),
		).
		Build()
	if err != nil {
		// Build fails only on a malformed schema, which is a programming
		// error caught by every test run.
		panic(fmt.Sprintf("domecf: building the provider: %v", err))
	}
	prov.DiffConfig = diffConfig
	create := prov.Create
	prov.Create = func(ctx context.Context, req p.CreateRequest) (p.CreateResponse, error) {
		return create(withURN(ctx, req.Urn), req)
	}
	return prov
}

// Config is the provider configuration. Unset keys fall back to the
// environment at Configure time rather than at Check time, so a token taken
// from the environment is never written into the stack's state.
type Config struct {
	APIToken   string `pulumi:"apiToken,optional" provider:"secret"`
	AccountID  string `pulumi:"accountId,optional"`
	APIBaseURL string `pulumi:"apiBaseUrl,optional"`

	clientOptions cfapi.Options
	client        *cfapi.Client
}

// Annotate documents the configuration keys.
func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.APIToken, "Cloudflare API token. Falls back to the "+envToken+" environment variable.")
	a.Describe(&c.AccountID, "Cloudflare account id. Falls back to the "+envAccount+" environment variable.")
	a.Describe(&c.APIBaseURL, "Base URL of the Cloudflare v4 API, e.g. a local emulator. Falls back to the "+
		envBaseURL+" environment variable, then to "+cfapi.DefaultBaseURL+".")
}

// Configure builds the API client.
func (c *Config) Configure(ctx context.Context) error {
	token := firstNonEmpty(c.APIToken, os.Getenv(envToken))
	account := firstNonEmpty(c.AccountID, os.Getenv(envAccount))
	var missing []string
	if token == "" {
		missing = append(missing, "an API token (config domecf:apiToken or env "+envToken+")")
	}
	if account == "" {
		missing = append(missing, "an account id (config domecf:accountId or env "+envAccount+")")
	}
	if len(missing) > 0 {
		return fmt.Errorf("domecf: missing %s", strings.Join(missing, " and "))
	}
	opts := c.clientOptions
	opts.Token = token
	opts.AccountID = account
	opts.BaseURL = firstNonEmpty(c.APIBaseURL, os.Getenv(envBaseURL), cfapi.DefaultBaseURL)
	if opts.Budget == (cfapi.Budget{}) {
		budget, err := cfapi.BudgetFromEnv(os.Getenv)
		if err != nil {
			return fmt.Errorf("domecf: %w", err)
		}
		opts.Budget = budget
		opts.LedgerDir = cfapi.LedgerDirFromEnv(os.Getenv)
	}
	if opts.Logf == nil {
		opts.Logf = func(ctx context.Context, format string, args ...any) {
			p.GetLogger(ctx).Debugf(format, args...)
		}
	}
	client, err := cfapi.New(opts)
	if err != nil {
		return fmt.Errorf("domecf: %w", err)
	}
	c.client = client
	return nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// clientFrom returns the configured API client.
func clientFrom(ctx context.Context) (*cfapi.Client, error) {
	c := infer.GetConfig[Config](ctx)
	if c.client == nil {
		return nil, errors.New("domecf: the provider is not configured")
	}
	return c.client, nil
}

// diffConfig reports configuration changes as plain updates. infer's
// default replaces the provider on any change, and a replaced provider
// replaces every resource it manages: a token rotation would destroy and
// recreate every worker and index.
func diffConfig(_ context.Context, req p.DiffRequest) (p.DiffResponse, error) {
	olds := req.OldInputs
	if olds.Len() == 0 {
		olds = req.State
	}
	clean := func(m property.Map) resource.PropertyMap {
		for k := range m.All {
			if k == "version" || strings.HasPrefix(k, "__") {
				m = m.Delete(k)
			}
		}
		return resource.ToResourcePropertyValue(property.New(m)).ObjectValue()
	}
	objDiff := clean(olds).Diff(clean(req.Inputs))
	detailed := map[string]p.PropertyDiff{}
	for k, v := range plugin.NewDetailedDiffFromObjectDiff(objDiff, true) {
		kind := p.Update
		switch v.Kind {
		case plugin.DiffAdd, plugin.DiffAddReplace:
			kind = p.Add
		case plugin.DiffDelete, plugin.DiffDeleteReplace:
			kind = p.Delete
		}
		detailed[k] = p.PropertyDiff{Kind: kind, InputDiff: v.InputDiff}
	}
	return p.DiffResponse{HasChanges: objDiff.AnyChanges(), DetailedDiff: detailed}, nil
}
