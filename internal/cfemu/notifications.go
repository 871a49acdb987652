package cfemu

import (
	"net/http"
	"slices"
	"strings"
)

// notificationRule is one R2 event notification rule: objects of a bucket
// matching prefix and suffix send a message to a queue on these actions.
type notificationRule struct {
	RuleID      string   `json:"ruleId"`
	QueueID     string   `json:"queueId"`
	Actions     []string `json:"actions"`
	Prefix      string   `json:"prefix"`
	Suffix      string   `json:"suffix"`
	Description string   `json:"description"`
	CreatedAt   string   `json:"createdAt"`
}

// r2Actions are the object events a rule can name.
var r2Actions = []string{"PutObject", "CopyObject", "DeleteObject", "CompleteMultipartUpload", "LifecycleDeletion"}

// codeBadNotification answers a configuration Cloudflare refuses; the code
// is the emulator's choice, as Cloudflare's is not documented.
const codeBadNotification = 10070

// overlaps reports whether some object key could match both rules for one
// action, which Cloudflare refuses: it could not tell which rule applies.
func (r *notificationRule) overlaps(o *notificationRule) bool {
	shared := slices.ContainsFunc(r.Actions, func(a string) bool { return slices.Contains(o.Actions, a) })
	prefixes := strings.HasPrefix(r.Prefix, o.Prefix) || strings.HasPrefix(o.Prefix, r.Prefix)
	suffixes := strings.HasSuffix(r.Suffix, o.Suffix) || strings.HasSuffix(o.Suffix, r.Suffix)
	return shared && prefixes && suffixes
}

type notificationQueueView struct {
	QueueID   string             `json:"queueId"`
	QueueName string             `json:"queueName"`
	Rules     []notificationRule `json:"rules"`
}

func (e *Emulator) notificationsGet(c *call) reply {
	bucket := c.r.PathValue("bucket")
	if e.st.Buckets[bucket] == nil {
		return r2NotFound()
	}
	queues := []notificationQueueView{}
	for _, r := range e.st.Notifications[bucket] {
		i := slices.IndexFunc(queues, func(q notificationQueueView) bool { return q.QueueID == r.QueueID })
		if i < 0 {
			name := ""
			if q := e.st.Queues[r.QueueID]; q != nil {
				name = q.Name
			}
			queues = append(queues, notificationQueueView{QueueID: r.QueueID, QueueName: name, Rules: []notificationRule{}})
			i = len(queues) - 1
		}
		queues[i].Rules = append(queues[i].Rules, *r)
	}
	return ok(map[string]any{"bucketName": bucket, "queues": queues})
}

// notificationsPut adds rules sending a bucket's events to a queue. Every
// rule is checked, against the others sent and against the bucket's
// existing rules for every queue, before any is kept.
func (e *Emulator) notificationsPut(c *call) reply {
	bucket, queueID := c.r.PathValue("bucket"), c.r.PathValue("queue")
	if e.st.Buckets[bucket] == nil {
		return r2NotFound()
	}
	if e.st.Queues[queueID] == nil {
		return queueNotFound()
	}
	var in struct {
		Rules []struct {
			Actions     []string `json:"actions"`
			Prefix      string   `json:"prefix"`
			Suffix      string   `json:"suffix"`
			Description string   `json:"description"`
		} `json:"rules"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if len(in.Rules) == 0 {
		return fail(http.StatusBadRequest, codeBadNotification, "at least one rule is required")
	}
	all := slices.Clone(e.st.Notifications[bucket])
	t := now()
	for i, r := range in.Rules {
		if len(r.Actions) == 0 {
			return fail(http.StatusBadRequest, codeBadNotification, "rule %d has no actions; use some of %s", i, strings.Join(r2Actions, ", "))
		}
		for _, a := range r.Actions {
			if !slices.Contains(r2Actions, a) {
				return fail(http.StatusBadRequest, codeBadNotification, "rule %d: unknown action %q; use some of %s", i, a, strings.Join(r2Actions, ", "))
			}
		}
		rule := &notificationRule{RuleID: newHexID(), QueueID: queueID, Actions: r.Actions, Prefix: r.Prefix, Suffix: r.Suffix, Description: r.Description, CreatedAt: t}
		for _, o := range all {
			if rule.overlaps(o) {
				return fail(http.StatusBadRequest, codeBadNotification,
					"rule %d (prefix %q, suffix %q) overlaps rule %s (prefix %q, suffix %q) for the same action: an object could match both", i, r.Prefix, r.Suffix, o.RuleID, o.Prefix, o.Suffix)
			}
		}
		all = append(all, rule)
	}
	e.st.Notifications[bucket] = all
	return ok(map[string]any{})
}

// notificationsDelete removes the rules a bucket sends to a queue: those
// listed in ruleIds, or all of them. Removing none is no error.
func (e *Emulator) notificationsDelete(c *call) reply {
	bucket, queueID := c.r.PathValue("bucket"), c.r.PathValue("queue")
	if e.st.Buckets[bucket] == nil {
		return r2NotFound()
	}
	var in struct {
		RuleIDs []string `json:"ruleIds"`
	}
	if len(c.body) > 0 {
		if rp, good := c.decode(&in); !good {
			return rp
		}
	}
	e.st.Notifications[bucket] = slices.DeleteFunc(e.st.Notifications[bucket], func(r *notificationRule) bool {
		return r.QueueID == queueID && (len(in.RuleIDs) == 0 || slices.Contains(in.RuleIDs, r.RuleID))
	})
	if len(e.st.Notifications[bucket]) == 0 {
		delete(e.st.Notifications, bucket)
	}
	return ok(map[string]any{})
}
