package cfemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueues(t *testing.T) {
	h := newHarness(t)
	// Created on the current path, read on the old one: one store.
	q := mustOK(t, h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs"})).obj(t)
	id := q["queue_id"].(string)
	require.Regexp(t, `^[0-9a-f]{32}$`, id)
	require.Equal(t, "jobs", q["queue_name"])
	require.NotEmpty(t, q["created_on"])
	require.NotEmpty(t, q["modified_on"])
	require.Equal(t, []any{}, q["producers"])
	require.Equal(t, []any{}, q["consumers"])
	require.EqualValues(t, 0, q["producers_total_count"])
	require.EqualValues(t, 0, q["consumers_total_count"])
	old := mustOK(t, h.call(http.MethodPost, "/workers/queues", map[string]string{"queue_name": "events"})).obj(t)
	oldID := old["queue_id"].(string)

	t.Run("create refusals", func(t *testing.T) {
		for _, path := range []string{"/queues", "/workers/queues"} {
			mustFail(t, h.call(http.MethodPost, path, map[string]string{"queue_name": "jobs"}), http.StatusConflict, 11009)
			mustFail(t, h.call(http.MethodPost, path, map[string]string{"queue_name": ""}), http.StatusBadRequest, 11003)
			mustFail(t, h.call(http.MethodPost, path, "[1"), http.StatusBadRequest, 6007)
		}
	})
	t.Run("get by id and by name", func(t *testing.T) {
		require.Equal(t, "jobs", mustOK(t, h.call(http.MethodGet, "/queues/"+id, nil)).obj(t)["queue_name"])
		require.Equal(t, id, mustOK(t, h.call(http.MethodGet, "/workers/queues/jobs", nil)).obj(t)["queue_id"])
		mustFail(t, h.call(http.MethodGet, "/queues/jobs", nil), http.StatusNotFound, 11000)
		mustFail(t, h.call(http.MethodGet, "/workers/queues/nope", nil), http.StatusNotFound, 11000)
	})
	t.Run("list on both paths", func(t *testing.T) {
		for _, path := range []string{"/queues", "/workers/queues"} {
			var all []map[string]any
			mustOK(t, h.call(http.MethodGet, path, nil)).into(t, &all)
			require.Len(t, all, 2)
			require.Equal(t, id, all[0]["queue_id"])
		}
	})
	t.Run("rename by name on the old path and by id on the new", func(t *testing.T) {
		r := mustOK(t, h.call(http.MethodPut, "/workers/queues/events", map[string]string{"queue_name": "events-v2"})).obj(t)
		require.Equal(t, oldID, r["queue_id"])
		require.Equal(t, "events-v2", r["queue_name"])
		mustFail(t, h.call(http.MethodGet, "/workers/queues/events", nil), http.StatusNotFound, 11000)
		mustFail(t, h.call(http.MethodPut, "/queues/"+oldID, map[string]string{"queue_name": "jobs"}), http.StatusConflict, 11009)
		mustOK(t, h.call(http.MethodPut, "/queues/"+oldID, map[string]any{"queue_name": "events", "settings": map[string]any{"delivery_delay": 5}}))
		got := mustOK(t, h.call(http.MethodGet, "/queues/"+oldID, nil)).obj(t)
		require.Equal(t, "events", got["queue_name"])
		require.EqualValues(t, 5, got["settings"].(map[string]any)["delivery_delay"])
		mustFail(t, h.call(http.MethodPut, "/queues/nope", map[string]string{"queue_name": "x"}), http.StatusNotFound, 11000)
	})
	t.Run("producers come from uploaded scripts", func(t *testing.T) {
		mustOK(t, h.upload("producer", map[string]any{"bindings": []any{
			map[string]any{"type": "queue", "name": "JOBS", "queue_name": "jobs"},
		}}))
		got := mustOK(t, h.call(http.MethodGet, "/queues/"+id, nil)).obj(t)
		require.EqualValues(t, 1, got["producers_total_count"])
		require.Equal(t, "producer", got["producers"].([]any)[0].(map[string]any)["script"])
	})
	t.Run("delete by name on the old path, by id on the new", func(t *testing.T) {
		tmp := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "tmp"}), "queue_id")
		mustOK(t, h.call(http.MethodDelete, "/workers/queues/tmp", nil))
		mustFail(t, h.call(http.MethodGet, "/queues/"+tmp, nil), http.StatusNotFound, 11000)
		tmp = h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "tmp"}), "queue_id")
		mustOK(t, h.call(http.MethodDelete, "/queues/"+tmp, nil))
		mustFail(t, h.call(http.MethodDelete, "/queues/"+tmp, nil), http.StatusNotFound, 11000)
		mustFail(t, h.call(http.MethodDelete, "/workers/queues/tmp", nil), http.StatusNotFound, 11000)
	})
}

func TestQueueConsumers(t *testing.T) {
	h := newHarness(t)
	qid := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs"}), "queue_id")
	mustOK(t, h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs-dlq"}))
	mustOK(t, h.upload("worker", nil))
	mustOK(t, h.upload("worker2", nil))
	base := "/queues/" + qid + "/consumers"

	t.Run("create refusals", func(t *testing.T) {
		tests := []struct {
			name         string
			body         any
			status, code int
		}{
			{"missing script", map[string]any{"script_name": "ghost", "type": "worker"}, http.StatusNotFound, 10007},
			{"no script", map[string]any{"type": "worker"}, http.StatusBadRequest, 11003},
			{"missing dead letter queue", map[string]any{"script_name": "worker", "dead_letter_queue": "nope"}, http.StatusNotFound, 11000},
			{"own dead letter queue", map[string]any{"script_name": "worker", "dead_letter_queue": "jobs"}, http.StatusBadRequest, 11003},
			{"unknown type", map[string]any{"script_name": "worker", "type": "carrier-pigeon"}, http.StatusBadRequest, 11003},
			{"malformed", "{", http.StatusBadRequest, 6007},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustFail(t, h.call(http.MethodPost, base, tt.body), tt.status, tt.code)
			})
		}
		mustFail(t, h.call(http.MethodPost, "/queues/nope/consumers", map[string]any{"script_name": "worker"}), http.StatusNotFound, 11000)
	})

	c := mustOK(t, h.call(http.MethodPost, base, map[string]any{
		"script_name": "worker", "type": "worker", "dead_letter_queue": "jobs-dlq",
		"settings": map[string]any{"batch_size": 25, "max_retries": 5, "max_wait_time_ms": 2000, "max_concurrency": 3, "retry_delay": 10},
	})).obj(t)
	cid := c["consumer_id"].(string)
	require.Regexp(t, `^[0-9a-f]{32}$`, cid)
	require.Equal(t, qid, c["queue_id"])
	require.Equal(t, "jobs", c["queue_name"])
	require.Equal(t, "worker", c["script"])
	require.Equal(t, "worker", c["script_name"])
	require.Equal(t, "worker", c["type"])
	require.Equal(t, "jobs-dlq", c["dead_letter_queue"])
	require.NotEmpty(t, c["created_on"])
	require.Equal(t, map[string]any{"batch_size": 25.0, "max_retries": 5.0, "max_wait_time_ms": 2000.0, "max_concurrency": 3.0, "retry_delay": 10.0}, c["settings"])

	t.Run("one consumer per queue", func(t *testing.T) {
		mustFail(t, h.call(http.MethodPost, base, map[string]any{"script_name": "worker2"}), http.StatusConflict, 11004)
	})
	t.Run("queue shows its consumer", func(t *testing.T) {
		q := mustOK(t, h.call(http.MethodGet, "/queues/"+qid, nil)).obj(t)
		require.EqualValues(t, 1, q["consumers_total_count"])
		require.Equal(t, cid, q["consumers"].([]any)[0].(map[string]any)["consumer_id"])
	})
	t.Run("list and get", func(t *testing.T) {
		var all []map[string]any
		r := mustOK(t, h.call(http.MethodGet, base, nil))
		r.into(t, &all)
		require.Len(t, all, 1)
		require.EqualValues(t, 1, r.env.ResultInfo["total_count"])
		require.Equal(t, c, mustOK(t, h.call(http.MethodGet, base+"/"+cid, nil)).obj(t))
		mustFail(t, h.call(http.MethodGet, base+"/nope", nil), http.StatusNotFound, 11008)
		// The old path names the queue and the consumer by name (script).
		require.Equal(t, cid, mustOK(t, h.call(http.MethodGet, "/workers/queues/jobs/consumers/worker", nil)).obj(t)["consumer_id"])
		mustOK(t, h.call(http.MethodGet, "/workers/queues/jobs/consumers", nil)).into(t, &all)
		require.Len(t, all, 1)
	})
	t.Run("update", func(t *testing.T) {
		u := mustOK(t, h.call(http.MethodPut, base+"/"+cid, map[string]any{
			"script_name": "worker2", "settings": map[string]any{"batch_size": 50},
		})).obj(t)
		require.Equal(t, "worker2", u["script"])
		require.Equal(t, "", u["dead_letter_queue"], "an update replaces the whole consumer")
		require.Equal(t, map[string]any{"batch_size": 50.0, "max_retries": 3.0, "max_wait_time_ms": 5000.0, "max_concurrency": nil, "retry_delay": 0.0}, u["settings"])
		mustFail(t, h.call(http.MethodPut, base+"/"+cid, map[string]any{"script_name": "ghost"}), http.StatusNotFound, 10007)
		kept := mustOK(t, h.call(http.MethodPut, base+"/"+cid, map[string]any{"dead_letter_queue": "jobs-dlq"})).obj(t)
		require.Equal(t, "worker2", kept["script"], "the script may be left out")
		mustFail(t, h.call(http.MethodPut, base+"/nope", map[string]any{"script_name": "worker"}), http.StatusNotFound, 11008)
	})
	t.Run("dead letter queue follows a rename and blocks a delete", func(t *testing.T) {
		mustOK(t, h.call(http.MethodPut, "/workers/queues/jobs-dlq", map[string]string{"queue_name": "dlq"}))
		require.Equal(t, "dlq", mustOK(t, h.call(http.MethodGet, base+"/"+cid, nil)).obj(t)["dead_letter_queue"])
		mustFail(t, h.call(http.MethodDelete, "/workers/queues/dlq", nil), http.StatusConflict, 11005)
	})
	t.Run("a queue with a consumer is not deleted", func(t *testing.T) {
		mustFail(t, h.call(http.MethodDelete, "/queues/"+qid, nil), http.StatusConflict, 11005)
		mustFail(t, h.call(http.MethodDelete, "/workers/queues/jobs", nil), http.StatusConflict, 11005)
	})
	t.Run("delete", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, base+"/"+cid, nil))
		mustFail(t, h.call(http.MethodDelete, base+"/"+cid, nil), http.StatusNotFound, 11008)
		mustOK(t, h.call(http.MethodDelete, "/workers/queues/dlq", nil))
		mustOK(t, h.call(http.MethodDelete, "/queues/"+qid, nil))
	})
	t.Run("old path create and delete by script name", func(t *testing.T) {
		mustOK(t, h.call(http.MethodPost, "/workers/queues", map[string]string{"queue_name": "legacy"}))
		mustOK(t, h.call(http.MethodPost, "/workers/queues/legacy/consumers", map[string]any{"script_name": "worker", "settings": map[string]any{"batch_size": 1}}))
		mustOK(t, h.call(http.MethodDelete, "/workers/queues/legacy/consumers/worker", nil))
		var all []map[string]any
		mustOK(t, h.call(http.MethodGet, "/workers/queues/legacy/consumers", nil)).into(t, &all)
		require.Empty(t, all)
	})
	t.Run("http pull consumer needs no script", func(t *testing.T) {
		pq := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "pull"}), "queue_id")
		p := mustOK(t, h.call(http.MethodPost, "/queues/"+pq+"/consumers", map[string]any{"type": "http_pull"})).obj(t)
		require.Equal(t, "http_pull", p["type"])
		u := mustOK(t, h.call(http.MethodPut, "/queues/"+pq+"/consumers/"+p["consumer_id"].(string), map[string]any{"settings": map[string]any{"batch_size": 7}})).obj(t)
		require.Equal(t, "http_pull", u["type"], "an update keeps the type")
	})
}
