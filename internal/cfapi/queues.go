package cfapi

import (
	"context"
	"net/http"
)

// Queue is a queue as Cloudflare lists it.
type Queue struct {
	QueueID    string `json:"queue_id"`
	QueueName  string `json:"queue_name"`
	CreatedOn  string `json:"created_on,omitempty"`
	ModifiedOn string `json:"modified_on,omitempty"`
}

// ConsumerSettings tunes how a worker is fed from a queue. Nil fields are
// left to Cloudflare's defaults.
type ConsumerSettings struct {
	BatchSize      *int `json:"batch_size,omitempty"`
	MaxRetries     *int `json:"max_retries,omitempty"`
	MaxWaitTimeMs  *int `json:"max_wait_time_ms,omitempty"`
	MaxConcurrency *int `json:"max_concurrency,omitempty"`
	RetryDelay     *int `json:"retry_delay,omitempty"`
}

// ConsumerParams is the body of a consumer create or update.
type ConsumerParams struct {
	ScriptName      string           `json:"script_name"`
	Type            string           `json:"type"`
	DeadLetterQueue string           `json:"dead_letter_queue,omitempty"`
	Settings        ConsumerSettings `json:"settings"`
}

// Consumer is a queue consumer as Cloudflare describes it. Cloudflare names
// the script "script" in answers but "script_name" in requests.
type Consumer struct {
	ConsumerID      string           `json:"consumer_id"`
	QueueID         string           `json:"queue_id"`
	QueueName       string           `json:"queue_name,omitempty"`
	Script          string           `json:"script"`
	ScriptName      string           `json:"script_name,omitempty"`
	Type            string           `json:"type"`
	DeadLetterQueue string           `json:"dead_letter_queue,omitempty"`
	Settings        ConsumerSettings `json:"settings"`
	CreatedOn       string           `json:"created_on,omitempty"`
}

// ScriptOf is the consumer's worker, whichever field the answer used.
func (c Consumer) ScriptOf() string {
	if c.Script != "" {
		return c.Script
	}
	return c.ScriptName
}

func (c *Client) consumersPath(queueID string, segs ...string) string {
	return c.accountPath(append([]string{"queues", queueID, "consumers"}, segs...)...)
}

// workerConsumer fills the one consumer type this client creates.
func workerConsumer(p ConsumerParams) ConsumerParams {
	if p.Type == "" {
		p.Type = "worker"
	}
	return p
}

// CreateQueueConsumer attaches a worker to the queue with id queueID.
func (c *Client) CreateQueueConsumer(ctx context.Context, queueID string, p ConsumerParams) (Consumer, error) {
	return call[Consumer](ctx, c, http.MethodPost, c.consumersPath(queueID), workerConsumer(p))
}

// ListQueueConsumers lists the consumers of a queue.
func (c *Client) ListQueueConsumers(ctx context.Context, queueID string) ([]Consumer, error) {
	return listAll[Consumer](ctx, c, c.consumersPath(queueID), 0)
}

// GetQueueConsumer reads one consumer.
func (c *Client) GetQueueConsumer(ctx context.Context, queueID, consumerID string) (Consumer, error) {
	return call[Consumer](ctx, c, http.MethodGet, c.consumersPath(queueID, consumerID), nil)
}

// UpdateQueueConsumer replaces a consumer's script, dead-letter queue and settings.
func (c *Client) UpdateQueueConsumer(ctx context.Context, queueID, consumerID string, p ConsumerParams) (Consumer, error) {
	return call[Consumer](ctx, c, http.MethodPut, c.consumersPath(queueID, consumerID), workerConsumer(p))
}

// DeleteQueueConsumer detaches a consumer.
func (c *Client) DeleteQueueConsumer(ctx context.Context, queueID, consumerID string) error {
	_, err := call[struct{}](ctx, c, http.MethodDelete, c.consumersPath(queueID, consumerID), nil)
	return err
}

// ListQueues lists the account's queues.
func (c *Client) ListQueues(ctx context.Context) ([]Queue, error) {
	return listAll[Queue](ctx, c, c.accountPath("queues"), 100)
}
