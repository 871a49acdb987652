package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

// shell runs a command line exactly as printed, with the suite's pulumi
// first on PATH, in dir, with env added to the test's environment.
func shell(t *testing.T, dir string, env map[string]string, line string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(pulumiRoot(t), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBarePulumiReachesProjectState: in a clone of this folder, with no
// PULUMI_BACKEND_URL, bare pulumi commands use the project's ./.state, and
// Pulumi's own advice for a stale lock (`pulumi cancel`) works as printed.
func TestBarePulumiReachesProjectState(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.dev.yaml"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	env := map[string]string{"PULUMI_BACKEND_URL": "", "PULUMI_HOME": t.TempDir(), "PULUMI_CONFIG_PASSPHRASE": e2ePassphrase, "PULUMI_SKIP_UPDATE_CHECK": "true"}
	out, err := shell(t, dir, env, "pulumi stack init dev --secrets-provider passphrase")
	require.NoError(t, err, out)
	out, err = shell(t, dir, env, "pulumi stack ls")
	require.NoError(t, err, out)
	require.Contains(t, out, "dev")
	require.DirExists(t, filepath.Join(dir, ".state", ".pulumi", "stacks", "dome"), "state is kept in the project's folder")

	// A lock left by a killed deploy, and the advice Pulumi prints for it.
	lockDir := filepath.Join(dir, ".state", ".pulumi", "locks", "organization", "dome", "dev")
	require.NoError(t, os.MkdirAll(lockDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(lockDir, "stale.json"), []byte(`{"pid":1,"username":"u","hostname":"h","timestamp":"2026-01-01T00:00:00Z"}`), 0o644))
	out, err = shell(t, dir, env, "pulumi stack rename dev2 --stack dev")
	require.Error(t, err)
	require.Contains(t, out, "delete the lock file with `pulumi cancel`")
	out, err = shell(t, dir, env, "pulumi cancel --stack dev --yes")
	require.NoError(t, err, out)
	require.NoDirExists(t, filepath.Join(lockDir, "stale.json"))
}

// TestAlreadyExistsCommandRunsAsPrinted: the import command in the
// companion's "already exists" error adopts the object, as printed, into
// the stack with its explicit provider, after which the deploy converges.
func TestAlreadyExistsCommandRunsAsPrinted(t *testing.T) {
	requireLanguageHost(t)
	cfg := fleet(2, 0)
	env := newEmulated(t, cfemu.Config{}, nil)
	e := newEngine(t, "dev", fleetProgram(cfg, env.front.URL+"/client/v4"), map[string]string{"CLOUDFLARE_RPS": "1000"})
	defer e.dump()
	// w001's script exists already, as a deploy whose answer was lost leaves it.
	_, err := env.client.UploadScript(context.Background(), cfapi.UploadScriptParams{
		ScriptName: "w001-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js", CompatibilityDate: "2025-04-15"},
		Content: "export default { fetch() { return new Response('w001'); } };",
	})
	require.NoError(t, err)

	err = e.upErr()
	require.ErrorContains(t, err, `WorkerScript "w001-dev" already exists`)
	require.ErrorContains(t, err, "run: just recover dev")
	printed := regexp.MustCompile(`pulumi import [^\n(]*--yes`).FindString(err.Error())
	require.NotEmpty(t, printed, err.Error())
	require.Contains(t, printed, "--provider domecf=urn:pulumi:dev::dome::pulumi:providers:domecf::domecf")

	out, err := shell(t, e.stack.Workspace().WorkDir(), e.env, strings.TrimSpace(printed))
	require.NoError(t, err, out)
	require.Contains(t, e.stateFile(), `"provider":"urn:pulumi:dev::dome::pulumi:providers:domecf::domecf::`, "imported with the stack's provider")
	// w001 stays as imported, its workers.dev setting read with it; what
	// the failed up never reached is created: w000, when the failure
	// stopped the deploy before it.
	changes := e.up()
	require.Equal(t, 4, changes["same"]+changes["create"], "nothing updated, replaced or deleted: %v", changes)
	require.Contains(t, []int{0, 1}, changes["create"], "only w000 may be created: %v", changes)
	requireFleetExactly(t, cfg, env.client)
}

// TestFirstCommandPrintsNoError: on a fresh clone, the first thing `just
// deploy-local` asks the CLI (which stacks exist) finds the state folder it
// has never made, and a successful run prints no `error:` line.
func TestFirstCommandPrintsNoError(t *testing.T) {
	p := recipesOn(t, map[string]string{"PULUMI_HOME": t.TempDir(), "PULUMI_SKIP_UPDATE_CHECK": "true"})
	require.NoDirExists(t, filepath.Join(p.dir, ".state"))
	out, err := p.just(nil, "_pulumi", "local", "stack", "ls", "--json")
	require.NoError(t, err, out)
	require.NotContains(t, out, "error")
	require.Contains(t, out, "[]")
	require.DirExists(t, filepath.Join(p.dir, ".state"))
}
