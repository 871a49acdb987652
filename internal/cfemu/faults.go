package cfemu

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault makes matching requests slow or failing, to test a client's retries and timeouts.
type Fault struct {
	Method     string        // "" = any
	PathPrefix string        // "" = any; matched against the URL path
	Count      int           // apply to the next Count matching requests; 0 = every matching request until ClearFaults
	Skip       int           // let this many matching requests through untouched first
	Status     int           // e.g. 429, 500, 503; 0 = no status fault (latency only)
	RetryAfter time.Duration // sets Retry-After (whole seconds, rounded up) on a 429
	Latency    time.Duration // added before answering
	// LoseAnswer carries the request out in full and then resets the
	// connection after the answer's headers, as a flaky network loses an
	// answer: the client cannot tell whether the call applied.
	LoseAnswer bool
}

type faultRule struct {
	Fault
	skip int // matching requests still to let through
	left int // requests still to hit when Count > 0
}

// Inject adds a fault rule. Rules apply in the order they were added.
func (e *Emulator) Inject(f Fault) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faults = append(e.faults, &faultRule{Fault: f, skip: f.Skip, left: f.Count})
}

// ClearFaults removes every fault rule.
func (e *Emulator) ClearFaults() {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faults = nil
}

// faults is what the fault rules do to one request.
type faults struct {
	latency    time.Duration
	status     *Fault // the status fault, nil for none
	loseAnswer bool
}

// takeFaults returns what the rules do to r, consuming one use of every
// matching rule. Latencies add up; the first matching status wins; any
// matching rule that loses the answer loses it.
func (e *Emulator) takeFaults(r *http.Request) (out faults) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	kept := e.faults[:0]
	for _, f := range e.faults {
		matches := (f.Method == "" || strings.EqualFold(f.Method, r.Method)) &&
			strings.HasPrefix(r.URL.Path, f.PathPrefix)
		if matches && f.skip > 0 {
			f.skip--
			matches = false
		}
		if matches {
			out.latency += f.Latency
			out.loseAnswer = out.loseAnswer || f.LoseAnswer
			if f.Status != 0 && out.status == nil {
				h := f.Fault
				out.status = &h
			}
			if f.Count > 0 {
				f.left--
				if f.left == 0 {
					continue // used up: drop it
				}
			}
		}
		kept = append(kept, f)
	}
	e.faults = kept
	return out
}

// applyFaults delays and, for a status fault, answers r. It reports whether it answered.
func (e *Emulator) applyFaults(w http.ResponseWriter, r *http.Request, f faults) bool {
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	hit := f.status
	if hit == nil {
		return false
	}
	if hit.Status == http.StatusTooManyRequests {
		if hit.RetryAfter > 0 {
			secs := (hit.RetryAfter + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
		}
		// 971 is the code Cloudflare sends with its rate-limit answers.
		writeReply(w, fail(hit.Status, 971, "Please wait and consider throttling your request speed"))
		return true
	}
	writeReply(w, fail(hit.Status, 10013, "injected fault: HTTP %d %s", hit.Status, http.StatusText(hit.Status)))
	return true
}

// NetworkFaults injects the failures of a flaky network and an overloaded
// edge in front of an API: some calls are answered 503 without reaching it,
// and some reach it, are carried out, and then lose their answer when the
// connection is reset after the headers. Which calls fail is drawn from
// Seed and from each call's method, path and how many times that call was
// made before, so a run's faults do not depend on how concurrent calls
// happen to interleave.
type NetworkFaults struct {
	Seed        uint64
	Unavailable float64 // share of calls answered 503 without being forwarded
	Reset       float64 // share of calls forwarded, then reset after the headers
	// FirstWrites resets, besides, the first call of every method and
	// path that writes: each kind of create loses its answer once.
	FirstWrites bool
}

// FaultCounts is how many calls a FaultyNetwork failed, by kind.
type FaultCounts struct {
	Calls, Unavailable, Reset int
}

// FaultyNetwork is an http.Handler that forwards to another, applying NetworkFaults.
type FaultyNetwork struct {
	next   http.Handler
	faults NetworkFaults

	mu     sync.Mutex
	seen   map[string]uint64
	counts FaultCounts
	off    bool
}

// NewFaultyNetwork wraps next, e.g. an httputil.ReverseProxy to the emulator.
func NewFaultyNetwork(next http.Handler, f NetworkFaults) *FaultyNetwork {
	return &FaultyNetwork{next: next, faults: f, seen: map[string]uint64{}}
}

// Heal stops injecting faults: the network has recovered.
func (n *FaultyNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.off = true
}

// Counts reports the calls seen and failed so far.
func (n *FaultyNetwork) Counts() FaultCounts {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.counts
}

// draw picks the fate of one call: 0 forward, 1 unavailable, 2 reset.
func (n *FaultyNetwork) draw(r *http.Request) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.counts.Calls++
	if n.off {
		return 0
	}
	key := r.Method + " " + r.URL.Path
	n.seen[key]++
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%d\x00%s\x00%d", n.faults.Seed, key, n.seen[key])
	u := float64(mix(h.Sum64())>>11) / (1 << 53) // uniform in [0, 1)
	switch {
	case n.faults.FirstWrites && n.seen[key] == 1 && (Request{Method: r.Method}).Mutating():
		n.counts.Reset++
		return 2
	case u < n.faults.Unavailable:
		n.counts.Unavailable++
		return 1
	case u < n.faults.Unavailable+n.faults.Reset:
		n.counts.Reset++
		return 2
	}
	return 0
}

func (n *FaultyNetwork) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch n.draw(r) {
	case 1:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"))
	case 2:
		loseAnswer(w, r, n.next)
	default:
		n.next.ServeHTTP(w, r)
	}
}

// loseAnswer has next carry r out in full, then sends the answer's headers
// and closes the connection without its body.
func loseAnswer(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

// mix is SplitMix64's finalizer: FNV alone leaves the high bits of similar
// keys alike, and those bits pick the fault.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
