package cfapi_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

func TestLostAnswers(t *testing.T) {
	create := cfapi.CreateVectorizeIndexParams{Name: "idx", Config: cfapi.VectorizeConfig{Dimensions: 3, Metric: "cosine"}}
	tests := []struct {
		name     string
		lose     int
		fault    *cfemu.Fault
		call     func(c *cfapi.Client) error
		statuses []int
		maybe    bool // MayHaveApplied
		exists   bool // AlreadyExists
	}{
		{
			name:     "a read whose answer is lost is read again",
			lose:     1,
			call:     func(c *cfapi.Client) error { _, err := c.ListQueues(t.Context()); return err },
			statuses: []int{200, 200},
		},
		{
			name:     "a read that keeps failing may not have applied anything",
			fault:    &cfemu.Fault{Status: 503},
			call:     func(c *cfapi.Client) error { _, err := c.ListQueues(t.Context()); return err },
			statuses: []int{503, 503, 503, 503},
		},
		{
			name:     "a create whose answer is lost finds its name taken on retry, and says it may have applied",
			lose:     1,
			call:     func(c *cfapi.Client) error { _, err := c.CreateVectorizeIndex(t.Context(), create); return err },
			statuses: []int{200, 409},
			maybe:    true,
			exists:   true,
		},
		{
			name:     "a create that keeps answering 5xx may have applied",
			fault:    &cfemu.Fault{Status: 502},
			call:     func(c *cfapi.Client) error { _, err := c.CreateVectorizeIndex(t.Context(), create); return err },
			statuses: []int{502, 502, 502, 502},
			maybe:    true,
		},
		{
			name:     "a create refused with 429 is retried and was not applied twice",
			fault:    &cfemu.Fault{Status: 429, Count: 1},
			call:     func(c *cfapi.Client) error { _, err := c.CreateVectorizeIndex(t.Context(), create); return err },
			statuses: []int{429, 200},
		},
		{
			name: "a create refused outright did not apply",
			call: func(c *cfapi.Client) error {
				_, err := c.CreateVectorizeIndex(t.Context(), cfapi.CreateVectorizeIndexParams{Name: "idx"})
				return err
			},
			statuses: []int{400},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu, err := cfemu.New(cfemu.Config{Token: testToken, AccountID: testAccount})
			require.NoError(t, err)
			if tc.fault != nil {
				emu.Inject(*tc.fault)
			}
			if tc.lose > 0 {
				emu.Inject(cfemu.Fault{Count: tc.lose, LoseAnswer: true})
			}
			srv := httptest.NewServer(emu)
			defer srv.Close()
			rec := &recorder{}
			c, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: testToken, AccountID: testAccount,
				MaxAttempts: 4, Sleep: rec.sleep, Logf: rec.logf})
			require.NoError(t, err)

			err = tc.call(c)
			require.Equal(t, tc.statuses, statuses(emu.Requests()))
			last := tc.statuses[len(tc.statuses)-1]
			if last < 300 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.maybe, cfapi.MayHaveApplied(err), "MayHaveApplied(%v)", err)
			require.Equal(t, tc.exists, cfapi.AlreadyExists(err))
			if tc.maybe {
				require.ErrorContains(t, err, "Cloudflare may have applied it")
			}
		})
	}
}

func TestPacing(t *testing.T) {
	env := newEmuEnv(t, testToken)
	c, err := cfapi.New(cfapi.Options{BaseURL: env.srv.URL + "/client/v4", Token: testToken, AccountID: testAccount, RequestsPerSecond: 50})
	require.NoError(t, err)
	start := time.Now()
	for range 6 {
		_, err := c.ListQueues(t.Context())
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, time.Since(start), 5*20*time.Millisecond, "six calls at 50 a second span five intervals")
	reqs := env.emu.Requests()
	require.Len(t, reqs, 6)
	// Slots are kept to the schedule, so one late call does not delay the rest:
	// the spread of arrivals is what the pace bounds.
	require.GreaterOrEqual(t, reqs[5].Time.Sub(reqs[0].Time), 95*time.Millisecond)
}

func TestRequestsPerSecondFromEnv(t *testing.T) {
	tests := []struct {
		value string
		want  float64
		err   string
	}{
		{"", cfapi.DefaultRequestsPerSecond, ""},
		{"10", 10, ""},
		{"0.5", 0.5, ""},
		{"0", 0, `CLOUDFLARE_RPS="0" is not a positive number`},
		{"fast", 0, `CLOUDFLARE_RPS="fast" is not a positive number`},
	}
	for _, tc := range tests {
		got, err := cfapi.RequestsPerSecondFromEnv(func(k string) string { return map[string]string{"CLOUDFLARE_RPS": tc.value}[k] })
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}
