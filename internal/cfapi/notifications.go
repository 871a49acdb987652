package cfapi

import (
	"context"
	"net/http"
)

// NotificationRule is one R2 event notification rule: the object actions
// it fires on, for keys matching Prefix and Suffix.
type NotificationRule struct {
	RuleID      string   `json:"ruleId,omitempty"` // answers only
	Actions     []string `json:"actions"`
	Prefix      string   `json:"prefix,omitempty"`
	Suffix      string   `json:"suffix,omitempty"`
	Description string   `json:"description,omitempty"`
	CreatedAt   string   `json:"createdAt,omitempty"` // answers only
}

// NotificationQueue is the rules one bucket sends to one queue.
type NotificationQueue struct {
	QueueID   string             `json:"queueId"`
	QueueName string             `json:"queueName"`
	Rules     []NotificationRule `json:"rules"`
}

// BucketNotifications is a bucket's event notification configuration.
type BucketNotifications struct {
	BucketName string              `json:"bucketName"`
	Queues     []NotificationQueue `json:"queues"`
}

// Queue returns the rules the bucket sends to queueID, if any.
func (b BucketNotifications) Queue(queueID string) (NotificationQueue, bool) {
	for _, q := range b.Queues {
		if q.QueueID == queueID {
			return q, true
		}
	}
	return NotificationQueue{}, false
}

func (c *Client) notificationsPath(bucket string, queueID ...string) string {
	segs := []string{"event_notifications", "r2", bucket, "configuration"}
	if len(queueID) > 0 {
		segs = append(segs, "queues", queueID[0])
	}
	return c.accountPath(segs...)
}

// GetR2EventNotifications reads a bucket's event notification rules, per queue.
func (c *Client) GetR2EventNotifications(ctx context.Context, bucket string) (BucketNotifications, error) {
	return call[BucketNotifications](ctx, c, http.MethodGet, c.notificationsPath(bucket), nil)
}

// PutR2EventNotification adds rules sending a bucket's object events to a queue.
func (c *Client) PutR2EventNotification(ctx context.Context, bucket, queueID string, rules []NotificationRule) error {
	_, err := call[struct{}](ctx, c, http.MethodPut, c.notificationsPath(bucket, queueID), struct {
		Rules []NotificationRule `json:"rules"`
	}{rules})
	return err
}

// DeleteR2EventNotification removes every rule a bucket sends to a queue.
func (c *Client) DeleteR2EventNotification(ctx context.Context, bucket, queueID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: c.notificationsPath(bucket, queueID)})
	return err
}
