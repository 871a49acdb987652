// Package kv creates Dome's Workers KV namespaces with the official provider.
package kv

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/config"
)

// Create creates every KV namespace in the topology, keyed by logical name.
// A namespace's title is its physical name.
func Create(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.ResourceOption) (map[string]bindings.Ref, error) {
	out := make(map[string]bindings.Ref, len(cfg.Topology.KVNamespaces))
	for _, n := range cfg.Topology.KVNamespaces {
		ns, err := cloudflare.NewWorkersKvNamespace(ctx, n.Name, &cloudflare.WorkersKvNamespaceArgs{
			AccountId: pulumi.String(cfg.AccountID),
			Title:     pulumi.String(cfg.Name(n.Name)),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("kv namespace %q: %w", n.Name, err)
		}
		out[n.Name] = bindings.Ref{ID: ns.ID().ToStringOutput(), Name: ns.Title}
	}
	return out, nil
}
