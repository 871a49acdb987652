package cfemu

import (
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

	mu sync.Mutex // guards st; operations run one at a time
	st *store
	d1 d1Files
}

// newAccount returns the account of cfg: empty, or as cfg.StateFile saved it.
func newAccount(cfg Config) (*Account, error) {
	a := &Account{id: cfg.AccountID, subdomain: cfg.Subdomain, stateFile: cfg.StateFile,
		st: newStore(), d1: d1Files{dir: d1Dir(cfg.StateFile)}}
	if a.subdomain == "" {
		a.subdomain = DefaultSubdomain
	}
	if cfg.StateFile != "" {
		st, err := loadState(cfg.StateFile)
		if err != nil {
			return nil, err
		}
		if st != nil {
			a.st = st
		}
	}
	a.seedZones(cfg.Zones)
	return a, nil
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
	a.mu.Lock()
	defer a.mu.Unlock()
	f()
}

// viewErr runs a read of the store that can be refused.
func (a *Account) viewErr(f func() error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return f()
}

// update runs a change of the store and, when it is applied and there is a
// state file, saves it. A save that fails leaves the change in memory and
// says it is not on disk.
func (a *Account) update(f func() error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := f(); err != nil {
		return err
	}
	if a.stateFile == "" {
		return nil
	}
	if err := saveState(a.stateFile, a.st); err != nil {
		return refuse(http.StatusInternalServerError, 10001, "the change was applied but the emulator could not save its state file: %v", err)
	}
	return nil
}
