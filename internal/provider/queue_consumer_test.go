package provider

import (
	"maps"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

type queueFixtures struct{ jobs, other string }

func (e *env) queueFixtures() queueFixtures {
	jobs := e.fixture("POST", "/queues", `{"queue_name":"dome-jobs"}`)
	other := e.fixture("POST", "/queues", `{"queue_name":"dome-other"}`)
	e.fixture("POST", "/queues", `{"queue_name":"dome-jobs-dlq"}`)
	for _, s := range []string{"dome-processor", "dome-processor-2"} {
		_, err := e.client().UploadScript(e.t.Context(), cfapi.UploadScriptParams{
			ScriptName: s, Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}",
		})
		require.NoError(e.t, err)
	}
	e.emu.ResetLog()
	return queueFixtures{jobs: jobs["queue_id"].(string), other: other["queue_id"].(string)}
}

func consumerInputs(queueID string, kv ...any) map[string]property.Value {
	m := map[string]property.Value{
		"queueId":         str(queueID),
		"scriptName":      str("dome-processor"),
		"deadLetterQueue": str("dome-jobs-dlq"),
		"batchSize":       num(5),
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(property.Value)
	}
	return m
}

func TestQueueConsumerLifecycle(t *testing.T) {
	e := newEnv(t)
	q := e.queueFixtures()
	c := e.resource("QueueConsumer", "jobs")
	consumers := "/queues/" + q.jobs + "/consumers"

	created := c.create(consumerInputs(q.jobs))
	cid := created.Properties.Get("consumerId").AsString()
	require.NotEmpty(t, cid)
	require.Equal(t, q.jobs+"/"+cid, created.ID)
	require.Equal(t, []call{{"POST", consumers, ""}}, e.calls())
	require.Equal(t, map[string]any{
		"script_name": "dome-processor", "type": "worker", "dead_letter_queue": "dome-jobs-dlq",
		"settings": map[string]any{"batch_size": float64(5)},
	}, jsonBody(t, e.emu.Requests()[0]))
	// Cloudflare's defaults for what the program left out are recorded.
	require.Equal(t, num(3), created.Properties.Get("maxRetries"))
	require.Equal(t, num(5000), created.Properties.Get("maxWaitTimeMs"))

	e.emu.ResetLog()
	c.requireNoRefreshDiff()
	require.Equal(t, []call{{"GET", consumers + "/" + cid, ""}}, e.calls())

	// Leaving a tuning setting out keeps Cloudflare's value: no change.
	noDefaults := consumerInputs(q.jobs)
	d, _ := c.diff(noDefaults)
	require.False(t, d.HasChanges)

	// Settings, script and dead-letter queue update in place with one PUT
	// that carries every setting, since a PUT replaces them all.
	e.emu.ResetLog()
	c.update(consumerInputs(q.jobs, "maxRetries", num(7), "scriptName", str("dome-processor-2")), "maxRetries", "scriptName")
	require.Equal(t, []call{{"PUT", consumers + "/" + cid, ""}}, e.calls())
	require.Equal(t, map[string]any{
		"script_name": "dome-processor-2", "type": "worker", "dead_letter_queue": "dome-jobs-dlq",
		"settings": map[string]any{"batch_size": float64(5), "max_retries": float64(7), "max_wait_time_ms": float64(5000),
			"retry_delay": float64(0)},
	}, jsonBody(t, e.emu.Requests()[0]))
	c.requireNoRefreshDiff()

	// Dropping the dead-letter queue is a change, unlike dropping a tuning setting.
	noDLQ := consumerInputs(q.jobs, "maxRetries", num(7), "scriptName", str("dome-processor-2"))
	delete(noDLQ, "deadLetterQueue")
	e.emu.ResetLog()
	c.update(noDLQ, "deadLetterQueue")
	require.NotContains(t, jsonBody(t, e.emu.Requests()[0]), "dead_letter_queue")
	c.requireNoRefreshDiff()

	// Another queue is another consumer.
	d, _ = c.diff(consumerInputs(q.other))
	require.Equal(t, p.UpdateReplace, d.DetailedDiff["queueId"].Kind)

	// Import by <queueId>/<consumerId> fills every input.
	got := e.importRead("QueueConsumer", c.id)
	require.Equal(t, c.id, got.ID)
	require.Equal(t, property.NewMap(map[string]property.Value{
		"queueId": str(q.jobs), "scriptName": str("dome-processor-2"),
		"batchSize": num(5), "maxRetries": num(7), "maxWaitTimeMs": num(5000), "retryDelay": num(0),
	}), got.Inputs)
	require.Equal(t, str(cid), got.Properties.Get("consumerId"))

	e.emu.ResetLog()
	c.delete()
	require.Equal(t, []call{{"DELETE", consumers + "/" + cid, ""}}, e.calls())
	gone := c.read()
	require.Empty(t, gone.ID)
}

func TestQueueConsumerCreateRefusesExisting(t *testing.T) {
	e := newEnv(t)
	q := e.queueFixtures()
	existing := e.fixture("POST", "/queues/"+q.jobs+"/consumers", `{"script_name":"dome-processor","type":"worker"}`)
	err := e.resource("QueueConsumer", "jobs").createErr(consumerInputs(q.jobs))
	require.ErrorContains(t, err, "already exists")
	require.ErrorContains(t, err, "pulumi import --stack test domecf:index:QueueConsumer jobs "+q.jobs+"/"+existing["consumer_id"].(string)+" --provider domecf=")

	// Another worker's consumer is in the way: not this one's to import.
	e.fixture("POST", "/queues/"+q.other+"/consumers", `{"script_name":"dome-processor-2","type":"worker"}`)
	err = e.resource("QueueConsumer", "other").createErr(consumerInputs(q.other))
	require.ErrorContains(t, err, "already exists")
	require.ErrorContains(t, err, " "+q.other+"/<consumer-id> ")
}

func TestQueueConsumerBadImportID(t *testing.T) {
	e := newEnv(t)
	_, err := e.server.Read(p.ReadRequest{ID: "just-a-queue", Urn: urn("QueueConsumer", "x")})
	require.ErrorContains(t, err, `QueueConsumer id "just-a-queue" is not <queueId>/<consumerId>`)
}

// TestQueueConsumerDrift: a consumer changed outside Pulumi (the dashboard,
// wrangler) is read as Cloudflare holds it, and the diff `just drift` shows
// names each setting the program set that differs, a dead-letter queue
// removed included. A setting the program leaves to Cloudflare is recorded
// in state but is no drift, as Diff treats it.
func TestQueueConsumerDrift(t *testing.T) {
	const base = `"script_name":"dome-processor","type":"worker"`
	const settings = `"batch_size":5,"max_retries":3,"max_wait_time_ms":5000,"retry_delay":10`
	for _, tc := range []struct {
		name    string
		body    string                    // the PUT made outside Pulumi
		live    map[string]property.Value // inputs as read; a null value is absent
		changed []string
	}{
		{
			name: "batch size", body: `{` + base + `,"dead_letter_queue":"dome-jobs-dlq","settings":{"batch_size":50,"max_retries":3,"max_wait_time_ms":5000,"retry_delay":10}}`,
			live: map[string]property.Value{"batchSize": num(50)}, changed: []string{"batchSize"},
		},
		{
			name: "wait time", body: `{` + base + `,"dead_letter_queue":"dome-jobs-dlq","settings":{"batch_size":5,"max_retries":3,"max_wait_time_ms":1000,"retry_delay":10}}`,
			live: map[string]property.Value{"maxWaitTimeMs": num(1000)}, changed: []string{"maxWaitTimeMs"},
		},
		{
			name: "retries", body: `{` + base + `,"dead_letter_queue":"dome-jobs-dlq","settings":{"batch_size":5,"max_retries":9,"max_wait_time_ms":5000,"retry_delay":10}}`,
			live: map[string]property.Value{"maxRetries": num(9)}, changed: []string{"maxRetries"},
		},
		{
			name: "retry delay", body: `{` + base + `,"dead_letter_queue":"dome-jobs-dlq","settings":{"batch_size":5,"max_retries":3,"max_wait_time_ms":5000,"retry_delay":60}}`,
			live: map[string]property.Value{"retryDelay": num(60)}, changed: []string{"retryDelay"},
		},
		{
			name: "dead-letter queue removed", body: `{` + base + `,"settings":{` + settings + `}}`,
			live: map[string]property.Value{"deadLetterQueue": {}}, changed: []string{"deadLetterQueue"},
		},
		{
			name: "another dead-letter queue", body: `{` + base + `,"dead_letter_queue":"dome-other","settings":{` + settings + `}}`,
			live: map[string]property.Value{"deadLetterQueue": str("dome-other")}, changed: []string{"deadLetterQueue"},
		},
		{
			name: "another worker", body: `{"script_name":"dome-processor-2","type":"worker","dead_letter_queue":"dome-jobs-dlq","settings":{` + settings + `}}`,
			live: map[string]property.Value{"scriptName": str("dome-processor-2")}, changed: []string{"scriptName"},
		},
		{
			name: "a setting the program leaves to Cloudflare", body: `{` + base + `,"dead_letter_queue":"dome-jobs-dlq","settings":{` + settings + `,"max_concurrency":2}}`,
			live: map[string]property.Value{"maxConcurrency": {}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			q := e.queueFixtures()
			c := e.resource("QueueConsumer", "jobs")
			c.create(consumerInputs(q.jobs, "maxRetries", num(3), "maxWaitTimeMs", num(5000), "retryDelay", num(10)))
			c.requireNoRefreshDiff()
			e.fixture("PUT", "/queues/"+q.jobs+"/consumers/"+c.state.Get("consumerId").AsString(), tc.body)

			read, d := c.refreshDiff()
			for k, v := range tc.live {
				require.Equal(t, v, read.Inputs.Get(k), "input %s as read", k)
			}
			require.ElementsMatch(t, tc.changed, slices.Collect(maps.Keys(d.DetailedDiff)))
			for k, v := range d.DetailedDiff {
				require.NotContains(t, []p.DiffKind{p.AddReplace, p.DeleteReplace, p.UpdateReplace}, v.Kind, "%s changes in place", k)
			}
			if tc.changed == nil {
				require.Equal(t, num(2), read.Properties.Get("maxConcurrency"), "state records Cloudflare's value")
			}
		})
	}
}
