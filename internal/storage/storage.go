// Package storage creates Dome's R2 buckets with the official provider.
package storage

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/config"
)

// Create creates every R2 bucket in the topology, keyed by logical name.
func Create(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.ResourceOption) (map[string]*cloudflare.R2Bucket, error) {
	out := make(map[string]*cloudflare.R2Bucket, len(cfg.Topology.R2Buckets))
	for _, b := range cfg.Topology.R2Buckets {
		args := &cloudflare.R2BucketArgs{
			AccountId: pulumi.String(cfg.AccountID),
			Name:      pulumi.String(cfg.Name(b.Name)),
		}
		if b.Location != "" {
			args.Location = pulumi.StringPtr(b.Location)
		}
		bucket, err := cloudflare.NewR2Bucket(ctx, b.Name, args, opts...)
		if err != nil {
			return nil, fmt.Errorf("r2 bucket %q: %w", b.Name, err)
		}
		out[b.Name] = bucket
	}
	return out, nil
}
