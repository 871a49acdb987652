package cfemu

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimit is Cloudflare's API budget: at most Requests calls in any
// Window (1,200 per 5 minutes for a user). The zero value enforces none.
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// CloudflareRateLimit is the budget Cloudflare gives each user.
var CloudflareRateLimit = RateLimit{Requests: 1200, Window: 5 * time.Minute}

// limiter counts the calls of the last window. Refused calls do not count,
// so a client that waits as told gets through.
type limiter struct {
	RateLimit
	mu    sync.Mutex
	times []time.Time // accepted calls within the window, oldest first
}

// take admits a call now, or says how long until the window has room.
func (l *limiter) take(now time.Time) (wait time.Duration, ok bool) {
	if l == nil || l.Requests <= 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cut := 0
	for cut < len(l.times) && now.Sub(l.times[cut]) >= l.Window {
		cut++
	}
	l.times = l.times[cut:]
	if len(l.times) >= l.Requests {
		return l.times[0].Add(l.Window).Sub(now), false
	}
	l.times = append(l.times, now)
	return 0, true
}

// applyRateLimit answers r with Cloudflare's 429 when the budget is spent.
// Retry-After is in whole seconds, rounded up, as Cloudflare sends it.
func (e *Emulator) applyRateLimit(w http.ResponseWriter) bool {
	wait, ok := e.limit.take(time.Now())
	if ok {
		return false
	}
	secs := max(1, int64((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeReply(w, fail(http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed"))
	return true
}
