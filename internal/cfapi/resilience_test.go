package cfapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
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

// TestBudget: calls within the budget go at once; beyond it, each waits
// for the oldest of the last Requests calls to leave the window, so no
// window ever holds more than the budget.
func TestBudget(t *testing.T) {
	const n, window = 3, 300 * time.Millisecond
	env := newEmuEnv(t, testToken)
	c, err := cfapi.New(cfapi.Options{BaseURL: env.srv.URL + "/client/v4", Token: testToken, AccountID: testAccount,
		Budget: cfapi.Budget{Requests: n, Window: window}})
	require.NoError(t, err)
	for range 3 * n {
		_, err := c.ListQueues(t.Context())
		require.NoError(t, err)
	}
	reqs := env.emu.Requests()
	require.Len(t, reqs, 3*n)
	require.Less(t, reqs[n-1].Time.Sub(reqs[0].Time), window, "the first %d calls are within the budget and do not wait", n)
	for i := n; i < len(reqs); i++ {
		require.GreaterOrEqual(t, reqs[i].Time.Sub(reqs[i-n].Time), window-5*time.Millisecond, "call %d: at most %d calls in any %s", i, n, window)
	}
}

func TestBudgetFromEnv(t *testing.T) {
	tests := []struct {
		budget, rps string
		want        cfapi.Budget
		err         string
	}{
		{"", "", cfapi.DefaultBudget, ""},
		{"600/5m", "", cfapi.Budget{Requests: 600, Window: 5 * time.Minute}, ""},
		{" 200 / 5s ", "10", cfapi.Budget{Requests: 200, Window: 5 * time.Second}, ""},
		{"", "2", cfapi.Budget{Requests: 600, Window: 5 * time.Minute}, ""},
		{"", "0.5", cfapi.Budget{Requests: 150, Window: 5 * time.Minute}, ""},
		{"lots", "", cfapi.Budget{}, `CLOUDFLARE_API_BUDGET="lots" is not REQUESTS/DURATION; Cloudflare's is CLOUDFLARE_API_BUDGET=1200/5m`},
		{"0/5m", "", cfapi.Budget{}, `CLOUDFLARE_API_BUDGET="0/5m" is not REQUESTS/DURATION`},
		{"", "0", cfapi.Budget{}, `CLOUDFLARE_RPS="0" is not a positive number of requests per second`},
		{"", "fast", cfapi.Budget{}, `CLOUDFLARE_RPS="fast" is not a positive number`},
	}
	for _, tc := range tests {
		got, err := cfapi.BudgetFromEnv(func(k string) string {
			return map[string]string{"CLOUDFLARE_API_BUDGET": tc.budget, "CLOUDFLARE_RPS": tc.rps}[k]
		})
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}

// TestRetryAfterHoldsEveryCall: a 429's Retry-After holds back every call
// of the client, those already waiting on a booked slot included, paced or
// not; and, told to one client, the calls of every client sharing its
// ledger.
func TestRetryAfterHoldsEveryCall(t *testing.T) {
	tests := []struct {
		name    string
		budget  cfapi.Budget
		clients int // on one ledger when more than one
	}{
		{"calls booked on the pacer's slots", cfapi.Budget{Requests: 1, Window: 100 * time.Millisecond}, 1},
		{"an unpaced client", cfapi.Budget{}, 1},
		{"calls booked on a shared ledger's slots", cfapi.Budget{Requests: 1, Window: 100 * time.Millisecond}, 2},
		{"unpaced clients sharing a ledger", cfapi.Budget{}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEmuEnv(t, testToken)
			env.emu.Inject(cfemu.Fault{Count: 1, Status: 429, RetryAfter: time.Second})
			told := make(chan struct{}, 8)
			dir := ""
			if tc.clients > 1 {
				dir = t.TempDir()
			}
			clients := make([]*cfapi.Client, tc.clients)
			for i := range clients {
				c, err := cfapi.New(cfapi.Options{BaseURL: env.srv.URL + "/client/v4", Token: testToken, AccountID: testAccount,
					Budget: tc.budget, LedgerDir: dir, Logf: func(context.Context, string, ...any) { told <- struct{}{} }})
				require.NoError(t, err)
				clients[i] = c
			}

			var wg sync.WaitGroup
			errs := make([]error, 6)
			wg.Go(func() { _, errs[0] = clients[0].ListQueues(t.Context()) })
			if tc.budget.Requests == 0 {
				<-told // the first call was answered 429; the rest start after
			}
			for i := 1; i < len(errs); i++ {
				wg.Go(func() { _, errs[i] = clients[i%len(clients)].ListQueues(t.Context()) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}

			reqs := env.emu.Requests()
			require.Equal(t, []int{429, 200, 200, 200, 200, 200, 200}, statuses(reqs))
			// The clients held their calls from the moment the 429 reached
			// the first, which is after the refused call arrived.
			holdEnds := reqs[0].Time.Add(time.Second)
			for i, r := range reqs[1:] {
				require.False(t, r.Time.Before(holdEnds), "call %d arrived %s before the hold ended", i+1, holdEnds.Sub(r.Time))
			}
		})
	}
}

// TestAnswerWithoutEnvelope: a 2xx that is not Cloudflare's envelope (a
// proxy's or a sign-in page's) is an error, never an empty result; an
// empty 2xx body is a success with nothing to decode.
func TestAnswerWithoutEnvelope(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := cfapi.New(cfapi.Options{BaseURL: srv.URL, Token: testToken, AccountID: testAccount})
	require.NoError(t, err)

	body = "<html>\n<body>Sign in to continue</body></html>"
	queues, err := c.ListQueues(t.Context())
	require.Nil(t, queues)
	require.EqualError(t, err, "cloudflare: GET /accounts/acc/queues: HTTP 200, code 0: answered without Cloudflare's JSON envelope, "+
		"so not by Cloudflare's API (a proxy or sign-in page in the way?): <html> <body>Sign in to continue</body></html>")

	body = `{"queues": []}`
	_, err = c.ListQueues(t.Context())
	require.ErrorContains(t, err, `answered without Cloudflare's JSON envelope, so not by Cloudflare's API (a proxy or sign-in page in the way?): {"queues": []}`)

	body = ""
	require.NoError(t, c.DeleteScript(t.Context(), "api"))

	body = "export default {}"
	content, err := c.GetScriptContent(t.Context(), "api")
	require.NoError(t, err)
	require.Equal(t, "export default {}", content)
}

// TestCancelledCallMayHaveApplied: a create cancelled while Cloudflare
// holds it may still be carried out there; a cancelled read changed nothing.
func TestCancelledCallMayHaveApplied(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Read whole, a request's context ends when its client goes away.
		_, _ = io.ReadAll(r.Body)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c, err := cfapi.New(cfapi.Options{BaseURL: srv.URL, Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	tests := []struct {
		name  string
		call  func(ctx context.Context) error
		maybe bool
	}{
		{"create", func(ctx context.Context) error {
			_, err := c.CreateVectorizeIndex(ctx, cfapi.CreateVectorizeIndexParams{Name: "idx"})
			return err
		}, true},
		{"read", func(ctx context.Context) error { _, err := c.ListQueues(ctx); return err }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			go func() {
				<-arrived
				cancel()
			}()
			err := tc.call(ctx)
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, tc.maybe, cfapi.MayHaveApplied(err), "%v", err)
		})
	}
}

// TestRetryAfterAsDate: a proxy may send Retry-After as an HTTP date.
func TestRetryAfterAsDate(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		if calls == 1 {
			w.Header().Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"success": false, "errors": [{"code": 971, "message": "Please wait"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"success": true, "errors": [], "result": []}`))
	}))
	t.Cleanup(srv.Close)
	rec := &recorder{}
	c, err := cfapi.New(cfapi.Options{BaseURL: srv.URL, Token: testToken, AccountID: testAccount, Sleep: rec.sleep, Logf: rec.logf})
	require.NoError(t, err)
	_, err = c.ListQueues(t.Context())
	require.NoError(t, err)
	require.Len(t, rec.sleeps, 1)
	// The date has whole seconds: 3 s ahead is between 2 and 3 s away.
	require.Greater(t, rec.sleeps[0], time.Second)
	require.LessOrEqual(t, rec.sleeps[0], 3*time.Second)
}
