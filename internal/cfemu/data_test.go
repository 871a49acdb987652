package cfemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKVValues(t *testing.T) {
	h := newHarness(t)
	ns := h.created(h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "kv"}), "id")
	values := "/storage/kv/namespaces/" + ns + "/values/"

	mustOK(t, h.call(http.MethodPut, values+"greeting", "hello"))
	g := h.call(http.MethodGet, values+"greeting", nil)
	require.Equal(t, http.StatusOK, g.status)
	require.Equal(t, "hello", string(g.raw))
	mustFail(t, h.call(http.MethodGet, values+"missing", nil), http.StatusNotFound, 10009)
	mustFail(t, h.call(http.MethodPut, "/storage/kv/namespaces/nope/values/k", "v"), http.StatusNotFound, 10013)

	t.Run("a key may hold slashes", func(t *testing.T) {
		mustOK(t, h.call(http.MethodPut, values+"a%2Fb", "slash"))
		require.Equal(t, "slash", string(h.call(http.MethodGet, values+"a%2Fb", nil).raw))
	})
	t.Run("expiration_ttl below 60 is refused", func(t *testing.T) {
		mustFail(t, h.call(http.MethodPut, values+"k?expiration_ttl=5", "v"), http.StatusBadRequest, 10034)
	})
	t.Run("keys list in order, by prefix, with a cursor", func(t *testing.T) {
		for _, k := range []string{"p3", "p1", "p2", "q"} {
			mustOK(t, h.call(http.MethodPut, values+k, k))
		}
		var keys []KVKey
		r := mustOK(t, h.call(http.MethodGet, "/storage/kv/namespaces/"+ns+"/keys?prefix=p", nil))
		r.into(t, &keys)
		require.Equal(t, []KVKey{{Name: "p1"}, {Name: "p2"}, {Name: "p3"}}, keys)
		require.Equal(t, "", r.env.ResultInfo["cursor"])
	})
	t.Run("delete", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, values+"greeting", nil))
		mustFail(t, h.call(http.MethodGet, values+"greeting", nil), http.StatusNotFound, 10009)
		mustOK(t, h.call(http.MethodDelete, values+"greeting", nil))
	})
	t.Run("a deleted namespace takes its values", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/storage/kv/namespaces/"+ns, nil))
		require.Empty(t, h.emu.acct.kv.ns)
	})
}

func TestQueueMessagesEndpoint(t *testing.T) {
	h := newHarness(t)
	qid := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs"}), "queue_id")
	var heard []QueueMessage
	h.emu.acct.OnQueueMessage(func(queueID string, m QueueMessage) {
		require.Equal(t, qid, queueID)
		heard = append(heard, m)
	})
	mustOK(t, h.call(http.MethodPost, "/queues/"+qid+"/messages", map[string]any{"body": map[string]int{"n": 1}}))
	mustOK(t, h.call(http.MethodPost, "/queues/"+qid+"/messages/batch", map[string]any{"messages": []any{
		map[string]any{"body": "two", "content_type": "text"}, map[string]any{"body": 3},
	}}))
	mustFail(t, h.call(http.MethodPost, "/queues/"+qid+"/messages", map[string]any{}), http.StatusBadRequest, 11003)
	mustFail(t, h.call(http.MethodPost, "/queues/nope/messages", map[string]any{"body": 1}), http.StatusNotFound, 11000)

	pending, err := h.emu.acct.QueueMessages(byID, qid)
	require.NoError(t, err)
	require.Equal(t, heard, pending)
	require.Len(t, pending, 3)
	require.JSONEq(t, `{"n":1}`, string(pending[0].Body))
	require.Equal(t, "text", pending[1].ContentType)

	require.NoError(t, h.emu.acct.AckQueueMessages(byName, "jobs", []string{pending[0].ID}))
	left, err := h.emu.acct.QueueMessages(byName, "jobs")
	require.NoError(t, err)
	require.Equal(t, pending[1:], left)
}

// An R2 write sends the event Cloudflare documents to each queue whose
// rule matches its action, prefix and suffix.
func TestR2EventPath(t *testing.T) {
	h := newHarness(t)
	a := h.emu.acct
	mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "uploads"}))
	images := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "images"}), "queue_id")
	gone := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "gone"}), "queue_id")
	mustOK(t, h.call(http.MethodPut, "/event_notifications/r2/uploads/configuration/queues/"+images,
		map[string]any{"rules": []any{map[string]any{"actions": []string{"PutObject", "CopyObject"}, "prefix": "img/", "suffix": ".png"}}}))
	mustOK(t, h.call(http.MethodPut, "/event_notifications/r2/uploads/configuration/queues/"+gone,
		map[string]any{"rules": []any{map[string]any{"actions": []string{"DeleteObject"}}}}))

	var mu sync.Mutex
	heard := map[string]int{}
	a.OnQueueMessage(func(queueID string, _ QueueMessage) {
		mu.Lock()
		defer mu.Unlock()
		heard[queueID]++
	})

	obj, err := a.PutR2("uploads", "img/cat.png", []byte("meow"), "image/png")
	require.NoError(t, err)
	require.Equal(t, "4a4be40c96ac6314e91d93f38043a634", obj.ETag, "the MD5 of the body")
	_, err = a.PutR2("uploads", "img/cat.jpg", []byte("no"), "")
	require.NoError(t, err, "a suffix that does not match sends nothing")
	_, err = a.PutR2("uploads", "doc/cat.png", []byte("no"), "")
	require.NoError(t, err, "a prefix that does not match sends nothing")
	require.NoError(t, a.DeleteR2("uploads", "img/cat.png"))
	require.NoError(t, a.DeleteR2("uploads", "never-there"), "deleting a missing key sends nothing")

	msgs, err := a.QueueMessages(byID, images)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	var put map[string]any
	require.NoError(t, json.Unmarshal(msgs[0].Body, &put))
	require.Equal(t, testAccount, put["account"])
	require.Equal(t, "PutObject", put["action"])
	require.Equal(t, "uploads", put["bucket"])
	require.Equal(t, map[string]any{"key": "img/cat.png", "size": float64(4), "eTag": obj.ETag}, put["object"])
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, put["eventTime"])

	msgs, err = a.QueueMessages(byID, gone)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	var del map[string]any
	require.NoError(t, json.Unmarshal(msgs[0].Body, &del))
	require.Equal(t, "DeleteObject", del["action"])
	require.Equal(t, map[string]any{"key": "img/cat.png"}, del["object"], "a deleted object has no size or eTag")
	require.Equal(t, map[string]int{images: 1, gone: 1}, heard)

	t.Run("objects read back and list", func(t *testing.T) {
		_, err := a.GetR2("uploads", "img/cat.png")
		var ae *Error
		require.ErrorAs(t, err, &ae)
		require.Equal(t, http.StatusNotFound, ae.Status)
		got, err := a.GetR2("uploads", "doc/cat.png")
		require.NoError(t, err)
		require.Equal(t, "no", string(got.Body))
		list, more, err := a.ListR2("uploads", "", "", 1)
		require.NoError(t, err)
		require.True(t, more)
		require.Equal(t, "doc/cat.png", list[0].Key)
		require.Nil(t, list[0].Body)
	})
	t.Run("a bucket with objects is not deleted", func(t *testing.T) {
		mustFail(t, h.call(http.MethodDelete, "/r2/buckets/uploads", nil), http.StatusConflict, 10008)
	})
}

// KV values, R2 objects and queue messages survive a restart.
func TestDataSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	emu, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	h := &harness{t: t, emu: emu, srv: httptest.NewServer(emu)}
	t.Cleanup(h.srv.Close)
	ns := h.created(h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": "kv"}), "id")
	mustOK(t, h.call(http.MethodPut, "/storage/kv/namespaces/"+ns+"/values/k", "v"))
	mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "bucket"}))
	qid := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs"}), "queue_id")
	mustOK(t, h.call(http.MethodPut, "/event_notifications/r2/bucket/configuration/queues/"+qid,
		map[string]any{"rules": []any{map[string]any{"actions": []string{"PutObject"}}}}))
	_, err = emu.acct.PutR2("bucket", "a/b", []byte("body"), "text/plain")
	require.NoError(t, err)
	require.NoError(t, emu.Close())

	again, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, again.Close()) })
	v, err := again.acct.GetKV(ns, "k")
	require.NoError(t, err)
	require.Equal(t, "v", string(v.Value))
	o, err := again.acct.GetR2("bucket", "a/b")
	require.NoError(t, err)
	require.Equal(t, "body", string(o.Body))
	require.Equal(t, "text/plain", o.ContentType)
	msgs, err := again.acct.QueueMessages(byID, qid)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Contains(t, string(msgs[0].Body), `"key":"a/b"`)
}
