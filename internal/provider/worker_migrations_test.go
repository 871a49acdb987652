package provider

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

func step(tag string, fields ...any) property.Value {
	m := map[string]property.Value{"tag": str(tag)}
	for i := 0; i < len(fields); i += 2 {
		m[fields[i].(string)] = fields[i+1].(property.Value)
	}
	return obj(m)
}

func doWorker(t *testing.T, content string, steps ...property.Value) map[string]property.Value {
	return withCode(t, map[string]property.Value{
		"name":       str("dome-rooms"),
		"migrations": arr(steps...),
	}, content)
}

// The history is the program's; the tag is Cloudflare's. Every update
// reads the tag from the scripts list and sends only the steps after it.
func TestWorkerScriptMigrationHistory(t *testing.T) {
	e := newEnv(t)
	w := e.resource("WorkerScript", "rooms")
	v1 := step("v1", "newSqliteClasses", strs("Counter"))
	v2 := step("v2", "newClasses", strs("Limiter"))
	v3 := step("v3", "renamedClasses", arr(obj(map[string]property.Value{"from": str("Counter"), "to": str("Tally")})))
	v4 := step("v4", "deletedClasses", strs("Limiter"))
	v5 := step("v5", "newSqliteClasses", strs("Room"))

	// Create: a new script is at no tag, so the whole history goes, inline
	// when it is one step.
	created := w.create(doWorker(t, "export default {}", v1))
	meta, _ := e.uploaded("dome-rooms")
	require.Equal(t, map[string]any{"new_tag": "v1", "new_sqlite_classes": []any{"Counter"}}, meta["migrations"])
	require.Equal(t, str("v1"), created.Properties.Get("migrationTag"))
	w.requireNoRefreshDiff()

	// Another deploy moved the script to v2 behind the state's back.
	_, err := e.client().UploadScript(t.Context(), cfapi.UploadScriptParams{ScriptName: "dome-rooms", Content: "export default {}",
		Metadata: cfapi.ScriptMetadata{MainModule: "index.js", Migrations: &cfapi.Migrations{OldTag: "v1", NewTag: "v2",
			MigrationStep: cfapi.MigrationStep{NewClasses: []string{"Limiter"}}}}})
	require.NoError(t, err)
	require.Equal(t, str("v1"), w.state.Get("migrationTag"), "the state still says v1")

	// Adding v3: the tag comes from the scripts list (v2), not from the
	// state (v1), so only v3 is sent.
	e.emu.ResetLog()
	updated := w.update(doWorker(t, "export default {}", v1, v2, v3), "migrations")
	require.Equal(t, []call{{"GET", "/workers/scripts", ""}, {"PUT", "/workers/scripts/dome-rooms", ""}}, e.calls())
	meta, _ = e.uploaded("dome-rooms")
	require.Equal(t, map[string]any{"old_tag": "v2", "new_tag": "v3",
		"renamed_classes": []any{map[string]any{"from": "Counter", "to": "Tally"}}}, meta["migrations"])
	require.Equal(t, str("v3"), updated.Properties.Get("migrationTag"))

	// Two new steps at once go as Cloudflare's steps list.
	e.emu.ResetLog()
	w.update(doWorker(t, "export default {}", v1, v2, v3, v4, v5), "migrations")
	meta, _ = e.uploaded("dome-rooms")
	require.Equal(t, map[string]any{"old_tag": "v3", "new_tag": "v5", "steps": []any{
		map[string]any{"deleted_classes": []any{"Limiter"}},
		map[string]any{"new_sqlite_classes": []any{"Room"}},
	}}, meta["migrations"])
	scripts, err := e.client().ListScripts(t.Context())
	require.NoError(t, err)
	require.Equal(t, "v5", scripts[0].MigrationTag)

	// Re-deploying new code with the same history sends no migration.
	e.emu.ResetLog()
	w.update(doWorker(t, "export default { v: 2 }", v1, v2, v3, v4, v5), "contentSha256")
	meta, _ = e.uploaded("dome-rooms")
	require.NotContains(t, meta, "migrations")
	w.requireNoRefreshDiff()

	// A tag the history does not contain stops the update before the upload.
	_, err = e.client().UploadScript(t.Context(), cfapi.UploadScriptParams{ScriptName: "dome-rooms", Content: "export default {}",
		Metadata: cfapi.ScriptMetadata{MainModule: "index.js", Migrations: &cfapi.Migrations{OldTag: "v5", NewTag: "hotfix"}}})
	require.NoError(t, err)
	require.Equal(t, str("hotfix"), w.read().Properties.Get("migrationTag"), "a refresh sees the tag move")
	d, checked := w.diff(doWorker(t, "export default { v: 3 }", v1, v2, v3, v4, v5))
	require.True(t, d.HasChanges)
	e.emu.ResetLog()
	_, err = e.server.Update(p.UpdateRequest{ID: w.id, Urn: w.urn, State: w.state, Inputs: checked, OldInputs: w.inputs})
	require.ErrorContains(t, err, `worker dome-rooms: the script is at Durable Object migration tag "hotfix", which its migration history (v1, v2, v3, v4, v5, starting from no tag) does not contain; list the steps that led there, or set oldTag on the first step to "hotfix"`)
	require.Equal(t, []call{{"GET", "/workers/scripts", ""}}, e.calls(), "nothing uploaded")

	// Import reads the tag; the steps are the program's to give.
	got := e.importRead("WorkerScript", "dome-rooms")
	require.Equal(t, str("hotfix"), got.Properties.Get("migrationTag"))
	_, has := got.Inputs.GetOk("migrations")
	require.False(t, has)
}

func TestPendingMigrations(t *testing.T) {
	old := "v0"
	history := []WorkerMigration{{Tag: "v1", OldTag: &old, NewClasses: []string{"A"}}, {Tag: "v2", DeletedClasses: []string{"A"}}}
	tests := []struct {
		current string
		want    *cfapi.Migrations
		err     string
	}{
		{current: "v0", want: &cfapi.Migrations{OldTag: "v0", NewTag: "v2", Steps: []cfapi.MigrationStep{{NewClasses: []string{"A"}}, {DeletedClasses: []string{"A"}}}}},
		{current: "v1", want: &cfapi.Migrations{OldTag: "v1", NewTag: "v2", MigrationStep: cfapi.MigrationStep{DeletedClasses: []string{"A"}}}},
		{current: "v2"},
		{current: "", err: `the script is at Durable Object migration tag "", which its migration history (v1, v2, starting from tag "v0") does not contain`},
	}
	for _, tc := range tests {
		t.Run("at "+tc.current, func(t *testing.T) {
			got, err := pendingMigrations(history, tc.current)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestWorkerScriptCheckMigrations(t *testing.T) {
	e := newEnv(t)
	resp := e.resource("WorkerScript", "w").check(doWorker(t, "export default {}",
		step("v1"), step("v1"), step("", "oldTag", str("v0"))))
	require.Equal(t, []p.CheckFailure{
		{Property: "migrations[1].tag", Reason: `tag "v1" is also the tag of step 0; every step needs its own tag`},
		{Property: "migrations[2].tag", Reason: "every migration step needs a tag"},
		{Property: "migrations[2].oldTag", Reason: "only the first step may set oldTag; each later step follows the one before it"},
	}, resp.Failures)
}
