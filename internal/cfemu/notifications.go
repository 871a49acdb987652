package cfemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
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

// notificationConfig is a bucket's event notification configuration, by queue.
type notificationConfig struct {
	BucketName string                  `json:"bucketName"`
	Queues     []notificationQueueView `json:"queues"`
}

// NotificationRule is one rule as a client sends it.
type NotificationRule struct {
	Actions     []string `json:"actions"`
	Prefix      string   `json:"prefix"`
	Suffix      string   `json:"suffix"`
	Description string   `json:"description"`
}

// R2Notifications reads the rules a bucket has, grouped by queue.
func (a *Account) R2Notifications(bucket string) (notificationConfig, error) {
	out := notificationConfig{BucketName: bucket, Queues: []notificationQueueView{}}
	err := a.viewErr(func() error {
		if a.st.Buckets[bucket] == nil {
			return r2NotFound()
		}
		for _, r := range a.st.Notifications[bucket] {
			i := slices.IndexFunc(out.Queues, func(q notificationQueueView) bool { return q.QueueID == r.QueueID })
			if i < 0 {
				name := ""
				if q := a.st.Queues[r.QueueID]; q != nil {
					name = q.Name
				}
				out.Queues = append(out.Queues, notificationQueueView{QueueID: r.QueueID, QueueName: name, Rules: []notificationRule{}})
				i = len(out.Queues) - 1
			}
			out.Queues[i].Rules = append(out.Queues[i].Rules, *r)
		}
		return nil
	})
	return out, err
}

// PutR2Notifications adds rules sending a bucket's events to a queue. Every
// rule is checked, against the others sent and against the bucket's
// existing rules for every queue, before any is kept.
func (a *Account) PutR2Notifications(bucket, queueID string, rules []NotificationRule) error {
	return a.update(func() error {
		if err := a.checkNotificationTarget(bucket, queueID); err != nil {
			return err
		}
		if len(rules) == 0 {
			return refuse(http.StatusBadRequest, codeBadNotification, "at least one rule is required")
		}
		all := slices.Clone(a.st.Notifications[bucket])
		t := now()
		for i, r := range rules {
			if len(r.Actions) == 0 {
				return refuse(http.StatusBadRequest, codeBadNotification, "rule %d has no actions; use some of %s", i, strings.Join(r2Actions, ", "))
			}
			for _, act := range r.Actions {
				if !slices.Contains(r2Actions, act) {
					return refuse(http.StatusBadRequest, codeBadNotification, "rule %d: unknown action %q; use some of %s", i, act, strings.Join(r2Actions, ", "))
				}
			}
			rule := &notificationRule{RuleID: newHexID(), QueueID: queueID, Actions: r.Actions, Prefix: r.Prefix, Suffix: r.Suffix, Description: r.Description, CreatedAt: t}
			for _, o := range all {
				if rule.overlaps(o) {
					return refuse(http.StatusBadRequest, codeBadNotification,
						"rule %d (prefix %q, suffix %q) overlaps rule %s (prefix %q, suffix %q) for the same action: an object could match both", i, r.Prefix, r.Suffix, o.RuleID, o.Prefix, o.Suffix)
				}
			}
			all = append(all, rule)
		}
		a.st.Notifications[bucket] = all
		return nil
	})
}

// checkNotificationTarget checks that the bucket and the queue of a rule exist.
func (a *Account) checkNotificationTarget(bucket, queueID string) error {
	if a.st.Buckets[bucket] == nil {
		return r2NotFound()
	}
	if a.st.Queues[queueID] == nil {
		return queueNotFound()
	}
	return nil
}

// DeleteR2Notifications removes the rules a bucket sends to a queue: those
// listed in ruleIDs, or all of them. Removing none is no error.
func (a *Account) DeleteR2Notifications(bucket, queueID string, ruleIDs []string) error {
	return a.update(func() error {
		if a.st.Buckets[bucket] == nil {
			return r2NotFound()
		}
		a.st.Notifications[bucket] = slices.DeleteFunc(slices.Clone(a.st.Notifications[bucket]), func(r *notificationRule) bool {
			return r.QueueID == queueID && (len(ruleIDs) == 0 || slices.Contains(ruleIDs, r.RuleID))
		})
		if len(a.st.Notifications[bucket]) == 0 {
			delete(a.st.Notifications, bucket)
		}
		return nil
	})
}

// HTTP handlers.

func (e *Emulator) notificationsGet(c *call) reply {
	return answer(e.acct.R2Notifications(c.r.PathValue("bucket")))
}

// notificationsPut checks the bucket and the queue before it reads the
// body, so that a missing one is 404 whatever the body holds.
func (e *Emulator) notificationsPut(c *call) reply {
	bucket, queueID := c.r.PathValue("bucket"), c.r.PathValue("queue")
	if err := e.acct.viewErr(func() error { return e.acct.checkNotificationTarget(bucket, queueID) }); err != nil {
		return failWith(err)
	}
	var in struct {
		Rules []NotificationRule `json:"rules"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if err := e.acct.PutR2Notifications(bucket, queueID, in.Rules); err != nil {
		return failWith(err)
	}
	return ok(map[string]any{})
}

func (e *Emulator) notificationsDelete(c *call) reply {
	bucket := c.r.PathValue("bucket")
	if _, err := e.acct.GetR2Bucket(bucket); err != nil {
		return failWith(err)
	}
	var in struct {
		RuleIDs []string `json:"ruleIds"`
	}
	if len(c.body) > 0 {
		if rp, good := c.decode(&in); !good {
			return rp
		}
	}
	if err := e.acct.DeleteR2Notifications(bucket, c.r.PathValue("queue"), in.RuleIDs); err != nil {
		return failWith(err)
	}
	return ok(map[string]any{})
}

// r2Event is an object event of a bucket, for its notification rules.
type r2Event struct {
	action string
	bucket string
	object R2Object
}

// matches reports whether the rule sends this event.
func (r *notificationRule) matches(ev *r2Event) bool {
	return slices.Contains(r.Actions, ev.action) &&
		strings.HasPrefix(ev.object.Key, r.Prefix) && strings.HasSuffix(ev.object.Key, r.Suffix)
}

// r2EventMessage is the message body Cloudflare documents for an R2 event
// notification. A deleted object has no size or eTag.
type r2EventMessage struct {
	Account string `json:"account"`
	Action  string `json:"action"`
	Bucket  string `json:"bucket"`
	Object  struct {
		Key  string `json:"key"`
		Size *int64 `json:"size,omitempty"`
		ETag string `json:"eTag,omitempty"`
	} `json:"object"`
	EventTime string `json:"eventTime"`
}

// notify sends ev to the queue of every rule of its bucket that matches
// it, and returns the messages stored. The caller holds the account's lock.
func (a *Account) notify(ev *r2Event) ([]queuedMessage, error) {
	var sent []queuedMessage
	for _, r := range a.st.Notifications[ev.bucket] {
		if !r.matches(ev) {
			continue
		}
		m := r2EventMessage{Account: a.id, Action: ev.action, Bucket: ev.bucket,
			EventTime: time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
		m.Object.Key = ev.object.Key
		if ev.action != "DeleteObject" && ev.action != "LifecycleDeletion" {
			m.Object.Size, m.Object.ETag = &ev.object.Size, ev.object.ETag
		}
		body, err := json.Marshal(m)
		if err != nil {
			return sent, err
		}
		queued, err := a.enqueue(r.QueueID, []QueueMessage{{Body: body, ContentType: "json"}})
		if err != nil {
			return sent, err
		}
		sent = append(sent, queued...)
	}
	return sent, nil
}
