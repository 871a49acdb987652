// Command pulumi-resource-domecf is the domecf Pulumi resource provider
// plugin. The Pulumi engine starts it and talks to it over gRPC; Dome's
// Pulumi.yaml points plugins.providers at ./bin, where `just` builds it
// once; from then on it rebuilds itself whenever the sources change.
//
// Run by hand with -schema it prints the package schema as JSON and exits,
// so the schema can be checked without the Pulumi CLI.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/dome/infra/internal/fresh"
	"github.com/dome/infra/internal/provider"
)

func main() {
	// Pulumi starts the prebuilt bin/pulumi-resource-domecf: it must never
	// serve code older than the tree.
	if err := fresh.Ensure("./cmd/pulumi-resource-domecf"); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	if len(os.Args) == 2 && (os.Args[1] == "-schema" || os.Args[1] == "--schema") {
		if err := printSchema(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := p.RunProvider(ctx, provider.Name, provider.Version, provider.New()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func printSchema(ctx context.Context) error {
	spec, err := p.GetSchema(ctx, provider.Name, provider.Version, provider.New())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(spec)
}
