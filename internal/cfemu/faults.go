package cfemu

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching requests slow or failing, to test a client's retries and timeouts.
type Fault struct {
	Method     string        // "" = any
	PathPrefix string        // "" = any; matched against the URL path
	Count      int           // apply to the next Count matching requests; 0 = every matching request until ClearFaults
	Status     int           // e.g. 429, 500, 503; 0 = no status fault (latency only)
	RetryAfter time.Duration // sets Retry-After (whole seconds, rounded up) on a 429
	Latency    time.Duration // added before answering
}

type faultRule struct {
	Fault
	left int // requests still to hit when Count > 0
}

// Inject adds a fault rule. Rules apply in the order they were added.
func (e *Emulator) Inject(f Fault) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faults = append(e.faults, &faultRule{Fault: f, left: f.Count})
}

// ClearFaults removes every fault rule.
func (e *Emulator) ClearFaults() {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	e.faults = nil
}

// takeFaults returns the latency and the status fault (0 for none) for r,
// consuming one use of every matching rule. Latencies add up; the first
// matching status wins.
func (e *Emulator) takeFaults(r *http.Request) (latency time.Duration, hit *Fault) {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	kept := e.faults[:0]
	for _, f := range e.faults {
		matches := (f.Method == "" || strings.EqualFold(f.Method, r.Method)) &&
			strings.HasPrefix(r.URL.Path, f.PathPrefix)
		if matches {
			latency += f.Latency
			if f.Status != 0 && hit == nil {
				h := f.Fault
				hit = &h
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
	return latency, hit
}

// applyFaults delays and, for a status fault, answers r. It reports whether it answered.
func (e *Emulator) applyFaults(w http.ResponseWriter, r *http.Request) bool {
	latency, hit := e.takeFaults(r)
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
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
