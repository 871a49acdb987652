package cfemu

import (
	"net/http"
	"slices"
)

type queue struct {
	ID         string         `json:"queue_id"`
	Name       string         `json:"queue_name"`
	CreatedOn  string         `json:"created_on"`
	ModifiedOn string         `json:"modified_on"`
	Settings   map[string]any `json:"settings,omitempty"`
}

type consumerSettings struct {
	BatchSize      int  `json:"batch_size"`
	MaxRetries     int  `json:"max_retries"`
	MaxWaitTimeMs  int  `json:"max_wait_time_ms"`
	MaxConcurrency *int `json:"max_concurrency"` // null means "scale automatically"
	RetryDelay     int  `json:"retry_delay"`
}

type consumer struct {
	ID              string           `json:"consumer_id"`
	QueueID         string           `json:"queue_id"`
	Script          string           `json:"script,omitempty"`
	Type            string           `json:"type"`
	DeadLetterQueue string           `json:"dead_letter_queue,omitempty"`
	Settings        consumerSettings `json:"settings"`
	CreatedOn       string           `json:"created_on"`
}

type consumerView struct {
	ID              string           `json:"consumer_id"`
	QueueID         string           `json:"queue_id"`
	QueueName       string           `json:"queue_name"`
	Script          string           `json:"script,omitempty"`
	ScriptName      string           `json:"script_name,omitempty"`
	Service         string           `json:"service,omitempty"` // what cloudflare-go reads the script from
	Type            string           `json:"type"`
	DeadLetterQueue string           `json:"dead_letter_queue"`
	Settings        consumerSettings `json:"settings"`
	CreatedOn       string           `json:"created_on"`
}

type producerView struct {
	Type    string `json:"type"`
	Script  string `json:"script"`
	Service string `json:"service"` // cloudflare-go's name for the script
}

type queueView struct {
	ID                  string         `json:"queue_id"`
	Name                string         `json:"queue_name"`
	CreatedOn           string         `json:"created_on"`
	ModifiedOn          string         `json:"modified_on"`
	Producers           []producerView `json:"producers"`
	ProducersTotalCount int            `json:"producers_total_count"`
	Consumers           []consumerView `json:"consumers"`
	ConsumersTotalCount int            `json:"consumers_total_count"`
	Settings            map[string]any `json:"settings,omitempty"`
}

// queueKey says how a path names a queue: the current API uses the id, the
// older /workers/queues API (the official provider's) uses the name.
type queueKey int

const (
	byID queueKey = iota
	byName
)

func (a *Account) findQueue(key queueKey, v string) *queue {
	if key == byID {
		return a.st.Queues[v]
	}
	for _, q := range a.st.Queues {
		if q.Name == v {
			return q
		}
	}
	return nil
}

func (a *Account) queueView(q *queue) queueView {
	v := queueView{ID: q.ID, Name: q.Name, CreatedOn: q.CreatedOn, ModifiedOn: q.ModifiedOn,
		Producers: []producerView{}, Consumers: []consumerView{}, Settings: q.Settings}
	for _, s := range inOrder(a.st.Scripts, func(s *script) string { return s.CreatedOn }) {
		for _, b := range s.Bindings {
			if b.str("type") == "queue" && b.str("queue_name") == q.Name {
				v.Producers = append(v.Producers, producerView{Type: "worker", Script: s.Name, Service: s.Name})
				break
			}
		}
	}
	for _, cons := range a.queueConsumers(q.ID) {
		v.Consumers = append(v.Consumers, a.consumerView(cons))
	}
	v.ProducersTotalCount, v.ConsumersTotalCount = len(v.Producers), len(v.Consumers)
	return v
}

func (a *Account) queueConsumers(queueID string) []*consumer {
	var out []*consumer
	for _, c := range inOrder(a.st.Consumers, func(c *consumer) string { return c.CreatedOn }) {
		if c.QueueID == queueID {
			out = append(out, c)
		}
	}
	return out
}

func (a *Account) consumerView(c *consumer) consumerView {
	return consumerView{ID: c.ID, QueueID: c.QueueID, QueueName: a.st.Queues[c.QueueID].Name,
		Script: c.Script, ScriptName: c.Script, Service: c.Script, Type: c.Type,
		DeadLetterQueue: c.DeadLetterQueue, Settings: c.Settings, CreatedOn: c.CreatedOn}
}

func queueNotFound() error {
	return refuse(http.StatusNotFound, 11000, "workers.api.error.queue_not_found: Queue does not exist")
}

func queueNameTaken() error {
	return refuse(http.StatusConflict, 11009, "workers.api.error.queue_name_taken: A queue with this name already exists")
}

func (a *Account) queueNameTaken(name, self string) bool {
	q := a.findQueue(byName, name)
	return q != nil && q.ID != self
}

// CreateQueue creates a queue; names are unique in the account.
func (a *Account) CreateQueue(name string, settings map[string]any) (queueView, error) {
	var out queueView
	err := a.update(func() error {
		if name == "" {
			return refuse(http.StatusBadRequest, 11003, "queue_name is required")
		}
		if a.queueNameTaken(name, "") {
			return queueNameTaken()
		}
		t := now()
		q := &queue{ID: newHexID(), Name: name, CreatedOn: t, ModifiedOn: t, Settings: settings}
		a.st.Queues[q.ID] = q
		out = a.queueView(q)
		return nil
	})
	return out, err
}

// ListQueues lists the queues, oldest first, with their producers and consumers.
func (a *Account) ListQueues() []queueView {
	var out []queueView
	a.view(func() {
		for _, q := range inOrder(a.st.Queues, func(q *queue) string { return q.CreatedOn }) {
			out = append(out, a.queueView(q))
		}
	})
	return out
}

// GetQueue reads one queue, named by id or by name.
func (a *Account) GetQueue(key queueKey, queueRef string) (queueView, error) {
	var out queueView
	err := a.viewErr(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		out = a.queueView(q)
		return nil
	})
	return out, err
}

// UpdateQueue renames a queue when name is set and replaces its settings
// when settings is not nil.
func (a *Account) UpdateQueue(key queueKey, queueRef, name string, settings map[string]any) (queueView, error) {
	var out queueView
	err := a.update(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		if name != "" && name != q.Name {
			if a.queueNameTaken(name, q.ID) {
				return queueNameTaken()
			}
			a.renameQueueRefs(q.Name, name)
			q.Name = name
		}
		if settings != nil {
			q.Settings = settings
		}
		q.ModifiedOn = now()
		out = a.queueView(q)
		return nil
	})
	return out, err
}

// renameQueueRefs keeps dead-letter references pointing at a renamed queue,
// since consumers name their dead-letter queue by name.
func (a *Account) renameQueueRefs(from, to string) {
	for _, c := range a.st.Consumers {
		if c.DeadLetterQueue == from {
			c.DeadLetterQueue = to
		}
	}
}

// DeleteQueue refuses while the queue has a consumer or serves as a
// dead-letter queue: Cloudflare's behaviour here is undocumented, and
// refusing keeps a wrong destroy order visible instead of leaving
// consumers pointing at nothing.
func (a *Account) DeleteQueue(key queueKey, queueRef string) error {
	return a.update(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		if cons := a.queueConsumers(q.ID); len(cons) > 0 {
			return refuse(http.StatusConflict, 11005, "queue %s still has consumer %s (script %q); delete the consumer first", q.Name, cons[0].ID, cons[0].Script)
		}
		for _, cons := range a.st.Consumers {
			if cons.DeadLetterQueue == q.Name {
				return refuse(http.StatusConflict, 11005, "queue %s is the dead letter queue of consumer %s; delete or update that consumer first", q.Name, cons.ID)
			}
		}
		if err := a.queues.drop(q.ID); err != nil {
			return refuse(http.StatusInternalServerError, 10001, "could not delete the queue's messages: %v", err)
		}
		delete(a.st.Queues, q.ID)
		// Buckets stop notifying a queue that is gone.
		for bucket, rules := range a.st.Notifications {
			if rules = slices.DeleteFunc(slices.Clone(rules), func(r *notificationRule) bool { return r.QueueID == q.ID }); len(rules) == 0 {
				delete(a.st.Notifications, bucket)
			} else {
				a.st.Notifications[bucket] = rules
			}
		}
		return nil
	})
}

// ConsumerInput is a consumer create or update body. script is accepted
// beside script_name because Cloudflare echoes both.
type ConsumerInput struct {
	ScriptName      string `json:"script_name"`
	Script          string `json:"script"`
	Type            string `json:"type"`
	DeadLetterQueue string `json:"dead_letter_queue"`
	Settings        struct {
		BatchSize      *int `json:"batch_size"`
		MaxRetries     *int `json:"max_retries"`
		MaxWaitTimeMs  *int `json:"max_wait_time_ms"`
		MaxConcurrency *int `json:"max_concurrency"`
		RetryDelay     *int `json:"retry_delay"`
	} `json:"settings"`
}

// settings fills Cloudflare's defaults for anything left out.
func (in *ConsumerInput) settings() consumerSettings {
	pick := func(p *int, def int) int {
		if p != nil {
			return *p
		}
		return def
	}
	s := in.Settings
	return consumerSettings{
		BatchSize:      pick(s.BatchSize, 10),
		MaxRetries:     pick(s.MaxRetries, 3),
		MaxWaitTimeMs:  pick(s.MaxWaitTimeMs, 5000),
		MaxConcurrency: s.MaxConcurrency,
		RetryDelay:     pick(s.RetryDelay, 0),
	}
}

// checkConsumer validates a consumer body against the store: the script and
// the dead-letter queue must exist, and a queue takes one consumer (self is
// the consumer being updated).
func (a *Account) checkConsumer(q *queue, in *ConsumerInput, self string) error {
	if in.ScriptName == "" {
		in.ScriptName = in.Script
	}
	if in.Type == "" {
		in.Type = "worker"
	}
	switch in.Type {
	case "worker":
		if in.ScriptName == "" {
			return refuse(http.StatusBadRequest, 11003, "script_name is required for a worker consumer")
		}
		if a.st.Scripts[in.ScriptName] == nil {
			return refuse(http.StatusNotFound, 10007, "workers.api.error.script_not_found: script %q does not exist", in.ScriptName)
		}
	case "http_pull":
		in.ScriptName = ""
	default:
		return refuse(http.StatusBadRequest, 11003, "consumer type %q is not one of worker, http_pull", in.Type)
	}
	if in.DeadLetterQueue != "" {
		if in.DeadLetterQueue == q.Name {
			return refuse(http.StatusBadRequest, 11003, "a queue cannot be its own dead letter queue")
		}
		if a.findQueue(byName, in.DeadLetterQueue) == nil {
			return refuse(http.StatusNotFound, 11000, "workers.api.error.queue_not_found: dead letter queue %q does not exist", in.DeadLetterQueue)
		}
	}
	for _, other := range a.queueConsumers(q.ID) {
		if other.ID != self {
			return refuse(http.StatusConflict, 11004, "workers.api.error.consumer_exists: queue %s already has a consumer (%s)", q.Name, other.ID)
		}
	}
	return nil
}

// CreateConsumer attaches a consumer to a queue.
func (a *Account) CreateConsumer(key queueKey, queueRef string, in ConsumerInput) (consumerView, error) {
	var out consumerView
	err := a.update(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		if err := a.checkConsumer(q, &in, ""); err != nil {
			return err
		}
		cons := &consumer{ID: newHexID(), QueueID: q.ID, Script: in.ScriptName, Type: in.Type,
			DeadLetterQueue: in.DeadLetterQueue, Settings: in.settings(), CreatedOn: now()}
		a.st.Consumers[cons.ID] = cons
		out = a.consumerView(cons)
		return nil
	})
	return out, err
}

// ListConsumers lists a queue's consumers.
func (a *Account) ListConsumers(key queueKey, queueRef string) ([]consumerView, error) {
	var out []consumerView
	err := a.viewErr(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		for _, cons := range a.queueConsumers(q.ID) {
			out = append(out, a.consumerView(cons))
		}
		return nil
	})
	return out, err
}

// findConsumer resolves a consumer of a queue. The older API names a
// consumer by its script, the current one by consumer_id; both are tried.
func (a *Account) findConsumer(key queueKey, queueRef, want string) (*queue, *consumer, error) {
	q := a.findQueue(key, queueRef)
	if q == nil {
		return nil, nil, queueNotFound()
	}
	for _, cons := range a.queueConsumers(q.ID) {
		if cons.ID == want || (key == byName && cons.Script == want) {
			return q, cons, nil
		}
	}
	return nil, nil, refuse(http.StatusNotFound, 11008, "workers.api.error.consumer_not_found: consumer %s not found on queue %s", want, q.Name)
}

// GetConsumer reads one consumer of a queue.
func (a *Account) GetConsumer(key queueKey, queueRef, consumerRef string) (consumerView, error) {
	var out consumerView
	err := a.viewErr(func() error {
		_, cons, err := a.findConsumer(key, queueRef, consumerRef)
		if err != nil {
			return err
		}
		out = a.consumerView(cons)
		return nil
	})
	return out, err
}

// UpdateConsumer replaces a consumer's script, type, dead-letter queue and
// settings; an update may leave the script out.
func (a *Account) UpdateConsumer(key queueKey, queueRef, consumerRef string, in ConsumerInput) (consumerView, error) {
	var out consumerView
	err := a.update(func() error {
		q, cons, err := a.findConsumer(key, queueRef, consumerRef)
		if err != nil {
			return err
		}
		if in.Type == "" {
			in.Type = cons.Type
		}
		if in.ScriptName == "" && in.Script == "" && in.Type == cons.Type {
			in.ScriptName = cons.Script
		}
		if err := a.checkConsumer(q, &in, cons.ID); err != nil {
			return err
		}
		cons.Script, cons.Type, cons.DeadLetterQueue, cons.Settings = in.ScriptName, in.Type, in.DeadLetterQueue, in.settings()
		out = a.consumerView(cons)
		return nil
	})
	return out, err
}

// DeleteConsumer detaches a consumer from its queue.
func (a *Account) DeleteConsumer(key queueKey, queueRef, consumerRef string) error {
	return a.update(func() error {
		_, cons, err := a.findConsumer(key, queueRef, consumerRef)
		if err != nil {
			return err
		}
		delete(a.st.Consumers, cons.ID)
		return nil
	})
}

// HTTP handlers. Those that read a body look the queue (or consumer) up
// first, so that a missing one is 404 whatever the body holds.

func (e *Emulator) queueCreate(c *call) reply {
	var in struct {
		Name     string         `json:"queue_name"`
		Settings map[string]any `json:"settings"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.CreateQueue(in.Name, in.Settings))
}

func (e *Emulator) queueList(c *call) reply {
	items, info := paginate(c, e.acct.ListQueues(), 20, 1000)
	return okList(items, info)
}

func (e *Emulator) queueGet(key queueKey) func(*call) reply {
	return func(c *call) reply {
		return answer(e.acct.GetQueue(key, c.r.PathValue("queue")))
	}
}

func (e *Emulator) queueUpdate(key queueKey) func(*call) reply {
	return func(c *call) reply {
		if _, err := e.acct.GetQueue(key, c.r.PathValue("queue")); err != nil {
			return failWith(err)
		}
		var in struct {
			Name     string         `json:"queue_name"`
			Settings map[string]any `json:"settings"`
		}
		if rp, good := c.decode(&in); !good {
			return rp
		}
		return answer(e.acct.UpdateQueue(key, c.r.PathValue("queue"), in.Name, in.Settings))
	}
}

func (e *Emulator) queueDelete(key queueKey) func(*call) reply {
	return func(c *call) reply {
		return done(e.acct.DeleteQueue(key, c.r.PathValue("queue")))
	}
}

func (e *Emulator) consumerCreate(key queueKey) func(*call) reply {
	return func(c *call) reply {
		if _, err := e.acct.GetQueue(key, c.r.PathValue("queue")); err != nil {
			return failWith(err)
		}
		var in ConsumerInput
		if rp, good := c.decode(&in); !good {
			return rp
		}
		return answer(e.acct.CreateConsumer(key, c.r.PathValue("queue"), in))
	}
}

func (e *Emulator) consumerList(key queueKey) func(*call) reply {
	return func(c *call) reply {
		all, err := e.acct.ListConsumers(key, c.r.PathValue("queue"))
		if err != nil {
			return failWith(err)
		}
		items, info := paginate(c, all, 20, 1000)
		return okList(items, info)
	}
}

func (e *Emulator) consumerGet(key queueKey) func(*call) reply {
	return func(c *call) reply {
		return answer(e.acct.GetConsumer(key, c.r.PathValue("queue"), c.r.PathValue("consumer")))
	}
}

func (e *Emulator) consumerUpdate(key queueKey) func(*call) reply {
	return func(c *call) reply {
		if _, err := e.acct.GetConsumer(key, c.r.PathValue("queue"), c.r.PathValue("consumer")); err != nil {
			return failWith(err)
		}
		var in ConsumerInput
		if rp, good := c.decode(&in); !good {
			return rp
		}
		return answer(e.acct.UpdateConsumer(key, c.r.PathValue("queue"), c.r.PathValue("consumer"), in))
	}
}

func (e *Emulator) consumerDelete(key queueKey) func(*call) reply {
	return func(c *call) reply {
		return done(e.acct.DeleteConsumer(key, c.r.PathValue("queue"), c.r.PathValue("consumer")))
	}
}
