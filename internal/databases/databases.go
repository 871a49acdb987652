// Package databases creates Dome's D1 databases with the official provider.
package databases

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/config"
)

// Create creates every D1 database in the topology, keyed by logical name.
func Create(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.ResourceOption) (map[string]*cloudflare.D1Database, error) {
	out := make(map[string]*cloudflare.D1Database, len(cfg.Topology.D1Databases))
	for _, d := range cfg.Topology.D1Databases {
		db, err := cloudflare.NewD1Database(ctx, d.Name, &cloudflare.D1DatabaseArgs{
			AccountId: pulumi.String(cfg.AccountID),
			Name:      pulumi.String(cfg.Name(d.Name)),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("d1 database %q: %w", d.Name, err)
		}
		out[d.Name] = db
	}
	return out, nil
}
