package cfemu

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOfficialProviderContract replays, call by call, what pulumi-cloudflare
// 5.49.1 sends (see shared/reference/official-provider-contract.md) and
// checks the fields it reads from each answer.
func TestOfficialProviderContract(t *testing.T) {
	h := newHarness(t)

	// D1: create needs uuid, name, version; refresh reads by uuid.
	db := mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "app"})).obj(t)
	for _, f := range []string{"uuid", "name", "version"} {
		require.NotEmpty(t, db[f], f)
	}
	mustOK(t, h.call(http.MethodGet, "/d1/database/"+db["uuid"].(string), nil))

	// R2: location comes back exactly as sent.
	for _, loc := range []string{"WNAM", "enam", "Apac"} {
		b := mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "b-" + strings.ToLower(loc), "locationHint": loc})).obj(t)
		require.Equal(t, loc, b["location"])
		require.Equal(t, loc, mustOK(t, h.call(http.MethodGet, "/r2/buckets/"+b["name"].(string), nil)).obj(t)["location"])
	}

	// Queue: create and list on the old path, rename and delete by name.
	qid := h.created(h.call(http.MethodPost, "/workers/queues", map[string]string{"queue_name": "jobs"}), "queue_id")
	r := mustOK(t, h.call(http.MethodGet, "/workers/queues?page=1&per_page=50", nil))
	var queues []map[string]any
	r.into(t, &queues)
	require.Equal(t, qid, queues[0]["queue_id"])
	require.Equal(t, "jobs", queues[0]["queue_name"])
	require.EqualValues(t, 1, r.env.ResultInfo["page"])
	require.EqualValues(t, 1, r.env.ResultInfo["total_pages"])
	mustOK(t, h.call(http.MethodPut, "/workers/queues/jobs", map[string]string{"queue_name": "jobs2"}))

	// KV: create needs id; refresh lists and matches id; rename by PUT.
	kvID := h.created(h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "cache"}), "id")
	mustOK(t, h.call(http.MethodGet, "/storage/kv/namespaces?page=1&per_page=50", nil))
	mustOK(t, h.call(http.MethodPut, "/storage/kv/namespaces/"+kvID, map[string]string{"title": "cache2"}))

	// WorkersScript: a GET first (404 = absent), then the upload, then reads.
	mustFail(t, h.call(http.MethodGet, "/workers/scripts/web", nil), http.StatusNotFound, 10007)
	meta, err := json.Marshal(map[string]any{
		"main_module": "index.mjs", "compatibility_date": "2024-09-23", "compatibility_flags": []string{},
		"logpush": false, "placement": map[string]string{"mode": ""}, "tags": []string{},
		"bindings": []any{
			map[string]any{"type": "d1", "name": "DB", "id": db["uuid"]},
			map[string]any{"type": "queue", "name": "Q", "queue_name": "jobs2"},
			map[string]any{"type": "kv_namespace", "name": "KV", "namespace_id": kvID},
			map[string]any{"type": "secret_text", "name": "TOKEN", "text": "s3cret"},
		},
	})
	require.NoError(t, err)
	mustOK(t, h.uploadParts("web", []part{
		{"metadata", "application/json", string(meta)},
		{"index.mjs", "application/javascript+module", "export default {}"},
	}))
	g := h.call(http.MethodGet, "/workers/scripts/web", nil)
	require.Equal(t, http.StatusOK, g.status)
	require.NotEmpty(t, g.raw, "a non-empty 2xx means the script exists")
	var bindings []map[string]any
	mustOK(t, h.call(http.MethodGet, "/workers/scripts/web/bindings", nil)).into(t, &bindings)
	require.Equal(t, db["uuid"], bindings[0]["database_id"])
	require.NotContains(t, bindings[3], "text")

	// WorkersCronTrigger: PUT an array, read schedules, destroy with [].
	mustOK(t, h.call(http.MethodPut, "/workers/scripts/web/schedules", []map[string]string{{"cron": "0 * * * *"}}))
	var sched struct {
		Schedules []struct{ Cron string } `json:"schedules"`
	}
	mustOK(t, h.call(http.MethodGet, "/workers/scripts/web/schedules", nil)).into(t, &sched)
	require.Equal(t, "0 * * * *", sched.Schedules[0].Cron)

	// A refresh is reads only: no mutating call reaches the log.
	h.emu.ResetLog()
	mustOK(t, h.call(http.MethodGet, "/d1/database/"+db["uuid"].(string), nil))
	mustOK(t, h.call(http.MethodGet, "/workers/queues?page=1&per_page=50", nil))
	mustOK(t, h.call(http.MethodGet, "/workers/scripts/web/bindings", nil))
	for _, req := range h.emu.Requests() {
		require.False(t, req.Mutating(), req.Method+" "+req.Path)
	}

	// Destroy in dependency order.
	mustOK(t, h.call(http.MethodPut, "/workers/scripts/web/schedules", []any{}))
	mustOK(t, h.call(http.MethodDelete, "/workers/scripts/web", nil))
	mustFail(t, h.call(http.MethodPut, "/workers/scripts/web/schedules", []any{}), http.StatusNotFound, 10007)
	mustOK(t, h.call(http.MethodDelete, "/workers/queues/jobs2", nil))
	mustOK(t, h.call(http.MethodDelete, "/storage/kv/namespaces/"+kvID, nil))
	mustOK(t, h.call(http.MethodDelete, "/d1/database/"+db["uuid"].(string), nil))
}
