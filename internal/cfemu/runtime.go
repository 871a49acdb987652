package cfemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/dome/infra/internal/workersai"
)

// Runtime runs the account's workers (internal/runtime, on workerd). Once
// attached it is told every change of what runs, it answers the requests
// that reach a worker's hostname, and it owns the data the workers see:
// D1 rows, KV values, R2 objects and messages for queues that a worker
// consumes. The API reaches that data through it, never through a copy,
// so a row a migration wrote is the row env.DB reads.
type Runtime interface {
	// Run makes the runtime run d, a snapshot newer than any it had. A
	// worker that fails at start-up fails it with a *StartupError; the
	// runtime then goes on running what it ran before.
	Run(ctx context.Context, d Deployment) error
	// Serve answers r with worker, as if it reached the worker's hostname.
	Serve(w http.ResponseWriter, r *http.Request, worker string)
	// Scheduled runs worker's scheduled handler for cron.
	Scheduled(ctx context.Context, worker, cron string) error

	QueryD1(ctx context.Context, id string, stmts []D1Statement, raw bool) ([]json.RawMessage, error)
	PutKV(ctx context.Context, namespaceID, key string, v KVValue) error
	GetKV(ctx context.Context, namespaceID, key string) (KVValue, bool, error)
	DeleteKV(ctx context.Context, namespaceID, key string) error
	ListKV(ctx context.Context, namespaceID, prefix string) ([]KVKey, error)
	PutR2(ctx context.Context, bucket, key string, body []byte, contentType string) (R2Object, error)
	GetR2(ctx context.Context, bucket, key string) (R2Object, bool, error)
	DeleteR2(ctx context.Context, bucket, key string) error
	ListR2(ctx context.Context, bucket, prefix string) ([]R2Object, error)
	SendToQueue(ctx context.Context, queue string, msgs []QueueMessage) error
}

// D1Statement is one SQL statement of a query with its parameters.
type D1Statement struct {
	SQL    string `json:"sql"`
	Params []any  `json:"params"`
}

// StartupError is a worker that fails as the runtime starts it: its global
// scope throws, or it imports what its upload lacks. Cloudflare refuses
// such an upload with code 10021 and the runtime's message.
type StartupError struct {
	Script  string
	Message string
}

func (e *StartupError) Error() string {
	return fmt.Sprintf("worker %q fails at start-up: %s", e.Script, e.Message)
}

// runTimeout bounds how long a change waits for the runtime to take it.
const runTimeout = 2 * time.Minute

// Attach hands the account's workers and data to rt and has it run what
// the account holds now. A saved account whose data the emulator's own
// stores keep is refused with a *DataOwnerError: the runtime would not see
// that data.
func (e *Emulator) Attach(rt Runtime) error {
	a := e.acct
	if err := a.claimForRuntime(); err != nil {
		return err
	}
	a.mu.Lock()
	a.rt = rt
	a.mu.Unlock()
	return a.publish()
}

// RuntimeCallbacks answers the running workers' Vectorize bindings from
// the account's vectors, the ones the REST API reads and writes, and their
// AI bindings from the deterministic stand-in for Workers AI.
func (e *Emulator) RuntimeCallbacks() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/vectorize/", e.acct.VectorizeBinding())
	mux.Handle("/ai/", workersai.Handler())
	return mux
}

// KeepDataHere checks that the emulator's own stores keep a saved
// account's data, as they do with no runtime attached: an account whose
// data a runtime keeps is refused with a *DataOwnerError.
func (e *Emulator) KeepDataHere() error {
	a := e.acct
	var kept bool
	a.view(func() { kept = a.st.RuntimeData })
	if kept {
		return &DataOwnerError{StateFile: a.stateFile, Runtime: true}
	}
	return nil
}

// DataOwnerError refuses to serve a saved account with another keeper of
// its data than the one that wrote it: its D1 rows, KV values and R2
// objects would be out of sight, and a deploy would trip over them.
type DataOwnerError struct {
	StateFile string
	Runtime   bool // the runtime keeps the data; else the emulator's own stores
}

func (e *DataOwnerError) Error() string {
	if e.Runtime {
		return fmt.Sprintf("%s was written with the local runtime, which keeps its data (D1 rows, KV values, R2 objects); without it they are out of sight", e.StateFile)
	}
	return fmt.Sprintf("%s holds data (D1 rows, KV values, R2 objects) in the emulator's own stores, which running workers would not see: it was written without the local runtime, or before the emulator recorded which of them keeps its data", e.StateFile)
}

// claimForRuntime records that the runtime keeps a saved account's data,
// unless the emulator's own stores hold some already (an account saved
// with no runtime, or before there was one).
func (a *Account) claimForRuntime() error {
	if a.stateFile == "" {
		return nil // in memory: nothing outlives this run
	}
	return a.change(func() error {
		if !a.st.RuntimeData && a.holdsData() {
			return &DataOwnerError{StateFile: a.stateFile}
		}
		a.st.RuntimeData = true
		return nil
	})
}

// holdsData reports whether the emulator's own stores may hold data: any
// D1 database (its schema and rows live in its SQLite file), KV value, R2
// object or waiting queue message. The caller holds the account's lock.
func (a *Account) holdsData() bool {
	if len(a.st.D1) > 0 {
		return true
	}
	a.kv.mu.Lock()
	kv := slices.ContainsFunc(slices.Collect(maps.Values(a.kv.ns)), func(v map[string]KVValue) bool { return len(v) > 0 })
	a.kv.mu.Unlock()
	a.r2.mu.Lock()
	r2 := slices.ContainsFunc(slices.Collect(maps.Values(a.r2.buckets)), func(o map[string]*R2Object) bool { return len(o) > 0 })
	a.r2.mu.Unlock()
	a.queues.mu.Lock()
	queued := slices.ContainsFunc(slices.Collect(maps.Values(a.queues.pending)), func(m []QueueMessage) bool { return len(m) > 0 })
	a.queues.mu.Unlock()
	return kv || r2 || queued
}

// runtime is the attached runtime, or nil.
func (a *Account) runtime() Runtime {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.rt
}

// RunScheduled runs worker's scheduled handler for cron on the attached
// runtime, as a cron trigger firing does. It refuses when no runtime is
// attached, and words the runtime's failure as Cloudflare's answer would.
func (a *Account) RunScheduled(ctx context.Context, worker, cron string) error {
	rt := a.runtime()
	if rt == nil {
		return refuse(http.StatusServiceUnavailable, 10001, "the emulator runs no runtime, so no worker runs: start it with -runtime (just emulator does)")
	}
	if err := rt.Scheduled(ctx, worker, cron); err != nil {
		return refuse(http.StatusBadGateway, 10001, "%v", err)
	}
	return nil
}

// publish has the runtime run the account as it is now. The runtime
// reports its own failures; callers look only for a *StartupError.
func (a *Account) publish() error {
	rt := a.runtime()
	if rt == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	return rt.Run(ctx, a.Deployment())
}

// refuseStartup turns a runtime's start-up failure of an uploaded script
// into Cloudflare's answer to that upload.
func refuseStartup(e *StartupError) error {
	return uploadError("%s", e.Message)
}

// asStartup reports whether err is a start-up failure of script.
func asStartup(err error, script string) (*StartupError, bool) {
	var se *StartupError
	if errors.As(err, &se) && se.Script == script {
		return se, true
	}
	return nil, false
}

// runtimeFailed is the answer to a data call the runtime could not serve;
// nil when it served it.
func runtimeFailed(what string, err error) error {
	if err == nil {
		return nil
	}
	var refused *Error
	if errors.As(err, &refused) {
		return refused
	}
	return refuse(http.StatusBadGateway, 10001, "the local runtime could not %s: %v", what, err)
}

// dataRuntime is the attached runtime, which owns the data workers see,
// once exists (run under the account's read lock) finds the resource that
// holds it; nil when the emulator's own stores keep the data.
func (a *Account) dataRuntime(exists func() error) (Runtime, error) {
	var rt Runtime
	err := a.viewErr(func() error {
		if err := exists(); err != nil {
			return err
		}
		rt = a.rt
		return nil
	})
	return rt, err
}

// page cuts a list sorted by key to the items after the key named by
// after, at most limit of them; more says whether others follow.
func page[T any](all []T, key func(T) string, after string, limit int) ([]T, bool) {
	out := []T{}
	for _, item := range all {
		if key(item) <= after {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, item)
	}
	return out, false
}

// workerHost reports whether r asks for a worker's hostname rather than for
// the API, which the emulator serves on a loopback address or localhost.
// Without a runtime every request is the API's: nothing would answer.
func workerHost(r *http.Request) (string, bool) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" || host == "localhost" || net.ParseIP(host) != nil {
		return "", false
	}
	return host, true
}

// serveWorker answers a request for a worker's hostname the way
// Cloudflare's edge routes it: a custom domain, then the zone's routes,
// then workers.dev. A hostname nothing claims answers 404, as there.
func (e *Emulator) serveWorker(w http.ResponseWriter, r *http.Request, rt Runtime, host string) {
	worker, found := e.acct.RouteRequest(host, r.URL.Path)
	if !found {
		http.Error(w, fmt.Sprintf("no worker answers on %s%s: no custom domain, route or workers.dev subdomain of the account claims it", host, r.URL.Path), http.StatusNotFound)
		return
	}
	rt.Serve(w, r, worker)
}

// scheduledRun fires a worker's scheduled handler now, for its first cron
// trigger or the ?cron= given, as `just cron local <worker>` asks.
func (e *Emulator) scheduledRun(c *call) reply {
	name := c.r.PathValue("script")
	cron := c.r.URL.Query().Get("cron")
	if cron == "" {
		crons, err := e.acct.Schedules(name)
		if err != nil {
			return failWith(err)
		}
		if len(crons) == 0 {
			return fail(http.StatusBadRequest, 10021, "worker %q has no cron trigger; pass ?cron=<expression> to run its scheduled handler anyway", name)
		}
		cron = crons[0].Cron
	} else if err := e.acct.ScriptExists(name); err != nil {
		return failWith(err)
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), time.Minute)
	defer cancel()
	if err := e.acct.RunScheduled(ctx, name, cron); err != nil {
		return failWith(err)
	}
	return ok(map[string]any{"script": name, "cron": cron})
}
