// Package databases creates Dome's D1 databases with the official provider,
// and applies their schema migrations with the companion provider.
package databases

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
	"github.com/dome/infra/internal/migrations"
)

// Create creates every D1 database in the topology, keyed by logical name.
func Create(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.ResourceOption) (map[string]bindings.Ref, error) {
	out := make(map[string]bindings.Ref, len(cfg.Topology.D1Databases))
	for _, d := range cfg.Topology.D1Databases {
		db, err := cloudflare.NewD1Database(ctx, d.Name, &cloudflare.D1DatabaseArgs{
			AccountId: pulumi.String(cfg.AccountID),
			Name:      pulumi.String(cfg.Name(d.Name)),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("d1 database %q: %w", d.Name, err)
		}
		out[d.Name] = bindings.Ref{ID: db.ID().ToStringOutput(), Name: db.Name}
	}
	return out, nil
}

// Migrate applies the migrations of every database that has a
// migrationsDir, keyed by the database's logical name. Each depends on its
// database; workers binding the database depend on it in turn, so the
// schema is in place before the code that needs it.
func Migrate(ctx *pulumi.Context, cfg *config.Config, dbs map[string]bindings.Ref, opts ...pulumi.ResourceOption) (map[string]*domecf.D1Migrations, error) {
	out := map[string]*domecf.D1Migrations{}
	for _, d := range cfg.Topology.D1Databases {
		dir := cfg.MigrationsDir(d)
		if dir == "" {
			continue
		}
		files, err := migrations.Read(dir)
		if err != nil {
			return nil, fmt.Errorf("d1 database %q: %w", d.Name, err)
		}
		m, err := domecf.NewD1Migrations(ctx, d.Name, domecf.D1MigrationsArgs{
			DatabaseID: dbs[d.Name].ID,
			Table:      d.MigrationsTable,
			Files:      files,
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("d1 database %q: migrations: %w", d.Name, err)
		}
		out[d.Name] = m
	}
	return out, nil
}
