// Command recover brings a stack back in line with Cloudflare after a deploy
// was interrupted or failed (`just recover <stack>`): it removes a stale
// lock, settles pending creates, imports what the stack created but never
// recorded, with the program's own providers, and ends with a preview.
// It changes nothing when nothing is wrong.
//
// With -before FILE (a plan cmd/import wrote before the deploy began), it
// adopts nothing FILE lists: the deploy cannot have created it.
//
//	go run ./cmd/recover [-dir DIR] [-pulumi PATH] [-before FILE] STACK
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optimport"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"

	"github.com/dome/infra/internal/adopt"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/recovery"
	"github.com/dome/infra/internal/stackcmd"
)

func main() {
	cmd := stackcmd.New("recover", "recover [-dir DIR] [-pulumi PATH] [-before FILE] STACK")
	cli := cmd.String("pulumi", "pulumi", "the pulumi CLI to run")
	before := cmd.String("before", "", "a plan `go run ./cmd/import -out FILE` wrote before the deploy began: what it lists is not adopted")
	cmd.Run(func(ctx context.Context, dir, stack string) error {
		return run(ctx, dir, *cli, *before, stack)
	})
}

func run(ctx context.Context, dir, cli, beforeFile, stackName string) error {
	var before *adopt.File
	if beforeFile != "" {
		data, err := os.ReadFile(beforeFile)
		if err != nil {
			return fmt.Errorf("-before: %w", err)
		}
		before = &adopt.File{}
		if err := json.Unmarshal(data, before); err != nil {
			return fmt.Errorf("-before %s: not a plan cmd/import wrote: %w", beforeFile, err)
		}
	}
	cfg, err := config.LoadStack(dir, stackName) // loads .env.<stack> too
	if err != nil {
		return err
	}
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		return errors.New("PULUMI_CONFIG_PASSPHRASE is not set: the stack's secrets are encrypted with a passphrase; export it or put it in .env." + stackName)
	}
	client, err := cfg.Client()
	if err != nil {
		return err
	}
	path, err := resolve(cli)
	if err != nil {
		return err
	}
	pulumi, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(path)), SkipVersionCheck: true})
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	stack, err := auto.SelectStackLocalSource(ctx, stackName, abs, auto.Pulumi(pulumi))
	if err != nil {
		return fmt.Errorf("select stack %s: %w (does it exist? `just pulumi-stack-init %s` creates it)", stackName, err, stackName)
	}
	project, err := stack.Workspace().ProjectSettings(ctx)
	if err != nil {
		return err
	}
	_, err = recovery.Run(ctx, recovery.Options{
		Stack:   stack,
		Project: string(project.Name),
		Config:  cfg,
		Account: client,
		Out:     os.Stdout,
		Preview: []optpreview.Option{optpreview.Diff(), optpreview.ProgressStreams(os.Stdout), optpreview.ErrorProgressStreams(os.Stderr)},
		// Warnings and errors of the import, without its progress lines.
		Import: []optimport.Option{optimport.ErrorProgressStreams(os.Stderr)},
		Before: before,
	})
	return err
}

// resolve resolves the CLI the way a shell would, as an absolute path: the
// Automation API wants the folder it lives in.
func resolve(cli string) (string, error) {
	path, err := osexec.LookPath(cli)
	if err != nil {
		return "", fmt.Errorf("the pulumi CLI %q is not found: install it or run `just tools`", cli)
	}
	return filepath.Abs(path)
}
