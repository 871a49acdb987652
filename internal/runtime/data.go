package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dome/infra/internal/cfemu"
)

// The API's calls on data go to the data worker, which reaches it through
// the same bindings the workers use: one copy, workerd's.

// dataCall sends a request to the data worker and decodes a JSON answer
// into out (when not nil). found is false on 404.
func (r *Runtime) dataCall(ctx context.Context, method, path string, in any, out any) (found bool, err error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return false, err
		}
		body = bytes.NewReader(b)
	}
	resp, err := r.call(ctx, dataWorker, method, path, "application/json", body)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return false, dataError(resp)
	}
	if out == nil {
		return true, nil
	}
	return true, json.NewDecoder(resp.Body).Decode(out)
}

// dataError reads the data worker's {"error": "..."}; an SQL error keeps
// D1's words, as the API answers them.
func dataError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(raw))
	}
	if resp.StatusCode == http.StatusBadRequest {
		return &cfemu.Error{Status: http.StatusBadRequest, Code: 7500, Message: e.Error}
	}
	return fmt.Errorf("%s: %s", resp.Status, e.Error)
}

// QueryD1 runs statements as one batch on a D1 database.
func (r *Runtime) QueryD1(ctx context.Context, id string, stmts []cfemu.D1Statement, raw bool) ([]json.RawMessage, error) {
	var out []json.RawMessage
	in := map[string]any{"statements": stmts, "raw": raw}
	if _, err := r.dataCall(ctx, http.MethodPost, "/d1/"+url.PathEscape(id)+"/query", in, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// PutKV writes a KV value with its metadata and expiration.
func (r *Runtime) PutKV(ctx context.Context, ns, key string, v cfemu.KVValue) error {
	path := "/kv/" + url.PathEscape(ns) + "/values/" + url.PathEscape(key)
	if v.Expiration != 0 {
		path += "?expiration=" + strconv.FormatInt(v.Expiration, 10)
	}
	req, err := r.request(ctx, dataWorker, http.MethodPut, path, bytes.NewReader(v.Value))
	if err != nil {
		return err
	}
	if len(v.Metadata) > 0 {
		req.Header.Set("CF-KV-Metadata", string(v.Metadata))
	}
	return r.expectOK(req)
}

// GetKV reads a KV value; found is false when there is none.
func (r *Runtime) GetKV(ctx context.Context, ns, key string) (cfemu.KVValue, bool, error) {
	resp, err := r.call(ctx, dataWorker, http.MethodGet, "/kv/"+url.PathEscape(ns)+"/values/"+url.PathEscape(key), "", nil)
	if err != nil {
		return cfemu.KVValue{}, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return cfemu.KVValue{}, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return cfemu.KVValue{}, false, dataError(resp)
	}
	v := cfemu.KVValue{}
	if v.Value, err = io.ReadAll(resp.Body); err != nil {
		return v, false, err
	}
	if m := resp.Header.Get("CF-KV-Metadata"); m != "" && m != "null" {
		v.Metadata = json.RawMessage(m)
	}
	return v, true, nil
}

// DeleteKV deletes a KV value.
func (r *Runtime) DeleteKV(ctx context.Context, ns, key string) error {
	_, err := r.dataCall(ctx, http.MethodDelete, "/kv/"+url.PathEscape(ns)+"/values/"+url.PathEscape(key), nil, nil)
	return err
}

// ListKV lists every key with prefix, in key order.
func (r *Runtime) ListKV(ctx context.Context, ns, prefix string) ([]cfemu.KVKey, error) {
	var keys []cfemu.KVKey
	cursor := ""
	for {
		var page struct {
			Keys         []cfemu.KVKey `json:"keys"`
			ListComplete bool          `json:"list_complete"`
			Cursor       string        `json:"cursor"`
		}
		q := url.Values{"prefix": {prefix}, "cursor": {cursor}, "limit": {"1000"}}
		if _, err := r.dataCall(ctx, http.MethodGet, "/kv/"+url.PathEscape(ns)+"/keys?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		keys = append(keys, page.Keys...)
		if page.ListComplete || page.Cursor == "" {
			return keys, nil
		}
		cursor = page.Cursor
	}
}

// r2Listed is an object as the data worker lists it.
type r2Listed struct {
	Key      string    `json:"key"`
	Size     int64     `json:"size"`
	ETag     string    `json:"etag"`
	Uploaded time.Time `json:"uploaded"`
}

// PutR2 writes an object; the bucket's event notifications follow.
func (r *Runtime) PutR2(ctx context.Context, bucket, key string, body []byte, contentType string) (cfemu.R2Object, error) {
	req, err := r.request(ctx, dataWorker, http.MethodPut, "/r2/"+url.PathEscape(bucket)+"/objects/"+url.PathEscape(key), bytes.NewReader(body))
	if err != nil {
		return cfemu.R2Object{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return cfemu.R2Object{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return cfemu.R2Object{}, dataError(resp)
	}
	var o r2Listed
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		return cfemu.R2Object{}, err
	}
	return cfemu.R2Object{Key: o.Key, Size: o.Size, ETag: o.ETag, ContentType: contentType, Uploaded: o.Uploaded}, nil
}

// GetR2 reads an object, body included; found is false when there is none.
func (r *Runtime) GetR2(ctx context.Context, bucket, key string) (cfemu.R2Object, bool, error) {
	resp, err := r.call(ctx, dataWorker, http.MethodGet, "/r2/"+url.PathEscape(bucket)+"/objects/"+url.PathEscape(key), "", nil)
	if err != nil {
		return cfemu.R2Object{}, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return cfemu.R2Object{}, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return cfemu.R2Object{}, false, dataError(resp)
	}
	o := cfemu.R2Object{Key: key, ETag: strings.Trim(resp.Header.Get("ETag"), `"`), ContentType: resp.Header.Get("Content-Type")}
	if o.Body, err = io.ReadAll(resp.Body); err != nil {
		return o, false, err
	}
	o.Size = int64(len(o.Body))
	return o, true, nil
}

// DeleteR2 deletes an object; the bucket's event notifications follow.
func (r *Runtime) DeleteR2(ctx context.Context, bucket, key string) error {
	_, err := r.dataCall(ctx, http.MethodDelete, "/r2/"+url.PathEscape(bucket)+"/objects/"+url.PathEscape(key), nil, nil)
	return err
}

// ListR2 lists every object with prefix, in key order, without bodies.
func (r *Runtime) ListR2(ctx context.Context, bucket, prefix string) ([]cfemu.R2Object, error) {
	var objects []cfemu.R2Object
	cursor := ""
	for {
		var page struct {
			Objects   []r2Listed `json:"objects"`
			Truncated bool       `json:"truncated"`
			Cursor    string     `json:"cursor"`
		}
		q := url.Values{"prefix": {prefix}, "cursor": {cursor}, "limit": {"1000"}}
		if _, err := r.dataCall(ctx, http.MethodGet, "/r2/"+url.PathEscape(bucket)+"/objects?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			objects = append(objects, cfemu.R2Object{Key: o.Key, Size: o.Size, ETag: o.ETag, Uploaded: o.Uploaded})
		}
		if !page.Truncated || page.Cursor == "" {
			return objects, nil
		}
		cursor = page.Cursor
	}
}

// SendToQueue sends messages to a queue; its consumer gets them in batches.
func (r *Runtime) SendToQueue(ctx context.Context, queue string, msgs []cfemu.QueueMessage) error {
	type message struct {
		Body        json.RawMessage `json:"body"`
		ContentType string          `json:"contentType"`
	}
	in := struct {
		Messages []message `json:"messages"`
	}{}
	for _, m := range msgs {
		ct := m.ContentType
		if ct == "" {
			ct = "json"
		}
		in.Messages = append(in.Messages, message{Body: m.Body, ContentType: ct})
	}
	_, err := r.dataCall(ctx, http.MethodPost, "/queues/"+url.PathEscape(queue)+"/messages", in, nil)
	return err
}

// expectOK sends req and wants 200.
func (r *Runtime) expectOK(req *http.Request) error {
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return dataError(resp)
	}
	return nil
}
