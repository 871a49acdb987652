package main

// The GitHub Actions workflows under .github/workflows, linted by actionlint
// and read back as actionlint parses them, to hold them to what the pipeline
// promises: when each runs, which environment and concurrency group each
// deploy has, the least permissions, secrets only in steps' env, and every
// command a recipe of this justfile.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/require"
)

var ciStacks = []string{"dev", "staging", "prod"}

// workflows lints every workflow with actionlint (shellcheck and pyflakes
// aside: every script is one `just` call) and returns each parsed, by file name.
func workflows(t *testing.T) map[string]*actionlint.Workflow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out strings.Builder
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	require.NoError(t, err)
	errs, err := linter.LintFiles(files, nil)
	require.NoError(t, err)
	require.Empty(t, errs, out.String())

	parsed := map[string]*actionlint.Workflow{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		w, errs := actionlint.Parse(src)
		require.Empty(t, errs, f)
		parsed[filepath.Base(f)] = w
	}
	return parsed
}

// recipeArity is how many arguments each public recipe of the justfile takes.
type recipeArity struct{ min, max int }

func recipes(t *testing.T) map[string]recipeArity {
	t.Helper()
	if _, err := exec.LookPath("just"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("just is not installed: .ci/run must install it")
		}
		t.Skip("just is not installed (npm install -g rust-just)")
	}
	raw, err := exec.Command("just", "--dump", "--dump-format", "json").Output()
	require.NoError(t, err)
	var dump struct {
		Recipes map[string]struct {
			Private    bool
			Parameters []struct {
				Kind    string
				Default any
			}
		}
	}
	require.NoError(t, json.Unmarshal(raw, &dump))
	out := map[string]recipeArity{}
	for name, r := range dump.Recipes {
		if r.Private {
			continue
		}
		var a recipeArity
		for _, p := range r.Parameters {
			switch {
			case p.Kind == "plus":
				a.min++
				a.max = 1 << 10
			case p.Kind == "star":
				a.max = 1 << 10
			case p.Default != nil:
				a.max++
			default:
				a.min++
				a.max++
			}
		}
		out[name] = a
	}
	return out
}

// step is one step of one job, with what the tests look at.
type step struct {
	file, job string
	*actionlint.Step
}

func (s step) String() string { return fmt.Sprintf("%s: job %s: step %s", s.file, s.job, s.label()) }

func (s step) label() string {
	switch {
	case s.Name != nil:
		return s.Name.Value
	case s.run() != "":
		return s.run()
	default:
		return s.uses()
	}
}

func (s step) run() string {
	if r, ok := s.Exec.(*actionlint.ExecRun); ok && r.Run != nil {
		return r.Run.Value
	}
	return ""
}

func (s step) uses() string {
	if a, ok := s.Exec.(*actionlint.ExecAction); ok {
		return a.Uses.Value
	}
	return ""
}

func (s step) input(name string) string {
	if a, ok := s.Exec.(*actionlint.ExecAction); ok {
		for _, in := range a.Inputs {
			if in.Name.Value == name {
				return in.Value.Value
			}
		}
	}
	return ""
}

func (s step) env() map[string]string {
	out := map[string]string{}
	if s.Env != nil {
		for _, v := range s.Env.Vars {
			out[v.Name.Value] = v.Value.Value
		}
	}
	return out
}

// words splits `just <recipe> <args>` into the recipe and its arguments.
func (s step) words() []string { return strings.Fields(s.run()) }

func allSteps(ws map[string]*actionlint.Workflow) []step {
	var out []step
	for file, w := range ws {
		for _, j := range w.Jobs {
			for _, st := range j.Steps {
				out = append(out, step{file, j.ID.Value, st})
			}
		}
	}
	return out
}

func job(t *testing.T, w *actionlint.Workflow, id string) *actionlint.Job {
	t.Helper()
	for _, j := range w.Jobs {
		if j.ID.Value == id {
			return j
		}
	}
	t.Fatalf("no job %q", id)
	return nil
}

// runs returns the steps of a job whose command is exactly `cmd`.
func runs(j *actionlint.Job, cmd string) []*actionlint.Step {
	var out []*actionlint.Step
	for _, st := range j.Steps {
		if (step{Step: st}).run() == cmd {
			out = append(out, st)
		}
	}
	return out
}

func TestWorkflowTriggers(t *testing.T) {
	ws := workflows(t)
	require.ElementsMatch(t, []string{"preview.yml", "deploy.yml", "drift.yml"}, slices.Collect(maps.Keys(ws)))

	events := func(w *actionlint.Workflow) map[string]actionlint.Event {
		out := map[string]actionlint.Event{}
		for _, e := range w.On {
			out[e.EventName()] = e
		}
		return out
	}
	values := func(f *actionlint.WebhookEventFilter) []string {
		var out []string
		if f != nil {
			for _, v := range f.Values {
				out = append(out, v.Value)
			}
		}
		return out
	}
	// What "touching the infrastructure" means, for the preview and the deploy alike.
	infra := []string{"**.go", "go.mod", "go.sum", "Pulumi*.yaml", "justfile", "testdata/services/**"}

	// A pull request is checked when it touches any workflow: the test job
	// lints them all.
	preview := events(ws["preview.yml"])
	require.Len(t, preview, 1, "previews run on pull requests only")
	pr := preview["pull_request"].(*actionlint.WebhookEvent)
	require.Equal(t, append(slices.Clone(infra), ".github/workflows/**"), values(pr.Paths))

	// A push deploys when it changes what deploys, or the workflows that
	// deploy and check it; editing only the drift workflow deploys nothing.
	deploy := events(ws["deploy.yml"])
	require.ElementsMatch(t, []string{"push", "workflow_dispatch"}, slices.Collect(maps.Keys(deploy)))
	push := deploy["push"].(*actionlint.WebhookEvent)
	require.Equal(t, []string{"main"}, values(push.Branches))
	require.Equal(t, append(slices.Clone(infra), ".github/workflows/deploy.yml", ".github/workflows/preview.yml"), values(push.Paths))
	matches := func(file string) bool {
		for _, p := range values(push.Paths) {
			if pathGlob(p).MatchString(file) {
				return true
			}
		}
		return false
	}
	require.False(t, matches(".github/workflows/drift.yml"))
	for _, file := range []string{".github/workflows/deploy.yml", ".github/workflows/preview.yml", "main.go", "internal/config/config.go", "Pulumi.prod.yaml", "justfile"} {
		require.True(t, matches(file), file)
	}
	require.False(t, matches("README.md"))

	drift := events(ws["drift.yml"])
	require.ElementsMatch(t, []string{"schedule", "workflow_dispatch"}, slices.Collect(maps.Keys(drift)))
	require.Len(t, drift["schedule"].(*actionlint.ScheduledEvent).Cron, 1)
}

// pathGlob is a workflow's paths filter as a regular expression: ** is any
// run of characters, * any run without a slash.
func pathGlob(pattern string) *regexp.Regexp {
	var re strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			re.WriteString(".*")
			i++
		case pattern[i] == '*':
			re.WriteString("[^/]*")
		default:
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	return regexp.MustCompile("^" + re.String() + "$")
}

func TestWorkflowPreview(t *testing.T) {
	w := workflows(t)["preview.yml"]

	// Every pull request runs the whole suite, in a job that sees no secret.
	test := job(t, w, "test")
	require.Len(t, runs(test, "just test"), 1)
	require.Nil(t, test.Environment, "no environment: no credential")
	for _, st := range test.Steps {
		s := step{"preview.yml", "test", st}
		require.NotEqual(t, servicesRepo, s.input("repository"), "%s: the tests use testdata/services", s)
		for _, v := range s.env() {
			require.NotContains(t, v, "secrets.", s.String())
		}
	}

	// Every stack file is validated, prod's included, in a job that gets no
	// credential but the services repository's.
	validate := job(t, w, "validate")
	files, err := filepath.Glob("Pulumi.*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		stack := strings.TrimSuffix(strings.TrimPrefix(f, "Pulumi."), ".yaml")
		require.Len(t, runs(validate, "just ci-report ci-validate "+stack), 1, "validate %s", stack)
	}
	require.Equal(t, []string{"services"}, jobEnvironments(validate))

	// dev and staging are previewed, each on its own environment; prod
	// never is: its preview would need prod's passphrase and state.
	preview := job(t, w, "preview")
	require.Equal(t, []string{"dev", "staging"}, jobEnvironments(preview))
	require.Len(t, runs(preview, "just ci-report pulumi-preview ${{ matrix.stack }}"), 1)
	// Each preview's topology, its changes marked, goes to the comment too.
	diagram := runs(preview, "just ci-diagram ${{ matrix.stack }}")
	require.Len(t, diagram, 1)
	for _, name := range []string{"PULUMI_BACKEND_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_CONFIG_PASSPHRASE", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"} {
		require.Equal(t, "${{ secrets."+name+" }}", step{Step: diagram[0]}.env()[name], "ci-diagram previews the stack: %s", name)
	}
	for _, s := range allSteps(map[string]*actionlint.Workflow{"preview.yml": w}) {
		if strings.Contains(s.run(), "prod") {
			require.Equal(t, "just ci-report ci-validate prod", s.run(), "%s: a pull request's code runs nothing against prod but offline validation", s)
		}
	}

	// One comment per pull request, found by its marker and edited in place,
	// made by a job that checks nothing out and sees no secret.
	comment := job(t, w, "comment")
	require.Equal(t, []string{"validate", "preview"}, names(comment.Needs))
	var script string
	for _, st := range comment.Steps {
		s := step{Step: st}
		require.Empty(t, s.run(), "the comment job runs no command")
		require.NotContains(t, s.uses(), "checkout")
		if strings.HasPrefix(s.uses(), "actions/github-script@") {
			script = s.input("script")
		}
	}
	for _, want := range []string{"<!-- dome-preview -->", "updateComment", "createComment", "['dev', 'staging']", "pulumi-preview-${stack}.md", "diagram-${stack}.md", "ci-validate-prod.md", "plan-prod"} {
		require.Contains(t, script, want)
	}
}

// prodEnvironments are the GitHub environments that hold prod's
// credentials; each accepts main only (README, CI).
var prodEnvironments = []string{"prod-preview", "prod"}

// jobEnvironments is the GitHub environment a job runs on, or each one its
// matrix gives it.
func jobEnvironments(j *actionlint.Job) []string {
	if j.Environment == nil {
		return nil
	}
	name := j.Environment.Name.Value
	if name != "${{ matrix.stack }}" {
		return []string{name}
	}
	var out []string
	for _, v := range j.Strategy.Matrix.Rows["stack"].Values {
		out = append(out, v.(*actionlint.RawYAMLString).Value)
	}
	return out
}

// TestWorkflowPullRequestsReachNoProd: nothing a branch's code runs can read
// what reaches prod: not its token, not its state, not the passphrase that
// decrypts it. Every credential is a secret of a GitHub environment (none is
// the repository's, which every branch could read); the pull-request
// workflow runs only on environments a branch may use (services, dev,
// staging); prod's environments serve the workflows that run main's code.
func TestWorkflowPullRequestsReachNoProd(t *testing.T) {
	ws := workflows(t)
	for file, w := range ws {
		prFile := false
		for _, e := range w.On {
			// These run a branch's code with the base repository's secrets.
			require.NotContains(t, []string{"pull_request_target", "workflow_run"}, e.EventName(), file)
			prFile = prFile || e.EventName() == "pull_request"
		}
		for _, j := range w.Jobs {
			secrets := false
			for _, st := range j.Steps {
				s := step{file, j.ID.Value, st}
				for _, v := range s.env() {
					secrets = secrets || strings.Contains(v, "secrets.")
				}
				if a, ok := st.Exec.(*actionlint.ExecAction); ok {
					for _, in := range a.Inputs {
						secrets = secrets || strings.Contains(in.Value.Value, "secrets.")
					}
				}
			}
			envs := jobEnvironments(j)
			if secrets {
				require.NotEmpty(t, envs, "%s: job %s reads secrets: they are its environment's, never the repository's", file, j.ID.Value)
			}
			for _, env := range envs {
				if prFile {
					require.Contains(t, []string{"services", "dev", "staging"}, env, "%s: job %s runs a pull request's code", file, j.ID.Value)
				}
			}
		}
		if prFile {
			require.Equal(t, "preview.yml", file, "pull requests run one workflow")
		}
	}
	// prod's environments serve exactly these jobs, of workflows that run
	// main's code (pushes to main, the schedule, Run workflow on main).
	got := map[string][]string{}
	for file, w := range ws {
		for _, j := range w.Jobs {
			for _, env := range jobEnvironments(j) {
				if slices.Contains(prodEnvironments, env) {
					got[env] = append(got[env], file+":"+j.ID.Value)
				}
			}
		}
	}
	for _, jobs := range got {
		slices.Sort(jobs)
	}
	require.Equal(t, map[string][]string{
		"prod":         {"deploy.yml:deploy-prod"},
		"prod-preview": {"deploy.yml:plan-prod", "drift.yml:drift-prod"},
	}, got)
	// A plan without protection rules keeps prod out of GitHub (README):
	// one repository variable turns every prod job off.
	for _, jobs := range got {
		for _, fj := range jobs {
			file, id, _ := strings.Cut(fj, ":")
			j := job(t, ws[file], id)
			require.NotNil(t, j.If, fj)
			require.Equal(t, "${{ vars.DOME_PROD_FROM_CI != 'false' }}", j.If.Value, fj)
		}
	}
}

// servicesRepo is how the workflows name Dome's services repository.
const servicesRepo = "${{ vars.DOME_SERVICES_REPOSITORY }}"

// TestWorkflowServicesPinned: every job of a run builds the same services
// commit. The first job resolves it (the branch's newest, once) and every
// later checkout asks for that sha, so a push to services during a run
// cannot make prod ship code that dev and staging never ran; every report
// that ran the program names both commits.
func TestWorkflowServicesPinned(t *testing.T) {
	pinned := "${{ needs.services.outputs.sha }}"
	for file, w := range workflows(t) {
		services := job(t, w, "services")
		require.Empty(t, services.Needs, "%s: the services commit is resolved first", file)
		var resolve *actionlint.Step
		for _, st := range services.Steps {
			if s := (step{Step: st}); strings.HasPrefix(s.uses(), "actions/checkout@") && s.input("repository") == servicesRepo {
				resolve = st
			}
		}
		require.NotNil(t, resolve, "%s: job services checks the services repository out", file)
		require.Empty(t, step{Step: resolve}.input("ref"), "%s: the branch's newest commit", file)
		require.NotNil(t, resolve.ID, file)
		require.Equal(t, "${{ steps."+resolve.ID.Value+".outputs.commit }}", services.Outputs["sha"].Value.Value, "%s: the commit it checked out is the job's output sha", file)

		checkouts := 0
		for _, j := range w.Jobs {
			if j == services {
				continue
			}
			for _, st := range j.Steps {
				s := step{file, j.ID.Value, st}
				if strings.HasPrefix(s.uses(), "actions/checkout@") && s.input("repository") == servicesRepo {
					checkouts++
					require.Equal(t, pinned, s.input("ref"), "%s: the services commit this run resolved", s)
					require.Contains(t, names(j.Needs), "services", "%s", s)
				}
				if w := s.words(); len(w) > 2 && w[1] == "ci-report" && slices.Contains([]string{"pulumi-preview", "ci-plan", "deploy-dev", "deploy-staging", "deploy-prod", "drift"}, w[2]) {
					env := s.env()
					require.Equal(t, "${{ github.sha }}", env["DOME_INFRA_COMMIT"], "%s: the report names this repository's commit", s)
					require.Equal(t, pinned, env["DOME_SERVICES_COMMIT"], "%s: the report names the services commit", s)
				}
			}
		}
		require.NotZero(t, checkouts, file)
	}
}

// TestWorkflowArtifacts: what a job hands on is uploaded whole or the job
// fails. upload-artifact leaves out hidden files and folders unless told
// (since v4.4), and the reports are in .reports/: without
// include-hidden-files every artifact was empty, and with
// if-no-files-found: ignore, silently so.
func TestWorkflowArtifacts(t *testing.T) {
	uploads := 0
	for _, s := range allSteps(workflows(t)) {
		if !strings.HasPrefix(s.uses(), "actions/upload-artifact@") {
			continue
		}
		uploads++
		require.Equal(t, "error", s.input("if-no-files-found"), "%s: a missing file fails the job", s)
		hidden := false
		for _, part := range strings.Split(s.input("path"), "/") {
			hidden = hidden || strings.HasPrefix(part, ".")
		}
		if hidden {
			require.Equal(t, "true", s.input("include-hidden-files"), "%s: %s is in a hidden folder", s, s.input("path"))
		}
		require.NotEmpty(t, s.input("retention-days"), "%s: kept no longer than it is needed", s)
	}
	require.NotZero(t, uploads)
}

func TestWorkflowDeploy(t *testing.T) {
	w := workflows(t)["deploy.yml"]
	for i, stack := range ciStacks {
		t.Run(stack, func(t *testing.T) {
			deploy := job(t, w, "deploy-"+stack)
			require.NotNil(t, deploy.Environment, "deploys run on the stack's GitHub environment")
			require.Equal(t, stack, deploy.Environment.Name.Value)
			require.NotNil(t, deploy.Concurrency)
			require.Equal(t, "deploy-"+stack, deploy.Concurrency.Group.Value, "one concurrency group per stack")
			require.NotNil(t, deploy.Concurrency.CancelInProgress, "cancel-in-progress must be stated")
			require.Nil(t, deploy.Concurrency.CancelInProgress.Expression)
			require.False(t, deploy.Concurrency.CancelInProgress.Value, "a deploy is never cancelled half way")

			// Promotion order: each stack after the previous one, whose job
			// ends with its smoke test; prod after its plan too.
			switch {
			case stack == "prod":
				require.Equal(t, []string{"services", "plan-prod"}, names(deploy.Needs))
				require.Equal(t, []string{"services", "deploy-" + ciStacks[i-1]}, names(job(t, w, "plan-prod").Needs))
			case i > 0:
				require.Equal(t, []string{"services", "deploy-" + ciStacks[i-1]}, names(deploy.Needs))
			default:
				require.Equal(t, []string{"services"}, names(deploy.Needs))
			}

			steps := runs(deploy, "just ci-report deploy-"+stack)
			require.Len(t, steps, 1)
			// A re-run of an older run is refused before it deploys.
			current := runs(deploy, "just ci-current")
			require.Len(t, current, 1)
			require.Less(t, slices.Index(deploy.Steps, current[0]), slices.Index(deploy.Steps, steps[0]), "main is checked before the deploy")
			require.Equal(t, map[string]string{"DOME_INFRA_COMMIT": "${{ github.sha }}", "GH_TOKEN": "${{ github.token }}", "GH_REPO": "${{ github.repository }}"}, step{Step: current[0]}.env())
			env := step{Step: steps[0]}.env()
			if stack == "prod" {
				require.Equal(t, "prod", env["DOME_CONFIRM_PROD"])
			} else {
				require.Equal(t, stack, env["DOME_CONFIRM"])
			}
			// Deletions allowed by hand reach this stack's deploy only when
			// this stack was chosen, and only through the environment.
			require.Equal(t, "${{ inputs.allow-delete-stack == '"+stack+"' && inputs.allow-delete || '' }}", env["DOME_ALLOW_DELETE"])

			// The stack's outputs leave the job as its output `stack`...
			out := runs(deploy, "just ci-outputs "+stack)
			require.Len(t, out, 1)
			require.NotNil(t, out[0].ID)
			require.Equal(t, "${{ steps."+out[0].ID.Value+".outputs.json }}", deploy.Outputs["stack"].Value.Value)

			// ... and the same job checks them against Cloudflare, after the
			// deploy: in its concurrency group, so no newer deploy of the
			// stack runs between the two.
			checks := runs(deploy, "just ci-report smoke "+stack)
			require.Len(t, checks, 1)
			require.Equal(t, "${{ steps."+out[0].ID.Value+".outputs.json }}", step{Step: checks[0]}.env()["DOME_OUTPUTS"])
			require.Greater(t, slices.Index(deploy.Steps, checks[0]), slices.Index(deploy.Steps, out[0]), "the smoke test follows the deploy")
		})
	}
	for _, j := range w.Jobs {
		require.False(t, strings.HasPrefix(j.ID.Value, "smoke-"), "job %s: a smoke test in a job of its own runs outside the deploy's concurrency group", j.ID.Value)
	}

	// What prod's reviewers approve is what deploys. plan-prod, on a main-only
	// environment that asks nobody, previews prod and saves the plan; its
	// summary is the diff the reviewers read. deploy-prod, which waits for
	// them, takes that plan and applies it alone (DOME_PLAN): Pulumi refuses
	// any step the plan does not hold.
	plan := job(t, w, "plan-prod")
	require.Equal(t, []string{"prod-preview"}, jobEnvironments(plan))
	require.Nil(t, plan.Concurrency, "a plan changes nothing: it waits for no deploy")
	planned := runs(plan, "just ci-report ci-plan prod")
	require.Len(t, planned, 1)
	require.Equal(t, "${{ inputs.allow-delete-stack == 'prod' && inputs.allow-delete || '' }}", step{Step: planned[0]}.env()["DOME_ALLOW_DELETE"], "the plan shows the deletions the deploy may make")
	var upload *actionlint.Step
	for _, st := range plan.Steps[slices.Index(plan.Steps, planned[0]):] {
		if strings.HasPrefix(step{Step: st}.uses(), "actions/upload-artifact@") {
			upload = st
		}
	}
	require.NotNil(t, upload, "plan-prod hands its plan on")
	require.Equal(t, "infra/.plans/", step{Step: upload}.input("path"))
	require.Nil(t, upload.If, "only a plan whose preview passed")
	deploy := job(t, w, "deploy-prod")
	apply := runs(deploy, "just ci-report deploy-prod")[0]
	require.Equal(t, ".plans/prod.json", step{Step: apply}.env()["DOME_PLAN"])
	var download *actionlint.Step
	for _, st := range deploy.Steps[:slices.Index(deploy.Steps, apply)] {
		if strings.HasPrefix(step{Step: st}.uses(), "actions/download-artifact@") {
			download = st
		}
	}
	require.NotNil(t, download, "deploy-prod takes plan-prod's plan before it deploys")
	require.Equal(t, step{Step: upload}.input("name"), step{Step: download}.input("name"))
	require.Equal(t, "infra/.plans", step{Step: download}.input("path"))
	require.Len(t, runs(plan, "just ci-current"), 1, "nobody is asked to approve an older commit's plan")

	// Run by hand, a deploy takes the allowance as inputs: names, and the one stack they apply to.
	var dispatch *actionlint.WorkflowDispatchEvent
	for _, e := range w.On {
		if d, ok := e.(*actionlint.WorkflowDispatchEvent); ok {
			dispatch = d
		}
	}
	require.NotNil(t, dispatch)
	require.Equal(t, []string{"allow-delete", "allow-delete-stack"}, slices.Sorted(maps.Keys(dispatch.Inputs)))
	var options []string
	for _, o := range dispatch.Inputs["allow-delete-stack"].Options {
		options = append(options, o.Value)
	}
	require.Equal(t, append([]string{"none"}, ciStacks...), options, "one stack at a time")
	require.Equal(t, "none", dispatch.Inputs["allow-delete-stack"].Default.Value, "no stack by default")
	require.Empty(t, dispatch.Inputs["allow-delete"].Default.Value, "nothing allowed by default")

	// A deletion allowed by hand reaches only the chosen stack's plan and
	// deploy.
	for _, s := range allSteps(map[string]*actionlint.Workflow{"deploy.yml": w}) {
		if allow, ok := s.env()["DOME_ALLOW_DELETE"]; ok {
			stack := strings.TrimPrefix(strings.TrimPrefix(s.job, "deploy-"), "plan-")
			require.Contains(t, []string{"deploy-" + stack, "plan-" + stack}, s.job, s.String())
			require.Equal(t, "${{ inputs.allow-delete-stack == '"+stack+"' && inputs.allow-delete || '' }}", allow, s.String())
		}
	}

	// Nothing but these jobs deploys anything.
	for _, s := range allSteps(workflows(t)) {
		if w := s.words(); len(w) > 2 && w[1] == "ci-report" && (strings.HasPrefix(w[2], "deploy-") || w[2] == "pulumi-up") {
			require.Equal(t, "deploy.yml", s.file, s.String())
			require.Equal(t, w[2], s.job, s.String())
		}
	}
}

func TestWorkflowDrift(t *testing.T) {
	w := workflows(t)["drift.yml"]
	drift := job(t, w, "drift")
	require.NotNil(t, drift.Strategy)
	require.Equal(t, []string{"dev", "staging"}, jobEnvironments(drift), "each stack is checked on its own environment")
	require.False(t, drift.Strategy.FailFast.Value, "one stack's drift does not hide another's")
	prod := job(t, w, "drift-prod")
	require.Equal(t, []string{"prod-preview"}, jobEnvironments(prod), "prod's on the environment main alone may use")

	for stack, j := range map[string]*actionlint.Job{"${{ matrix.stack }}": drift, "prod": prod} {
		// In the stack's deploy group: a drift check never runs during a
		// deploy of its stack, and is never cancelled half way.
		group := "deploy-" + stack
		require.NotNil(t, j.Concurrency, j.ID.Value)
		require.Equal(t, group, j.Concurrency.Group.Value, j.ID.Value)
		require.NotNil(t, j.Concurrency.CancelInProgress, j.ID.Value)
		require.False(t, j.Concurrency.CancelInProgress.Value, j.ID.Value)

		// A drifted stack opens or updates its issue, with the diff; a clean
		// one closes it.
		checks := runs(j, "just ci-report drift "+stack)
		require.Len(t, checks, 1, j.ID.Value)
		require.NotNil(t, checks[0].ID, j.ID.Value)
		issue := runs(j, "just ci-drift-issue "+stack)
		require.Len(t, issue, 1, j.ID.Value)
		require.Greater(t, slices.Index(j.Steps, issue[0]), slices.Index(j.Steps, checks[0]), j.ID.Value)
		require.NotNil(t, issue[0].If, "%s: after a failed check too", j.ID.Value)
		require.Equal(t, "${{ !cancelled() }}", issue[0].If.Value, j.ID.Value)
		require.Equal(t, map[string]string{
			"DOME_DRIFT_OUTCOME": "${{ steps." + checks[0].ID.Value + ".outcome }}",
			"GH_TOKEN":           "${{ github.token }}",
			"GH_REPO":            "${{ github.repository }}",
		}, step{Step: issue[0]}.env(), j.ID.Value)
	}
}

func TestWorkflowPermissions(t *testing.T) {
	// The least each job needs: reading the repository; for the one job
	// that comments, writing pull-request comments and nothing else; for
	// the drift checks, writing their issues.
	want := map[string]map[string]map[string]string{
		"preview.yml": {"services": {"contents": "read"}, "test": {"contents": "read"}, "validate": {"contents": "read"}, "preview": {"contents": "read"}, "comment": {"pull-requests": "write"}},
		"drift.yml":   {"services": {"contents": "read"}, "drift": {"contents": "read", "issues": "write"}, "drift-prod": {"contents": "read", "issues": "write"}},
		"deploy.yml":  {"services": {"contents": "read"}, "plan-prod": {"contents": "read"}},
	}
	for _, stack := range ciStacks {
		want["deploy.yml"]["deploy-"+stack] = map[string]string{"contents": "read"}
	}
	for file, w := range workflows(t) {
		require.NotNil(t, w.Permissions, "%s: the workflow's default permissions must be none", file)
		require.Nil(t, w.Permissions.All, file)
		require.Empty(t, w.Permissions.Scopes, file)
		got := map[string]map[string]string{}
		for _, j := range w.Jobs {
			require.NotNil(t, j.Permissions, "%s: job %s states its permissions", file, j.ID.Value)
			require.Nil(t, j.Permissions.All, "%s: job %s", file, j.ID.Value)
			got[j.ID.Value] = map[string]string{}
			for _, s := range j.Permissions.Scopes {
				got[j.ID.Value][s.Name.Value] = s.Value.Value
			}
		}
		require.Equal(t, want[file], got, file)
	}
}

// TestWorkflowTimeouts: a job that hangs (a prompt nobody answers, a
// provider waiting on an API) ends within its limit, not GitHub's six hours.
func TestWorkflowTimeouts(t *testing.T) {
	for file, w := range workflows(t) {
		for _, j := range w.Jobs {
			require.NotNil(t, j.TimeoutMinutes, "%s: job %s states timeout-minutes", file, j.ID.Value)
			require.Nil(t, j.TimeoutMinutes.Expression, "%s: job %s", file, j.ID.Value)
			require.Greater(t, j.TimeoutMinutes.Value, 0.0, "%s: job %s", file, j.ID.Value)
			require.LessOrEqual(t, j.TimeoutMinutes.Value, 90.0, "%s: job %s", file, j.ID.Value)
		}
	}
}

func TestWorkflowSecrets(t *testing.T) {
	ws := workflows(t)
	for file, w := range ws {
		require.Nil(t, w.Env, "%s: no workflow-wide env: secrets go to the steps that need them", file)
		for _, j := range w.Jobs {
			require.Nil(t, j.Env, "%s: job %s: no job-wide env: secrets go to the steps that need them", file, j.ID.Value)
		}
	}
	pulumiRecipes := []string{"pulumi-preview", "drift", "ci-outputs", "outputs", "ci-plan", "deploy-dev", "deploy-staging", "deploy-prod"}
	for _, s := range allSteps(ws) {
		require.NotContains(t, s.run(), "secrets.", "%s: a secret in a run: line is echoed into the log", s)
		for name, value := range s.env() {
			if strings.Contains(value, "secrets.") {
				require.Equal(t, "${{ secrets."+name+" }}", value, "%s: env %s takes the secret of its own name, and only it", s, name)
				require.NotEmpty(t, s.run(), "%s: secrets go to just recipes, not to actions", s)
			}
		}
		if strings.HasPrefix(s.uses(), "actions/checkout@") {
			require.Equal(t, "false", s.input("persist-credentials"), "%s: no token left on disk for later steps", s)
			if tok := s.input("token"); tok != "" {
				require.Equal(t, "${{ secrets.DOME_SERVICES_TOKEN || github.token }}", tok, s.String())
			}
		}
		// Every step that reaches Pulumi state names the shared backend and its keys.
		if w := s.words(); len(w) > 1 && (slices.Contains(pulumiRecipes, w[1]) || len(w) > 2 && slices.Contains(pulumiRecipes, w[2])) {
			env := s.env()
			for _, name := range []string{"PULUMI_BACKEND_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_CONFIG_PASSPHRASE", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"} {
				require.Equal(t, "${{ secrets."+name+" }}", env[name], "%s: %s", s, name)
			}
		}
	}
}

func TestWorkflowRunSteps(t *testing.T) {
	known := recipes(t)
	ws := workflows(t)
	for _, s := range allSteps(ws) {
		cmd := s.run()
		if cmd == "" {
			continue
		}
		// One `just` call per step; the only expression a command holds is the matrix's stack.
		require.NotContains(t, cmd, "\n", "%s: one command per step", s)
		require.NotContains(t, strings.ReplaceAll(cmd, "${{ matrix.stack }}", ""), "${{", "%s: expressions go through env, not into scripts", s)
		words := s.words()
		require.Equal(t, "just", words[0], "%s: every command is a just recipe", s)
		for _, args := range expand(words[1:], ciStacks) {
			checkRecipe(t, known, args, s.String())
			if args[0] == "ci-report" {
				checkRecipe(t, known, args[1:], s.String())
			}
		}
	}

	// Each job that runs Pulumi installs the pinned CLI and the plugins
	// first, from a cache kept between runs under those versions: restored,
	// put first on PATH, where pulumi/actions finds the version it wants.
	pinned, err := exec.Command("just", "--evaluate", "pulumi_version").Output()
	require.NoError(t, err)
	version := strings.TrimPrefix(string(pinned), "v")
	official, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/pulumi/pulumi-cloudflare/sdk/v5").Output()
	require.NoError(t, err)
	plugin := strings.TrimPrefix(strings.TrimSpace(string(official)), "v")
	for file, w := range ws {
		for _, j := range w.Jobs {
			var cache, path, cli, plugins, goMod bool
			for _, st := range j.Steps {
				s := step{file, j.ID.Value, st}
				switch {
				case strings.HasPrefix(s.uses(), "actions/cache@") && strings.Contains(s.input("path"), "~/.pulumi/plugins"):
					require.Equal(t, []string{"~/.pulumi/bin", "~/.pulumi/plugins"}, strings.Fields(s.input("path")), "%s: the CLI and the plugins", s)
					require.True(t, strings.HasPrefix(s.input("key"), "pulumi-"+version+"-cloudflare-"+plugin+"-"), "%s: keyed on the pinned versions: %s", s, s.input("key"))
					cache = true
				case s.run() == "just ci-pulumi-path":
					require.True(t, cache, "%s: after the cache is restored", s)
					path = true
				case strings.HasPrefix(s.uses(), "pulumi/actions@"):
					require.Equal(t, version, s.input("pulumi-version"), "%s: the CLI just tools pins", s)
					require.True(t, path, "%s: after the cached CLI is on PATH", s)
					cli = true
				case strings.HasPrefix(s.uses(), "actions/setup-go@"):
					require.Equal(t, "infra/go.mod", s.input("go-version-file"), "%s: the Go go.mod names", s)
					goMod = true
				case s.run() == "just plugins":
					require.True(t, cli, "%s: after the CLI is installed", s)
					plugins = true
				case len(s.words()) > 2 && s.words()[1] == "ci-report" && s.words()[2] != "smoke" && s.words()[2] != "ci-validate":
					require.True(t, plugins, "%s: after `just plugins`", s)
				}
			}
			if len(runsAny(j)) > 0 {
				require.True(t, goMod, "%s: job %s sets up Go", file, j.ID.Value)
			}
		}
	}
}

// pinnedUses is how a workflow names a third-party action: by the full
// commit SHA, which nobody can move, with the release it is in a comment.
var pinnedUses = regexp.MustCompile(`^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$`)

func TestWorkflowActionsPinned(t *testing.T) {
	workflows(t)
	files, err := filepath.Glob(filepath.Join(".github", "workflows", "*.yml"))
	require.NoError(t, err)
	// One commit per action, whichever workflow uses it.
	pins := map[string]string{}
	for _, f := range files {
		for i, line := range strings.Split(string(must(os.ReadFile(f))), "\n") {
			if !strings.Contains(line, "uses:") || strings.Contains(line, "uses: ./") {
				continue
			}
			m := pinnedUses.FindStringSubmatch(line)
			require.NotNil(t, m, "%s:%d: %q: a third-party action is pinned by its commit SHA, its release in a comment: uses: owner/repo@<40 hex> # vX.Y.Z", f, i+1, strings.TrimSpace(line))
			pin := m[2] + " # " + m[3]
			if prev, ok := pins[m[1]]; ok {
				require.Equal(t, prev, pin, "%s:%d: every workflow runs the same %s", f, i+1, m[1])
			}
			pins[m[1]] = pin
		}
	}
	require.NotEmpty(t, pins)
}

// checkRecipe fails unless args call a public recipe with an argument count it takes.
func checkRecipe(t *testing.T, known map[string]recipeArity, args []string, where string) {
	t.Helper()
	require.NotEmpty(t, args, where)
	a, ok := known[args[0]]
	require.True(t, ok, "%s: no public recipe %q in the justfile", where, args[0])
	n := len(args) - 1
	require.True(t, n >= a.min && n <= a.max, "%s: recipe %q takes %d to %d arguments, given %d", where, args[0], a.min, a.max, n)
}

// expand substitutes each matrix stack for `${{ matrix.stack }}`.
func expand(args, stacks []string) [][]string {
	joined := strings.Join(args, " ")
	if !strings.Contains(joined, "${{ matrix.stack }}") {
		return [][]string{args}
	}
	var out [][]string
	for _, s := range stacks {
		out = append(out, strings.Fields(strings.ReplaceAll(joined, "${{ matrix.stack }}", s)))
	}
	return out
}

func runsAny(j *actionlint.Job) []string {
	var out []string
	for _, st := range j.Steps {
		if r := (step{Step: st}).run(); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func names(ss []*actionlint.String) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Value)
	}
	return out
}

// fakeGH stands in for the GitHub CLI: it logs each call to
// $FAKE_GH_DIR/log and answers from files there: main's newest commit
// (main), and the repository's issues, one "number<TAB>state<TAB>title"
// line each (issues), with each one's body (body-<n>) and comments
// (comments-<n>). `issue list` hands its --jq filter to jq, as gh does to
// its built-in one.
const fakeGH = `#!/usr/bin/env bash
set -euo pipefail
dir="$FAKE_GH_DIR"
echo "$*" >> "$dir/log"
touch "$dir/issues"
# flag NAME ARGS...: the value given to --NAME.
flag() { local name="--$1" prev=""; shift; for a in "$@"; do [ "$prev" = "$name" ] && { printf '%s' "$a"; return; }; prev="$a"; done; }
case "$1 $2" in
  "api repos/"*) cat "$dir/main" ;;
  "issue list")
    state="$(flag state "$@")"
    awk -F'\t' -v s="$state" 'BEGIN { printf "[" } $2 == s { printf "%s{\"number\": %s, \"title\": \"%s\"}", sep, $1, $3; sep = ", " } END { print "]" }' "$dir/issues" | jq -r "$(flag jq "$@")" ;;
  "issue create")
    n=$(( $(wc -l < "$dir/issues") + 1 ))
    printf '%s\topen\t%s\n' "$n" "$(flag title "$@")" >> "$dir/issues"
    cp "$(flag body-file "$@")" "$dir/body-$n"
    echo "https://github.example/acme/infra/issues/$n" ;;
  "issue edit") cp "$(flag body-file "$@")" "$dir/body-$3" ;;
  "issue comment") { flag body "$@"; echo; } >> "$dir/comments-$3" ;;
  "issue close")
    { flag comment "$@"; echo; } >> "$dir/comments-$3"
    awk -F'\t' -v OFS='\t' -v n="$3" '$1 == n { $2 = "closed" } { print }' "$dir/issues" > "$dir/issues.new" && mv "$dir/issues.new" "$dir/issues" ;;
  *) echo "fake gh: unexpected call: $*" >&2; exit 2 ;;
esac
`

// withFakeGH puts fakeGH first on the project's PATH, with GH_REPO set, and
// returns the folder it answers from and logs to.
func (p *project) withFakeGH() string {
	p.t.Helper()
	dir := p.t.TempDir()
	require.NoError(p.t, os.Mkdir(filepath.Join(dir, "bin"), 0o755))
	require.NoError(p.t, os.WriteFile(filepath.Join(dir, "bin", "gh"), []byte(fakeGH), 0o755))
	for i, kv := range p.env {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			p.env[i] = "PATH=" + filepath.Join(dir, "bin") + string(os.PathListSeparator) + path
		}
	}
	p.env = append(p.env, "FAKE_GH_DIR="+dir, "GH_REPO=acme/infra")
	return dir
}

// ghCalls returns the gh calls made since the last look.
func ghCalls(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "log"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "log")))
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// TestCICurrent: a deploy goes on only while its commit is main's newest.
func TestCICurrent(t *testing.T) {
	p := newProject(t)
	gh := p.withFakeGH()
	const older, newer = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	require.NoError(t, os.WriteFile(filepath.Join(gh, "main"), []byte(newer+"\n"), 0o644))

	out, err := p.just([]string{"DOME_INFRA_COMMIT=" + newer}, "ci-current")
	require.NoError(t, err, out)
	require.Contains(t, out, newer+" is main's newest commit")
	require.Equal(t, []string{"api repos/acme/infra/commits/main -H Accept: application/vnd.github.sha"}, ghCalls(t, gh))

	// Re-running an older run, after main moved on.
	out, err = p.just([]string{"DOME_INFRA_COMMIT=" + older}, "ci-current")
	require.Error(t, err, out)
	require.Contains(t, out, "error: refusing to deploy "+older+": main's newest commit is "+newer+". This run is older (a re-run of an earlier run) or of another branch, and would put older code over what main holds. Deploy main's newest commit instead")
	require.Len(t, ghCalls(t, gh), 1)

	// Without the commit to compare it says what it needs, and asks GitHub nothing.
	out, err = p.just(nil, "ci-current")
	require.Error(t, err, out)
	require.Contains(t, out, "DOME_INFRA_COMMIT")
	require.Empty(t, ghCalls(t, gh))
}

// TestCIDriftIssue: a drifted stack has one open issue holding the latest
// drift report, updated while the drift lasts, and closed once a drift
// check finds the stack clean; other stacks' issues are left alone.
func TestCIDriftIssue(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("the fake gh filters with jq, which is not installed")
	}
	p := newProject(t)
	gh := p.withFakeGH()
	run := []string{"GITHUB_SERVER_URL=https://github.example", "GITHUB_RUN_ID=42"}
	issues := func() string { return string(must(os.ReadFile(filepath.Join(gh, "issues")))) }
	file := func(name string) string { return string(must(os.ReadFile(filepath.Join(gh, name)))) }
	report := func(text string) {
		require.NoError(t, os.MkdirAll(filepath.Join(p.dir, ".reports"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(p.dir, ".reports", "drift-prod.md"), []byte(text), 0o644))
	}
	// Someone else's issue, and staging's drift issue, already open.
	require.NoError(t, os.WriteFile(filepath.Join(gh, "issues"), []byte("1\topen\tdeploys are slow\n2\topen\tdrift: stack staging\n"), 0o644))
	list := `issue list --state open --limit 500 --json number,title --jq .[] | select(.title == "drift: stack prod") | .number`

	// Clean, with no issue open: nothing to do.
	out, err := p.just(run, "ci-drift-issue", "prod", "success")
	require.NoError(t, err, out)
	require.Contains(t, out, "stack prod matches Cloudflare, and no drift issue is open")
	require.Equal(t, []string{list}, ghCalls(t, gh))

	// Drifted: one issue opened, with the diff and what to do.
	report("### `just drift prod`: failed (exit 7)\n\n```diff\n~ domecf:index:WorkerScript: (update)\n    + logpush: true\nerror: stack 'prod' has drifted: Cloudflare no longer matches its state (the diff is above)\n```\n")
	out, err = p.just(append(run, "DOME_DRIFT_OUTCOME=failure"), "ci-drift-issue", "prod")
	require.NoError(t, err, out)
	require.Contains(t, out, "stack prod: opened the drift issue")
	calls := ghCalls(t, gh)
	require.Len(t, calls, 2)
	require.Equal(t, list, calls[0])
	require.True(t, strings.HasPrefix(calls[1], "issue create --title drift: stack prod --body-file "), calls[1])
	require.Equal(t, "1\topen\tdeploys are slow\n2\topen\tdrift: stack staging\n3\topen\tdrift: stack prod\n", issues())
	body := file("body-3")
	require.True(t, strings.HasPrefix(body, "Cloudflare no longer matches the Pulumi state of stack `prod`: someone changed it outside Pulumi. The drift check's diff is below ([run](https://github.example/acme/infra/actions/runs/42)).\n"), body)
	require.Contains(t, body, "`just refresh prod` records them in the state")
	require.Contains(t, body, "+ logpush: true")

	// Still drifted, another day: the same issue, its body the latest report, and a comment.
	report("### `just drift prod`: failed (exit 7)\n\n```diff\n    + logpush: true\n    - placement: smart\nerror: stack 'prod' has drifted: Cloudflare no longer matches its state (the diff is above)\n```\n")
	out, err = p.just(run, "ci-drift-issue", "prod", "failure")
	require.NoError(t, err, out)
	require.Contains(t, out, "stack prod: updated drift issue #3")
	calls = ghCalls(t, gh)
	require.Len(t, calls, 3)
	require.True(t, strings.HasPrefix(calls[1], "issue edit 3 --body-file "), calls[1])
	require.True(t, strings.HasPrefix(calls[2], "issue comment 3 --body Still failing on "), calls[2])
	require.Contains(t, file("body-3"), "- placement: smart")
	require.Contains(t, file("comments-3"), "the description now holds this check's report")
	require.Equal(t, 3, strings.Count(issues(), "\topen\t"), "no second issue")

	// A report longer than an issue holds is cut, its code block closed.
	report("### `just drift prod`: failed (exit 7)\n\n```diff\n" + strings.Repeat("    + logpush: true\n", 4000) + "error: stack 'prod' has drifted: Cloudflare no longer matches its state\n```\n")
	out, err = p.just(run, "ci-drift-issue", "prod", "failure")
	require.NoError(t, err, out)
	require.Len(t, ghCalls(t, gh), 3)
	require.Less(t, len(file("body-3")), 65536)
	require.True(t, strings.HasSuffix(file("body-3"), "\n```\n\n(cut here: the run's summary has the whole report)\n"), file("body-3")[len(file("body-3"))-200:])

	// A check that could not run says so, in the same issue.
	require.NoError(t, os.Remove(filepath.Join(p.dir, ".reports", "drift-prod.md")))
	out, err = p.just(run, "ci-drift-issue", "prod", "skipped")
	require.NoError(t, err, out)
	require.Len(t, ghCalls(t, gh), 3)
	require.Contains(t, file("body-3"), "could not compare Cloudflare with its state")
	require.Contains(t, file("body-3"), "(no report: the check did not run; see the run's log)")

	// Clean again: closed, saying so; staging's stays open.
	out, err = p.just(run, "ci-drift-issue", "prod", "success")
	require.NoError(t, err, out)
	require.Contains(t, out, "stack prod matches Cloudflare again: closed #3")
	calls = ghCalls(t, gh)
	require.Len(t, calls, 2)
	require.True(t, strings.HasPrefix(calls[1], "issue close 3 --comment The drift check of "), calls[1])
	require.Contains(t, file("comments-3"), "found stack `prod` matching Cloudflare again: closing.")
	require.Equal(t, "1\topen\tdeploys are slow\n2\topen\tdrift: stack staging\n3\tclosed\tdrift: stack prod\n", issues())

	// Without an outcome it says what it needs and asks GitHub nothing.
	out, err = p.just(nil, "ci-drift-issue", "prod")
	require.Error(t, err, out)
	require.Contains(t, out, "error: the drift check's outcome is '': give success or failure")
	require.Empty(t, ghCalls(t, gh))
}

// TestCIRecipes runs the recipes the workflows add around the others: the
// plugins CI installs, and the report of a recipe in the job summary.
func TestCIRecipes(t *testing.T) {
	p := newProject(t)
	p.write(".tools/bin/pulumi", fakePulumi, 0o755)

	// The official plugin at the version the program's go.mod pins, after the companion is built.
	out, err := p.just(nil, "plugins")
	require.NoError(t, err, out)
	require.Equal(t, []string{"plugin install resource cloudflare 5.49.1 | passphrase= backend=file://" + p.dir + "/.state"}, p.calls())
	_, err = os.Stat(filepath.Join(p.dir, "bin", "pulumi-resource-domecf"))
	require.NoError(t, err)

	// ci-report exits as the recipe does, with its output in the summary and in .reports/.
	summary := filepath.Join(t.TempDir(), "summary.md")
	reports := []struct {
		args    []string
		ok      bool
		heading string
		line    string
	}{
		{[]string{"validate", "local"}, true, "### `just validate local`: passed", "stack local: configuration is valid"},
		{[]string{"validate", "nope"}, false, "### `just validate nope`: failed (exit 1)", "nope"},
	}
	for _, r := range reports {
		out, err := p.just([]string{"GITHUB_STEP_SUMMARY=" + summary}, append([]string{"ci-report"}, r.args...)...)
		require.Equal(t, r.ok, err == nil, out)
		report := string(must(os.ReadFile(filepath.Join(p.dir, ".reports", strings.Join(r.args, "-")+".md"))))
		require.True(t, strings.HasPrefix(report, r.heading+"\n\n```diff\n"), report)
		require.Contains(t, report, r.line)
		require.True(t, strings.HasSuffix(report, "```\n"), report)
		require.Contains(t, string(must(os.ReadFile(summary))), report, "the job summary gets the same report")
	}
	// A stack validated where its credentials never are (a pull request's
	// check of prod) gets stand-ins of their form, and says so; the report
	// is the one the pull-request comment shows for prod.
	out, err = p.just(nil, "ci-report", "ci-validate", "prod")
	require.NoError(t, err, out)
	require.Contains(t, out, "note: this job has no credentials for prod: CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID are stand-ins of the right form (validation checks only the form); the stack's preview and deploy use the real ones")
	require.Contains(t, out, "stack prod: configuration is valid (environment prod, protected: true)")
	require.Contains(t, string(must(os.ReadFile(filepath.Join(p.dir, ".reports", "ci-validate-prod.md")))), "stack prod: configuration is valid")
	out, err = p.just(nil, "validate", "prod")
	require.Error(t, err, out)
	require.Contains(t, out, "the Cloudflare API token is not set", "validate itself still needs them")
	// Credentials that are there are used, and checked, whether from the
	// environment or from .env.<stack>.
	out, err = p.just([]string{"CLOUDFLARE_API_TOKEN=Bearer 0123456789012345678901234567890123456789", "CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef"}, "ci-validate", "prod")
	require.Error(t, err, out)
	require.NotContains(t, out, "stand-ins")
	require.Contains(t, out, `starts with "Bearer "`)
	p.write(".env.staging", "CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef\n", 0o600)
	out, err = p.just(nil, "ci-validate", "staging")
	require.Error(t, err, out)
	require.NotContains(t, out, "stand-ins")
	require.Contains(t, out, "the Cloudflare API token is not set")

	// A run in CI names the commits it ran, this repository's and the services', at the top of its report.
	out, err = p.just([]string{"DOME_INFRA_COMMIT=1111111111111111111111111111111111111111", "DOME_SERVICES_COMMIT=2222222222222222222222222222222222222222"}, "ci-report", "validate", "local")
	require.NoError(t, err, out)
	report := string(must(os.ReadFile(filepath.Join(p.dir, ".reports", "validate-local.md"))))
	require.True(t, strings.HasPrefix(report, "### `just validate local`: passed\n\n**Commits:** infra `1111111111111111111111111111111111111111`, services `2222222222222222222222222222222222222222`\n\n```diff\n"), report)

	// The CLI CI's cache restores comes first on PATH for the later steps.
	githubPath := filepath.Join(t.TempDir(), "path")
	out, err = p.just([]string{"GITHUB_PATH=" + githubPath, "HOME=/home/runner"}, "ci-pulumi-path")
	require.NoError(t, err, out)
	require.Equal(t, "/home/runner/.pulumi/bin\n", string(must(os.ReadFile(githubPath))))

	// A run allowed to lose data says so at the top of its report.
	out, err = p.just([]string{"DOME_ALLOW_DELETE=old-db archive"}, "ci-report", "validate", "local")
	require.NoError(t, err, out)
	report = string(must(os.ReadFile(filepath.Join(p.dir, ".reports", "validate-local.md"))))
	require.True(t, strings.HasPrefix(report, "### `just validate local`: passed\n\n**This run may delete or replace:** `old-db archive` (DOME_ALLOW_DELETE)\n\n```diff\n"), report)
}
