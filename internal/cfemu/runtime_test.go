package cfemu

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// scheduledRuntime is a runtime that only runs scheduled handlers; its
// other methods are the nil interface's, which this test never calls.
type scheduledRuntime struct {
	Runtime
	err error
	ran []string
}

func (r *scheduledRuntime) Run(context.Context, Deployment) error { return nil }

func (r *scheduledRuntime) Scheduled(_ context.Context, worker, cron string) error {
	r.ran = append(r.ran, worker+" "+cron)
	return r.err
}

func TestScheduledRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rt      *scheduledRuntime // nil: no runtime attached
		query   string
		status  int
		wantRan []string
	}{
		{name: "no runtime", status: http.StatusServiceUnavailable},
		{name: "the first cron trigger", rt: &scheduledRuntime{}, status: http.StatusOK, wantRan: []string{"cron */5 * * * *"}},
		{name: "the cron given", rt: &scheduledRuntime{}, query: "?cron=0+1+*+*+*", status: http.StatusOK, wantRan: []string{"cron 0 1 * * *"}},
		{name: "the handler fails", rt: &scheduledRuntime{err: errors.New("boom")}, status: http.StatusBadGateway, wantRan: []string{"cron */5 * * * *"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			mustOK(t, h.upload("cron", nil))
			mustOK(t, h.call(http.MethodPut, "/workers/scripts/cron/schedules", []map[string]string{{"cron": "*/5 * * * *"}, {"cron": "0 3 * * *"}}))
			if tc.rt != nil {
				require.NoError(t, h.emu.Attach(tc.rt))
			}
			r := h.call(http.MethodPost, "/workers/scripts/cron/cfemu/scheduled"+tc.query, nil)
			if tc.status != http.StatusOK {
				mustFail(t, r, tc.status, 10001)
			} else {
				mustOK(t, r)
			}
			if tc.rt != nil {
				require.Equal(t, tc.wantRan, tc.rt.ran)
			}
		})
	}
}

// TestDataKeptByOneKeeper: a saved account's data is kept either by the
// emulator's own stores or by a runtime, and the other is refused, so that
// no row or object silently drops out of sight.
func TestDataKeptByOneKeeper(t *testing.T) {
	for _, tc := range []struct {
		name        string
		before      func(t *testing.T, e *Emulator) // with no runtime, before the restart
		attachFirst bool                            // a runtime was attached before the restart
		attach      string                          // "" or the error Attach gives after it
		keepHere    string                          // "" or the error KeepDataHere gives after it
	}{
		{name: "empty account", attach: "", keepHere: ""},
		{name: "data written without a runtime", before: func(t *testing.T, e *Emulator) {
			_, err := e.Account().CreateD1("notes", "")
			require.NoError(t, err)
		}, attach: "in the emulator's own stores", keepHere: ""},
		{name: "data kept by a runtime", attachFirst: true, attach: "", keepHere: "was written with the local runtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state.json")
			first, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: state})
			require.NoError(t, err)
			if tc.before != nil {
				tc.before(t, first)
			}
			if tc.attachFirst {
				require.NoError(t, first.Attach(&scheduledRuntime{}))
				_, err := first.Account().CreateD1("notes", "")
				require.NoError(t, err)
			}
			require.NoError(t, first.Close())

			for _, step := range []struct {
				want string
				do   func(*Emulator) error
			}{
				{tc.keepHere, func(e *Emulator) error { return e.KeepDataHere() }},
				{tc.attach, func(e *Emulator) error { return e.Attach(&scheduledRuntime{}) }},
			} {
				again, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: state})
				require.NoError(t, err)
				err = step.do(again)
				if step.want == "" {
					require.NoError(t, err)
				} else {
					var owner *DataOwnerError
					require.ErrorAs(t, err, &owner)
					require.ErrorContains(t, err, step.want)
				}
				require.NoError(t, again.Close())
			}
		})
	}
}

// TestDeploymentConsumers: a consumer's settings reach the runtime as
// stored, Cloudflare's defaults for those left out and an explicit zero
// (no retries, no wait) kept as zero.
func TestDeploymentConsumers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings map[string]any
		want     Consumer
	}{
		{"defaults", map[string]any{}, Consumer{Queue: "jobs", MaxBatchSize: 10, MaxWaitTimeMs: 5000, MaxRetries: 3}},
		{"explicit zeros", map[string]any{"max_retries": 0, "max_wait_time_ms": 0, "batch_size": 1},
			Consumer{Queue: "jobs", MaxBatchSize: 1}},
		{"all set", map[string]any{"max_retries": 5, "max_wait_time_ms": 250, "batch_size": 20, "retry_delay": 30},
			Consumer{Queue: "jobs", MaxBatchSize: 20, MaxWaitTimeMs: 250, MaxRetries: 5, RetryDelaySeconds: 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			mustOK(t, h.upload("worker", nil))
			id := mustOK(t, h.call(http.MethodPost, "/queues", map[string]string{"queue_name": "jobs"})).obj(t)["queue_id"].(string)
			mustOK(t, h.call(http.MethodPost, "/queues/"+id+"/consumers", map[string]any{"script_name": "worker", "type": "worker", "settings": tc.settings}))
			d := h.emu.Account().Deployment()
			require.Len(t, d.Workers, 1)
			require.Equal(t, []Consumer{tc.want}, d.Workers[0].Consumers)
		})
	}
}
