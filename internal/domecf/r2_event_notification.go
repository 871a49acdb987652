package domecf

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// R2EventNotification sends one bucket's object events to one queue. New
// rules update in place; a new bucket or queue replaces it.
type R2EventNotification struct {
	pulumi.CustomResourceState

	QueueName pulumi.StringOutput `pulumi:"queueName"`
}

// R2EventNotificationArgs names the bucket by name and the queue by id, as
// Cloudflare's API does.
type R2EventNotificationArgs struct {
	BucketName pulumi.StringInput
	QueueID    pulumi.StringInput
	Rules      []R2NotificationRule
}

// R2NotificationRule picks the events of the keys with Prefix and Suffix.
type R2NotificationRule struct {
	Actions     []string // PutObject, CopyObject, DeleteObject, CompleteMultipartUpload, LifecycleDeletion
	Prefix      string
	Suffix      string
	Description string
}

// NewR2EventNotification configures one (bucket, queue) pair.
func NewR2EventNotification(ctx *pulumi.Context, name string, args R2EventNotificationArgs, opts ...pulumi.ResourceOption) (*R2EventNotification, error) {
	rules := make(pulumi.Array, len(args.Rules))
	for i, r := range args.Rules {
		m := pulumi.Map{"actions": stringArray(r.Actions)}
		putString(m, "prefix", r.Prefix)
		putString(m, "suffix", r.Suffix)
		putString(m, "description", r.Description)
		rules[i] = m
	}
	props := pulumi.Map{"bucketName": args.BucketName, "queueId": args.QueueID, "rules": rules}
	var n R2EventNotification
	if err := ctx.RegisterResource(TypeR2EventNotification, name, props, &n, opts...); err != nil {
		return nil, err
	}
	return &n, nil
}
