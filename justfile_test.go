package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// justIn returns a runner of recipes from this repository's justfile in a
// fresh git repository holding only that justfile, so each guard is seen
// on its own, with no terminal and without a pulumi CLI unless given one.
func justIn(t *testing.T) (dir string, run func(env []string, args ...string) (string, error)) {
	t.Helper()
	justBin, err := exec.LookPath("just")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("just is not installed: .ci/run must install it")
		}
		t.Skip("just is not installed (npm install -g rust-just)")
	}
	dir = t.TempDir()
	data, err := os.ReadFile("justfile")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "justfile"), data, 0o644))
	for _, f := range []string{"Pulumi.dev.yaml", "Pulumi.prod.yaml"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "fixture")

	// A PATH with just, git, a shell and the core utilities, but no pulumi.
	path := strings.Join([]string{filepath.Dir(justBin), "/usr/bin", "/bin"}, string(os.PathListSeparator))
	run = func(env []string, args ...string) (string, error) {
		cmd := exec.Command(justBin, args...)
		cmd.Dir = dir
		cmd.Env = append([]string{"PATH=" + path, "HOME=" + dir}, env...)
		cmd.Stdin = nil // no terminal: every confirmation needs its variable
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	return dir, run
}

func TestJustfileGuards(t *testing.T) {
	dir, run := justIn(t)

	// Without a CLI every Pulumi recipe stops first and says how to get one.
	out, err := run(nil, "pulumi-preview", "dev")
	require.Error(t, err)
	require.Contains(t, out, "error: the pulumi CLI is not installed: install it (README.md, Getting started) or run 'just tools' to build it here")

	// With one (any executable will do: the guards stop before calling it).
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".tools", "bin"), 0o755))
	fake := "#!/bin/sh\necho \"fake pulumi: $* passphrase=$PULUMI_CONFIG_PASSPHRASE backend=$PULUMI_BACKEND_URL\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".tools", "bin", "pulumi"), []byte(fake), 0o755))
	// The fake CLI is untracked; ignore it so the tree stays clean.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte(".tools/\n"), 0o644))

	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown stack", nil, []string{"pulumi-preview", "nope"}, "error: unknown stack 'nope': Pulumi.nope.yaml is missing (stacks: dev staging prod, local)"},
		{"stack init needs the stack's file", nil, []string{"pulumi-stack-init", "qa"}, "error: unknown stack 'qa'"},
		{"destroying prod is refused", nil, []string{"pulumi-destroy", "prod"}, "error: refusing to destroy prod: production resources are protected"},
		{"deploy-prod without a terminal needs the variable", nil, []string{"deploy-prod"}, "error: no terminal to confirm on: set DOME_CONFIRM_PROD=prod to deploy prod from CI"},
		{"deploy-prod with the wrong confirmation", []string{"DOME_CONFIRM_PROD=yes"}, []string{"deploy-prod"}, "set DOME_CONFIRM_PROD=prod"},
		{"pulumi-up prod is guarded too", nil, []string{"pulumi-up", "prod"}, "set DOME_CONFIRM_PROD=prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(tt.env, tt.args...)
			require.Error(t, err, out)
			require.Contains(t, out, tt.want)
			require.NotContains(t, out, "fake pulumi", "the guard stops before any Pulumi call")
		})
	}

	// Pulumi calls name their stack, load .env.<stack> (the environment
	// winning) and need the secrets passphrase.
	out, err = run(nil, "outputs", "dev")
	require.Error(t, err)
	require.Contains(t, out, "error: PULUMI_CONFIG_PASSPHRASE is not set: the dev stack's secrets are encrypted with a passphrase; export it or put it in .env.dev")
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.dev"), []byte("# dev\nPULUMI_CONFIG_PASSPHRASE=\"from-file\"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte(".tools/\n.env.dev\n"), 0o644))
	out, err = run(nil, "outputs", "dev")
	require.NoError(t, err, out)
	require.Contains(t, out, "fake pulumi: stack output --json --stack dev passphrase=from-file backend=file://"+dir+"/.state")
	out, err = run([]string{"PULUMI_CONFIG_PASSPHRASE=from-shell", "PULUMI_BACKEND_URL=s3://team-state"}, "outputs", "dev")
	require.NoError(t, err, out)
	require.Contains(t, out, "fake pulumi: stack output --json --stack dev passphrase=from-shell backend=s3://team-state")

	// A dirty tree blocks prod, confirmed or not.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "uncommitted.txt"), []byte("x"), 0o644))
	out, err = run([]string{"DOME_CONFIRM_PROD=prod"}, "deploy-prod")
	require.Error(t, err)
	require.Contains(t, out, "error: refusing to deploy prod from a dirty git tree: commit or stash your changes first")
}

func TestJustValidate(t *testing.T) {
	if _, err := exec.LookPath("just"); err != nil {
		t.Skip("just is not installed (npm install -g rust-just)")
	}
	out, err := exec.Command("just", "validate", "local").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "stack local: configuration is valid (environment dev, protected: false)")
}
