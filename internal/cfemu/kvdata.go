package cfemu

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KVValue is one value of a KV namespace. Expiration is in Unix seconds; 0
// never expires.
type KVValue struct {
	Value      []byte          `json:"value"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Expiration int64           `json:"expiration,omitempty"`
}

func (v KVValue) expired(t time.Time) bool { return v.Expiration != 0 && v.Expiration <= t.Unix() }

// KVKey is a key as a list names it.
type KVKey struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// kvStore owns the values of every namespace; a namespace's values are one
// file, written when they change.
type kvStore struct {
	files dataFiles
	mu    sync.Mutex
	ns    map[string]map[string]KVValue // namespace id → key → value
}

func (s *kvStore) save(ns string) error {
	if len(s.ns[ns]) == 0 {
		return s.files.save(ns+".json", nil)
	}
	return s.files.save(ns+".json", s.ns[ns])
}

// kvMaxKey is Cloudflare's limit on a key, in bytes.
const kvMaxKey = 512

func kvKeyNotFound() error {
	return refuse(http.StatusNotFound, 10009, "get: 'key not found'")
}

// onKVNamespace runs f on the values of an existing namespace. The
// account's read lock is held throughout, so a namespace being deleted
// cannot get values back.
func (a *Account) onKVNamespace(id string, f func(values map[string]KVValue) (map[string]KVValue, error)) error {
	return a.viewErr(func() error {
		if a.st.KV[id] == nil {
			return kvNotFound()
		}
		a.kv.mu.Lock()
		defer a.kv.mu.Unlock()
		next, err := f(a.kv.ns[id])
		if err != nil || next == nil {
			return err
		}
		a.kv.ns[id] = next
		if err := a.kv.save(id); err != nil {
			return refuse(http.StatusInternalServerError, 10001, "the emulator could not save the namespace's values: %v", err)
		}
		return nil
	})
}

// kvRuntime is the runtime that owns KV values (see dataRuntime).
func (a *Account) kvRuntime(id string) (Runtime, error) {
	return a.dataRuntime(func() error {
		if a.st.KV[id] == nil {
			return kvNotFound()
		}
		return nil
	})
}

// PutKV writes a value under key, replacing any.
func (a *Account) PutKV(namespaceID, key string, v KVValue) error {
	if key == "" || len(key) > kvMaxKey || key == "." || key == ".." {
		return refuse(http.StatusBadRequest, 10019, "key must be 1 to %d bytes and not . or ..", kvMaxKey)
	}
	rt, err := a.kvRuntime(namespaceID)
	if err != nil {
		return err
	}
	if rt != nil {
		return runtimeFailed("write the value", rt.PutKV(context.Background(), namespaceID, key, v))
	}
	return a.onKVNamespace(namespaceID, func(values map[string]KVValue) (map[string]KVValue, error) {
		next := maps.Clone(values)
		if next == nil {
			next = map[string]KVValue{}
		}
		next[key] = v
		return next, nil
	})
}

// GetKV reads the value under key; an expired one is gone.
func (a *Account) GetKV(namespaceID, key string) (KVValue, error) {
	rt, err := a.kvRuntime(namespaceID)
	if err != nil {
		return KVValue{}, err
	}
	if rt != nil {
		v, found, err := rt.GetKV(context.Background(), namespaceID, key)
		switch {
		case err != nil:
			return v, runtimeFailed("read the value", err)
		case !found:
			return v, kvKeyNotFound()
		}
		return v, nil
	}
	var out KVValue
	err = a.onKVNamespace(namespaceID, func(values map[string]KVValue) (map[string]KVValue, error) {
		v, found := values[key]
		if !found || v.expired(time.Now()) {
			return nil, kvKeyNotFound()
		}
		out = v
		return nil, nil
	})
	return out, err
}

// DeleteKV removes the value under key; a missing key is no error, as on Cloudflare.
func (a *Account) DeleteKV(namespaceID, key string) error {
	rt, err := a.kvRuntime(namespaceID)
	if err != nil {
		return err
	}
	if rt != nil {
		return runtimeFailed("delete the value", rt.DeleteKV(context.Background(), namespaceID, key))
	}
	return a.onKVNamespace(namespaceID, func(values map[string]KVValue) (map[string]KVValue, error) {
		if _, found := values[key]; !found {
			return nil, nil
		}
		next := maps.Clone(values)
		delete(next, key)
		return next, nil
	})
}

// ListKV lists, in key order, up to limit keys with prefix after the key
// named by after; more says whether others follow.
func (a *Account) ListKV(namespaceID, prefix, after string, limit int) (keys []KVKey, more bool, err error) {
	keys = []KVKey{}
	rt, err := a.kvRuntime(namespaceID)
	if err != nil {
		return keys, false, err
	}
	if rt != nil {
		all, err := rt.ListKV(context.Background(), namespaceID, prefix)
		if err != nil {
			return keys, false, runtimeFailed("list the keys", err)
		}
		keys, more = page(all, func(k KVKey) string { return k.Name }, after, limit)
		return keys, more, nil
	}
	err = a.onKVNamespace(namespaceID, func(values map[string]KVValue) (map[string]KVValue, error) {
		t := time.Now()
		for _, k := range slices.Sorted(maps.Keys(values)) {
			v := values[k]
			if k <= after || !strings.HasPrefix(k, prefix) || v.expired(t) {
				continue
			}
			if len(keys) == limit {
				more = true
				break
			}
			keys = append(keys, KVKey{Name: k, Expiration: v.Expiration, Metadata: v.Metadata})
		}
		return nil, nil
	})
	return keys, more, err
}

// HTTP handlers.

// kvPutValue takes the value as the raw body, or as the "value" part of a
// multipart body with an optional "metadata" part; expiration (Unix
// seconds) or expiration_ttl (seconds from now, at least 60) set when it
// goes.
func (e *Emulator) kvPutValue(c *call) reply {
	v := KVValue{Value: c.body}
	parts, err := readMultipartBody(c.r.Header.Get("Content-Type"), c.body)
	if err != nil {
		return fail(http.StatusBadRequest, 10001, "malformed multipart body: %v", err)
	}
	if parts != nil {
		v.Value = parts["value"]
		if meta := parts["metadata"]; meta != nil {
			if !json.Valid(meta) {
				return fail(http.StatusBadRequest, 10001, "metadata must be JSON")
			}
			v.Metadata = meta
		}
	}
	q := c.r.URL.Query()
	if s := q.Get("expiration"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < time.Now().Unix()+60 {
			return fail(http.StatusBadRequest, 10033, "Invalid expiration of %s. Please specify integer greater than the current number of seconds since the UNIX epoch plus 60.", s)
		}
		v.Expiration = n
	}
	if s := q.Get("expiration_ttl"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 60 {
			return fail(http.StatusBadRequest, 10034, "Invalid expiration_ttl of %s. Please specify integer greater than 60.", s)
		}
		v.Expiration = time.Now().Unix() + n
	}
	if err := e.acct.PutKV(c.r.PathValue("id"), c.r.PathValue("key"), v); err != nil {
		return failWith(err)
	}
	return ok(map[string]any{})
}

// readMultipartBody reads the parts, by name, of a body whose content type
// is multipart/form-data; any other body has none (nil).
func readMultipartBody(contentType string, body []byte) (map[string][]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return nil, nil
	}
	if params["boundary"] == "" {
		return nil, fmt.Errorf("no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	out := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		out[p.FormName()] = data
	}
}

// kvGetValue answers with the raw value, as Cloudflare does.
func (e *Emulator) kvGetValue(c *call) reply {
	v, err := e.acct.GetKV(c.r.PathValue("id"), c.r.PathValue("key"))
	if err != nil {
		return failWith(err)
	}
	return reply{status: http.StatusOK, raw: v.Value, rawType: "application/octet-stream"}
}

func (e *Emulator) kvDeleteValue(c *call) reply {
	if err := e.acct.DeleteKV(c.r.PathValue("id"), c.r.PathValue("key")); err != nil {
		return failWith(err)
	}
	return ok(map[string]any{})
}

// kvKeysInfo is the keys list's paging block: more keys follow while cursor is set.
type kvKeysInfo struct {
	Count  int    `json:"count"`
	Cursor string `json:"cursor"`
}

// kvListKeys pages with a cursor (the last key sent, in hex) and limit,
// 1000 by default and at most, 10 at least, as Cloudflare does.
func (e *Emulator) kvListKeys(c *call) reply {
	q := c.r.URL.Query()
	after := ""
	if cur, err := hex.DecodeString(q.Get("cursor")); err == nil {
		after = string(cur)
	}
	limit := max(min(c.intQuery("limit", 1000), 1000), 10)
	keys, more, err := e.acct.ListKV(c.r.PathValue("id"), q.Get("prefix"), after, limit)
	if err != nil {
		return failWith(err)
	}
	info := kvKeysInfo{Count: len(keys)}
	if more {
		info.Cursor = hex.EncodeToString([]byte(keys[len(keys)-1].Name))
	}
	return okList(keys, info)
}
