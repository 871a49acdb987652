package main

// Update plans on the real CLI: what deploy-prod relies on to deploy what
// prod's reviewers approved, and nothing else.

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
)

// planViolation is how Pulumi words an update that departs from its plan;
// the justfile's _confirm-and-up looks for the same words.
var planViolation = regexp.MustCompile(`violates plan|is not allowed by the plan`)

// TestUpdatePlan saves a preview's plan (`pulumi preview --save-plan`, as
// `just ci-plan` does) and applies it (`pulumi up --plan`, as a deploy
// given DOME_PLAN does): the code changed again after the plan is refused
// before anything reaches Cloudflare, and the code the plan showed deploys.
func TestUpdatePlan(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	api := httptest.NewServer(emu)
	defer api.Close()

	w := newWorker("export default { fetch() { return new Response('v1'); } };")
	e := newEngine(t, "prod", w.program(api.URL+"/client/v4"), nil)
	defer e.dump()
	e.up()
	ctx := context.Background()

	// The diff a reviewer reads: the worker's code changes.
	w.content.Store("export default { fetch() { return new Response('v2'); } };")
	plan := filepath.Join(t.TempDir(), "prod.json")
	_, err = e.stack.Preview(ctx, optpreview.Diff(), optpreview.Plan(plan), optpreview.ProgressStreams(e.log), optpreview.ErrorProgressStreams(e.log))
	require.NoError(t, err, e.log.String())
	saved := string(must(os.ReadFile(plan)))
	require.NotContains(t, saved, e2eToken, "the plan holds the providers' token encrypted with the stack's passphrase")
	require.Contains(t, saved, "ciphertext")

	// Other code than the plan showed: refused, naming the resource, and
	// nothing is sent to Cloudflare.
	w.content.Store("export default { fetch() { return new Response('v3'); } };")
	emu.ResetLog()
	_, err = e.stack.Up(ctx, optup.Plan(plan), optup.ProgressStreams(e.log), optup.ErrorProgressStreams(e.log))
	require.Error(t, err)
	require.Regexp(t, planViolation, err.Error())
	require.Contains(t, err.Error(), "urn:pulumi:prod::dome::domecf:index:WorkerScript::api")
	require.Empty(t, mutations(emu), "a refused step sends nothing")

	// The code the plan showed: deployed, as planned.
	w.content.Store("export default { fetch() { return new Response('v2'); } };")
	res, err := e.stack.Up(ctx, optup.Plan(plan), optup.ProgressStreams(e.log), optup.ErrorProgressStreams(e.log))
	require.NoError(t, err, e.log.String())
	require.Equal(t, 1, (*res.Summary.ResourceChanges)["update"], "the worker, as the plan showed")
}
