package main

import (
	"bytes"
	"context"
	"errors"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
)

// fakeTriggers is an account with fixed cron triggers whose handlers
// succeed, fail as fail says, or, when block is set, wait for their context
// to end.
type fakeTriggers struct {
	schedules []cfemu.Schedule
	fail      map[string]error // by worker
	block     bool

	mu  sync.Mutex
	ran []string // "worker expr"
}

func (f *fakeTriggers) Deployment() cfemu.Deployment {
	return cfemu.Deployment{Schedules: f.schedules}
}

func (f *fakeTriggers) RunScheduled(ctx context.Context, worker, cron string) error {
	f.mu.Lock()
	f.ran = append(f.ran, worker+" "+cron)
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.fail[worker]
}

// logLines are the lines logged to buf.
func logLines(buf *bytes.Buffer) []string {
	return strings.FieldsFunc(buf.String(), func(r rune) bool { return r == '\n' })
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

func TestSchedulerTick(t *testing.T) {
	schedules := []cfemu.Schedule{
		{Worker: "every5", Cron: "*/5 * * * *"},
		{Worker: "hourly", Cron: "0 * * * *"},
		{Worker: "noon", Cron: "0 12 * * *"},
		{Worker: "broken", Cron: "0 25 * * *"},
	}
	tests := []struct {
		name  string
		ticks []string // RFC 3339
		ran   []string
		logs  []string
	}{
		{
			name:  "every trigger matching the minute fires",
			ticks: []string{"2024-06-01T12:00:00Z"},
			ran:   []string{"every5 */5 * * * *", "hourly 0 * * * *", "noon 0 12 * * *"},
			logs: []string{
				`cron: ran every5 for "*/5 * * * *"`,
				`cron: hourly for "0 * * * *": boom`,
				`cron: ran noon for "0 12 * * *"`,
				`cron: broken for "0 25 * * *": hour 25 is outside 0-23`,
			},
		},
		{
			name:  "a minute no trigger matches",
			ticks: []string{"2024-06-01T12:01:00Z"},
			logs:  []string{`cron: broken for "0 25 * * *": hour 25 is outside 0-23`},
		},
		{
			name:  "a minute fires once, however often it ticks",
			ticks: []string{"2024-06-01T12:05:00Z", "2024-06-01T12:05:00.5Z", "2024-06-01T12:05:59Z"},
			ran:   []string{"every5 */5 * * * *"},
			logs:  []string{`cron: ran every5 for "*/5 * * * *"`, `cron: broken for "0 25 * * *": hour 25 is outside 0-23`},
		},
		{
			name:  "a wait that ends early comes back to the minute fired",
			ticks: []string{"2024-06-01T12:05:00Z", "2024-06-01T12:04:59.999Z"},
			ran:   []string{"every5 */5 * * * *"},
			logs:  []string{`cron: ran every5 for "*/5 * * * *"`, `cron: broken for "0 25 * * *": hour 25 is outside 0-23`},
		},
		{
			name:  "the next minute fires again",
			ticks: []string{"2024-06-01T12:05:00Z", "2024-06-01T12:10:00Z"},
			ran:   []string{"every5 */5 * * * *", "every5 */5 * * * *"},
			logs: []string{
				`cron: ran every5 for "*/5 * * * *"`, `cron: broken for "0 25 * * *": hour 25 is outside 0-23`,
				`cron: ran every5 for "*/5 * * * *"`, `cron: broken for "0 25 * * *": hour 25 is outside 0-23`,
			},
		},
		{
			name:  "the minute is read in UTC",
			ticks: []string{"2024-06-01T14:00:00+02:00"},
			ran:   []string{"every5 */5 * * * *", "hourly 0 * * * *", "noon 0 12 * * *"},
			logs: []string{
				`cron: ran every5 for "*/5 * * * *"`,
				`cron: hourly for "0 * * * *": boom`,
				`cron: ran noon for "0 12 * * *"`,
				`cron: broken for "0 25 * * *": hour 25 is outside 0-23`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			account := &fakeTriggers{schedules: schedules, fail: map[string]error{"hourly": errors.New("boom")}}
			var buf bytes.Buffer
			s := &scheduler{account: account, logger: log.New(&buf, "", 0)}
			for _, tick := range tt.ticks {
				s.tick(context.Background(), at(t, tick))
			}
			s.running.Wait()
			require.ElementsMatch(t, tt.ran, account.ran)
			require.ElementsMatch(t, tt.logs, logLines(&buf))
		})
	}
}

// TestSchedulerRun drives run with a fake clock: it waits for the next
// minute boundary, fires that minute, and on its context's end stops,
// cancelling and waiting for the handlers still running.
func TestSchedulerRun(t *testing.T) {
	account := &fakeTriggers{schedules: []cfemu.Schedule{{Worker: "every", Cron: "* * * * *"}}, block: true}
	var buf bytes.Buffer
	now := at(t, "2024-06-01T11:59:30Z")
	waits := make(chan time.Duration)
	wake := make(chan time.Time)
	s := &scheduler{
		account: account,
		logger:  log.New(&buf, "", 0),
		now:     func() time.Time { return now },
		after: func(d time.Duration) <-chan time.Time {
			waits <- d
			return wake
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(ctx)
	}()

	require.Equal(t, 30*time.Second, <-waits, "to the next minute boundary")
	now = at(t, "2024-06-01T12:00:00Z")
	wake <- now
	require.Equal(t, time.Minute, <-waits, "from a boundary, a whole minute")

	cancel()
	<-done
	require.Equal(t, []string{"every * * * * *"}, account.ran)
	require.Equal(t, []string{`cron: every for "* * * * *": context canceled`}, logLines(&buf), "the handler was cancelled and waited for")
}
