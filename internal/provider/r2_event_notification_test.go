package provider

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

func rule(prefix, suffix string, actions ...string) property.Value {
	m := map[string]property.Value{"actions": strs(actions...)}
	if prefix != "" {
		m["prefix"] = str(prefix)
	}
	if suffix != "" {
		m["suffix"] = str(suffix)
	}
	return obj(m)
}

func notification(bucket, queueID string, rules ...property.Value) map[string]property.Value {
	return map[string]property.Value{"bucketName": str(bucket), "queueId": str(queueID), "rules": arr(rules...)}
}

func TestR2EventNotificationLifecycle(t *testing.T) {
	e := newEnv(t)
	e.fixture("POST", "/r2/buckets", `{"name":"silo-content"}`)
	e.fixture("POST", "/r2/buckets", `{"name":"silo-archive"}`)
	uploaded := e.fixture("POST", "/queues", `{"queue_name":"silo-content-uploaded"}`)["queue_id"].(string)
	other := e.fixture("POST", "/queues", `{"queue_name":"silo-audit"}`)["queue_id"].(string)
	e.emu.ResetLog()
	n := e.resource("R2EventNotification", "silo-content-uploaded")
	const config = "/event_notifications/r2/silo-content/configuration"

	// Create: make sure the pair has no rules yet, add them, read them back.
	withDescription := obj(map[string]property.Value{"actions": strs("CopyObject"), "suffix": str(".pdf"), "description": str("copied documents")})
	created := n.create(notification("silo-content", uploaded, rule("uploads/", "", "PutObject", "CompleteMultipartUpload"), withDescription))
	require.Equal(t, "silo-content/"+uploaded, created.ID)
	require.Equal(t, []call{
		{"GET", config, ""},
		{"PUT", config + "/queues/" + uploaded, ""},
		{"GET", config, ""},
	}, e.calls())
	require.Equal(t, map[string]any{"rules": []any{
		map[string]any{"actions": []any{"PutObject", "CompleteMultipartUpload"}, "prefix": "uploads/"},
		map[string]any{"actions": []any{"CopyObject"}, "suffix": ".pdf", "description": "copied documents"},
	}}, jsonBody(t, e.lastRequest("PUT", config+"/queues/"+uploaded)))
	require.Equal(t, str("silo-content-uploaded"), created.Properties.Get("queueName"))

	// Refresh right after: one read, no change.
	e.emu.ResetLog()
	n.requireNoRefreshDiff()
	require.Equal(t, []call{{"GET", config, ""}}, e.calls())

	// New rules update in place: checked against the bucket's other rules,
	// the old ones go, the new ones come.
	e.emu.ResetLog()
	n.update(notification("silo-content", uploaded, rule("uploads/", "", "PutObject", "CompleteMultipartUpload", "CopyObject")), "rules")
	require.Equal(t, []call{
		{"GET", config, ""},
		{"DELETE", config + "/queues/" + uploaded, ""},
		{"PUT", config + "/queues/" + uploaded, ""},
		{"GET", config, ""},
	}, e.calls())
	n.requireNoRefreshDiff()

	// Rules changed outside Pulumi show on refresh.
	require.NoError(t, e.client().DeleteR2EventNotification(t.Context(), "silo-content", uploaded))
	require.NoError(t, e.client().PutR2EventNotification(t.Context(), "silo-content", uploaded, []cfapi.NotificationRule{{Actions: []string{"DeleteObject"}, Prefix: "tmp/"}}))
	drift := n.read()
	require.Equal(t, "silo-content/"+uploaded, drift.ID)
	require.Equal(t, arr(rule("tmp/", "", "DeleteObject")), drift.Inputs.Get("rules"))

	// Import needs only the id.
	got := e.importRead("R2EventNotification", "silo-content/"+uploaded)
	require.Equal(t, property.NewMap(map[string]property.Value{"bucketName": str("silo-content"), "queueId": str(uploaded), "rules": arr(rule("tmp/", "", "DeleteObject"))}), got.Inputs)

	// A new bucket or queue is another pair: a replacement.
	for _, tc := range []struct{ prop, bucket, queue string }{{"bucketName", "silo-archive", uploaded}, {"queueId", "silo-content", other}} {
		d, _ := n.diff(notification(tc.bucket, tc.queue, rule("", "", "DeleteObject")))
		require.Equal(t, p.UpdateReplace, d.DetailedDiff[tc.prop].Kind, tc.prop)
	}
	moved := e.resource("R2EventNotification", "silo-content-uploaded")
	moved.create(notification("silo-archive", uploaded, rule("", "", "PutObject")))

	// Delete removes the pair's rules; gone already is no error.
	e.emu.ResetLog()
	n.delete()
	require.Equal(t, []call{{"DELETE", config + "/queues/" + uploaded, ""}}, e.calls())
	gone := n.read()
	require.Empty(t, gone.ID)
	n.delete()
	moved.delete()
}

func TestR2EventNotificationCreateRefusesExisting(t *testing.T) {
	e := newEnv(t)
	e.fixture("POST", "/r2/buckets", `{"name":"silo-content"}`)
	q := e.fixture("POST", "/queues", `{"queue_name":"uploaded"}`)["queue_id"].(string)
	e.fixture("PUT", "/event_notifications/r2/silo-content/configuration/queues/"+q, `{"rules":[{"actions":["PutObject"]}]}`)
	err := e.resource("R2EventNotification", "n").createErr(notification("silo-content", q, rule("", "", "DeleteObject")))
	require.ErrorContains(t, err, "pulumi import --stack test domecf:index:R2EventNotification n silo-content/"+q+" --provider domecf=urn:pulumi:test::dome::pulumi:providers:domecf::domecf")
}

// TestR2EventNotificationKeepsEvents: an update never leaves the bucket
// without the pair's rules. Rules overlapping another queue's are refused
// before anything changes; a PUT Cloudflare refuses anyway puts the old
// rules back.
func TestR2EventNotificationKeepsEvents(t *testing.T) {
	e := newEnv(t)
	e.fixture("POST", "/r2/buckets", `{"name":"silo-content"}`)
	uploaded := e.fixture("POST", "/queues", `{"queue_name":"uploaded"}`)["queue_id"].(string)
	audit := e.fixture("POST", "/queues", `{"queue_name":"audit"}`)["queue_id"].(string)
	e.fixture("PUT", "/event_notifications/r2/silo-content/configuration/queues/"+audit, `{"rules":[{"actions":["PutObject"],"prefix":"b/"}]}`)
	n := e.resource("R2EventNotification", "uploaded")
	n.create(notification("silo-content", uploaded, rule("a/", "", "PutObject")))
	live := func() []any {
		got, err := e.client().GetR2EventNotifications(t.Context(), "silo-content")
		require.NoError(t, err)
		q, ok := got.Queue(uploaded)
		require.True(t, ok, "the pair still has rules")
		var prefixes []any
		for _, r := range q.Rules {
			prefixes = append(prefixes, r.Prefix)
		}
		return prefixes
	}

	// Every key overlaps audit's b/: refused, and nothing was sent.
	_, checked := n.diff(notification("silo-content", uploaded, rule("", "", "PutObject")))
	e.emu.ResetLog()
	_, err := e.server.Update(p.UpdateRequest{ID: n.id, Urn: n.urn, State: n.state, Inputs: checked, OldInputs: n.inputs})
	require.ErrorContains(t, err, `event notifications of bucket silo-content to queue `+uploaded+`: rules[0] (prefix "", suffix "") overlaps a rule sending the same action to queue audit (prefix "b/", suffix ""): an object event goes to one queue; narrow one of the two prefixes or suffixes`)
	for _, c := range e.calls() {
		require.Equal(t, "GET", c.Method, "nothing changed")
	}
	require.Equal(t, []any{"a/"}, live())

	// Cloudflare refuses the new rules all the same: the old ones come back.
	_, checked = n.diff(notification("silo-content", uploaded, rule("c/", "", "PutObject")))
	e.emu.Inject(cfemu.Fault{Method: "PUT", PathPrefix: accPath + "/event_notifications/", Status: 400, Count: 1})
	_, err = e.server.Update(p.UpdateRequest{ID: n.id, Urn: n.urn, State: n.state, Inputs: checked, OldInputs: n.inputs})
	require.ErrorContains(t, err, "the old rules are back in place")
	require.Equal(t, []any{"a/"}, live())
}

// TestR2EventNotificationCreateSurvivesLostAnswer: the retry of a PUT whose
// answer was lost collides with the rules the first attempt added; the
// bucket's configuration shows they are exactly the ones sent.
func TestR2EventNotificationCreateSurvivesLostAnswer(t *testing.T) {
	e := newEnv(t)
	e.fixture("POST", "/r2/buckets", `{"name":"silo-content"}`)
	q := e.fixture("POST", "/queues", `{"queue_name":"uploaded"}`)["queue_id"].(string)
	e.loseAnswers("PUT", "/event_notifications/", 1)
	n := e.resource("R2EventNotification", "uploaded")
	created := n.create(notification("silo-content", q, rule("uploads/", "", "PutObject")))
	require.Equal(t, "silo-content/"+q, created.ID)
	n.requireNoRefreshDiff()
}

func TestR2EventNotificationCheck(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		rules    []property.Value
		failures []p.CheckFailure
	}{
		{name: "disjoint rules pass", rules: []property.Value{rule("a/", "", "PutObject"), rule("b/", "", "PutObject"), rule("a/", "", "DeleteObject")}},
		{name: "no rules", failures: []p.CheckFailure{{Property: "rules", Reason: "at least one rule is needed"}}},
		{name: "unknown and missing actions", rules: []property.Value{rule("", "", "GetObject"), rule("x/", "")}, failures: []p.CheckFailure{
			{Property: "rules[0].actions", Reason: `unknown action "GetObject"; expected some of PutObject, CopyObject, DeleteObject, CompleteMultipartUpload, LifecycleDeletion`},
			{Property: "rules[1].actions", Reason: "a rule needs at least one action of PutObject, CopyObject, DeleteObject, CompleteMultipartUpload, LifecycleDeletion"},
		}},
		{name: "nested prefixes, same action", rules: []property.Value{rule("img/", "", "PutObject"), rule("img/raw/", ".png", "PutObject", "CopyObject")}, failures: []p.CheckFailure{
			{Property: "rules[1]", Reason: "overlaps rule 0 for the same action: an object could match both"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.resource("R2EventNotification", "n").check(notification("b", "q", tc.rules...))
			require.Equal(t, tc.failures, resp.Failures)
		})
	}
}
