package cfapi

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLedgerFile: a ledger reads back as written; a file that is not a
// whole ledger, or was written after now, reads as an empty one.
func TestLedgerFile(t *testing.T) {
	now := time.Now()
	written := ledger{
		sent: []time.Time{now.Add(-time.Minute), now.Add(-time.Second), now.Add(time.Second)},
		keep: 5*time.Minute + 6*time.Second,
		hold: now.Add(30 * time.Second),
	}
	file := written.encode(nil, now)
	tests := []struct {
		name string
		data []byte
		at   time.Time // when it is read
		want ledger
	}{
		{"whole", file, now, written},
		{"without a hold", (&ledger{keep: written.keep, sent: written.sent}).encode(nil, now), now, ledger{keep: written.keep, sent: written.sent}},
		{"no bookings", (&ledger{}).encode(nil, now), now, ledger{}},
		{"empty", nil, now, ledger{}},
		{"cut", file[:len(file)-8], now, ledger{}},
		{"a bit flipped", flip(file, 40), now, ledger{}},
		{"another format", flip(file, 0), now, ledger{}},
		{"written after now: the clock was set back", file, now.Add(-time.Hour), ledger{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ledger{sent: []time.Time{now}, hold: now, keep: time.Hour} // what was there before
			got.decode(tc.data, tc.at)
			require.Len(t, got.sent, len(tc.want.sent))
			for i := range got.sent {
				require.True(t, got.sent[i].Equal(tc.want.sent[i]), "booking %d", i)
			}
			require.True(t, got.hold.Equal(tc.want.hold), "hold %s, want %s", got.hold, tc.want.hold)
			require.Equal(t, tc.want.keep, got.keep)
		})
	}
}

func flip(b []byte, i int) []byte {
	b = append([]byte(nil), b...)
	b[i] ^= 1
	return b
}

// BenchmarkBooking books a call on a full ring of Cloudflare's budget,
// 1,200 calls, in memory and in a shared file (lock, read, book, write).
// Each booking is a window's 1,200th after the last, so the oldest leaves
// as it is booked and the ring stays full.
func BenchmarkBooking(b *testing.B) {
	for _, shared := range []bool{false, true} {
		name := "in memory"
		if shared {
			name = "shared file"
		}
		b.Run(name, func(b *testing.B) {
			const limit, window = 1200, 5 * time.Minute
			p := &pacer{window: window, limit: limit, logf: func(_ context.Context, format string, args ...any) { b.Fatalf(format, args...) }}
			if shared {
				p.file = ledgerFile(b.TempDir(), DefaultBaseURL, "token")
			}
			at := time.Now()
			book := func(l *ledger, _ time.Time) bool {
				at = at.Add((window + window/50) / limit)
				l.book(at, time.Time{}, limit, window)
				return true
			}
			for range limit {
				p.update(b.Context(), book)
			}
			for b.Loop() {
				p.update(b.Context(), book)
			}
			require.Len(b, p.led.sent, limit)
		})
	}
}
