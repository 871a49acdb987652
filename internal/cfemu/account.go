package cfemu

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// Account is the emulated Cloudflare account: what exists in it (scripts,
// D1 databases, buckets, queues, namespaces, indexes, zones and entry
// points) and the stores that own its data. Every change goes through one
// of its typed operations, which apply the checks Cloudflare applies and
// refuse with an *Error; the HTTP API (Emulator) is a thin caller of them,
// and a local runtime is meant to be another, so that both see one copy of
// the data. It is safe for concurrent use.
type Account struct {
	id        string
	subdomain string
	stateFile string // "" keeps everything in memory

	// mu guards st, the account's metadata: reads share it, changes take
	// it alone. It is held only in memory; D1 SQL runs under each
	// database's own lock and state file writes under saveMu.
	mu      sync.RWMutex
	st      *store
	gen     uint64 // counts the changes of st saved to the state file, under mu
	version uint64 // counts every change of st, under mu (Deployment.Version)
	rt      Runtime

	saveMu sync.Mutex // orders state file writes
	saved  uint64     // the gen last written, under saveMu

	d1     d1Files
	code   codeFiles
	kv     kvStore
	r2     r2Store
	queues queueStore
	vec    vecStore
}

// newAccount returns the account of cfg: empty, or as cfg.StateFile saved it.
func newAccount(cfg Config) (*Account, error) {
	a := &Account{id: cfg.AccountID, subdomain: cfg.Subdomain, stateFile: cfg.StateFile,
		st: newStore(), d1: d1Files{dir: d1Dir(cfg.StateFile)}, code: newCodeFiles(cfg.StateFile)}
	if a.subdomain == "" {
		a.subdomain = DefaultSubdomain
	}
	if cfg.StateFile != "" {
		st, err := loadState(cfg.StateFile, a.code)
		if err != nil {
			return nil, err
		}
		if st != nil {
			a.st = st
		}
	}
	a.kv = kvStore{files: newDataFiles(cfg.StateFile, "kv")}
	a.r2 = r2Store{files: newDataFiles(cfg.StateFile, "r2")}
	a.queues = queueStore{files: newDataFiles(cfg.StateFile, "queues")}
	a.vec = vecStore{files: newDataFiles(cfg.StateFile, "vectorize")}
	var err error
	if a.kv.ns, err = loadAll[map[string]KVValue](a.kv.files); err != nil {
		return nil, fmt.Errorf("cfemu: KV values: %w", err)
	}
	if err := a.r2.load(); err != nil {
		return nil, fmt.Errorf("cfemu: R2 objects: %w", err)
	}
	if a.queues.pending, err = loadAll[[]QueueMessage](a.queues.files); err != nil {
		return nil, fmt.Errorf("cfemu: queue messages: %w", err)
	}
	if a.vec.indexes, err = loadAll[*vecData](a.vec.files); err != nil {
		return nil, fmt.Errorf("cfemu: Vectorize vectors: %w", err)
	}
	a.seedZones(cfg.Zones)
	return a, nil
}

// Close ends the account: it writes the state a failed save left only in
// memory, removes code files no script names any more, and closes the D1
// databases' SQLite handles. Nothing may use the account afterwards.
func (a *Account) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	if a.stateFile != "" {
		// write skips it unless a save failed since the last one on disk.
		data, err := encodeState(a.st)
		if err == nil {
			err = a.write(a.gen, data)
		}
		errs = append(errs, err)
	}
	errs = append(errs, a.code.prune(a.st), a.d1.close())
	return errors.Join(errs...)
}

// ID is the account's id.
func (a *Account) ID() string { return a.id }

// Error is an operation refused the way Cloudflare refuses it: the HTTP
// status, Cloudflare's error code and its message. The HTTP API sends it as
// the envelope's error; a Go caller can match the code.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (code %d, HTTP %d)", e.Message, e.Code, e.Status)
}

// refuse builds an *Error. It returns error so that a refusal is never a
// typed nil by accident.
func refuse(status, code int, format string, args ...any) error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// view runs a read of the store.
func (a *Account) view(f func()) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	f()
}

// viewErr runs a read of the store that can be refused.
func (a *Account) viewErr(f func() error) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return f()
}

// update runs a change of the store (see change) and then has the
// runtime, if one is attached, run the account as it now is.
func (a *Account) update(f func() error) error {
	if err := a.change(f); err != nil {
		return err
	}
	_ = a.publish() // the runtime reports what it could not start
	return nil
}

// change runs a change of the store and, when it is applied and there is a
// state file, saves it before answering, so that an answer the API gave
// is on disk. The snapshot is taken under mu and written after mu is
// released: reads and other changes need not wait for the disk. A save
// that fails leaves the change in memory and says it is not on disk.
func (a *Account) change(f func() error) error {
	a.mu.Lock()
	if err := f(); err != nil {
		a.mu.Unlock()
		return err
	}
	a.version++
	if a.stateFile == "" {
		a.mu.Unlock()
		return nil
	}
	a.gen++
	gen := a.gen
	data, err := encodeState(a.st)
	a.mu.Unlock()
	if err == nil {
		err = a.write(gen, data)
	}
	if err != nil {
		return refuse(http.StatusInternalServerError, 10001, "the change was applied but the emulator could not save its state file: %v", err)
	}
	return nil
}

// write saves the snapshot of change gen unless a later one is already
// on disk, which holds this change too.
func (a *Account) write(gen uint64, data []byte) error {
	a.saveMu.Lock()
	defer a.saveMu.Unlock()
	if gen <= a.saved {
		return nil
	}
	if err := writeFileAtomic(a.stateFile, data); err != nil {
		return err
	}
	a.saved = gen
	return nil
}
