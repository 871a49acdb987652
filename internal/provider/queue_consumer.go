package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/dome/infra/internal/cfapi"
)

// QueueConsumer attaches a worker to a queue.
type QueueConsumer struct{}

// QueueConsumerArgs are a consumer's inputs.
type QueueConsumerArgs struct {
	QueueID         string  `pulumi:"queueId" provider:"replaceOnChanges"`
	ScriptName      string  `pulumi:"scriptName"`
	DeadLetterQueue *string `pulumi:"deadLetterQueue,optional"`
	BatchSize       *int    `pulumi:"batchSize,optional"`
	MaxRetries      *int    `pulumi:"maxRetries,optional"`
	MaxWaitTimeMs   *int    `pulumi:"maxWaitTimeMs,optional"`
	MaxConcurrency  *int    `pulumi:"maxConcurrency,optional"`
	RetryDelay      *int    `pulumi:"retryDelay,optional"`
}

// QueueConsumerState is a consumer's state.
type QueueConsumerState struct {
	QueueConsumerArgs
	ConsumerID string `pulumi:"consumerId"`
}

// Annotate documents the resource.
func (q *QueueConsumer) Annotate(a infer.Annotator) {
	a.Describe(q, "A worker consuming a queue. The resource id, also the import id, is <queueId>/<consumerId>.")
}

// Annotate documents the inputs.
func (a *QueueConsumerArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.QueueID, "Id (not name) of the queue to consume; changing it replaces the consumer.")
	an.Describe(&a.ScriptName, "Worker that consumes the queue.")
	an.Describe(&a.DeadLetterQueue, "Name of the queue that receives messages that ran out of retries.")
	an.Describe(&a.BatchSize, "Messages per batch.")
	an.Describe(&a.MaxRetries, "Deliveries before a message goes to the dead-letter queue.")
	an.Describe(&a.MaxWaitTimeMs, "Longest wait for a batch to fill, in milliseconds.")
	an.Describe(&a.MaxConcurrency, "Most concurrent consumer invocations; unset lets Cloudflare scale.")
	an.Describe(&a.RetryDelay, "Seconds before a retried message is delivered again.")
}

// Annotate documents the state.
func (s *QueueConsumerState) Annotate(a infer.Annotator) {
	a.Describe(&s.ConsumerID, "Cloudflare's consumer id.")
}

// consumerTuning are the settings Cloudflare fills with defaults. Unset
// means "whatever Cloudflare has": no change is reported, so an imported
// consumer matches a program that leaves them out. Going back to a default
// therefore takes setting it explicitly.
var consumerTuning = map[string]bool{
	"batchSize": true, "maxRetries": true, "maxWaitTimeMs": true, "maxConcurrency": true, "retryDelay": true,
}

// Diff names the changed properties; only a new queue needs a new consumer.
func (*QueueConsumer) Diff(_ context.Context, req infer.DiffRequest[QueueConsumerArgs, QueueConsumerState]) (infer.DiffResponse, error) {
	return diffInputs(req.State.QueueConsumerArgs, req.Inputs, diffPolicy{
		replace:       map[string]bool{"queueId": true},
		keepWhenUnset: consumerTuning,
	}), nil
}

// Create attaches the worker.
func (*QueueConsumer) Create(ctx context.Context, req infer.CreateRequest[QueueConsumerArgs]) (infer.CreateResponse[QueueConsumerState], error) {
	in := req.Inputs
	if req.DryRun {
		return infer.CreateResponse[QueueConsumerState]{Output: QueueConsumerState{QueueConsumerArgs: in}}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.CreateResponse[QueueConsumerState]{}, err
	}
	c, err := client.CreateQueueConsumer(ctx, in.QueueID, consumerParams(in))
	if cfapi.MayHaveApplied(err) {
		// The create may have landed with its answer lost: the worker's
		// consumer, set as asked, is the one this create made.
		if list, listErr := client.ListQueueConsumers(ctx, in.QueueID); listErr == nil {
			for _, live := range list {
				if sameConsumer(live, in) {
					p.GetLogger(ctx).Infof("consumer of queue %s: the create's answer was lost, but Cloudflare holds exactly what was sent", in.QueueID)
					c, err = live, nil
					break
				}
			}
		}
	}
	if cfapi.AlreadyExists(err) {
		return infer.CreateResponse[QueueConsumerState]{}, existingConsumer(ctx, client, in, err)
	}
	if err != nil {
		return infer.CreateResponse[QueueConsumerState]{}, err
	}
	state := consumerState(c, in)
	return infer.CreateResponse[QueueConsumerState]{ID: consumerID(in.QueueID, c.ConsumerID), Output: state}, nil
}

// sameConsumer reports whether live is the consumer in asks for: the same
// worker, dead-letter queue and every setting in sets.
func sameConsumer(live cfapi.Consumer, in QueueConsumerArgs) bool {
	set := func(want, got *int) bool { return want == nil || (got != nil && *got == *want) }
	s := live.Settings
	return live.ScriptOf() == in.ScriptName && live.DeadLetterQueue == deref(in.DeadLetterQueue) &&
		set(in.BatchSize, s.BatchSize) && set(in.MaxRetries, s.MaxRetries) && set(in.MaxWaitTimeMs, s.MaxWaitTimeMs) &&
		set(in.MaxConcurrency, s.MaxConcurrency) && set(in.RetryDelay, s.RetryDelay)
}

// existingConsumer builds the "already exists" error with the import id of
// this worker's consumer of the queue, when it can be found; another
// worker's consumer is not this one's to import.
func existingConsumer(ctx context.Context, client *cfapi.Client, in QueueConsumerArgs, cause error) error {
	importID := in.QueueID + "/<consumer-id>"
	if list, err := client.ListQueueConsumers(ctx, in.QueueID); err == nil {
		if i := slices.IndexFunc(list, func(c cfapi.Consumer) bool { return c.ScriptOf() == in.ScriptName }); i >= 0 {
			importID = consumerID(in.QueueID, list[i].ConsumerID)
		}
	}
	return alreadyExists(ctx, "QueueConsumer", "consumer of queue "+in.QueueID, importID, cause)
}

// Update changes script, dead-letter queue and settings in place (PUT).
func (*QueueConsumer) Update(ctx context.Context, req infer.UpdateRequest[QueueConsumerArgs, QueueConsumerState]) (infer.UpdateResponse[QueueConsumerState], error) {
	in := keepUnset(req.Inputs, req.State.QueueConsumerArgs)
	if req.DryRun {
		return infer.UpdateResponse[QueueConsumerState]{Output: QueueConsumerState{QueueConsumerArgs: in, ConsumerID: req.State.ConsumerID}}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.UpdateResponse[QueueConsumerState]{}, err
	}
	c, err := client.UpdateQueueConsumer(ctx, in.QueueID, req.State.ConsumerID, consumerParams(in))
	if err != nil {
		return infer.UpdateResponse[QueueConsumerState]{}, err
	}
	return infer.UpdateResponse[QueueConsumerState]{Output: consumerState(c, in)}, nil
}

// keepUnset carries live values into unset tuning inputs, matching Diff: a
// PUT replaces the settings, so leaving a field out would reset it to
// Cloudflare's default.
func keepUnset(in, live QueueConsumerArgs) QueueConsumerArgs {
	pick := func(v, old *int) *int {
		if v != nil {
			return v
		}
		return old
	}
	in.BatchSize = pick(in.BatchSize, live.BatchSize)
	in.MaxRetries = pick(in.MaxRetries, live.MaxRetries)
	in.MaxWaitTimeMs = pick(in.MaxWaitTimeMs, live.MaxWaitTimeMs)
	in.MaxConcurrency = pick(in.MaxConcurrency, live.MaxConcurrency)
	in.RetryDelay = pick(in.RetryDelay, live.RetryDelay)
	return in
}

// Read fills every input from Cloudflare, defaults included, for import;
// the id is <queueId>/<consumerId>.
func (*QueueConsumer) Read(ctx context.Context, req infer.ReadRequest[QueueConsumerArgs, QueueConsumerState]) (infer.ReadResponse[QueueConsumerArgs, QueueConsumerState], error) {
	queueID, cid, ok := strings.Cut(req.ID, "/")
	if !ok || queueID == "" || cid == "" {
		return infer.ReadResponse[QueueConsumerArgs, QueueConsumerState]{},
			fmt.Errorf("QueueConsumer id %q is not <queueId>/<consumerId>", req.ID)
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.ReadResponse[QueueConsumerArgs, QueueConsumerState]{}, err
	}
	c, err := client.GetQueueConsumer(ctx, queueID, cid)
	if cfapi.IsNotFound(err) {
		return infer.ReadResponse[QueueConsumerArgs, QueueConsumerState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[QueueConsumerArgs, QueueConsumerState]{}, err
	}
	state := consumerState(c, QueueConsumerArgs{QueueID: queueID})
	inputs := state.QueueConsumerArgs
	if req.State.ConsumerID != "" {
		// A refresh, not an import: tuning the program left unset stays
		// unset in the inputs, as Diff treats it.
		inputs = unsetLike(inputs, req.Inputs)
	}
	return infer.ReadResponse[QueueConsumerArgs, QueueConsumerState]{ID: req.ID, Inputs: inputs, State: state}, nil
}

// unsetLike clears the tuning inputs that were unset in prior.
func unsetLike(in, prior QueueConsumerArgs) QueueConsumerArgs {
	drop := func(v **int, was *int) {
		if was == nil {
			*v = nil
		}
	}
	drop(&in.BatchSize, prior.BatchSize)
	drop(&in.MaxRetries, prior.MaxRetries)
	drop(&in.MaxWaitTimeMs, prior.MaxWaitTimeMs)
	drop(&in.MaxConcurrency, prior.MaxConcurrency)
	drop(&in.RetryDelay, prior.RetryDelay)
	return in
}

// Delete detaches the worker.
func (*QueueConsumer) Delete(ctx context.Context, req infer.DeleteRequest[QueueConsumerState]) (infer.DeleteResponse, error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	err = client.DeleteQueueConsumer(ctx, req.State.QueueID, req.State.ConsumerID)
	if err != nil && !cfapi.IsNotFound(err) {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, nil
}

func consumerID(queueID, consumerID string) string { return queueID + "/" + consumerID }

func consumerParams(in QueueConsumerArgs) cfapi.ConsumerParams {
	return cfapi.ConsumerParams{
		ScriptName:      in.ScriptName,
		DeadLetterQueue: deref(in.DeadLetterQueue),
		Settings: cfapi.ConsumerSettings{
			BatchSize:      in.BatchSize,
			MaxRetries:     in.MaxRetries,
			MaxWaitTimeMs:  in.MaxWaitTimeMs,
			MaxConcurrency: in.MaxConcurrency,
			RetryDelay:     in.RetryDelay,
		},
	}
}

// consumerState records what Cloudflare answered, defaults it filled in
// included, so a later refresh sees no change. The queue id comes from the
// request: it is the path the consumer lives under.
func consumerState(c cfapi.Consumer, in QueueConsumerArgs) QueueConsumerState {
	s := c.Settings
	return QueueConsumerState{
		QueueConsumerArgs: QueueConsumerArgs{
			QueueID:         in.QueueID,
			ScriptName:      c.ScriptOf(),
			DeadLetterQueue: nonEmpty(c.DeadLetterQueue),
			BatchSize:       s.BatchSize,
			MaxRetries:      s.MaxRetries,
			MaxWaitTimeMs:   s.MaxWaitTimeMs,
			MaxConcurrency:  s.MaxConcurrency,
			RetryDelay:      s.RetryDelay,
		},
		ConsumerID: c.ConsumerID,
	}
}
