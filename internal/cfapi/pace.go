package cfapi

import (
	"context"
	"sort"
	"sync"
	"time"
)

// pacer keeps a client's requests within its budget, and holds them all
// back while Cloudflare has asked the client to wait. It books each call a
// time to go: at once while the last limit calls span more than the
// window, else when the oldest of them has left it. Any window then holds
// at most limit calls, and a run within the budget never waits.
type pacer struct {
	window time.Duration
	limit  int // calls allowed in any window; 0: no budget

	mu  sync.Mutex
	led ledger
}

// ledger is what a pacer books on: the calls booked lately, and the hold.
type ledger struct {
	// sent holds the booked times, in the order booked, which is also the
	// order of time: the bookings that may still bound a new one.
	sent []time.Time
	hold time.Time // no request goes before this
}

// wait books the next free slot and sleeps until it. A hold that begins
// while a call sleeps on its slot (another call was answered 429) sends
// it back to book again after the hold: a booked slot is not a pass. A
// hold up to waitedOut is the caller's own, already slept through.
func (p *pacer) wait(ctx context.Context, waitedOut time.Time) error {
	for {
		var now, slot time.Time
		p.update(func(l *ledger, t time.Time) {
			now, slot = t, l.book(t, waitedOut, p.limit, p.window)
		})
		if d := slot.Sub(now); d > 0 {
			if err := sleepCtx(ctx, d); err != nil {
				return err
			}
		}
		var held bool
		p.update(func(l *ledger, _ time.Time) { held = l.holds(slot, waitedOut) })
		if !held {
			return nil
		}
	}
}

// holdFor holds every call back for d from now, and returns when the hold
// ends.
func (p *pacer) holdFor(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	var until time.Time
	p.update(func(l *ledger, now time.Time) {
		until = now.Add(d)
		l.hold = latest(l.hold, until)
	})
	return until
}

// update runs f on the ledger, with the time it does so.
func (p *pacer) update(f func(l *ledger, now time.Time)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.led, time.Now())
}

// book books a call the first time from now that keeps every window
// within limit calls, and returns it: not before a hold the caller has not
// waited out, nor before the latest booking, and once limit calls are
// booked, not before the oldest of them has left the window.
func (l *ledger) book(now, waitedOut time.Time, limit int, window time.Duration) time.Time {
	slot := now
	if l.holds(slot, waitedOut) {
		slot = l.hold
	}
	if limit <= 0 {
		return slot
	}
	// A call arrives a little after its booked time, by more for one than
	// another: a margin of 2% of the window keeps a late oldest call and an
	// early newest one from landing in one window.
	span := window + window/50
	// A booking older than that bounds neither this one nor any later one.
	l.sent = l.sent[sort.Search(len(l.sent), func(i int) bool { return l.sent[i].Add(span).After(now) }):]
	if n := len(l.sent); n > 0 {
		slot = latest(slot, l.sent[n-1])
		if n >= limit {
			slot = latest(slot, l.sent[n-limit].Add(span))
		}
	}
	l.sent = append(l.sent, slot)
	return slot
}

// holds reports whether a hold the caller has not waited out keeps a call
// from going at t.
func (l *ledger) holds(t, waitedOut time.Time) bool {
	return l.hold.After(waitedOut) && l.hold.After(t)
}

// latest is the latest of the times.
func latest(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.After(t) {
			t = u
		}
	}
	return t
}
