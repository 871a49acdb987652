package provider

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

// captureLogs sends everything the provider logs (in-process it logs
// through slog's default logger) to a buffer, debug level included.
func captureLogs(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// requireNoPlainSecret fails if secret appears anywhere in m outside a
// secret value: what the engine would write to state or print unencrypted.
func requireNoPlainSecret(t *testing.T, what string, m property.Map, secret string) {
	t.Helper()
	var walk func(path string, v property.Value)
	walk = func(path string, v property.Value) {
		switch {
		case v.Secret():
			return
		case v.IsString():
			require.NotContains(t, v.AsString(), secret, "%s: %s holds the secret in the clear", what, path)
		case v.IsArray():
			for i, x := range v.AsArray().All {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		case v.IsMap():
			for k, x := range v.AsMap().All {
				walk(path+"."+k, x)
			}
		}
	}
	walk("", property.New(m))
}

// The secret_text value is passed as a plain string, as a program that
// forgot pulumi.ToSecret would: the provider still keeps it secret.
func TestSecretTextNeverInTheClear(t *testing.T) {
	logs := captureLogs(t)
	e := newEnv(t)
	f := e.workerFixtures()
	// A retried call makes the client log too.
	e.emu.Inject(cfemu.Fault{Method: "PUT", Count: 1, Status: 503})
	w := e.resource("WorkerScript", "api")

	checked := w.checkOK(apiWorker(t, f, "export default {}"))
	requireNoPlainSecret(t, "check", checked, secretValue)
	text := checked.Get("bindings").AsArray().Get(5).AsMap().Get("text")
	require.True(t, text.Secret())
	require.Equal(t, secretValue, text.AsString())
	require.False(t, checked.Get("bindings").AsArray().Get(4).AsMap().Get("text").Secret(), "plain_text stays readable")

	created := w.create(apiWorker(t, f, "export default {}"))
	requireNoPlainSecret(t, "create", created.Properties, secretValue)
	require.True(t, created.Properties.Get("bindings").AsArray().Get(5).AsMap().Get("text").Secret())

	updated := w.update(apiWorker(t, f, "export default { v: 2 }"), "contentSha256")
	requireNoPlainSecret(t, "update", updated.Properties, secretValue)

	refreshed := w.read()
	requireNoPlainSecret(t, "read state", refreshed.Properties, secretValue)
	requireNoPlainSecret(t, "read inputs", refreshed.Inputs, secretValue)
	require.Equal(t, secretValue, refreshed.Properties.Get("bindings").AsArray().Get(5).AsMap().Get("text").AsString(),
		"the value Cloudflare does not return is kept from state")

	// A failing upload: Cloudflare's error names the binding, never the value.
	bad := apiWorker(t, f, "export default {}")
	bad["bindings"] = arr(
		obj(map[string]property.Value{"type": str("secret_text"), "name": str("API_KEY"), "text": str(secretValue)}),
		obj(map[string]property.Value{"type": str("d1"), "name": str("DB"), "id": str("no-such-db")}),
	)
	d, checkedBad := w.diff(bad)
	require.True(t, d.HasChanges)
	_, err := e.server.Update(p.UpdateRequest{ID: w.id, Urn: w.urn, State: w.state, Inputs: checkedBad, OldInputs: w.inputs})
	require.ErrorContains(t, err, "binding DB of type d1")
	require.NotContains(t, err.Error(), secretValue)

	w.delete()

	require.Contains(t, logs.String(), "uploading worker dome-api", "the capture sees the provider's logs")
	require.Contains(t, logs.String(), "answered HTTP 503; retry 1", "the capture sees the client's logs")
	require.NotContains(t, logs.String(), secretValue)
	require.NotContains(t, logs.String(), testToken)
}

// Cloudflare keeps a worker's secrets across uploads, so a secret removed
// from the program is deleted explicitly, and one already gone is no error.
func TestRemovedSecretIsDeleted(t *testing.T) {
	e := newEnv(t)
	f := e.workerFixtures()
	w := e.resource("WorkerScript", "api")
	in := apiWorker(t, f, "export default {}")
	in["bindings"] = arr(
		obj(map[string]property.Value{"type": str("secret_text"), "name": str("API_KEY"), "text": str(secretValue)}),
		obj(map[string]property.Value{"type": str("secret_text"), "name": str("OLD_TOKEN"), "text": str("old")}),
		obj(map[string]property.Value{"type": str("secret_text"), "name": str("GONE"), "text": str("gone")}),
		obj(map[string]property.Value{"type": str("plain_text"), "name": str("MODE"), "text": str("prod")}),
	)
	w.create(in)
	// Someone already deleted one of them by hand.
	require.NoError(t, e.client().DeleteScriptSecret(t.Context(), "dome-api", "GONE"))

	in["bindings"] = arr(
		obj(map[string]property.Value{"type": str("secret_text"), "name": str("API_KEY"), "text": str(secretValue)}),
		obj(map[string]property.Value{"type": str("plain_text"), "name": str("MODE"), "text": str("prod")}),
	)
	e.emu.ResetLog()
	w.update(in, "bindings")
	require.Equal(t, []call{
		{"GET", "/workers/scripts", ""}, // the worker has Durable Object migrations
		{"PUT", "/workers/scripts/dome-api", ""},
		{"DELETE", "/workers/scripts/dome-api/secrets/OLD_TOKEN", ""},
		{"DELETE", "/workers/scripts/dome-api/secrets/GONE", ""},
	}, e.calls())
	secrets, err := e.client().ListScriptSecrets(t.Context(), "dome-api")
	require.NoError(t, err)
	require.Equal(t, []cfapi.Secret{{Name: "API_KEY", Type: "secret_text"}}, secrets)
	w.requireNoRefreshDiff()

	// Turning a secret into a plain var is the upload's job: nothing to delete.
	in["bindings"] = arr(obj(map[string]property.Value{"type": str("plain_text"), "name": str("API_KEY"), "text": str("public")}))
	e.emu.ResetLog()
	w.update(in, "bindings")
	require.Equal(t, []call{{"GET", "/workers/scripts", ""}, {"PUT", "/workers/scripts/dome-api", ""}}, e.calls())
	w.requireNoRefreshDiff()
}
