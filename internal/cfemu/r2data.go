package cfemu

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// R2Object is an object of a bucket. Body is left out of lists.
type R2Object struct {
	Key         string    `json:"key"`
	Size        int64     `json:"size"`
	ETag        string    `json:"etag"` // the MD5 of the body, in hex, as R2 gives for a single-part upload
	ContentType string    `json:"content_type,omitempty"`
	Uploaded    time.Time `json:"uploaded"`
	Body        []byte    `json:"-"`
}

// r2Store owns the objects of every bucket. On disk a bucket is an index
// file (bucket.json, the objects without their bodies) and a folder of
// bodies named by the SHA-256 of their key.
type r2Store struct {
	files   dataFiles
	mu      sync.Mutex
	buckets map[string]map[string]*R2Object // bucket → key → object
}

func bodyFile(bucket, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(bucket, hex.EncodeToString(sum[:]))
}

// load reads every bucket's objects back, bodies included.
func (s *r2Store) load() error {
	index, err := loadAll[map[string]*R2Object](s.files)
	if err != nil {
		return err
	}
	for bucket, objects := range index {
		for key, o := range objects {
			if o.Body, err = os.ReadFile(filepath.Join(s.files.dir, bodyFile(bucket, key))); err != nil {
				return err
			}
		}
	}
	s.buckets = index
	return nil
}

func (s *r2Store) saveIndex(bucket string) error {
	if len(s.buckets[bucket]) == 0 {
		return s.files.save(bucket+".json", nil)
	}
	return s.files.save(bucket+".json", s.buckets[bucket])
}

// put stores an object: its body first, then the index that names it.
func (s *r2Store) put(bucket string, o *R2Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files.dir != "" {
		path := filepath.Join(s.files.dir, bodyFile(bucket, o.Key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(path, o.Body); err != nil {
			return err
		}
	}
	if s.buckets[bucket] == nil {
		s.buckets[bucket] = map[string]*R2Object{}
	}
	s.buckets[bucket][o.Key] = o
	return s.saveIndex(bucket)
}

// remove deletes an object and says whether there was one.
func (s *r2Store) remove(bucket, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[bucket][key] == nil {
		return false, nil
	}
	delete(s.buckets[bucket], key)
	if err := s.saveIndex(bucket); err != nil {
		return true, err
	}
	return true, s.files.remove(bodyFile(bucket, key))
}

func (s *r2Store) count(bucket string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets[bucket])
}

func r2ObjectNotFound(key string) error {
	return refuse(http.StatusNotFound, 10007, "The specified key %q does not exist.", key)
}

// PutR2 writes an object, replacing any under its key, and sends the
// bucket's PutObject event notifications.
func (a *Account) PutR2(bucket, key string, body []byte, contentType string) (R2Object, error) {
	rt, err := a.r2Runtime(bucket)
	if err != nil {
		return R2Object{}, err
	}
	if rt != nil {
		o, err := rt.PutR2(context.Background(), bucket, key, body, contentType)
		return o, runtimeFailed("write the object", err)
	}
	sum := md5.Sum(body)
	o := &R2Object{Key: key, Size: int64(len(body)), ETag: hex.EncodeToString(sum[:]), ContentType: contentType,
		Uploaded: time.Now().UTC(), Body: body}
	err = a.onBucket(bucket, func() (*r2Event, error) {
		if key == "" || len(key) > 1024 {
			return nil, refuse(http.StatusBadRequest, 10020, "The specified object name is not valid.")
		}
		if err := a.r2.put(bucket, o); err != nil {
			return nil, refuse(http.StatusInternalServerError, 10001, "the emulator could not save the object: %v", err)
		}
		return &r2Event{action: "PutObject", bucket: bucket, object: *o}, nil
	})
	return *o, err
}

// GetR2 reads an object, body included.
func (a *Account) GetR2(bucket, key string) (R2Object, error) {
	rt, err := a.r2Runtime(bucket)
	if err != nil {
		return R2Object{}, err
	}
	if rt != nil {
		o, found, err := rt.GetR2(context.Background(), bucket, key)
		switch {
		case err != nil:
			return o, runtimeFailed("read the object", err)
		case !found:
			return o, r2ObjectNotFound(key)
		}
		return o, nil
	}
	var out R2Object
	err = a.onBucket(bucket, func() (*r2Event, error) {
		a.r2.mu.Lock()
		defer a.r2.mu.Unlock()
		o := a.r2.buckets[bucket][key]
		if o == nil {
			return nil, r2ObjectNotFound(key)
		}
		out = *o
		return nil, nil
	})
	return out, err
}

// DeleteR2 deletes an object and sends the bucket's DeleteObject event
// notifications; a missing key is no error, as on R2.
func (a *Account) DeleteR2(bucket, key string) error {
	rt, err := a.r2Runtime(bucket)
	if err != nil {
		return err
	}
	if rt != nil {
		return runtimeFailed("delete the object", rt.DeleteR2(context.Background(), bucket, key))
	}
	return a.onBucket(bucket, func() (*r2Event, error) {
		found, err := a.r2.remove(bucket, key)
		if err != nil {
			return nil, refuse(http.StatusInternalServerError, 10001, "the emulator could not delete the object: %v", err)
		}
		if !found {
			return nil, nil
		}
		return &r2Event{action: "DeleteObject", bucket: bucket, object: R2Object{Key: key}}, nil
	})
}

// ListR2 lists, in key order, up to limit objects with prefix whose key
// comes after startAfter, without bodies; more says whether others follow.
func (a *Account) ListR2(bucket, prefix, startAfter string, limit int) (objects []R2Object, more bool, err error) {
	objects = []R2Object{}
	rt, err := a.r2Runtime(bucket)
	if err != nil {
		return objects, false, err
	}
	if rt != nil {
		all, err := rt.ListR2(context.Background(), bucket, prefix)
		if err != nil {
			return objects, false, runtimeFailed("list the objects", err)
		}
		objects, more = page(all, func(o R2Object) string { return o.Key }, startAfter, limit)
		return objects, more, nil
	}
	err = a.onBucket(bucket, func() (*r2Event, error) {
		a.r2.mu.Lock()
		defer a.r2.mu.Unlock()
		keys := make([]string, 0, len(a.r2.buckets[bucket]))
		for k := range a.r2.buckets[bucket] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if k <= startAfter || !strings.HasPrefix(k, prefix) {
				continue
			}
			if len(objects) == limit {
				more = true
				break
			}
			o := *a.r2.buckets[bucket][k]
			o.Body = nil
			objects = append(objects, o)
		}
		return nil, nil
	})
	return objects, more, err
}

// r2Runtime is the runtime that owns R2 objects and sends their event
// notifications (see dataRuntime).
func (a *Account) r2Runtime(bucket string) (Runtime, error) {
	return a.dataRuntime(func() error {
		if a.st.Buckets[bucket] == nil {
			return r2NotFound()
		}
		return nil
	})
}

// onBucket runs f on an existing bucket under the account's read lock, so
// that a bucket being deleted gets no objects back, and then delivers the
// event f reports to the queues whose rules match it.
func (a *Account) onBucket(bucket string, f func() (*r2Event, error)) error {
	var sent []queuedMessage
	err := a.viewErr(func() error {
		if a.st.Buckets[bucket] == nil {
			return r2NotFound()
		}
		ev, err := f()
		if err != nil || ev == nil {
			return err
		}
		sent, err = a.notify(ev)
		return err
	})
	a.announce(sent)
	return err
}
