// Package entrypoints attaches Dome's workers to their routes and custom
// domains (official provider) in zones the config names by name and the
// program resolves to ids from the account. A worker's workers.dev route is
// a setting of its script (package workers).
package entrypoints

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Zones maps a zone's name to its id.
type Zones map[string]string

// LookupZones lists the account's zones (one read, at preview too) and
// checks that every zone a route or custom domain names is among them. A
// missing zone is a problem naming the key that uses it and the zones the
// account has. A topology without routes or domains reads nothing.
func LookupZones(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.InvokeOption) (Zones, error) {
	if !cfg.Topology.HasEntryPoints() {
		return Zones{}, nil
	}
	res, err := cloudflare.GetZones(ctx, &cloudflare.GetZonesArgs{
		Filter: cloudflare.GetZonesFilter{AccountId: pulumi.StringRef(cfg.AccountID)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading the zones of account %s (the API token needs Zone Read): %w", cfg.AccountID, err)
	}
	zones := Zones{}
	for _, z := range res.Zones {
		if z.Name != nil && z.Id != nil {
			zones[*z.Name] = *z.Id
		}
	}
	names := slices.Sorted(maps.Keys(zones))
	have := "the account has no zones"
	if len(names) > 0 {
		have = "the account has " + strings.Join(names, ", ")
	}
	var ps config.Problems
	missing := func(k, zone string) {
		if _, ok := zones[zone]; !ok {
			ps = append(ps, config.Problem{Key: k + ".zone", Message: fmt.Sprintf(
				"zone %q is not in Cloudflare account %s (%s); add the domain to the account, or name one of its zones", zone, cfg.AccountID, have)})
		}
	}
	for _, w := range cfg.Topology.Workers {
		for i, r := range w.Routes {
			missing(fmt.Sprintf("%s[%d]", cfg.FieldKey(w.Name, "routes"), i), r.Zone)
		}
		for i, d := range w.CustomDomains {
			missing(fmt.Sprintf("%s[%d]", cfg.FieldKey(w.Name, "customDomains"), i), d.Zone)
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return zones, nil
}

// Entry is where one worker is attached in the account's zones.
type Entry struct {
	Routes  []*cloudflare.WorkersRoute  // in the config's order
	Domains []*cloudflare.WorkersDomain // in the config's order
}

// Create attaches a worker's routes and custom domains. A route is named by its
// pattern and a custom domain by its hostname, not by the worker: moving
// one to another worker is then an update, which Cloudflare applies in
// place. Named by the worker, the move would create the new one and then
// delete the old one, which for a domain is the same record: the domain
// would end detached.
func Create(ctx *pulumi.Context, cfg *config.Config, w config.Worker, script *domecf.WorkerScript, zones Zones, opts ...pulumi.ResourceOption) (*Entry, error) {
	e := &Entry{}
	for _, r := range w.Routes {
		route, err := cloudflare.NewWorkersRoute(ctx, r.Pattern, &cloudflare.WorkersRouteArgs{
			ZoneId:     pulumi.String(zones[r.Zone]),
			Pattern:    pulumi.String(r.Pattern),
			ScriptName: script.Name,
		}, append(opts, formerName(w.Name+"/"+r.Pattern))...)
		if err != nil {
			return nil, fmt.Errorf("worker %q: route %q: %w", w.Name, r.Pattern, err)
		}
		e.Routes = append(e.Routes, route)
	}
	for _, d := range w.CustomDomains {
		domain, err := cloudflare.NewWorkersDomain(ctx, d.Hostname, &cloudflare.WorkersDomainArgs{
			AccountId: pulumi.String(cfg.AccountID),
			ZoneId:    pulumi.String(zones[d.Zone]),
			Hostname:  pulumi.String(d.Hostname),
			Service:   script.Name,
		}, append(opts, formerName(w.Name+"/"+d.Hostname))...)
		if err != nil {
			return nil, fmt.Errorf("worker %q: custom domain %q: %w", w.Name, d.Hostname, err)
		}
		e.Domains = append(e.Domains, domain)
	}
	return e, nil
}

// formerName is the name routes and domains had when they were named
// "<worker>/<pattern or hostname>": a stack deployed then keeps them, under
// their new names, with no replacement.
func formerName(name string) pulumi.ResourceOption {
	return pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(name)}})
}
