package main

import (
	"context"
	"log"
	"sync"
	"time"

	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/cron"
)

// triggers is what the scheduler needs of the account: its cron triggers
// as they are now, and a way to fire one.
type triggers interface {
	Deployment() cfemu.Deployment
	RunScheduled(ctx context.Context, worker, cron string) error
}

// scheduler fires the account's cron triggers on their schedule, as
// Cloudflare does: at each minute boundary (UTC), every trigger of the
// deployment as it is then whose expression matches that minute.
type scheduler struct {
	account triggers
	logger  *log.Logger
	// now and after are the clock and its wait, time.Now and time.After
	// outside tests.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time

	fired   time.Time // the last minute fired, so that none fires twice
	running sync.WaitGroup
}

// startCrons fires account's cron triggers on their schedule until ctx
// ends or stop is called; stop returns once no handler runs.
func startCrons(ctx context.Context, account triggers, logger *log.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	s := &scheduler{account: account, logger: logger, now: time.Now, after: time.After}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(ctx)
	}()
	logger.Printf("cron: firing the workers' cron triggers at every minute they match (UTC)")
	return func() {
		cancel()
		<-done
	}
}

// run fires the triggers until ctx ends, then waits for the handlers still
// running, whose calls ctx's end cancels.
func (s *scheduler) run(ctx context.Context) {
	defer s.running.Wait()
	for {
		now := s.now()
		select {
		case <-ctx.Done():
			return
		case <-s.after(now.Truncate(time.Minute).Add(time.Minute).Sub(now)):
		}
		s.tick(ctx, s.now())
	}
}

// tick fires, each in its own goroutine so that a slow handler delays no
// other trigger and no later minute, the triggers matching t's minute,
// unless that minute has fired already: a wait that ends early comes back
// to the minute before.
func (s *scheduler) tick(ctx context.Context, t time.Time) {
	minute := t.Truncate(time.Minute)
	if !minute.After(s.fired) {
		return
	}
	s.fired = minute
	for _, sch := range s.account.Deployment().Schedules {
		parsed, err := cron.Parse(sch.Cron)
		if err != nil {
			// Only a state file written before the account checked
			// expressions holds one Cloudflare would refuse.
			s.logger.Printf("cron: %s for %q: %v", sch.Worker, sch.Cron, err)
			continue
		}
		if !parsed.Matches(minute) {
			continue
		}
		s.running.Go(func() {
			if err := s.account.RunScheduled(ctx, sch.Worker, sch.Cron); err != nil {
				s.logger.Printf("cron: %s for %q: %v", sch.Worker, sch.Cron, err)
				return
			}
			s.logger.Printf("cron: ran %s for %q", sch.Worker, sch.Cron)
		})
	}
}
