package cfemu

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// store is everything the emulator knows; it is also the state file's shape.
type store struct {
	D1        map[string]*d1Database  `json:"d1_databases"`    // by uuid
	Buckets   map[string]*r2Bucket    `json:"r2_buckets"`      // by name
	Queues    map[string]*queue       `json:"queues"`          // by queue_id
	Consumers map[string]*consumer    `json:"queue_consumers"` // by consumer_id
	KV        map[string]*kvNamespace `json:"kv_namespaces"`   // by id
	Scripts   map[string]*script      `json:"workers_scripts"` // by name
	Indexes   map[string]*vecIndex    `json:"vectorize"`       // by name
	// Notifications are R2 event notification rules, by bucket name.
	Notifications map[string][]*notificationRule `json:"r2_event_notifications"`
	entryStore
	// RuntimeData says a runtime keeps the data of this saved account;
	// otherwise the emulator's own stores do.
	RuntimeData bool `json:"runtime_data,omitempty"`
}

func newStore() *store {
	s := &store{}
	s.fillMaps()
	return s
}

// fillMaps makes every map non-nil, also after loading a state file that lacks some.
func (s *store) fillMaps() {
	if s.D1 == nil {
		s.D1 = map[string]*d1Database{}
	}
	if s.Buckets == nil {
		s.Buckets = map[string]*r2Bucket{}
	}
	if s.Queues == nil {
		s.Queues = map[string]*queue{}
	}
	if s.Consumers == nil {
		s.Consumers = map[string]*consumer{}
	}
	if s.KV == nil {
		s.KV = map[string]*kvNamespace{}
	}
	if s.Scripts == nil {
		s.Scripts = map[string]*script{}
	}
	if s.Indexes == nil {
		s.Indexes = map[string]*vecIndex{}
	}
	if s.Notifications == nil {
		s.Notifications = map[string][]*notificationRule{}
	}
	s.entryStore.fill()
}

// timeLayout has a fixed width so that timestamps sort as strings.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func now() string { return time.Now().UTC().Format(timeLayout) }

// newHexID returns 32 hex digits, the shape of Cloudflare's queue, KV and consumer ids.
func newHexID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// newUUID returns a random (version 4) UUID, the shape of D1 database ids.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// inOrder lists a map's values oldest first, then by key, so lists are stable across calls.
func inOrder[T any](m map[string]*T, created func(*T) string) []*T {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(created(m[a]), created(m[b])), cmp.Compare(a, b))
	})
	out := make([]*T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
