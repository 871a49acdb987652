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

func (e *Emulator) findQueue(key queueKey, v string) *queue {
	if key == byID {
		return e.st.Queues[v]
	}
	for _, q := range e.st.Queues {
		if q.Name == v {
			return q
		}
	}
	return nil
}

func (e *Emulator) queueView(q *queue) queueView {
	v := queueView{ID: q.ID, Name: q.Name, CreatedOn: q.CreatedOn, ModifiedOn: q.ModifiedOn,
		Producers: []producerView{}, Consumers: []consumerView{}, Settings: q.Settings}
	for _, s := range inOrder(e.st.Scripts, func(s *script) string { return s.CreatedOn }) {
		for _, b := range s.Bindings {
			if b.str("type") == "queue" && b.str("queue_name") == q.Name {
				v.Producers = append(v.Producers, producerView{Type: "worker", Script: s.Name, Service: s.Name})
				break
			}
		}
	}
	for _, cons := range e.queueConsumers(q.ID) {
		v.Consumers = append(v.Consumers, e.consumerView(cons))
	}
	v.ProducersTotalCount, v.ConsumersTotalCount = len(v.Producers), len(v.Consumers)
	return v
}

func (e *Emulator) queueConsumers(queueID string) []*consumer {
	var out []*consumer
	for _, c := range inOrder(e.st.Consumers, func(c *consumer) string { return c.CreatedOn }) {
		if c.QueueID == queueID {
			out = append(out, c)
		}
	}
	return out
}

func (e *Emulator) consumerView(c *consumer) consumerView {
	return consumerView{ID: c.ID, QueueID: c.QueueID, QueueName: e.st.Queues[c.QueueID].Name,
		Script: c.Script, ScriptName: c.Script, Service: c.Script, Type: c.Type,
		DeadLetterQueue: c.DeadLetterQueue, Settings: c.Settings, CreatedOn: c.CreatedOn}
}

func queueNotFound() reply {
	return fail(http.StatusNotFound, 11000, "workers.api.error.queue_not_found: Queue does not exist")
}

func (e *Emulator) queueNameTaken(name, self string) bool {
	q := e.findQueue(byName, name)
	return q != nil && q.ID != self
}

func (e *Emulator) queueCreate(c *call) reply {
	var in struct {
		Name     string         `json:"queue_name"`
		Settings map[string]any `json:"settings"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if in.Name == "" {
		return fail(http.StatusBadRequest, 11003, "queue_name is required")
	}
	if e.queueNameTaken(in.Name, "") {
		return fail(http.StatusConflict, 11009, "workers.api.error.queue_name_taken: A queue with this name already exists")
	}
	t := now()
	q := &queue{ID: newHexID(), Name: in.Name, CreatedOn: t, ModifiedOn: t, Settings: in.Settings}
	e.st.Queues[q.ID] = q
	return ok(e.queueView(q))
}

func (e *Emulator) queueList(c *call) reply {
	var all []queueView
	for _, q := range inOrder(e.st.Queues, func(q *queue) string { return q.CreatedOn }) {
		all = append(all, e.queueView(q))
	}
	items, info := paginate(c, all, 20, 1000)
	return okList(items, info)
}

func (e *Emulator) queueGet(key queueKey) func(*call) reply {
	return func(c *call) reply {
		q := e.findQueue(key, c.r.PathValue("queue"))
		if q == nil {
			return queueNotFound()
		}
		return ok(e.queueView(q))
	}
}

// queueUpdate renames a queue and replaces its settings when given.
func (e *Emulator) queueUpdate(key queueKey) func(*call) reply {
	return func(c *call) reply {
		q := e.findQueue(key, c.r.PathValue("queue"))
		if q == nil {
			return queueNotFound()
		}
		var in struct {
			Name     string         `json:"queue_name"`
			Settings map[string]any `json:"settings"`
		}
		if rp, good := c.decode(&in); !good {
			return rp
		}
		if in.Name != "" && in.Name != q.Name {
			if e.queueNameTaken(in.Name, q.ID) {
				return fail(http.StatusConflict, 11009, "workers.api.error.queue_name_taken: A queue with this name already exists")
			}
			e.renameQueueRefs(q.Name, in.Name)
			q.Name = in.Name
		}
		if in.Settings != nil {
			q.Settings = in.Settings
		}
		q.ModifiedOn = now()
		return ok(e.queueView(q))
	}
}

// renameQueueRefs keeps dead-letter references pointing at a renamed queue,
// since consumers name their dead-letter queue by name.
func (e *Emulator) renameQueueRefs(from, to string) {
	for _, c := range e.st.Consumers {
		if c.DeadLetterQueue == from {
			c.DeadLetterQueue = to
		}
	}
}

// queueDelete refuses while the queue has a consumer or serves as a
// dead-letter queue: Cloudflare's behaviour here is undocumented, and
// refusing keeps a wrong destroy order visible instead of leaving
// consumers pointing at nothing.
func (e *Emulator) queueDelete(key queueKey) func(*call) reply {
	return func(c *call) reply {
		q := e.findQueue(key, c.r.PathValue("queue"))
		if q == nil {
			return queueNotFound()
		}
		if cons := e.queueConsumers(q.ID); len(cons) > 0 {
			return fail(http.StatusConflict, 11005, "queue %s still has consumer %s (script %q); delete the consumer first", q.Name, cons[0].ID, cons[0].Script)
		}
		for _, cons := range e.st.Consumers {
			if cons.DeadLetterQueue == q.Name {
				return fail(http.StatusConflict, 11005, "queue %s is the dead letter queue of consumer %s; delete or update that consumer first", q.Name, cons.ID)
			}
		}
		delete(e.st.Queues, q.ID)
		// Buckets stop notifying a queue that is gone.
		for bucket, rules := range e.st.Notifications {
			if rules = slices.DeleteFunc(rules, func(r *notificationRule) bool { return r.QueueID == q.ID }); len(rules) == 0 {
				delete(e.st.Notifications, bucket)
			} else {
				e.st.Notifications[bucket] = rules
			}
		}
		return ok(nil)
	}
}

// consumerInput is a consumer create or update body. script is accepted
// beside script_name because Cloudflare echoes both.
type consumerInput struct {
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
func (in *consumerInput) settings() consumerSettings {
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
func (e *Emulator) checkConsumer(q *queue, in *consumerInput, self string) (reply, bool) {
	if in.ScriptName == "" {
		in.ScriptName = in.Script
	}
	if in.Type == "" {
		in.Type = "worker"
	}
	switch in.Type {
	case "worker":
		if in.ScriptName == "" {
			return fail(http.StatusBadRequest, 11003, "script_name is required for a worker consumer"), false
		}
		if e.st.Scripts[in.ScriptName] == nil {
			return fail(http.StatusNotFound, 10007, "workers.api.error.script_not_found: script %q does not exist", in.ScriptName), false
		}
	case "http_pull":
		in.ScriptName = ""
	default:
		return fail(http.StatusBadRequest, 11003, "consumer type %q is not one of worker, http_pull", in.Type), false
	}
	if in.DeadLetterQueue != "" {
		if in.DeadLetterQueue == q.Name {
			return fail(http.StatusBadRequest, 11003, "a queue cannot be its own dead letter queue"), false
		}
		if e.findQueue(byName, in.DeadLetterQueue) == nil {
			return fail(http.StatusNotFound, 11000, "workers.api.error.queue_not_found: dead letter queue %q does not exist", in.DeadLetterQueue), false
		}
	}
	for _, other := range e.queueConsumers(q.ID) {
		if other.ID != self {
			return fail(http.StatusConflict, 11004, "workers.api.error.consumer_exists: queue %s already has a consumer (%s)", q.Name, other.ID), false
		}
	}
	return reply{}, true
}

func (e *Emulator) consumerCreate(key queueKey) func(*call) reply {
	return func(c *call) reply {
		q := e.findQueue(key, c.r.PathValue("queue"))
		if q == nil {
			return queueNotFound()
		}
		var in consumerInput
		if rp, good := c.decode(&in); !good {
			return rp
		}
		if rp, good := e.checkConsumer(q, &in, ""); !good {
			return rp
		}
		cons := &consumer{ID: newHexID(), QueueID: q.ID, Script: in.ScriptName, Type: in.Type,
			DeadLetterQueue: in.DeadLetterQueue, Settings: in.settings(), CreatedOn: now()}
		e.st.Consumers[cons.ID] = cons
		return ok(e.consumerView(cons))
	}
}

func (e *Emulator) consumerList(key queueKey) func(*call) reply {
	return func(c *call) reply {
		q := e.findQueue(key, c.r.PathValue("queue"))
		if q == nil {
			return queueNotFound()
		}
		var all []consumerView
		for _, cons := range e.queueConsumers(q.ID) {
			all = append(all, e.consumerView(cons))
		}
		items, info := paginate(c, all, 20, 1000)
		return okList(items, info)
	}
}

// findConsumer resolves the consumer path segment. The older API names a
// consumer by its script, the current one by consumer_id; both are tried.
func (e *Emulator) findConsumer(c *call, key queueKey) (*queue, *consumer, reply) {
	q := e.findQueue(key, c.r.PathValue("queue"))
	if q == nil {
		return nil, nil, queueNotFound()
	}
	want := c.r.PathValue("consumer")
	for _, cons := range e.queueConsumers(q.ID) {
		if cons.ID == want || (key == byName && cons.Script == want) {
			return q, cons, reply{}
		}
	}
	return nil, nil, fail(http.StatusNotFound, 11008, "workers.api.error.consumer_not_found: consumer %s not found on queue %s", want, q.Name)
}

func (e *Emulator) consumerGet(key queueKey) func(*call) reply {
	return func(c *call) reply {
		_, cons, rp := e.findConsumer(c, key)
		if cons == nil {
			return rp
		}
		return ok(e.consumerView(cons))
	}
}

func (e *Emulator) consumerUpdate(key queueKey) func(*call) reply {
	return func(c *call) reply {
		q, cons, rp := e.findConsumer(c, key)
		if cons == nil {
			return rp
		}
		var in consumerInput
		if rp, good := c.decode(&in); !good {
			return rp
		}
		if in.Type == "" {
			in.Type = cons.Type
		}
		if in.ScriptName == "" && in.Script == "" && in.Type == cons.Type {
			in.ScriptName = cons.Script // an update may leave the script out
		}
		if rp, good := e.checkConsumer(q, &in, cons.ID); !good {
			return rp
		}
		cons.Script, cons.Type, cons.DeadLetterQueue, cons.Settings = in.ScriptName, in.Type, in.DeadLetterQueue, in.settings()
		return ok(e.consumerView(cons))
	}
}

func (e *Emulator) consumerDelete(key queueKey) func(*call) reply {
	return func(c *call) reply {
		_, cons, rp := e.findConsumer(c, key)
		if cons == nil {
			return rp
		}
		delete(e.st.Consumers, cons.ID)
		return ok(nil)
	}
}
