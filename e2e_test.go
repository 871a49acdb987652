package main

// The end-to-end suite: the real pulumi CLI, driven through the Automation
// API with an inline program, a file backend in a temp dir and passphrase
// secrets, deploying to the local Cloudflare API over loopback. It needs
// the pinned CLI (`just tools`); without it the suite is skipped, except in
// CI, where its absence is a failure. Tests that also need the Go language
// host or the official Cloudflare plugin skip without them (skipWithout).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/joho/godotenv"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

const e2ePassphrase = "e2e-passphrase"

// pulumiCLI finds the pinned CLI that `just tools` builds, or one on PATH.
func pulumiCLI(t testing.TB) auto.PulumiCommand {
	t.Helper()
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: pulumiRoot(t), SkipVersionCheck: true})
	require.NoError(t, err)
	return cmd
}

// pulumiRoot is the folder whose bin/pulumi is the CLI the suite runs: the
// one on PATH, else the one `just tools` builds, as the recipes choose.
func pulumiRoot(t testing.TB) string {
	t.Helper()
	if path, err := exec.LookPath("pulumi"); err == nil {
		return filepath.Dir(filepath.Dir(path))
	}
	root, err := filepath.Abs(".tools")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no pulumi CLI: .ci/run must run `just tools` before the tests")
		}
		t.Skip("no pulumi CLI: run `just tools` to build the pinned one, then rerun")
	}
	return root
}

// requireLanguageHost skips unless the CLI can find the Go language host,
// which `pulumi import` loads even for an inline program, and every bare
// pulumi command in this `runtime: go` project: on PATH, or beside the
// CLI's real path, the two places the CLI looks.
func requireLanguageHost(t testing.TB) {
	t.Helper()
	const host = "pulumi-language-go"
	if _, err := exec.LookPath(host); err == nil {
		return
	}
	if cli, err := filepath.EvalSymlinks(filepath.Join(pulumiRoot(t), "bin", "pulumi")); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(cli), host)); err == nil {
			return
		}
	}
	skipWithout(t, "the Go language host "+host, "the official Pulumi installer puts it beside the CLI; or put a "+host+" built from Pulumi's sources on PATH")
}

// skipWithout skips a test that needs a part of the Pulumi toolchain that
// only the official installer brings, naming the part and how to get it.
// .ci/run runs the suite once as a fresh machine would, then again only the
// tests skipped that way where the parts are installed: each is appended,
// as "<package> <test>", to the file DOME_SKIPPED_FILE names.
func skipWithout(t testing.TB, part, install string) {
	t.Helper()
	if file := os.Getenv("DOME_SKIPPED_FILE"); file != "" {
		f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		_, err = fmt.Fprintf(f, "%s %s\n", "github.com/dome/infra", strings.SplitN(t.Name(), "/", 2)[0])
		require.NoError(t, errors.Join(err, f.Close()))
	}
	t.Skipf("needs %s, which is not installed: %s", part, install)
}

var (
	pluginOnce sync.Once
	pluginDir  string
	pluginErr  error
)

// pluginBin builds the companion provider's plugin once per test binary,
// so the suite tests the code in this tree, not a stale ./bin.
func pluginBin(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		pluginDir, pluginErr = os.MkdirTemp("", "domecf-plugin-")
		if pluginErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(pluginDir, "pulumi-resource-domecf"), "./cmd/pulumi-resource-domecf").CombinedOutput()
		if err != nil {
			pluginErr = fmt.Errorf("build plugin: %v: %s", err, out)
		}
	})
	require.NoError(t, pluginErr)
	return pluginDir
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestMain(m *testing.M) {
	// The provider and the commands under test share the API budget in a
	// ledger; the user's, in their cache, is no test's to write.
	must(0, os.Setenv(cfapi.EnvLedgerDir, filepath.Join(scratch(), "api-budget")))
	code := m.Run()
	if pluginDir != "" {
		_ = os.RemoveAll(pluginDir)
	}
	_ = os.RemoveAll(scratch())
	os.Exit(code)
}

// scratch is a folder for what programs under test write beyond any one
// test, such as bundles; TestMain removes it.
var scratch = sync.OnceValue(func() string { return must(os.MkdirTemp("", "dome-test-")) })

// workerCode writes a test program's worker code where the provider reads
// it, one file per content hash as the program's bundle store keeps them.
// serveTLS serves h over https until the test ends, with the emulator's
// certificate written to certDir, as `just emulator -tls` serves: the
// official provider speaks only https. It returns the server and the
// certificate's file, for SSL_CERT_FILE.
func serveTLS(tb testing.TB, h http.Handler, certDir string) (*httptest.Server, string) {
	tb.Helper()
	certFile, tlsCfg, err := cfemu.GenerateCert(certDir)
	require.NoError(tb, err)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = tlsCfg
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv, certFile
}

func workerCode(text string) domecf.Code {
	sum := sha256.Sum256([]byte(text))
	c := domecf.Code{File: filepath.Join(scratch(), hex.EncodeToString(sum[:])+".js"), SHA256: hex.EncodeToString(sum[:])}
	if _, err := os.Stat(c.File); err != nil {
		// Programs run concurrently: write aside, then rename into place.
		tmp := must(os.CreateTemp(scratch(), "code-"))
		must(tmp.WriteString(text))
		must(0, tmp.Close())
		must(0, os.Rename(tmp.Name(), c.File))
	}
	return c
}

// engine is one stack on the real engine, with its own state folder,
// Pulumi home and log of what the CLI printed.
type engine struct {
	t     testing.TB
	stack auto.Stack
	dir   string
	env   map[string]string
	log   *bytes.Buffer
}

func newEngine(t testing.TB, stackName string, program pulumi.RunFunc, env map[string]string) *engine {
	t.Helper()
	return newEngineOn(t, pulumiCLI(t), stackName, program, env)
}

// newEngineOn is newEngine with a given CLI.
func newEngineOn(t testing.TB, cli auto.PulumiCommand, stackName string, program pulumi.RunFunc, env map[string]string) *engine {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{
		"PULUMI_BACKEND_URL":       "file://" + filepath.Join(dir, "state"),
		"PULUMI_CONFIG_PASSPHRASE": e2ePassphrase,
		"PULUMI_HOME":              filepath.Join(dir, "home"),
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	for k, v := range env {
		vars[k] = v
		if v == "" {
			delete(vars, k) // inherit the process's value
		}
	}
	for _, sub := range []string{"state", "work"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, sub), 0o755))
	}
	project := workspace.Project{
		Name:    tokens.PackageName("dome"),
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Plugins: &workspace.Plugins{Providers: []workspace.PluginOptions{{Name: "domecf", Path: pluginBin(t)}}},
	}
	ctx := context.Background()
	stack, err := auto.UpsertStackInlineSource(ctx, stackName, "dome", program,
		auto.Pulumi(cli),
		auto.Project(project),
		auto.WorkDir(filepath.Join(dir, "work")),
		auto.EnvVars(vars),
		auto.SecretsProvider("passphrase"),
	)
	require.NoError(t, err)
	return &engine{t: t, stack: stack, dir: dir, env: vars, log: &bytes.Buffer{}}
}

// cli runs the pulumi CLI on this stack's project and backend.
func (e *engine) cli(args ...string) {
	e.t.Helper()
	env := make([]string, 0, len(e.env))
	for k, v := range e.env {
		env = append(env, k+"="+v)
	}
	out, stderr, _, err := pulumiCLI(e.t).Run(context.Background(), e.stack.Workspace().WorkDir(), nil, nil, nil, env, append(args, "--stack", e.stack.Name())...)
	e.log.WriteString(out + stderr)
	require.NoError(e.t, err, stderr)
}

// dump shows what the CLI printed when a test fails.
func (e *engine) dump() {
	if e.t.Failed() {
		e.t.Log(e.log.String())
	}
}

func (e *engine) up() map[string]int {
	e.t.Helper()
	res, err := e.stack.Up(context.Background(), optup.ProgressStreams(e.log), optup.ErrorProgressStreams(e.log))
	require.NoError(e.t, err, e.log.String())
	return *res.Summary.ResourceChanges
}

func (e *engine) upErr() error {
	_, err := e.stack.Up(context.Background(), optup.ProgressStreams(e.log), optup.ErrorProgressStreams(e.log))
	return err
}

func (e *engine) preview() map[string]int {
	e.t.Helper()
	res, err := e.stack.Preview(context.Background(), optpreview.Diff(), optpreview.ProgressStreams(e.log), optpreview.ErrorProgressStreams(e.log))
	require.NoError(e.t, err, e.log.String())
	out := map[string]int{}
	for op, n := range res.ChangeSummary {
		out[string(op)] = n
	}
	return out
}

func (e *engine) refresh() map[string]int {
	e.t.Helper()
	res, err := e.stack.Refresh(context.Background(), optrefresh.ProgressStreams(e.log), optrefresh.ErrorProgressStreams(e.log))
	require.NoError(e.t, err, e.log.String())
	return *res.Summary.ResourceChanges
}

func (e *engine) destroy() {
	e.t.Helper()
	_, err := e.stack.Destroy(context.Background(), optdestroy.ProgressStreams(e.log), optdestroy.ErrorProgressStreams(e.log))
	require.NoError(e.t, err, e.log.String())
}

// stateFile returns the stack's checkpoint exactly as the backend stored it.
func (e *engine) stateFile() string {
	e.t.Helper()
	var found string
	err := filepath.WalkDir(filepath.Join(e.dir, "state"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") && strings.Contains(path, string(os.PathSeparator)+"stacks"+string(os.PathSeparator)) {
			found = path
		}
		return err
	})
	require.NoError(e.t, err)
	require.NotEmpty(e.t, found, "no stack checkpoint under %s", e.dir)
	data, err := os.ReadFile(found)
	require.NoError(e.t, err)
	return string(data)
}

// outputsJSON is what `pulumi stack output --json` prints.
func (e *engine) outputsJSON() map[string]any {
	e.t.Helper()
	out, err := e.stack.Outputs(context.Background())
	require.NoError(e.t, err)
	m := map[string]any{}
	for k, v := range out {
		if v.Secret {
			m[k] = "[secret]"
		} else {
			m[k] = v.Value
		}
	}
	return m
}

// onlySame requires a change summary with nothing but unchanged resources:
// no create, update or delete, and no read either (the program keeps no
// reference to its own stack that a preview would print as read).
func onlySame(t testing.TB, changes map[string]int) {
	t.Helper()
	for op, n := range changes {
		require.Equal(t, "same", op, "unexpected %d %q changes in %v", n, op, changes)
	}
}

// mutations returns the mutating requests the emulator saw.
func mutations(emu *cfemu.Emulator) []string {
	var out []string
	for _, r := range emu.Requests() {
		if r.Mutating() {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// deletes returns the DELETE requests the emulator saw.
func deletes(emu *cfemu.Emulator) []string {
	return slices.DeleteFunc(mutations(emu), func(m string) bool { return !strings.HasPrefix(m, http.MethodDelete+" ") })
}

// seed creates a resource directly in the emulated account, as an
// earlier deploy or the dashboard would have, and returns its result.
func seed(t testing.TB, srv *httptest.Server, token, account, path, body string) map[string]any {
	t.Helper()
	return send(t, srv, token, account, http.MethodPost, path, body)
}

// send makes one call to the emulated account, as the dashboard or another
// tool would behind Pulumi's back, and returns its result.
func send(t testing.TB, srv *httptest.Server, token, account, method, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/client/v4/accounts/"+account+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	var env struct {
		Result map[string]any `json:"result"`
	}
	require.NoError(t, json.Unmarshal(raw, &env))
	return env.Result
}

// get reads one answer's result object from the emulated account.
func get(t testing.TB, srv *httptest.Server, token, account, path string) (int, map[string]any) {
	t.Helper()
	var out map[string]any
	return getInto(t, srv, token, account, path, &out), out
}

// getList reads one answer's result list from the emulated account.
func getList(t testing.TB, srv *httptest.Server, token, account, path string) (int, []any) {
	t.Helper()
	var out []any
	return getInto(t, srv, token, account, path, &out), out
}

func getInto(t testing.TB, srv *httptest.Server, token, account, path string, result any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/client/v4/accounts/"+account+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	env := struct {
		Result any `json:"result"`
	}{result}
	_ = json.NewDecoder(resp.Body).Decode(&env)
	return resp.StatusCode
}

// TestStackFilesReadAsPulumiReadsThem checks the offline reader that
// `just validate` and the mock tests rely on against the real CLI: every
// stack's merged configuration must be exactly what `pulumi config` shows.
func TestStackFilesReadAsPulumiReadsThem(t *testing.T) {
	cli := pulumiCLI(t)
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "Pulumi.local.yaml"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	// Pulumi.local.yaml carries its salt, made with .env.local's passphrase.
	local, err := godotenv.Read(".env.local")
	require.NoError(t, err)
	backend, home := t.TempDir(), t.TempDir()
	for _, stack := range []string{"dev", "staging", "prod", "local"} {
		t.Run(stack, func(t *testing.T) {
			passphrase := e2ePassphrase
			if stack == config.LocalStack {
				passphrase = local["PULUMI_CONFIG_PASSPHRASE"]
			}
			env := []string{
				"PULUMI_BACKEND_URL=file://" + backend,
				"PULUMI_CONFIG_PASSPHRASE=" + passphrase,
				"PULUMI_HOME=" + home,
				"PULUMI_SKIP_UPDATE_CHECK=true",
			}
			pulumi := func(args ...string) string {
				out, stderr, _, err := cli.Run(context.Background(), dir, nil, nil, nil, env, args...)
				require.NoError(t, err, stderr)
				return out
			}
			pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
			pulumi("config", "set", "--secret", "dome:webhookKey", "hunter2", "--stack", stack)
			var shown map[string]struct {
				Value  string
				Secret bool
			}
			require.NoError(t, json.Unmarshal([]byte(pulumi("config", "--json", "--stack", stack)), &shown))
			want := map[string]string{}
			for k, v := range shown {
				want[k] = v.Value
				if v.Secret {
					want[k] = "[secret]" // unknown offline, like the CLI without --show-secrets
				}
			}
			vals, err := config.ReadFiles(dir, stack)
			require.NoError(t, err)
			require.Equal(t, want, vals.Config)
			require.Equal(t, []string{"dome:webhookKey"}, vals.SecretKeys())
			require.Equal(t, "[secret]", vals.Config["dome:webhookKey"])
		})
	}
}
