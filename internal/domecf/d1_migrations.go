package domecf

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/migrations"
)

// D1Migrations applies a D1 database's schema migrations, append-only.
// Deleting it drops nothing.
type D1Migrations struct {
	pulumi.CustomResourceState

	DatabaseID pulumi.StringOutput `pulumi:"databaseId"`
}

// D1MigrationsArgs names the database and its migration files, in apply order.
type D1MigrationsArgs struct {
	DatabaseID pulumi.StringInput
	// Table records applied migrations; empty for wrangler's d1_migrations.
	Table string
	Files []migrations.File
}

// NewD1Migrations registers a database's migrations.
func NewD1Migrations(ctx *pulumi.Context, name string, args D1MigrationsArgs, opts ...pulumi.ResourceOption) (*D1Migrations, error) {
	props := pulumi.Map{"databaseId": args.DatabaseID}
	putString(props, "table", args.Table)
	files := make(pulumi.Array, len(args.Files))
	for i, f := range args.Files {
		files[i] = pulumi.Map{"name": pulumi.String(f.Name), "sql": pulumi.String(f.SQL)}
	}
	props["migrations"] = files
	var m D1Migrations
	if err := ctx.RegisterResource(TypeD1Migrations, name, props, &m, opts...); err != nil {
		return nil, err
	}
	return &m, nil
}
