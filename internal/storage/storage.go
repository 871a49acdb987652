// Package storage creates Dome's R2 buckets with the official provider, and
// their event notifications with the companion provider (the official one
// has none).
package storage

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Create creates every R2 bucket in the topology, keyed by logical name.
func Create(ctx *pulumi.Context, cfg *config.Config, opts ...pulumi.ResourceOption) (map[string]bindings.Ref, error) {
	out := make(map[string]bindings.Ref, len(cfg.Topology.R2Buckets))
	for _, b := range cfg.Topology.R2Buckets {
		args := &cloudflare.R2BucketArgs{
			AccountId: pulumi.String(cfg.AccountID),
			Name:      pulumi.String(cfg.Name(b.Name)),
		}
		if b.Location != "" {
			args.Location = pulumi.StringPtr(b.Location)
		}
		bucket, err := cloudflare.NewR2Bucket(ctx, b.Name, args, opts...)
		if err != nil {
			return nil, fmt.Errorf("r2 bucket %q: %w", b.Name, err)
		}
		out[b.Name] = bindings.Ref{ID: bucket.ID().ToStringOutput(), Name: bucket.Name}
	}
	return out, nil
}

// Notify sends each bucket's object events to its queues, one companion
// resource per (bucket, queue) pair, keyed "<bucket>/<queue>" by logical
// names. They take the bucket's name and the queue's id as outputs, so
// each waits for both.
func Notify(ctx *pulumi.Context, cfg *config.Config, buckets, queues map[string]bindings.Ref, opts ...pulumi.ResourceOption) (map[string]*domecf.R2EventNotification, error) {
	out := map[string]*domecf.R2EventNotification{}
	for _, b := range cfg.Topology.R2Buckets {
		for _, q := range b.NotifiedQueues() {
			name := b.Name + "/" + q
			bucket, hasBucket := buckets[b.Name]
			queue, hasQueue := queues[q]
			if !hasBucket || !hasQueue {
				return nil, fmt.Errorf("event notifications %s: bucket or queue not created", name)
			}
			var rules []domecf.R2NotificationRule
			for _, n := range b.EventNotifications {
				if n.Queue == q {
					rules = append(rules, domecf.R2NotificationRule{Actions: n.Actions, Prefix: n.Prefix, Suffix: n.Suffix, Description: n.Description})
				}
			}
			n, err := domecf.NewR2EventNotification(ctx, name, domecf.R2EventNotificationArgs{
				BucketName: bucket.Name,
				QueueID:    queue.ID,
				Rules:      rules,
			}, opts...)
			if err != nil {
				return nil, fmt.Errorf("event notifications %s: %w", name, err)
			}
			out[name] = n
		}
	}
	return out, nil
}
