package provider

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/dome/infra/internal/cfapi"
)

// R2EventNotification sends one bucket's object events to one queue.
type R2EventNotification struct{}

// R2EventNotificationArgs are the inputs: one (bucket, queue) pair and its rules.
type R2EventNotificationArgs struct {
	BucketName string               `pulumi:"bucketName" provider:"replaceOnChanges"`
	QueueID    string               `pulumi:"queueId" provider:"replaceOnChanges"`
	Rules      []R2NotificationRule `pulumi:"rules"`
}

// R2NotificationRule is one rule: the actions it fires on, for the object
// keys that start with Prefix and end with Suffix.
type R2NotificationRule struct {
	Actions     []string `pulumi:"actions"`
	Prefix      *string  `pulumi:"prefix,optional"`
	Suffix      *string  `pulumi:"suffix,optional"`
	Description *string  `pulumi:"description,optional"`
}

// R2EventNotificationState is the inputs plus the queue's name as Cloudflare reports it.
type R2EventNotificationState struct {
	R2EventNotificationArgs
	QueueName string `pulumi:"queueName"`
}

// r2Actions are the object events a rule can name.
var r2Actions = []string{"PutObject", "CopyObject", "DeleteObject", "CompleteMultipartUpload", "LifecycleDeletion"}

// Annotate documents the resource.
func (r *R2EventNotification) Annotate(a infer.Annotator) {
	a.Describe(r, "R2 event notifications from one bucket to one queue: the rules that pick the object events "+
		"sent. The resource id, also the import id, is <bucketName>/<queueId>.")
}

// Annotate documents the inputs.
func (a *R2EventNotificationArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.BucketName, "Bucket whose object events are sent; changing it replaces the configuration.")
	an.Describe(&a.QueueID, "Id (not name) of the queue that receives them; changing it replaces the configuration.")
	an.Describe(&a.Rules, "Rules; no two rules on a bucket may match the same object for the same action.")
}

// Annotate documents a rule.
func (r *R2NotificationRule) Annotate(a infer.Annotator) {
	a.Describe(&r.Actions, "Object actions: "+strings.Join(r2Actions, ", ")+".")
	a.Describe(&r.Prefix, "Only keys starting with this.")
	a.Describe(&r.Suffix, "Only keys ending with this.")
	a.Describe(&r.Description, "What the rule is for.")
}

// Annotate documents the state.
func (s *R2EventNotificationState) Annotate(a infer.Annotator) {
	a.Describe(&s.QueueName, "Name of the queue, as Cloudflare reports it.")
}

// Check refuses what Cloudflare would: no rules, a rule without actions
// or with an unknown one, and rules that overlap.
func (*R2EventNotification) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[R2EventNotificationArgs], error) {
	args, failures, err := infer.DefaultCheck[R2EventNotificationArgs](ctx, req.NewInputs)
	if err != nil {
		return infer.CheckResponse[R2EventNotificationArgs]{}, err
	}
	fail := func(prop, format string, a ...any) {
		failures = append(failures, p.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, a...)})
	}
	if len(args.Rules) == 0 {
		fail("rules", "at least one rule is needed")
	}
	for i, r := range args.Rules {
		if len(r.Actions) == 0 {
			fail(fmt.Sprintf("rules[%d].actions", i), "a rule needs at least one action of %s", strings.Join(r2Actions, ", "))
		}
		for _, a := range r.Actions {
			if !slices.Contains(r2Actions, a) {
				fail(fmt.Sprintf("rules[%d].actions", i), "unknown action %q; expected some of %s", a, strings.Join(r2Actions, ", "))
			}
		}
		for j, o := range args.Rules[:i] {
			if rulesOverlap(r, o) {
				fail(fmt.Sprintf("rules[%d]", i), "overlaps rule %d for the same action: an object could match both", j)
			}
		}
	}
	return infer.CheckResponse[R2EventNotificationArgs]{Inputs: args, Failures: failures}, nil
}

// rulesOverlap reports whether some key matches both rules for one action.
func rulesOverlap(a, b R2NotificationRule) bool {
	pa, pb, sa, sb := deref(a.Prefix), deref(b.Prefix), deref(a.Suffix), deref(b.Suffix)
	return slices.ContainsFunc(a.Actions, func(x string) bool { return slices.Contains(b.Actions, x) }) &&
		(strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)) &&
		(strings.HasSuffix(sa, sb) || strings.HasSuffix(sb, sa))
}

// Diff names the changed properties; a new bucket or queue is a new pair.
func (*R2EventNotification) Diff(_ context.Context, req infer.DiffRequest[R2EventNotificationArgs, R2EventNotificationState]) (infer.DiffResponse, error) {
	return diffInputs(req.State.R2EventNotificationArgs, req.Inputs, diffPolicy{
		replace: map[string]bool{"bucketName": true, "queueId": true},
	}), nil
}

func notificationID(bucket, queueID string) string { return bucket + "/" + queueID }

// Create adds the pair's rules. It refuses a pair that already has rules:
// adding to them would leave rules Pulumi does not know about.
func (*R2EventNotification) Create(ctx context.Context, req infer.CreateRequest[R2EventNotificationArgs]) (infer.CreateResponse[R2EventNotificationState], error) {
	in := req.Inputs
	id := notificationID(in.BucketName, in.QueueID)
	if req.DryRun {
		return infer.CreateResponse[R2EventNotificationState]{ID: id, Output: R2EventNotificationState{R2EventNotificationArgs: in}}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.CreateResponse[R2EventNotificationState]{}, err
	}
	live, err := client.GetR2EventNotifications(ctx, in.BucketName)
	if err != nil {
		return infer.CreateResponse[R2EventNotificationState]{}, fmt.Errorf("event notifications of bucket %s: %w", in.BucketName, err)
	}
	if _, taken := live.Queue(in.QueueID); taken {
		return infer.CreateResponse[R2EventNotificationState]{}, alreadyExists(ctx, "R2EventNotification",
			fmt.Sprintf("notification of queue %s by bucket %s", in.QueueID, in.BucketName), id, nil)
	}
	if err := overlapsOthers(live, in); err != nil {
		return infer.CreateResponse[R2EventNotificationState]{}, err
	}
	state, err := putRules(ctx, client, in)
	if cfapi.MayHaveApplied(err) {
		// Cloudflare's PUT adds rules, so the client's retry of one whose
		// answer was lost collides with what the first attempt added: the
		// bucket's configuration tells whether that was exactly these rules.
		if now, rerr := client.GetR2EventNotifications(ctx, in.BucketName); rerr == nil {
			if q, found := now.Queue(in.QueueID); found {
				if held := notificationState(in.BucketName, q); sameRules(held.Rules, in.Rules) {
					p.GetLogger(ctx).Infof("event notifications of bucket %s to queue %s: the answer was lost, but Cloudflare holds exactly these rules", in.BucketName, in.QueueID)
					state, err = held, nil
				}
			}
		}
	}
	if err != nil {
		return infer.CreateResponse[R2EventNotificationState]{}, err
	}
	return infer.CreateResponse[R2EventNotificationState]{ID: id, Output: state}, nil
}

// overlapsOthers refuses rules overlapping another queue's on the bucket,
// before anything changes: Cloudflare would refuse them, and in an update
// only after the pair's old rules were gone.
func overlapsOthers(live cfapi.BucketNotifications, in R2EventNotificationArgs) error {
	for _, q := range live.Queues {
		if q.QueueID == in.QueueID {
			continue
		}
		for _, theirs := range notificationState(in.BucketName, q).Rules {
			for i, r := range in.Rules {
				if rulesOverlap(r, theirs) {
					return fmt.Errorf("event notifications of bucket %s to queue %s: rules[%d] (prefix %q, suffix %q) overlaps a rule sending the same action to queue %s (prefix %q, suffix %q): an object event goes to one queue; narrow one of the two prefixes or suffixes",
						in.BucketName, in.QueueID, i, deref(r.Prefix), deref(r.Suffix), q.QueueName, deref(theirs.Prefix), deref(theirs.Suffix))
				}
			}
		}
	}
	return nil
}

// sameRules compares rules as Cloudflare keeps them: an empty prefix,
// suffix or description is none.
func sameRules(live, want []R2NotificationRule) bool {
	norm := func(rs []R2NotificationRule) []R2NotificationRule {
		out := make([]R2NotificationRule, len(rs))
		for i, r := range rs {
			out[i] = R2NotificationRule{Actions: r.Actions, Prefix: nonEmpty(deref(r.Prefix)), Suffix: nonEmpty(deref(r.Suffix)), Description: nonEmpty(deref(r.Description))}
		}
		return out
	}
	return reflect.DeepEqual(norm(live), norm(want))
}

// Update replaces the pair's rules. Cloudflare's PUT adds rules and refuses
// ones overlapping those already there, so the old rules go first; the new
// ones are checked against the other queues' before, and should Cloudflare
// still refuse them, the old ones are put back, so the bucket never stays
// without the pair's events.
func (*R2EventNotification) Update(ctx context.Context, req infer.UpdateRequest[R2EventNotificationArgs, R2EventNotificationState]) (infer.UpdateResponse[R2EventNotificationState], error) {
	in := req.Inputs
	if req.DryRun {
		return infer.UpdateResponse[R2EventNotificationState]{Output: R2EventNotificationState{R2EventNotificationArgs: in, QueueName: req.State.QueueName}}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.UpdateResponse[R2EventNotificationState]{}, err
	}
	live, err := client.GetR2EventNotifications(ctx, in.BucketName)
	if err != nil {
		return infer.UpdateResponse[R2EventNotificationState]{}, fmt.Errorf("event notifications of bucket %s: %w", in.BucketName, err)
	}
	if err := overlapsOthers(live, in); err != nil {
		return infer.UpdateResponse[R2EventNotificationState]{}, err
	}
	if err := client.DeleteR2EventNotification(ctx, in.BucketName, in.QueueID); err != nil && !cfapi.IsNotFound(err) {
		return infer.UpdateResponse[R2EventNotificationState]{}, fmt.Errorf("event notifications of bucket %s to queue %s: remove the old rules: %w", in.BucketName, in.QueueID, err)
	}
	state, err := putRules(ctx, client, in)
	if err != nil {
		old := req.State.R2EventNotificationArgs
		if _, rerr := putRules(ctx, client, old); rerr != nil {
			return infer.UpdateResponse[R2EventNotificationState]{}, fmt.Errorf("%w; putting the old rules back failed too (%v): the bucket sends no events to the queue until the next up", err, rerr)
		}
		return infer.UpdateResponse[R2EventNotificationState]{}, fmt.Errorf("%w; the old rules are back in place", err)
	}
	return infer.UpdateResponse[R2EventNotificationState]{Output: state}, nil
}

// putRules sends the rules and reads them back, so the state holds what
// Cloudflare keeps.
func putRules(ctx context.Context, client *cfapi.Client, in R2EventNotificationArgs) (R2EventNotificationState, error) {
	rules := make([]cfapi.NotificationRule, 0, len(in.Rules))
	for _, r := range in.Rules {
		rules = append(rules, cfapi.NotificationRule{Actions: r.Actions, Prefix: deref(r.Prefix), Suffix: deref(r.Suffix), Description: deref(r.Description)})
	}
	wrap := func(err error) error {
		return fmt.Errorf("event notifications of bucket %s to queue %s: %w", in.BucketName, in.QueueID, err)
	}
	if err := client.PutR2EventNotification(ctx, in.BucketName, in.QueueID, rules); err != nil {
		return R2EventNotificationState{}, wrap(err)
	}
	live, err := client.GetR2EventNotifications(ctx, in.BucketName)
	if err != nil {
		return R2EventNotificationState{}, wrap(err)
	}
	q, found := live.Queue(in.QueueID)
	if !found {
		return R2EventNotificationState{}, wrap(fmt.Errorf("the rules were accepted but are not in the bucket's configuration"))
	}
	return notificationState(in.BucketName, q), nil
}

func notificationState(bucket string, q cfapi.NotificationQueue) R2EventNotificationState {
	s := R2EventNotificationState{R2EventNotificationArgs: R2EventNotificationArgs{BucketName: bucket, QueueID: q.QueueID}, QueueName: q.QueueName}
	for _, r := range q.Rules {
		s.Rules = append(s.Rules, R2NotificationRule{Actions: r.Actions, Prefix: nonEmpty(r.Prefix), Suffix: nonEmpty(r.Suffix), Description: nonEmpty(r.Description)})
	}
	return s
}

// Read rebuilds the pair from the bucket's configuration; the id is
// <bucketName>/<queueId>, which is also how one is imported.
func (*R2EventNotification) Read(ctx context.Context, req infer.ReadRequest[R2EventNotificationArgs, R2EventNotificationState]) (infer.ReadResponse[R2EventNotificationArgs, R2EventNotificationState], error) {
	bucket, queueID, ok := strings.Cut(req.ID, "/")
	if !ok || bucket == "" || queueID == "" {
		return infer.ReadResponse[R2EventNotificationArgs, R2EventNotificationState]{}, fmt.Errorf("R2EventNotification id %q is not <bucketName>/<queueId>", req.ID)
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.ReadResponse[R2EventNotificationArgs, R2EventNotificationState]{}, err
	}
	live, err := client.GetR2EventNotifications(ctx, bucket)
	if cfapi.IsNotFound(err) {
		return infer.ReadResponse[R2EventNotificationArgs, R2EventNotificationState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[R2EventNotificationArgs, R2EventNotificationState]{}, err
	}
	q, found := live.Queue(queueID)
	if !found {
		return infer.ReadResponse[R2EventNotificationArgs, R2EventNotificationState]{}, nil
	}
	state := notificationState(bucket, q)
	return infer.ReadResponse[R2EventNotificationArgs, R2EventNotificationState]{ID: req.ID, Inputs: state.R2EventNotificationArgs, State: state}, nil
}

// Delete removes the pair's rules; already gone is success.
func (*R2EventNotification) Delete(ctx context.Context, req infer.DeleteRequest[R2EventNotificationState]) (infer.DeleteResponse, error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	err = client.DeleteR2EventNotification(ctx, req.State.BucketName, req.State.QueueID)
	if err != nil && !cfapi.IsNotFound(err) {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, nil
}
