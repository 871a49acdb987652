package domecf

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// QueueConsumer makes a worker consume a queue. Everything but the queue
// updates in place.
type QueueConsumer struct {
	pulumi.CustomResourceState

	ConsumerID pulumi.StringOutput `pulumi:"consumerId"`
}

// QueueConsumerArgs names the queue by id (Cloudflare's consumer API is
// keyed by it) and the dead-letter queue by name (as Cloudflare stores it).
type QueueConsumerArgs struct {
	QueueID         pulumi.StringInput
	ScriptName      pulumi.StringInput
	DeadLetterQueue pulumi.StringInput
	BatchSize       *int
	MaxRetries      *int
	MaxWaitTimeMs   *int
	MaxConcurrency  *int
	RetryDelay      *int
}

// NewQueueConsumer attaches a consumer.
func NewQueueConsumer(ctx *pulumi.Context, name string, args QueueConsumerArgs, opts ...pulumi.ResourceOption) (*QueueConsumer, error) {
	props := pulumi.Map{"queueId": args.QueueID, "scriptName": args.ScriptName}
	put(props, "deadLetterQueue", args.DeadLetterQueue)
	putInt(props, "batchSize", args.BatchSize)
	putInt(props, "maxRetries", args.MaxRetries)
	putInt(props, "maxWaitTimeMs", args.MaxWaitTimeMs)
	putInt(props, "maxConcurrency", args.MaxConcurrency)
	putInt(props, "retryDelay", args.RetryDelay)
	var c QueueConsumer
	if err := ctx.RegisterResource(TypeQueueConsumer, name, props, &c, opts...); err != nil {
		return nil, err
	}
	return &c, nil
}
