// Package queues creates Dome's queues (official provider) and attaches
// their consumers (companion provider, since the official one cannot).
package queues

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Create creates every queue in the topology, keyed by logical name.
func Create(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.ResourceOption) (map[string]bindings.Ref, error) {
	out := make(map[string]bindings.Ref, len(cfg.Topology.Queues))
	for _, q := range cfg.Topology.Queues {
		queue, err := cloudflare.NewQueue(ctx, q.Name, &cloudflare.QueueArgs{
			AccountId: pulumi.String(cfg.AccountID),
			Name:      pulumi.String(cfg.Name(q.Name)),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("queue %q: %w", q.Name, err)
		}
		out[q.Name] = bindings.Ref{ID: queue.ID().ToStringOutput(), Name: queue.Name}
	}
	return out, nil
}

// Consume attaches every worker's queue consumers, keyed by the consumed
// queue's logical name (a queue has one worker consumer). The consumer
// takes the worker's and the dead-letter queue's outputs, so it is created
// after both exist, as Cloudflare requires.
func Consume(ctx *pulumi.Context, cfg *config.Config, queues map[string]bindings.Ref, workers map[string]*domecf.WorkerScript, opts ...pulumi.ResourceOption) (map[string]*domecf.QueueConsumer, error) {
	out := map[string]*domecf.QueueConsumer{}
	for _, w := range cfg.Topology.Workers {
		for _, c := range w.Consumers {
			queue, hasQueue := queues[c.Queue]
			script := workers[w.Name]
			if !hasQueue || script == nil {
				return nil, fmt.Errorf("worker %q: consumer of queue %q: queue or worker not created", w.Name, c.Queue)
			}
			args := domecf.QueueConsumerArgs{
				QueueID:        queue.ID,
				ScriptName:     script.Name,
				BatchSize:      c.BatchSize,
				MaxRetries:     c.MaxRetries,
				MaxWaitTimeMs:  c.MaxWaitTimeMs,
				MaxConcurrency: c.MaxConcurrency,
				RetryDelay:     c.RetryDelay,
			}
			if c.DeadLetterQueue != "" {
				dlq, hasDLQ := queues[c.DeadLetterQueue]
				if !hasDLQ {
					return nil, fmt.Errorf("worker %q: consumer of queue %q: dead-letter queue %q not created", w.Name, c.Queue, c.DeadLetterQueue)
				}
				args.DeadLetterQueue = dlq.Name
			}
			consumer, err := domecf.NewQueueConsumer(ctx, c.Queue, args, opts...)
			if err != nil {
				return nil, fmt.Errorf("worker %q: consumer of queue %q: %w", w.Name, c.Queue, err)
			}
			out[c.Queue] = consumer
		}
	}
	return out, nil
}
