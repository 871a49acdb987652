// Command import plans the adoption of resources that already exist in the
// Cloudflare account: it matches them to a stack's config by physical name,
// writes a `pulumi import --file` file, and prints the command to run.
// Nothing is imported until you run that command.
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

	fmt.Fprintf(w, "stack %s: %d existing resources match the config; wrote %s\n", stack, plan.Found(), out)
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
	fmt.Fprintf(w, "\nNothing has been imported. Review %s, then run, in this folder:\n\n", out)
	env := ""
	if cfg.APIHostname != "" && os.Getenv("SSL_CERT_FILE") != "" {
		// The emulator's certificate is trusted only through this variable.
		env = "SSL_CERT_FILE=" + os.Getenv("SSL_CERT_FILE") + " "
	}
	fmt.Fprintf(w, "  %spulumi import --stack %s --file %s --generate-code=false --yes\n\n", env, stack, out)
	fmt.Fprintln(w, "The file creates the stack's two providers, for a stack with no state yet. For a stack that was deployed before")
	fmt.Fprintf(w, "(an interrupted or failed deploy), run `just recover %s` instead: it imports only what the state lacks, with the stack's own providers.\n", stack)
	fmt.Fprintln(w, "pulumi import protects what it imports; `just pulumi-preview "+stack+"` then shows what differs from the config.")
	return nil
}
