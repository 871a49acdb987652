package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakePulumi stands in for the CLI: it logs each call, and keeps a list of
// stacks (dev, staging and prod to begin with) for `stack init` and `stack
// ls`, so recipes can be run end to end here. A preview writes the plan
// --save-plan asks for; an up given --plan fails as Pulumi does when the
// update departs from it, with the error FAKE_PULUMI_PLAN_VIOLATION holds.
const fakePulumi = `#!/bin/sh
echo "$* | passphrase=$PULUMI_CONFIG_PASSPHRASE backend=$PULUMI_BACKEND_URL${SSL_CERT_FILE:+ cert=$SSL_CERT_FILE}" >> "$FAKE_PULUMI_LOG"
stacks="$FAKE_PULUMI_LOG.stacks"
[ -f "$stacks" ] || printf 'dev\nstaging\nprod\n' > "$stacks"
[ "$1" = up ] && [ -n "$FAKE_PULUMI_UP_FAILS" ] && { echo "$FAKE_PULUMI_UP_FAILS"; exit 255; }
case "$1 $2" in
  "stack init") echo "$3" >> "$stacks" ;;
  "stack ls") printf '['; sep=''; while read -r s; do printf '%s{"name": "%s"}' "$sep" "$s"; sep=', '; done < "$stacks"; echo ']' ;;
esac
prev=
for arg in "$@"; do
  [ "$prev" = --save-plan ] && echo '{"resourcePlans": {}}' > "$arg"
  if [ "$prev" = --plan ] && [ -n "$FAKE_PULUMI_PLAN_VIOLATION" ]; then echo "error: $FAKE_PULUMI_PLAN_VIOLATION" >&2; exit 255; fi
  prev="$arg"
done
exit 0
`

// project is a copy of this repository's tracked files in a scratch git
// repository, with Dome's services beside it as Pulumi.yaml expects, and a
// runner of its recipes with no terminal and a PATH without pulumi.
type project struct {
	t   *testing.T
	dir string
	log string
	env []string
}

func newProject(t *testing.T) *project {
	t.Helper()
	justBin, err := exec.LookPath("just")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("just is not installed: .ci/run must install it")
		}
		t.Skip("just is not installed (npm install -g rust-just)")
	}
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)

	root := t.TempDir()
	p := &project{t: t, dir: filepath.Join(root, "infra"), log: filepath.Join(root, "pulumi.log")}
	files, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	require.NoError(t, err)
	for _, f := range strings.Fields(string(files)) {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(p.dir, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(p.dir, f), data, 0o644))
	}
	require.NoError(t, os.CopyFS(filepath.Join(root, "services"), os.DirFS("testdata/services")))
	p.git("init", "-q")
	p.git("add", ".")
	p.git("commit", "-qm", "fixture")

	// The environment of a developer who has set nothing yet.
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "PATH" || name == "SSL_CERT_FILE" || strings.HasPrefix(name, "PULUMI_") || strings.HasPrefix(name, "CLOUDFLARE_") || strings.HasPrefix(name, "DOME_") {
			continue
		}
		p.env = append(p.env, kv)
	}
	path := []string{filepath.Dir(justBin), filepath.Dir(goBin), "/usr/bin", "/bin"}
	// One try: a deploy that stops is not recovered and retried here, where
	// the CLI is a fake and the account unreachable (TestDeployConverges
	// runs the retries on the real engine).
	p.env = append(p.env, "PATH="+strings.Join(path, string(os.PathListSeparator)), "FAKE_PULUMI_LOG="+p.log, "DOME_DEPLOY_TRIES=1")
	return p
}

func (p *project) git(args ...string) {
	p.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	require.NoError(p.t, err, string(out))
}

// write adds an untracked file the scratch repository ignores.
func (p *project) write(name, content string, mode os.FileMode) {
	p.t.Helper()
	path := filepath.Join(p.dir, name)
	require.NoError(p.t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(p.t, os.WriteFile(path, []byte(content), mode))
	f, err := os.OpenFile(filepath.Join(p.dir, ".git", "info", "exclude"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(p.t, err)
	defer f.Close()
	_, err = f.WriteString("/" + name + "\n")
	require.NoError(p.t, err)
}

// just runs a recipe; stdin is not a terminal.
func (p *project) just(env []string, args ...string) (string, error) {
	cmd := exec.Command("just", args...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, p.env...), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// calls returns the Pulumi calls made since the last look.
func (p *project) calls() []string {
	p.t.Helper()
	data, err := os.ReadFile(p.log)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(p.t, err)
	require.NoError(p.t, os.Remove(p.log))
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// startEmulator runs `just emulator` on a free loopback port until the test
// ends and returns the host:port it serves.
func (p *project) startEmulator() string {
	p.t.Helper()
	// The runtime's npm packages are this checkout's, which just test
	// installed: the copy fetches nothing. The tests here need the API only.
	modules, err := filepath.Abs("runtime/node_modules")
	require.NoError(p.t, err)
	require.DirExists(p.t, modules, "run 'just runtime-install' (just test does)")
	require.NoError(p.t, os.Symlink(modules, filepath.Join(p.dir, "runtime", "node_modules")))
	f, err := os.OpenFile(filepath.Join(p.dir, ".git", "info", "exclude"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(p.t, err)
	_, err = f.WriteString("/runtime/node_modules\n")
	require.NoError(p.t, errors.Join(err, f.Close()))
	cmd := exec.Command("just", "emulator", "-addr", "127.0.0.1:0", "-runtime=false")
	cmd.Dir, cmd.Env = p.dir, p.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to stop just and the emulator together
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	require.NoError(p.t, cmd.Start())
	p.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		_ = w.Close()
	})
	const serving = "serving the Cloudflare API emulator at https://"
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), serving); ok {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			host, _, _ := strings.Cut(rest, "/")
			return host
		}
	}
	p.t.Fatalf("just emulator stopped before serving: %v", lines.Err())
	return ""
}

func TestRecipes(t *testing.T) {
	p := newProject(t)

	// Without a CLI every Pulumi recipe stops first and says how to get one.
	out, err := p.just(nil, "pulumi-preview", "dev")
	require.Error(t, err)
	require.Contains(t, out, "error: the pulumi CLI is not installed: install it (docs/getting-started.md) or run 'just tools' to build it here")

	p.write(".tools/bin/pulumi", fakePulumi, 0o755)

	guards := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown stack", nil, []string{"pulumi-preview", "nope"}, "error: unknown stack 'nope': Pulumi.nope.yaml is missing (stacks: dev staging prod, local)"},
		{"stack init needs the stack's file", nil, []string{"pulumi-stack-init", "qa"}, "error: unknown stack 'qa'"},
		{"recover needs the stack's file", nil, []string{"recover", "qa"}, "error: unknown stack 'qa'"},
		{"recover needs credentials", nil, []string{"recover", "dev"}, "CLOUDFLARE_API_TOKEN: the Cloudflare API token is not set"},
		{"credentials", nil, []string{"pulumi-preview", "dev"}, "CLOUDFLARE_API_TOKEN: the Cloudflare API token is not set; export CLOUDFLARE_API_TOKEN or put it in .env.dev"},
		{"destroying prod is refused", nil, []string{"pulumi-destroy", "prod"}, "error: refusing to destroy prod: production resources are protected"},
		{"deploy-prod without a terminal needs the variable", nil, []string{"deploy-prod"}, "error: no terminal to confirm on: set DOME_CONFIRM_PROD=prod to deploy prod from CI"},
		{"deploy-prod with the wrong confirmation", []string{"DOME_CONFIRM_PROD=yes"}, []string{"deploy-prod"}, "set DOME_CONFIRM_PROD=prod"},
		{"pulumi-up prod is guarded too", nil, []string{"pulumi-up", "prod"}, "set DOME_CONFIRM_PROD=prod"},
		{"passphrase", nil, []string{"outputs", "dev"}, "error: PULUMI_CONFIG_PASSPHRASE is not set: the dev stack's secrets are encrypted with a passphrase; export it or put it in .env.dev"},
		{"dev watches only the emulator", []string{"CLOUDFLARE_API_TOKEN=0123456789012345678901234567890123456789", "CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef"}, []string{"dev", "staging"}, "dev staging: stack staging deploys to Cloudflare (its apiHostname is not set): dev uploads code only to the local emulator"},
	}
	for _, tt := range guards {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.just(tt.env, tt.args...)
			require.Error(t, err, out)
			require.Contains(t, out, tt.want)
			require.Empty(t, p.calls(), "the guard stops before any change")
		})
	}

	// Credentials for every stack, from .env files as a developer keeps them.
	for _, stack := range []string{"dev", "staging", "prod"} {
		// An inline comment, which the recipes and the program both drop.
		p.write(".env."+stack, "CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef # the team's account\nCLOUDFLARE_API_TOKEN='0123456789012345678901234567890123456789'\nPULUMI_CONFIG_PASSPHRASE=pass-"+stack+"  # from the vault\n", 0o600)
	}
	backend := "backend=file://" + p.dir + "/.state"

	flows := []struct {
		name  string
		env   []string
		args  []string
		calls []string
	}{
		{"stack init", nil, []string{"pulumi-stack-init", "staging"}, []string{"stack init staging --secrets-provider passphrase | passphrase=pass-staging " + backend}},
		{"preview", nil, []string{"pulumi-preview", "dev"}, []string{"stack ls --json | passphrase=pass-dev " + backend, "preview --stack dev --diff | passphrase=pass-dev " + backend}},
		{"the environment wins over .env", []string{"PULUMI_CONFIG_PASSPHRASE=shell", "PULUMI_BACKEND_URL=s3://team-state"}, []string{"outputs", "dev"}, []string{"stack output --json --stack dev | passphrase=shell backend=s3://team-state"}},
		{"refresh", nil, []string{"refresh", "staging"}, []string{"stack ls --json | passphrase=pass-staging " + backend, "refresh --stack staging --yes | passphrase=pass-staging " + backend}},
		{"deploy-dev from CI", []string{"DOME_CONFIRM=dev"}, []string{"deploy-dev"}, []string{
			"stack ls --json | passphrase=pass-dev " + backend,
			"preview --stack dev --diff | passphrase=pass-dev " + backend,
			"up --stack dev --yes --skip-preview | passphrase=pass-dev " + backend,
		}},
		{"deploy-prod from CI on a clean tree", []string{"DOME_CONFIRM_PROD=prod"}, []string{"deploy-prod"}, []string{
			"stack ls --json | passphrase=pass-prod " + backend,
			"preview --stack prod --diff | passphrase=pass-prod " + backend,
			"up --stack prod --yes --skip-preview | passphrase=pass-prod " + backend,
		}},
		{"preview-all", nil, []string{"preview-all"}, []string{
			"stack ls --json | passphrase=pass-dev " + backend, "preview --stack dev --diff | passphrase=pass-dev " + backend,
			"stack ls --json | passphrase=pass-staging " + backend, "preview --stack staging --diff | passphrase=pass-staging " + backend,
			"stack ls --json | passphrase=pass-prod " + backend, "preview --stack prod --diff | passphrase=pass-prod " + backend,
		}},
		{"destroy-dev from CI", []string{"DOME_CONFIRM_DESTROY=dev"}, []string{"destroy-dev"}, []string{"stack ls --json | passphrase=pass-dev " + backend, "destroy --stack dev --yes | passphrase=pass-dev " + backend}},
		{"pulumi-up prod previews first, then applies what was confirmed", []string{"DOME_CONFIRM_PROD=prod"}, []string{"pulumi-up", "prod"}, []string{
			"stack ls --json | passphrase=pass-prod " + backend,
			"preview --stack prod --diff | passphrase=pass-prod " + backend,
			"up --stack prod --yes --skip-preview | passphrase=pass-prod " + backend,
		}},
		{"pulumi-up without a terminal is confirmed as a deploy is", []string{"DOME_CONFIRM=staging"}, []string{"pulumi-up", "staging"}, []string{
			"stack ls --json | passphrase=pass-staging " + backend,
			"preview --stack staging --diff | passphrase=pass-staging " + backend,
			"up --stack staging --yes --skip-preview | passphrase=pass-staging " + backend,
		}},
		{"pulumi-destroy leaves confirmation to Pulumi", nil, []string{"pulumi-destroy", "dev"}, []string{"stack ls --json | passphrase=pass-dev " + backend, "destroy --stack dev | passphrase=pass-dev " + backend}},
		{"deploy-all from CI", []string{"DOME_CONFIRM=dev staging", "DOME_CONFIRM_PROD=prod"}, []string{"deploy-all"}, []string{
			"stack ls --json | passphrase=pass-dev " + backend,
			"preview --stack dev --diff | passphrase=pass-dev " + backend,
			"up --stack dev --yes --skip-preview | passphrase=pass-dev " + backend,
			"stack ls --json | passphrase=pass-staging " + backend,
			"preview --stack staging --diff | passphrase=pass-staging " + backend,
			"up --stack staging --yes --skip-preview | passphrase=pass-staging " + backend,
			"stack ls --json | passphrase=pass-prod " + backend,
			"preview --stack prod --diff | passphrase=pass-prod " + backend,
			"up --stack prod --yes --skip-preview | passphrase=pass-prod " + backend,
		}},
	}
	for _, tt := range flows {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.just(tt.env, tt.args...)
			require.NoError(t, err, out)
			require.Equal(t, tt.calls, p.calls())
		})
	}

	// A deploy that stops at what an interrupted one left behind names the
	// command that settles it; any other failure is left as Pulumi says it.
	for _, tt := range []struct{ output, hint string }{
		{"error: A queue with this name already exists in your account (11009)", "error: the deploy of dev stopped at what an interrupted or failed deploy leaves behind (above): run 'just recover dev'"},
		{"error: the stack is currently locked by 1 lock(s).", "run 'just recover dev'"},
		{"error: stack dev holds 2 resources of a type the program no longer registers (domecf:index:WorkerSubdomain: api, web)", "run 'just recover dev'"},
		{"error: invalid token", ""},
	} {
		out, err = p.just([]string{"DOME_CONFIRM=dev", "FAKE_PULUMI_UP_FAILS=" + tt.output}, "deploy-dev")
		require.Error(t, err)
		require.Contains(t, out, tt.output)
		if tt.hint == "" {
			require.NotContains(t, out, "just recover")
		} else {
			require.Contains(t, out, tt.hint)
		}
		p.calls()
	}

	// What prod's reviewers approve is what deploys: ci-plan saves the
	// preview's plan, and a deploy given it (DOME_PLAN) runs no new preview
	// and applies that plan alone.
	out, err = p.just(nil, "ci-plan", "prod")
	require.NoError(t, err, out)
	require.Equal(t, []string{"stack ls --json | passphrase=pass-prod " + backend, "preview --stack prod --diff --save-plan .plans/prod.json | passphrase=pass-prod " + backend}, p.calls())
	require.Contains(t, out, "plan saved to .plans/prod.json: DOME_PLAN=.plans/prod.json just pulumi-up prod applies exactly it")
	require.FileExists(t, filepath.Join(p.dir, ".plans", "prod.json"))
	planned := []string{"DOME_CONFIRM_PROD=prod", "DOME_PLAN=.plans/prod.json"}
	for _, recipe := range [][]string{{"deploy-prod"}, {"pulumi-up", "prod"}} {
		out, err = p.just(planned, recipe...)
		require.NoError(t, err, out)
		require.Contains(t, out, "deploying prod as planned in .plans/prod.json")
		require.Equal(t, []string{"stack ls --json | passphrase=pass-prod " + backend, "up --stack prod --yes --skip-preview --plan .plans/prod.json | passphrase=pass-prod " + backend}, p.calls(), recipe)
	}
	// An update that departs from the plan is refused, saying what to do.
	violation := "resource urn:pulumi:prod::dome::domecf:index:WorkerScript::dome-api violates plan: properties changed: ~~logpush[{false}!={true}]"
	out, err = p.just(append(planned, "FAKE_PULUMI_PLAN_VIOLATION="+violation), "deploy-prod")
	require.Error(t, err, out)
	require.Contains(t, out, violation, "Pulumi's own words name what differs")
	require.Contains(t, out, "error: refusing to deploy prod beyond its approved plan: the deploy would do something the plan in .plans/prod.json did not show; the resource and what differs are named above")
	require.Contains(t, out, "make a new plan and have its diff approved again (in CI, Re-run all jobs of the newest run and approve after reading plan-prod's summary")
	require.Len(t, p.calls(), 2)
	// A failure that is not the plan's is not reported as one.
	require.NoError(t, os.WriteFile(filepath.Join(p.dir, ".tools", "bin", "pulumi"), []byte(strings.Replace(fakePulumi, "exit 0\n", "[ \"$1\" = up ] && { echo 'error: 503 Service Unavailable' >&2; exit 255; }\nexit 0\n", 1)), 0o755))
	out, err = p.just(planned, "deploy-prod")
	require.Error(t, err, out)
	require.NotContains(t, out, "refusing to deploy prod beyond")
	require.NoError(t, os.WriteFile(filepath.Join(p.dir, ".tools", "bin", "pulumi"), []byte(fakePulumi), 0o755))
	p.calls()
	// Without the plan nothing is applied.
	out, err = p.just([]string{"DOME_CONFIRM_PROD=prod", "DOME_PLAN=.plans/nope.json"}, "deploy-prod")
	require.Error(t, err, out)
	require.Contains(t, out, "error: DOME_PLAN names .plans/nope.json, which does not exist: make it with 'just ci-plan prod'")
	require.Equal(t, []string{"stack ls --json | passphrase=pass-prod " + backend}, p.calls())

	// Without confirmation nothing is applied, though the preview ran; the
	// error says how to confirm without a terminal.
	for _, recipe := range [][]string{{"deploy-staging"}, {"pulumi-up", "staging"}} {
		out, err = p.just(nil, recipe...)
		require.Error(t, err)
		require.Contains(t, out, `error: no terminal to confirm on: set DOME_CONFIRM=staging (or a list such as "dev staging") to deploy staging from CI`)
		require.Equal(t, []string{"stack ls --json | passphrase=pass-staging " + backend, "preview --stack staging --diff | passphrase=pass-staging " + backend}, p.calls())
	}

	// A deletion allowed in a .env file would stay allowed for every later
	// deploy: both the recipes' reader and the program's refuse the file.
	p.write(".env.staging", "CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef\nPULUMI_CONFIG_PASSPHRASE=pass-staging\nDOME_ALLOW_DELETE=silo\n", 0o600)
	for _, args := range [][]string{{"outputs", "staging"}, {"pulumi-preview", "staging"}} {
		out, err = p.just(nil, args...)
		require.Error(t, err, out)
		require.Contains(t, out, "sets DOME_ALLOW_DELETE, which would allow those deletions in every later deploy of the stack", args)
		require.Empty(t, p.calls(), "refused before any Pulumi command")
	}

	// The emulator recipe serves the local stack, and import plans against it.
	host := p.startEmulator()
	p.write("Pulumi.local.yaml", "config:\n  dome:environment: dev\n  dome:apiHostname: "+host+"\n  dome:servicesRoot: ../services\n", 0o644)
	// The local stack trusts the emulator's certificate, and uses .env.local's
	// credentials even when the shell holds real ones.
	realCreds := []string{"CLOUDFLARE_API_TOKEN=a-real-token-0123456789012345678901234567", "CLOUDFLARE_ACCOUNT_ID=fedcba9876543210fedcba9876543210", "PULUMI_CONFIG_PASSPHRASE=shell"}
	out, err = p.just(realCreds, "import", "local")
	require.NoError(t, err, out)
	require.Contains(t, out, "stack local: 0 existing resources match the config; wrote "+filepath.Join(".", "import-local.json"))
	require.Contains(t, out, "create  worker dome-api (dome-api-dev) (not in the account)")
	out, err = p.just(nil, "db-status", "local")
	require.NoError(t, err, out)
	require.Contains(t, out, "  silo (silo-dev): not created yet\n    pending  0001_init.sql\n    pending  0002_add_tags.sql\n    pending  0003_note_pipeline.sql\n")

	// deploy-local creates the local stack on first use and trusts the emulator.
	out, err = p.just(nil, "deploy-local")
	require.NoError(t, err, out)
	local := "passphrase=local " + backend + " cert=" + filepath.Join(p.dir, ".emulator", "cfemu-cert.pem")
	require.Equal(t, []string{
		"stack ls --json | " + local,
		"stack init local --secrets-provider passphrase | " + local,
		"up --stack local --yes | " + local,
	}, p.calls())
	// Every later call on the local stack trusts the emulator too, with the
	// local stack's own passphrase whatever the shell exports.
	out, err = p.just(realCreds, "refresh", "local")
	require.NoError(t, err, out)
	require.Equal(t, []string{"stack ls --json | " + local, "refresh --stack local --yes | " + local}, p.calls())

	// A dirty tree blocks prod, confirmed or not.
	require.NoError(t, os.WriteFile(filepath.Join(p.dir, "uncommitted.txt"), []byte("x"), 0o644))
	out, err = p.just([]string{"DOME_CONFIRM_PROD=prod"}, "deploy-prod")
	require.Error(t, err)
	require.Contains(t, out, "error: refusing to deploy prod from a dirty git tree: commit or stash your changes first")
	require.Empty(t, p.calls())

	// build puts the plugin where Pulumi.yaml points Pulumi.
	_, err = os.Stat(filepath.Join(p.dir, "bin", "pulumi-resource-domecf"))
	require.NoError(t, err, "just build (run by every Pulumi recipe) puts the plugin in ./bin")

	out, err = p.just(nil, "validate", "local")
	require.NoError(t, err, out)
	require.Contains(t, out, "stack local: configuration is valid (environment dev, protected: false)")
}

// TestRecipesPaceByBudget: the recipes let the official provider go at 50
// calls a second unless CLOUDFLARE_RPS says otherwise, and keep the
// companion to Cloudflare's budget.
func TestRecipesPaceByBudget(t *testing.T) {
	p := newProject(t)
	p.write(".tools/bin/pulumi", "#!/bin/sh\necho \"rps=$CLOUDFLARE_RPS budget=$CLOUDFLARE_API_BUDGET\" >> \"$FAKE_PULUMI_LOG\"\n", 0o755)
	p.write(".env.dev", "CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef\nCLOUDFLARE_API_TOKEN=0123456789012345678901234567890123456789\nPULUMI_CONFIG_PASSPHRASE=pass\n", 0o600)
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{nil, "rps=50 budget=1200/5m"},
		{[]string{"CLOUDFLARE_API_BUDGET=600/5m"}, "rps=50 budget=600/5m"},
		{[]string{"CLOUDFLARE_RPS=2"}, "rps=2 budget="},
	} {
		out, err := p.just(tt.env, "outputs", "dev")
		require.NoError(t, err, out)
		require.Equal(t, []string{tt.want}, p.calls(), tt.env)
	}
}
