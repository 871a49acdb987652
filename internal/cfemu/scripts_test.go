package cfemu

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// resources makes one of every resource a binding can reference.
func (h *harness) resources() (d1ID, kvID string) {
	h.t.Helper()
	d1ID = h.created(h.call(http.MethodPost, "/d1/database", map[string]string{"name": "db"}), "uuid")
	kvID = h.created(h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "kv"}), "id")
	mustOK(h.t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "bucket"}))
	mustOK(h.t, h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs"}))
	mustOK(h.t, h.call(http.MethodPost, "/vectorize/v2/indexes", map[string]any{"name": "docs", "config": map[string]any{"dimensions": 8, "metric": "cosine"}}))
	return d1ID, kvID
}

func TestScriptUploadAndRead(t *testing.T) {
	h := newHarness(t)
	r := mustOK(t, h.upload("api", map[string]any{"compatibility_date": "2024-09-23", "compatibility_flags": []string{"nodejs_compat"}}))
	sum := r.obj(t)
	require.Equal(t, "api", sum["id"])
	require.NotEmpty(t, sum["etag"])
	require.Equal(t, true, sum["has_modules"])
	require.Equal(t, "standard", sum["usage_model"])

	t.Run("GET answers the raw main module", func(t *testing.T) {
		g := h.call(http.MethodGet, "/workers/scripts/api", nil)
		require.Equal(t, http.StatusOK, g.status)
		require.Equal(t, "application/javascript", g.header.Get("Content-Type"))
		require.Contains(t, string(g.raw), "export default")
		mustFail(t, h.call(http.MethodGet, "/workers/scripts/nope", nil), http.StatusNotFound, 10007)
	})
	t.Run("content/v2 keeps the module's content type", func(t *testing.T) {
		g := h.call(http.MethodGet, "/workers/scripts/api/content/v2", nil)
		require.Equal(t, http.StatusOK, g.status)
		require.Equal(t, "application/javascript+module", g.header.Get("Content-Type"))
		require.Contains(t, string(g.raw), "export default")
		mustFail(t, h.call(http.MethodGet, "/workers/scripts/nope/content/v2", nil), http.StatusNotFound, 10007)
	})
	t.Run("list", func(t *testing.T) {
		mustOK(t, h.uploadParts("legacy", []part{
			{"metadata", "application/json", `{"body_part":"script"}`},
			{"script", "application/javascript", "addEventListener('fetch', () => {})"},
		}))
		var all []map[string]any
		mustOK(t, h.call(http.MethodGet, "/workers/scripts", nil)).into(t, &all)
		require.Len(t, all, 2)
		require.Equal(t, "api", all[0]["id"])
		require.Equal(t, false, all[1]["has_modules"], "body_part is the service-worker format")
		g := h.call(http.MethodGet, "/workers/scripts/legacy", nil)
		require.Equal(t, "addEventListener('fetch', () => {})", string(g.raw))
	})
	t.Run("upload replaces, but keeps logpush when left out", func(t *testing.T) {
		mustOK(t, h.upload("api", map[string]any{"logpush": true}))
		mustOK(t, h.upload("api", map[string]any{"compatibility_date": "2025-01-01"}))
		s := mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/settings", nil)).obj(t)
		require.Equal(t, "2025-01-01", s["compatibility_date"])
		require.Equal(t, []any{}, s["compatibility_flags"])
		require.Equal(t, true, s["logpush"])
		mustOK(t, h.upload("api", map[string]any{"logpush": false}))
		require.False(t, h.emu.acct.st.Scripts["api"].Logpush)
	})
	t.Run("the request log holds the exact upload", func(t *testing.T) {
		log := h.emu.Requests()
		require.Contains(t, string(log[0].Body), `name="metadata"`)
		require.Contains(t, string(log[0].Body), "application/javascript+module")
	})
}

func TestScriptUploadRefusals(t *testing.T) {
	h := newHarness(t)
	d1ID, kvID := h.resources()
	_ = d1ID
	mustOK(t, h.upload("target", nil))

	t.Run("malformed uploads", func(t *testing.T) {
		r := h.call(http.MethodPut, "/workers/scripts/x", `{"not":"multipart"}`)
		mustFail(t, r, http.StatusBadRequest, 10021)
		mustFail(t, h.uploadParts("x", []part{{"index.js", "application/javascript+module", "x"}}), http.StatusBadRequest, 10021)
		mustFail(t, h.uploadParts("x", []part{{"metadata", "application/json", "{"}}), http.StatusBadRequest, 6007)
		mustFail(t, h.uploadParts("x", []part{{"metadata", "application/json", `{"main_module":"main.js"}`}, {"index.js", "application/javascript+module", "x"}}), http.StatusBadRequest, 10021)
		mustFail(t, h.uploadParts("x", []part{{"metadata", "application/json", `{"main_module":"index.js"}`}, {"index.js", "text/plain", "x"}}), http.StatusBadRequest, 10021)
		mustFail(t, h.uploadParts("x", []part{{"metadata", "application/json", `{}`}, {"index.js", "application/javascript+module", "x"}}), http.StatusBadRequest, 10021)
		mustFail(t, h.uploadParts("x", []part{{"metadata", "application/json", `{"body_part":"worker.js"}`}}), http.StatusBadRequest, 10021)
		mustFail(t, h.uploadParts("x", []part{{"metadata", "application/json", `{"main_module":"index.js"}`}, {"index.js", "application/javascript+module", "x"},
			{"other.js.map", "application/source-map", "{}"}}), http.StatusBadRequest, 10021)
		mustOK(t, h.uploadParts("x", []part{{"metadata", "application/json", `{"main_module":"index.js"}`}, {"index.js", "application/javascript+module", "x"},
			{"index.js.map", "application/source-map", "{}"}}))
		mustOK(t, h.call(http.MethodDelete, "/workers/scripts/x", nil))
		ct, body := multipartBody(t, []part{{"metadata", "application/json", "{}"}})
		mustFail(t, h.sendMultipart(http.MethodPut, "/workers/scripts/x", ct, body[:len(body)/2]), http.StatusBadRequest, 10021)
	})

	bindingTests := []struct {
		name    string
		binding map[string]any
		code    int
	}{
		{"d1 missing", map[string]any{"type": "d1", "name": "DB", "id": "00000000-0000-4000-8000-000000000000"}, 10021},
		{"r2 missing", map[string]any{"type": "r2_bucket", "name": "B", "bucket_name": "nope"}, 10021},
		{"queue missing", map[string]any{"type": "queue", "name": "Q", "queue_name": "nope"}, 10021},
		{"vectorize missing", map[string]any{"type": "vectorize", "name": "V", "index_name": "nope"}, 10021},
		{"kv missing", map[string]any{"type": "kv_namespace", "name": "K", "namespace_id": "nope"}, 10021},
		{"service missing", map[string]any{"type": "service", "name": "S", "service": "nope"}, 10007},
		{"service to itself before it exists", map[string]any{"type": "service", "name": "S", "service": "x"}, 10007},
		{"durable object class not declared", map[string]any{"type": "durable_object_namespace", "name": "DO", "class_name": "Room"}, 10061},
		{"durable object in a missing script", map[string]any{"type": "durable_object_namespace", "name": "DO", "class_name": "Room", "script_name": "nope"}, 10007},
		{"durable object class the other script lacks", map[string]any{"type": "durable_object_namespace", "name": "DO", "class_name": "Room", "script_name": "target"}, 10061},
		{"plain text without text", map[string]any{"type": "plain_text", "name": "P"}, 10021},
		{"secret without text on first upload", map[string]any{"type": "secret_text", "name": "S"}, 10021},
		{"inherit on first upload", map[string]any{"type": "inherit", "name": "S"}, 10021},
		{"binding without name", map[string]any{"type": "ai"}, 10021},
	}
	for _, tt := range bindingTests {
		t.Run(tt.name, func(t *testing.T) {
			mustFail(t, h.upload("x", map[string]any{"bindings": []any{tt.binding}}), http.StatusBadRequest, tt.code)
		})
	}
	t.Run("duplicate binding names", func(t *testing.T) {
		b := map[string]any{"type": "plain_text", "name": "A", "text": "1"}
		mustFail(t, h.upload("x", map[string]any{"bindings": []any{b, b}}), http.StatusBadRequest, 10021)
	})
	t.Run("d1 needs the module format", func(t *testing.T) {
		meta, _ := json.Marshal(map[string]any{"body_part": "w.js", "bindings": []any{map[string]any{"type": "d1", "name": "DB", "id": d1ID}}})
		mustFail(t, h.uploadParts("x", []part{{"metadata", "application/json", string(meta)}, {"w.js", "application/javascript", "x"}}), http.StatusBadRequest, 10021)
	})
	t.Run("nothing was stored", func(t *testing.T) {
		mustFail(t, h.call(http.MethodGet, "/workers/scripts/x", nil), http.StatusNotFound, 10007)
	})
	t.Run("every reference present", func(t *testing.T) {
		mustOK(t, h.upload("x", map[string]any{
			"bindings": []any{
				map[string]any{"type": "d1", "name": "DB", "id": d1ID},
				map[string]any{"type": "r2_bucket", "name": "B", "bucket_name": "bucket"},
				map[string]any{"type": "queue", "name": "Q", "queue_name": "jobs"},
				map[string]any{"type": "vectorize", "name": "V", "index_name": "docs"},
				map[string]any{"type": "kv_namespace", "name": "K", "namespace_id": kvID},
				map[string]any{"type": "service", "name": "S", "service": "target"},
				map[string]any{"type": "ai", "name": "AI"},
			},
		}))
		// Now that x exists it may bind to itself.
		mustOK(t, h.upload("x", map[string]any{"bindings": []any{map[string]any{"type": "service", "name": "SELF", "service": "x"}}}))
	})
}

func TestScriptBindingsReadBack(t *testing.T) {
	h := newHarness(t)
	d1ID, kvID := h.resources()
	mustOK(t, h.upload("target", nil))
	mustOK(t, h.upload("api", map[string]any{
		"migrations": map[string]any{"new_tag": "v1", "new_sqlite_classes": []string{"Room"}},
		"bindings": []any{
			map[string]any{"type": "d1", "name": "DB", "id": d1ID},
			map[string]any{"type": "kv_namespace", "name": "K", "namespace_id": kvID},
			map[string]any{"type": "r2_bucket", "name": "B", "bucket_name": "bucket"},
			map[string]any{"type": "queue", "name": "Q", "queue_name": "jobs"},
			map[string]any{"type": "service", "name": "S", "service": "target"},
			map[string]any{"type": "service", "name": "S2", "service": "target", "environment": "production"},
			map[string]any{"type": "plain_text", "name": "P", "text": "hello"},
			map[string]any{"type": "secret_text", "name": "SECRET", "text": "hunter2"},
			map[string]any{"type": "durable_object_namespace", "name": "ROOM", "class_name": "Room"},
			map[string]any{"type": "analytics_engine", "name": "AE", "dataset": "events"},
			map[string]any{"type": "hyperdrive", "name": "HD", "id": "abc"},
		},
	}))
	var got []map[string]any
	mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/bindings", nil)).into(t, &got)
	want := []map[string]any{
		{"type": "d1", "name": "DB", "database_id": d1ID},
		{"type": "kv_namespace", "name": "K", "namespace_id": kvID},
		{"type": "r2_bucket", "name": "B", "bucket_name": "bucket"},
		{"type": "queue", "name": "Q", "queue_name": "jobs"},
		{"type": "service", "name": "S", "service": "target", "environment": ""},
		{"type": "service", "name": "S2", "service": "target", "environment": "production"},
		{"type": "plain_text", "name": "P", "text": "hello"},
		{"type": "secret_text", "name": "SECRET"},
		{"type": "durable_object_namespace", "name": "ROOM", "class_name": "Room", "script_name": ""},
		{"type": "analytics_engine", "name": "AE", "dataset": "events"},
		{"type": "hyperdrive", "name": "HD", "id": "abc"},
	}
	require.Equal(t, want, got)
	mustFail(t, h.call(http.MethodGet, "/workers/scripts/nope/bindings", nil), http.StatusNotFound, 10007)

	t.Run("keep_bindings carries secrets over", func(t *testing.T) {
		mustOK(t, h.upload("api", map[string]any{
			"keep_bindings": []string{"secret_text"},
			"bindings":      []any{map[string]any{"type": "plain_text", "name": "P", "text": "bye"}},
		}))
		var got []map[string]any
		mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/bindings", nil)).into(t, &got)
		require.Equal(t, []map[string]any{{"type": "plain_text", "name": "P", "text": "bye"}, {"type": "secret_text", "name": "SECRET"}}, got)
		require.Equal(t, "hunter2", h.emu.acct.st.Scripts["api"].Bindings[1].str("text"))
	})
	t.Run("inherit takes the live binding", func(t *testing.T) {
		mustOK(t, h.upload("api", map[string]any{"bindings": []any{map[string]any{"type": "inherit", "name": "SECRET"}}}))
		require.Equal(t, "hunter2", h.emu.acct.st.Scripts["api"].Bindings[0].str("text"))
	})
}

func TestScriptMigrations(t *testing.T) {
	h := newHarness(t)
	do := func(class string) map[string]any {
		return map[string]any{"type": "durable_object_namespace", "name": "DO", "class_name": class}
	}
	mustOK(t, h.upload("chat", map[string]any{
		"migrations": map[string]any{"new_tag": "v1", "new_classes": []string{"Room"}},
		"bindings":   []any{do("Room")},
	}))
	tests := []struct {
		name       string
		migrations map[string]any
		bindings   []any
		code       int
	}{
		{"old_tag must match", map[string]any{"old_tag": "v0", "new_tag": "v2", "new_classes": []string{"Lobby"}}, nil, 10079},
		{"old_tag is required once a tag is set", map[string]any{"new_tag": "v2", "new_classes": []string{"Lobby"}}, nil, 10079},
		{"class already exists", map[string]any{"old_tag": "v1", "new_tag": "v2", "new_classes": []string{"Room"}}, nil, 10074},
		{"rename of a missing class", map[string]any{"old_tag": "v1", "new_tag": "v2", "renamed_classes": []any{map[string]string{"from": "Nope", "to": "X"}}}, nil, 10074},
		{"delete of a missing class", map[string]any{"old_tag": "v1", "new_tag": "v2", "deleted_classes": []string{"Nope"}}, nil, 10074},
		{"binding to a deleted class", map[string]any{"old_tag": "v1", "new_tag": "v2", "deleted_classes": []string{"Room"}}, []any{do("Room")}, 10061},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustFail(t, h.upload("chat", map[string]any{"migrations": tt.migrations, "bindings": tt.bindings}), http.StatusBadRequest, tt.code)
			require.Equal(t, "v1", h.emu.acct.st.Scripts["chat"].MigrationTag, "a refused upload changes nothing")
		})
	}
	t.Run("no migrations keeps the classes", func(t *testing.T) {
		mustOK(t, h.upload("chat", map[string]any{"bindings": []any{do("Room")}}))
	})
	t.Run("steps rename and add", func(t *testing.T) {
		mustOK(t, h.upload("chat", map[string]any{
			"migrations": map[string]any{"old_tag": "v1", "new_tag": "v3", "steps": []any{
				map[string]any{"renamed_classes": []any{map[string]string{"from": "Room", "to": "ChatRoom"}}},
				map[string]any{"new_sqlite_classes": []string{"Lobby"}},
			}},
			"bindings": []any{do("ChatRoom"), map[string]any{"type": "durable_object_namespace", "name": "L", "class_name": "Lobby"}},
		}))
		// The scripts list reports the tag; the settings, as Cloudflare's, do not.
		var list []map[string]any
		mustOK(t, h.call(http.MethodGet, "/workers/scripts", nil)).into(t, &list)
		require.Len(t, list, 1)
		require.Equal(t, "v3", list[0]["migration_tag"])
		require.NotContains(t, mustOK(t, h.call(http.MethodGet, "/workers/scripts/chat/settings", nil)).obj(t), "migration_tag")
		require.Equal(t, []string{"ChatRoom", "Lobby"}, h.emu.acct.st.Scripts["chat"].Classes)
	})
	t.Run("another script binds to the class by script_name", func(t *testing.T) {
		mustOK(t, h.upload("front", map[string]any{"bindings": []any{
			map[string]any{"type": "durable_object_namespace", "name": "ROOM", "class_name": "ChatRoom", "script_name": "chat"},
		}}))
	})
	t.Run("deleting the class", func(t *testing.T) {
		mustOK(t, h.upload("chat", map[string]any{"migrations": map[string]any{"old_tag": "v3", "new_tag": "v4", "deleted_classes": []string{"Lobby"}}}))
		require.Equal(t, []string{"ChatRoom"}, h.emu.acct.st.Scripts["chat"].Classes)
	})
}

func TestScriptSettings(t *testing.T) {
	h := newHarness(t)
	_, kvID := h.resources()
	mustOK(t, h.upload("api", map[string]any{
		"compatibility_date": "2024-09-23", "compatibility_flags": []string{"nodejs_compat"},
		"logpush": true, "observability": map[string]any{"enabled": true, "head_sampling_rate": 0.5},
		"placement": map[string]any{"mode": "smart"}, "tags": []string{"dome"}, "usage_model": "standard",
		"tail_consumers": []any{map[string]any{"service": "tail"}},
		"bindings": []any{
			map[string]any{"type": "secret_text", "name": "SECRET", "text": "hunter2"},
			map[string]any{"type": "kv_namespace", "name": "K", "namespace_id": kvID},
		},
	}))
	s := mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/settings", nil)).obj(t)
	require.Equal(t, "2024-09-23", s["compatibility_date"])
	require.Equal(t, []any{"nodejs_compat"}, s["compatibility_flags"])
	require.Equal(t, true, s["logpush"])
	require.Equal(t, map[string]any{"enabled": true, "head_sampling_rate": 0.5}, s["observability"])
	require.Equal(t, map[string]any{"mode": "smart"}, s["placement"])
	require.Equal(t, []any{"dome"}, s["tags"])
	require.Equal(t, []any{map[string]any{"service": "tail"}}, s["tail_consumers"])
	require.Equal(t, "standard", s["usage_model"])
	require.Equal(t, []any{map[string]any{"type": "secret_text", "name": "SECRET"}, map[string]any{"type": "kv_namespace", "name": "K", "namespace_id": kvID}}, s["bindings"])
	mustFail(t, h.call(http.MethodGet, "/workers/scripts/nope/settings", nil), http.StatusNotFound, 10007)

	patch := func(settings string) response {
		ct, body := multipartBody(t, []part{{"settings", "application/json", settings}})
		return h.sendMultipart(http.MethodPatch, "/workers/scripts/api/settings", ct, body)
	}
	t.Run("patch merges", func(t *testing.T) {
		p := mustOK(t, patch(`{"compatibility_date":"2025-02-02","observability":{"enabled":false}}`)).obj(t)
		require.Equal(t, "2025-02-02", p["compatibility_date"])
		require.Equal(t, map[string]any{"enabled": false}, p["observability"])
		require.Equal(t, []any{"nodejs_compat"}, p["compatibility_flags"], "fields left out are kept")
		require.Len(t, p["bindings"], 2)
	})
	t.Run("patch bindings: checked, secrets without text inherit", func(t *testing.T) {
		mustFail(t, patch(`{"bindings":[{"type":"kv_namespace","name":"K","namespace_id":"nope"}]}`), http.StatusBadRequest, 10021)
		p := mustOK(t, patch(`{"bindings":[{"type":"secret_text","name":"SECRET"}]}`)).obj(t)
		require.Equal(t, []any{map[string]any{"type": "secret_text", "name": "SECRET"}}, p["bindings"])
		require.Equal(t, "hunter2", h.emu.acct.st.Scripts["api"].Bindings[0].str("text"))
	})
	t.Run("patch migrations", func(t *testing.T) {
		mustOK(t, patch(`{"migrations":{"new_tag":"v1","new_classes":["Room"]},"bindings":[{"type":"durable_object_namespace","name":"R","class_name":"Room"}]}`))
		require.Equal(t, "v1", h.emu.acct.st.Scripts["api"].MigrationTag)
		mustFail(t, patch(`{"migrations":{"old_tag":"v0","new_tag":"v2"}}`), http.StatusBadRequest, 10079)
	})
	t.Run("patch refusals", func(t *testing.T) {
		mustFail(t, patch(`{`), http.StatusBadRequest, 6007)
		mustFail(t, patch(`{"tags":"not-a-list"}`), http.StatusBadRequest, 6007)
		mustFail(t, patch(`{"bindings":"x"}`), http.StatusBadRequest, 6007)
		mustFail(t, patch(`{"migrations":"x"}`), http.StatusBadRequest, 6007)
		ct, body := multipartBody(t, []part{{"other", "application/json", "{}"}})
		mustFail(t, h.sendMultipart(http.MethodPatch, "/workers/scripts/api/settings", ct, body), http.StatusBadRequest, 10021)
		mustFail(t, h.call(http.MethodPatch, "/workers/scripts/api/settings", `{}`), http.StatusBadRequest, 10021)
		ct, body = multipartBody(t, []part{{"settings", "application/json", "{}"}})
		mustFail(t, h.sendMultipart(http.MethodPatch, "/workers/scripts/nope/settings", ct, body), http.StatusNotFound, 10007)
	})
	t.Run("script-settings", func(t *testing.T) {
		p := mustOK(t, h.call(http.MethodPatch, "/workers/scripts/api/script-settings", map[string]any{"logpush": false, "tags": []string{"a", "b"}})).obj(t)
		require.Equal(t, false, p["logpush"])
		require.Equal(t, []any{"a", "b"}, p["tags"])
		require.Equal(t, map[string]any{"enabled": false}, p["observability"])
		g := mustOK(t, h.call(http.MethodGet, "/workers/scripts/api/script-settings", nil)).obj(t)
		require.Equal(t, p, g)
		// script-settings does not touch the compatibility settings.
		mustOK(t, h.call(http.MethodPatch, "/workers/scripts/api/script-settings", map[string]any{"compatibility_date": "1999-01-01"}))
		require.Equal(t, "2025-02-02", h.emu.acct.st.Scripts["api"].CompatibilityDate)
		mustFail(t, h.call(http.MethodPatch, "/workers/scripts/api/script-settings", `{"tags":1}`), http.StatusBadRequest, 6007)
		mustFail(t, h.call(http.MethodPatch, "/workers/scripts/api/script-settings", `[`), http.StatusBadRequest, 6007)
		mustFail(t, h.call(http.MethodPatch, "/workers/scripts/nope/script-settings", `{}`), http.StatusNotFound, 10007)
		mustFail(t, h.call(http.MethodGet, "/workers/scripts/nope/script-settings", nil), http.StatusNotFound, 10007)
	})
}

func TestScriptDelete(t *testing.T) {
	h := newHarness(t)
	qid := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs"}), "queue_id")
	mustOK(t, h.upload("consumer", nil))
	mustOK(t, h.call(http.MethodPost, "/queues/"+qid+"/consumers", map[string]any{"script_name": "consumer"}))
	mustOK(t, h.upload("backend", map[string]any{"migrations": map[string]any{"new_tag": "v1", "new_classes": []string{"Room"}}}))
	mustOK(t, h.upload("tail", nil))
	mustOK(t, h.upload("front", map[string]any{"bindings": []any{map[string]any{"type": "service", "name": "API", "service": "backend"}}}))
	mustOK(t, h.upload("rooms", map[string]any{"bindings": []any{map[string]any{"type": "durable_object_namespace", "name": "R", "class_name": "Room", "script_name": "backend"}}}))
	mustOK(t, h.upload("traced", map[string]any{"tail_consumers": []any{map[string]any{"service": "tail"}}}))

	tests := []struct {
		name, script string
		code         int
	}{
		{"queue consumer", "consumer", 10064},
		{"service and durable object bindings", "backend", 10142},
		{"tail consumer", "tail", 10142},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustFail(t, h.call(http.MethodDelete, "/workers/scripts/"+tt.script, nil), http.StatusConflict, tt.code)
			mustOK(t, h.call(http.MethodGet, "/workers/scripts/"+tt.script+"/settings", nil))
		})
	}
	t.Run("force deletes and drops the consumers", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/workers/scripts/consumer?force=true", nil))
		mustFail(t, h.call(http.MethodGet, "/workers/scripts/consumer", nil), http.StatusNotFound, 10007)
		var cons []map[string]any
		mustOK(t, h.call(http.MethodGet, "/queues/"+qid+"/consumers", nil)).into(t, &cons)
		require.Empty(t, cons)
		mustOK(t, h.call(http.MethodDelete, "/queues/"+qid, nil))
	})
	t.Run("dependents deleted first", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/workers/scripts/front", nil))
		mustFail(t, h.call(http.MethodDelete, "/workers/scripts/backend", nil), http.StatusConflict, 10142)
		mustOK(t, h.call(http.MethodDelete, "/workers/scripts/rooms", nil))
		mustOK(t, h.call(http.MethodDelete, "/workers/scripts/backend", nil))
		mustFail(t, h.call(http.MethodDelete, "/workers/scripts/backend", nil), http.StatusNotFound, 10007)
	})
}

func TestSchedules(t *testing.T) {
	h := newHarness(t)
	mustFail(t, h.call(http.MethodGet, "/workers/scripts/cron/schedules", nil), http.StatusNotFound, 10007)
	mustFail(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []map[string]string{{"cron": "* * * * *"}}), http.StatusNotFound, 10007)
	mustOK(t, h.upload("cron", nil))

	get := func() []map[string]any {
		var res struct {
			Schedules []map[string]any `json:"schedules"`
		}
		mustOK(t, h.call(http.MethodGet, "/workers/scripts/cron/schedules", nil)).into(t, &res)
		require.NotNil(t, res.Schedules)
		return res.Schedules
	}
	require.Empty(t, get())

	put := mustOK(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []map[string]string{{"cron": "*/5 * * * *"}, {"cron": "0 3 * * mon"}})).obj(t)
	require.Len(t, put["schedules"], 2)
	first := get()
	require.Len(t, first, 2)
	require.Equal(t, "*/5 * * * *", first[0]["cron"])
	require.NotEmpty(t, first[0]["created_on"])
	require.NotEmpty(t, first[0]["modified_on"])

	mustOK(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []map[string]string{{"cron": "*/5 * * * *"}, {"cron": "*/5 * * * *"}}))
	again := get()
	require.Len(t, again, 1, "duplicates collapse")
	require.Equal(t, first[0]["created_on"], again[0]["created_on"], "a kept cron keeps its created_on")

	mustFail(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", map[string]string{"cron": "* * * * *"}), http.StatusBadRequest, 6007)
	mustFail(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []map[string]string{{"cron": "every minute"}}), http.StatusBadRequest, 10100)
	mustFail(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []map[string]string{{"cron": "0 1 * * *"}, {"cron": "0 25 * * *"}}), http.StatusBadRequest, 10100)
	kept := get()
	require.Len(t, kept, 1, "a refused list changes nothing")
	require.Equal(t, "*/5 * * * *", kept[0]["cron"])

	mustOK(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []any{}))
	require.Empty(t, get())

	t.Run("an upload keeps the schedules", func(t *testing.T) {
		mustOK(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []map[string]string{{"cron": "0 0 * * *"}}))
		mustOK(t, h.upload("cron", nil))
		require.Len(t, get(), 1)
	})
}
