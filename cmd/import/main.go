// Command import plans the adoption of resources that already exist in the
// Cloudflare account: it matches them to a stack's config by physical name,
// writes a `pulumi import --file` file for review, and prints the command
// that adopts them (`just recover <stack>`). Nothing is imported until you
// run it.
//
//	go run ./cmd/import [-dir DIR] [-out FILE] STACK
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dome/infra/internal/adopt"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/stackcmd"
)

func main() {
	cmd := stackcmd.New("import", "import [-dir DIR] [-out FILE] STACK")
	out := cmd.String("out", "", "where to write the import file (default import-STACK.json in -dir)")
	cmd.Run(func(ctx context.Context, dir, stack string) error {
		if *out == "" {
			*out = filepath.Join(dir, "import-"+stack+".json")
		}
		return run(ctx, os.Stdout, dir, stack, *out)
	})
}

func run(ctx context.Context, w io.Writer, dir, stack, out string) error {
	cfg, err := config.LoadStack(dir, stack)
	if err != nil {
		return err
	}
	client, err := cfg.Client()
	if err != nil {
		return err
	}
	plan, err := adopt.Build(ctx, cfg, client)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(plan.File, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		return err
	}

	matches := "existing resources match"
	if plan.Found() == 1 {
		matches = "existing resource matches"
	}
	fmt.Fprintf(w, "stack %s: %d %s the config; wrote %s\n", stack, plan.Found(), matches, out)
	for _, s := range plan.File.Resources {
		if s.ID != "" {
			fmt.Fprintf(w, "  adopt   %-42s %-28s %s\n", s.Type, s.Name, s.ID)
		}
	}
	for _, m := range plan.Missing {
		fmt.Fprintf(w, "  create  %s (not in the account)\n", m)
	}
	if plan.Found() == 0 {
		fmt.Fprintln(w, "Nothing to import: the next deploy creates everything.")
		return nil
	}
	// One way in, whether the stack was deployed before or never: recover
	// imports what the state lacks with the stack's own providers, and the
	// recipe loads .env.<stack>, which a bare `pulumi import` would not.
	fmt.Fprintf(w, "\nNothing has been imported. To adopt them into stack %s, run in this folder:\n\n", stack)
	fmt.Fprintf(w, "  just recover %s\n\n", stack)
	fmt.Fprintln(w, "It imports what the stack's state lacks (everything, for a stack never deployed) with the stack's own providers,")
	fmt.Fprintln(w, "protected as the program protects them, then previews what still differs from the config.")
	fmt.Fprintf(w, "%s lists the same resources with the import id each provider expects, for review.\n", out)
	return nil
}
