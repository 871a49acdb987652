package cfapi

import (
	"bytes"
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
//
// Its ledger of bookings is its own, or shared through a file with every
// client on this machine that spends the same budget (Options.LedgerDir):
// each then applies its own limit and window to the calls of all.
type pacer struct {
	window time.Duration
	limit  int // calls allowed in any window; 0: no budget
	logf   func(context.Context, string, ...any)

	mu   sync.Mutex
	led  ledger       // when shared, as last read from the file
	file string       // the shared ledger's file; "" if none, or once out of reach
	buf  bytes.Buffer // the file's bytes, reused from one booking to the next
}

// ledger is what a pacer books on: the calls booked lately, and the hold.
type ledger struct {
	// sent holds the booked times, in the order booked, which is also the
	// order of time: the bookings that may still bound a new one.
	sent []time.Time
	// keep is how long a booking may bound a new one: the longest window,
	// with its margin, of the clients booking on the ledger.
	keep time.Duration
	hold time.Time // no request goes before this
}

// wait books the next free slot and sleeps until it. A hold that begins
// while a call sleeps on its slot (another call was answered 429) sends
// it back to book again after the hold: a booked slot is not a pass. A
// hold up to waitedOut is the caller's own, already slept through.
func (p *pacer) wait(ctx context.Context, waitedOut time.Time) error {
	for {
		var now, slot time.Time
		p.update(ctx, func(l *ledger, t time.Time) bool {
			now, slot = t, l.book(t, waitedOut, p.limit, p.window)
			return true
		})
		if d := slot.Sub(now); d > 0 {
			if err := sleepCtx(ctx, d); err != nil {
				return err
			}
		}
		var held bool
		p.update(ctx, func(l *ledger, _ time.Time) bool {
			held = l.holds(slot, waitedOut)
			return false
		})
		if !held {
			return nil
		}
	}
}

// holdFor holds every call back for d from now, and returns when the hold
// ends.
func (p *pacer) holdFor(ctx context.Context, d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	var until time.Time
	p.update(ctx, func(l *ledger, now time.Time) bool {
		until = now.Add(d)
		if !until.After(l.hold) {
			return false
		}
		l.hold = until
		return true
	})
	return until
}

// update runs f on the ledger, with the time it does so, and keeps what f
// changed if it says so. A shared ledger is read from its file and written
// back under the file's lock, which every process sharing it takes for
// each update: the bookings of all of them land on one ledger.
func (p *pacer) update(ctx context.Context, f func(l *ledger, now time.Time) (changed bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	file := p.load(ctx)
	if file == nil {
		f(&p.led, time.Now())
		return
	}
	defer file.Close() // which releases the lock
	now := time.Now()
	p.led.decode(p.buf.Bytes(), now)
	if f(&p.led, now) {
		p.save(ctx, file, now)
	}
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
	// Clients sharing a ledger may keep to different windows: a booking is
	// kept for the longest, and once older bounds no booking of any of them.
	l.keep = max(l.keep, span)
	l.sent = l.sent[sort.Search(len(l.sent), func(i int) bool { return l.sent[i].Add(l.keep).After(now) }):]
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
