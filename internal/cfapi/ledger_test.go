package cfapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

// The test binary doubles as a second process sharing a ledger: run with
// childBase set, it makes childCalls calls to that API, booked in the
// ledger in childDir, once its standard input closes, instead of running
// the tests.
const (
	childBase  = "CFAPI_TEST_CHILD_BASE"
	childDir   = "CFAPI_TEST_CHILD_DIR"
	childCalls = "CFAPI_TEST_CHILD_CALLS"
)

func TestMain(m *testing.M) {
	if base := os.Getenv(childBase); base != "" {
		if err := child(base); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func child(base string) error {
	calls, err := strconv.Atoi(os.Getenv(childCalls))
	if err != nil {
		return err
	}
	c, err := cfapi.New(cfapi.Options{BaseURL: base, Token: testToken, AccountID: testAccount,
		Budget: cfapi.Budget{Requests: 1 << 20, Window: time.Hour}, LedgerDir: os.Getenv(childDir),
		Logf: func(_ context.Context, format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }})
	if err != nil {
		return err
	}
	// Every process starts booking at once, so that their bookings race.
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		return err
	}
	for range calls {
		if _, err := c.ListQueues(context.Background()); err != nil {
			return err
		}
	}
	return nil
}

// callLog is an API that answers any token's call with an empty list and
// notes when each call arrived.
type callLog struct {
	srv   *httptest.Server
	mu    sync.Mutex
	times []time.Time
}

func newCallLog(t *testing.T) *callLog {
	l := &callLog{}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		l.mu.Lock()
		l.times = append(l.times, time.Now())
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success": true, "errors": [], "result": []}`))
	}))
	t.Cleanup(l.srv.Close)
	return l
}

// arrivals returns when the calls arrived, in order.
func (l *callLog) arrivals() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.SortedFunc(slices.Values(l.times), time.Time.Compare)
}

// TestSharedBudget: clients that share a ledger (standing in for
// processes) keep to one budget together; clients of other tokens, other
// APIs, or without a ledger keep their own.
func TestSharedBudget(t *testing.T) {
	const n, window = 4, 300 * time.Millisecond
	type client struct{ base, token, dir string }
	tests := []struct {
		name    string
		clients [2]client
		shared  bool
	}{
		{"one token and API share one budget", [2]client{{"/a", "t1", "l"}, {"/a", "t1", "l"}}, true},
		{"another token is another budget", [2]client{{"/a", "t1", "l"}, {"/a", "t2", "l"}}, false},
		{"another API is another budget", [2]client{{"/a", "t1", "l"}, {"/b", "t1", "l"}}, false},
		{"a client without a ledger keeps its own count", [2]client{{"/a", "t1", "l"}, {"/a", "t1", ""}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newCallLog(t)
			dir := t.TempDir()
			var wg sync.WaitGroup
			errs := make(chan error, 2*n)
			for _, cl := range tc.clients {
				opts := cfapi.Options{BaseURL: api.srv.URL + cl.base, Token: cl.token, AccountID: testAccount,
					Budget: cfapi.Budget{Requests: n, Window: window}}
				if cl.dir != "" {
					opts.LedgerDir = filepath.Join(dir, cl.dir)
				}
				c, err := cfapi.New(opts)
				require.NoError(t, err)
				wg.Go(func() {
					for range n {
						_, err := c.ListQueues(t.Context())
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}

			times := api.arrivals()
			require.Len(t, times, 2*n)
			require.Less(t, times[n-1].Sub(times[0]), window, "the first %d calls are within any budget", n)
			if !tc.shared {
				require.Less(t, times[2*n-1].Sub(times[0]), window, "each client spends its own budget, at once")
				return
			}
			for i := n; i < len(times); i++ {
				require.GreaterOrEqual(t, times[i].Sub(times[i-n]), window-5*time.Millisecond,
					"call %d: at most %d calls of both clients in any %s", i, n, window)
			}
		})
	}
}

// TestSharedLedgerRecovers: a ledger's file that is missing, empty, cut or
// garbage reads as an empty ledger, not an error, and the next booking
// writes it anew.
func TestSharedLedgerRecovers(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, file string)
	}{
		{"missing", func(t *testing.T, file string) { require.NoError(t, os.Remove(file)) }},
		{"empty", func(t *testing.T, file string) { require.NoError(t, os.Truncate(file, 0)) }},
		{"cut", func(t *testing.T, file string) {
			info, err := os.Stat(file)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(file, info.Size()/2))
		}},
		{"garbage", func(t *testing.T, file string) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			for i := range data {
				data[i] ^= 0x5a
			}
			require.NoError(t, os.WriteFile(file, data, 0o600))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newCallLog(t)
			dir := filepath.Join(t.TempDir(), "ledgers")
			var logs recorder
			newClient := func() *cfapi.Client {
				c, err := cfapi.New(cfapi.Options{BaseURL: api.srv.URL, Token: testToken, AccountID: testAccount,
					Budget: cfapi.Budget{Requests: 1, Window: time.Hour}, LedgerDir: dir, Logf: logs.logf})
				require.NoError(t, err)
				return c
			}
			// call reports whether a call went within a short while: with
			// a budget of one an hour, only the first booked does.
			call := func() bool {
				ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
				defer cancel()
				_, err := newClient().ListQueues(ctx)
				if err != nil {
					require.ErrorIs(t, err, context.DeadlineExceeded)
				}
				return err == nil
			}

			require.True(t, call())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1)
			file := filepath.Join(dir, entries[0].Name())
			require.Regexp(t, "^[0-9a-f]{64}$", entries[0].Name(), "named by a hash, never the token")
			requireMode(t, dir, 0o700|os.ModeDir)
			requireMode(t, file, 0o600)
			require.False(t, call(), "the first call's booking holds the budget")

			tc.damage(t, file)
			require.True(t, call(), "the damaged ledger reads as empty")
			require.False(t, call(), "and holds the booking made on it")
			require.Empty(t, logs.logs, "a damaged ledger is no failure to report")
		})
	}
}

func requireMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, want, info.Mode(), path)
}

// TestSharedLedgerOutOfReach: a client that cannot use its ledger's file
// says so once, without the token, and keeps the budget on its own.
func TestSharedLedgerOutOfReach(t *testing.T) {
	const n, window = 2, 200 * time.Millisecond
	api := newCallLog(t)
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	var logs recorder
	c, err := cfapi.New(cfapi.Options{BaseURL: api.srv.URL, Token: testToken, AccountID: testAccount,
		Budget: cfapi.Budget{Requests: n, Window: window}, LedgerDir: filepath.Join(notDir, "ledgers"), Logf: logs.logf})
	require.NoError(t, err)
	for range 2 * n {
		_, err := c.ListQueues(t.Context())
		require.NoError(t, err)
	}

	require.Len(t, logs.logs, 1)
	require.Contains(t, logs.logs[0], "cannot share the API budget with other processes on this machine")
	require.Contains(t, logs.logs[0], "this one keeps its own count")
	require.NotContains(t, logs.logs[0], testToken)
	times := api.arrivals()
	require.Len(t, times, 2*n)
	for i := n; i < len(times); i++ {
		require.GreaterOrEqual(t, times[i].Sub(times[i-n]), window-5*time.Millisecond, "call %d", i)
	}
}

// TestSharedAcrossProcesses: processes that book at the same time on one
// ledger lose none of each other's bookings, as they would without the
// file's lock.
func TestSharedAcrossProcesses(t *testing.T) {
	const processes, calls = 3, 100
	api := newCallLog(t)
	dir := t.TempDir()
	cmds := make([]*exec.Cmd, processes)
	outs := make([]bytes.Buffer, processes)
	var starts []io.Closer
	for i := range cmds {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childBase+"="+api.srv.URL, childDir+"="+dir, childCalls+"="+strconv.Itoa(calls))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		start, err := cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		cmds[i], starts = cmd, append(starts, start)
	}
	for _, start := range starts {
		require.NoError(t, start.Close())
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "process %d: %s", i, &outs[i])
	}
	require.Len(t, api.arrivals(), processes*calls)

	// call reports whether a call within a budget of `of` an hour goes at once.
	call := func(of int) bool {
		c, err := cfapi.New(cfapi.Options{BaseURL: api.srv.URL, Token: testToken, AccountID: testAccount,
			Budget: cfapi.Budget{Requests: of, Window: time.Hour}, LedgerDir: dir})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err = c.ListQueues(ctx)
		return err == nil
	}
	// A budget of one more than the processes' calls: the ledger holds no
	// more bookings than their calls, and with this call's, it holds one
	// more than all of them.
	require.True(t, call(processes*calls+1), "no call is booked twice")
	require.False(t, call(processes*calls+1), "every call is booked")
}

func TestLedgerDirFromEnv(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", t.TempDir())
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	tests := []struct {
		name, dir string
		homeless  bool
		want      string
	}{
		{"unset: the user's cache", "", false, filepath.Join(cache, "dome-infra", "api-budget")},
		{"a directory", " /srv/budget ", false, "/srv/budget"},
		{"off", "off", false, ""},
		{"unset, and no cache to keep it in", "", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.homeless {
				t.Setenv("HOME", "")
			}
			require.Equal(t, tc.want, cfapi.LedgerDirFromEnv(func(k string) string {
				return map[string]string{cfapi.EnvLedgerDir: tc.dir}[k]
			}))
		})
	}
}
