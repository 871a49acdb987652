package cfemu

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"
)

// QueueMessage is a message waiting in a queue. Body is JSON: the message
// itself for content type "json", a JSON string for "text", and base64 in
// a JSON string for "bytes" and "v8", as the queues API carries them.
type QueueMessage struct {
	ID          string          `json:"id"`
	Body        json.RawMessage `json:"body"`
	ContentType string          `json:"content_type"`
	Timestamp   time.Time       `json:"timestamp"`
}

// queueStore owns the messages waiting in every queue; a queue's messages
// are one file, written when they change.
type queueStore struct {
	files   dataFiles
	mu      sync.Mutex
	pending map[string][]QueueMessage // queue id → oldest first

	subMu sync.Mutex
	subs  []func(queueID string, m QueueMessage)
}

// push appends messages to a queue.
func (s *queueStore) push(queueID string, msgs ...QueueMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[queueID] = append(slices.Clone(s.pending[queueID]), msgs...)
	return s.files.save(queueID+".json", s.pending[queueID])
}

// drop forgets a deleted queue's messages.
func (s *queueStore) drop(queueID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, queueID)
	return s.files.save(queueID+".json", nil)
}

// queuedMessage is a message just stored, to announce once no lock is held.
type queuedMessage struct {
	queueID string
	msg     QueueMessage
}

// OnQueueMessage subscribes f to every message stored in any queue (sent
// through the API, by a Go caller, or by an R2 event notification). f runs
// after the message is stored, with no lock of the account held, so it may
// call the account; it must not block for long, as the sender waits for it.
func (a *Account) OnQueueMessage(f func(queueID string, m QueueMessage)) {
	a.queues.subMu.Lock()
	defer a.queues.subMu.Unlock()
	a.queues.subs = append(a.queues.subs, f)
}

// announce tells the subscribers of messages stored.
func (a *Account) announce(sent []queuedMessage) {
	if len(sent) == 0 {
		return
	}
	a.queues.subMu.Lock()
	subs := slices.Clone(a.queues.subs)
	a.queues.subMu.Unlock()
	for _, m := range sent {
		for _, f := range subs {
			f(m.queueID, m.msg)
		}
	}
}

// enqueue stores messages in a queue, giving each an id and a time, and
// returns them as stored. The caller holds the account's lock.
func (a *Account) enqueue(queueID string, msgs []QueueMessage) ([]queuedMessage, error) {
	out := make([]queuedMessage, len(msgs))
	stored := make([]QueueMessage, len(msgs))
	t := time.Now().UTC()
	for i, m := range msgs {
		if m.ContentType == "" {
			m.ContentType = "json"
		}
		m.ID, m.Timestamp = newHexID(), t
		stored[i], out[i] = m, queuedMessage{queueID: queueID, msg: m}
	}
	if err := a.queues.push(queueID, stored...); err != nil {
		return nil, refuse(http.StatusInternalServerError, 10001, "the emulator could not save the queue's messages: %v", err)
	}
	return out, nil
}

// SendToQueue sends messages to a queue, named by id or by name.
func (a *Account) SendToQueue(key queueKey, queueRef string, msgs []QueueMessage) ([]QueueMessage, error) {
	for _, m := range msgs {
		switch m.ContentType {
		case "", "json", "text", "bytes", "v8":
		default:
			return nil, refuse(http.StatusBadRequest, 11003, "content_type %q is not one of json, text, bytes, v8", m.ContentType)
		}
		if !json.Valid(m.Body) {
			return nil, refuse(http.StatusBadRequest, 11003, "a message needs a body")
		}
	}
	var sent []queuedMessage
	var toRuntime string // the queue's name when a running worker consumes it
	rt := a.runtime()
	err := a.viewErr(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		if rt != nil && slices.ContainsFunc(a.queueConsumers(q.ID), func(c *consumer) bool { return c.Type == "worker" }) {
			toRuntime = q.Name
			return nil
		}
		var err error
		sent, err = a.enqueue(q.ID, msgs)
		return err
	})
	if err == nil && toRuntime != "" {
		// The runtime delivers to the consumer with its batching, retries
		// and dead-letter queue; the messages never wait here.
		return msgs, runtimeFailed("send the messages", rt.SendToQueue(context.Background(), toRuntime, msgs))
	}
	a.announce(sent)
	out := make([]QueueMessage, len(sent))
	for i, m := range sent {
		out[i] = m.msg
	}
	return out, err
}

// QueueMessages lists the messages waiting in a queue, oldest first.
func (a *Account) QueueMessages(key queueKey, queueRef string) ([]QueueMessage, error) {
	var out []QueueMessage
	err := a.viewErr(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		a.queues.mu.Lock()
		defer a.queues.mu.Unlock()
		out = slices.Clone(a.queues.pending[q.ID])
		return nil
	})
	return out, err
}

// AckQueueMessages removes delivered messages from a queue by id.
func (a *Account) AckQueueMessages(key queueKey, queueRef string, ids []string) error {
	return a.viewErr(func() error {
		q := a.findQueue(key, queueRef)
		if q == nil {
			return queueNotFound()
		}
		s := &a.queues
		s.mu.Lock()
		defer s.mu.Unlock()
		s.pending[q.ID] = slices.DeleteFunc(slices.Clone(s.pending[q.ID]), func(m QueueMessage) bool { return slices.Contains(ids, m.ID) })
		if len(s.pending[q.ID]) == 0 {
			delete(s.pending, q.ID)
			return s.files.save(q.ID+".json", nil)
		}
		return s.files.save(q.ID+".json", s.pending[q.ID])
	})
}

// HTTP handlers.

// queueMessageInput is one message as the queues API takes it.
type queueMessageInput struct {
	Body        json.RawMessage `json:"body"`
	ContentType string          `json:"content_type"`
}

func (in queueMessageInput) message() QueueMessage {
	return QueueMessage{Body: in.Body, ContentType: in.ContentType}
}

func (e *Emulator) queueSend(c *call) reply {
	var in queueMessageInput
	if rp, good := c.decode(&in); !good {
		return rp
	}
	_, err := e.acct.SendToQueue(byID, c.r.PathValue("queue"), []QueueMessage{in.message()})
	return done(err)
}

func (e *Emulator) queueSendBatch(c *call) reply {
	var in struct {
		Messages []queueMessageInput `json:"messages"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	msgs := make([]QueueMessage, len(in.Messages))
	for i, m := range in.Messages {
		msgs[i] = m.message()
	}
	_, err := e.acct.SendToQueue(byID, c.r.PathValue("queue"), msgs)
	return done(err)
}
