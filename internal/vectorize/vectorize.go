// Package vectorize creates Dome's Vectorize indexes with the companion
// provider (the official one has no Vectorize resource).
package vectorize

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Create creates every Vectorize index in the topology, keyed by logical name.
func Create(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.ResourceOption) (map[string]*domecf.VectorizeIndex, error) {
	out := make(map[string]*domecf.VectorizeIndex, len(cfg.Topology.VectorizeIndexes))
	for _, ix := range cfg.Topology.VectorizeIndexes {
		args := domecf.VectorizeIndexArgs{
			Name:        pulumi.String(cfg.Name(ix.Name)),
			Dimensions:  ix.Dimensions,
			Metric:      ix.Metric,
			Preset:      ix.Preset,
			Description: ix.Description,
		}
		for _, m := range ix.MetadataIndexes {
			args.MetadataIndexes = append(args.MetadataIndexes, domecf.MetadataIndex{PropertyName: m.PropertyName, IndexType: m.IndexType})
		}
		index, err := domecf.NewVectorizeIndex(ctx, ix.Name, args, opts...)
		if err != nil {
			return nil, fmt.Errorf("vectorize index %q: %w", ix.Name, err)
		}
		out[ix.Name] = index
	}
	return out, nil
}
