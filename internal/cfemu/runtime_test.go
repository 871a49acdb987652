package cfemu

import (
	"context"
	"errors"
	"net/http"
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
