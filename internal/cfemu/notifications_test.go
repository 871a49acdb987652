package cfemu

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestR2EventNotifications(t *testing.T) {
	h := newHarness(t)
	mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "content"}))
	uploads := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "uploads"}), "queue_id")
	deletes := h.created(h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "deletes"}), "queue_id")
	const base = "/event_notifications/r2/content/configuration"
	rule := func(prefix, suffix string, actions ...string) map[string]any {
		return map[string]any{"actions": actions, "prefix": prefix, "suffix": suffix}
	}
	put := func(queue string, rules ...map[string]any) response {
		return h.call(http.MethodPut, base+"/queues/"+queue, map[string]any{"rules": rules})
	}
	type view struct {
		BucketName string `json:"bucketName"`
		Queues     []struct {
			QueueID   string             `json:"queueId"`
			QueueName string             `json:"queueName"`
			Rules     []notificationRule `json:"rules"`
		} `json:"queues"`
	}
	get := func() view {
		var v view
		mustOK(t, h.call(http.MethodGet, base, nil)).into(t, &v)
		return v
	}

	require.Equal(t, "content", get().BucketName)
	require.Empty(t, get().Queues)

	mustOK(t, put(uploads, rule("uploads/", "", "PutObject", "CompleteMultipartUpload"), map[string]any{"actions": []string{"CopyObject"}, "suffix": ".pdf", "description": "copies"}))
	mustOK(t, put(deletes, rule("", "", "DeleteObject", "LifecycleDeletion")))
	v := get()
	require.Len(t, v.Queues, 2)
	require.Equal(t, uploads, v.Queues[0].QueueID)
	require.Equal(t, "uploads", v.Queues[0].QueueName)
	require.Len(t, v.Queues[0].Rules, 2)
	r := v.Queues[0].Rules[1]
	require.Equal(t, []string{"CopyObject"}, r.Actions)
	require.Equal(t, ".pdf", r.Suffix)
	require.Equal(t, "copies", r.Description)
	require.NotEmpty(t, r.RuleID)
	require.NotEmpty(t, r.CreatedAt)

	t.Run("refusals", func(t *testing.T) {
		for name, tc := range map[string]struct {
			queue  string
			rules  []map[string]any
			status int
			code   int
		}{
			"overlapping prefix, same action, other queue": {deletes, []map[string]any{rule("uploads/images/", "", "PutObject")}, 400, codeBadNotification},
			"overlapping suffix, same action":              {uploads, []map[string]any{rule("", "report.pdf", "CopyObject")}, 400, codeBadNotification},
			"two new rules overlapping each other":         {deletes, []map[string]any{rule("a/", "", "CopyObject"), rule("", ".txt", "CopyObject")}, 400, codeBadNotification},
			"unknown action":                               {deletes, []map[string]any{rule("x/", "", "GetObject")}, 400, codeBadNotification},
			"no actions":                                   {deletes, []map[string]any{rule("x/", "")}, 400, codeBadNotification},
			"no rules":                                     {deletes, nil, 400, codeBadNotification},
			"unknown queue":                                {"0123", []map[string]any{rule("x/", "", "PutObject")}, 404, 11000},
		} {
			t.Run(name, func(t *testing.T) {
				mustFail(t, put(tc.queue, tc.rules...), tc.status, tc.code)
			})
		}
		mustFail(t, h.call(http.MethodGet, "/event_notifications/r2/nope/configuration", nil), http.StatusNotFound, 10006)
		require.Len(t, get().Queues[0].Rules, 2, "a refused request keeps nothing")
	})
	t.Run("disjoint ranges are accepted", func(t *testing.T) {
		mustOK(t, put(deletes, rule("archive/", "", "PutObject"), rule("", ".log", "CopyObject")))
	})
	t.Run("delete removes one pair's rules", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, base+"/queues/"+uploads, nil))
		v := get()
		require.Len(t, v.Queues, 1)
		require.Equal(t, deletes, v.Queues[0].QueueID)
		mustOK(t, h.call(http.MethodDelete, base+"/queues/"+uploads, nil))
	})
	t.Run("a deleted queue or bucket takes its rules along", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, "/queues/"+deletes, nil))
		require.Empty(t, get().Queues)
		mustOK(t, put(uploads, rule("", "", "PutObject")))
		mustOK(t, h.call(http.MethodDelete, "/r2/buckets/content", nil))
		require.Empty(t, h.emu.acct.st.Notifications)
	})
}
