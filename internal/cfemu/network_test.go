package cfemu

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateLimit(t *testing.T) {
	l := &limiter{RateLimit: RateLimit{Requests: 3, Window: 10 * time.Second}}
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		_, ok := l.take(t0.Add(time.Duration(i) * time.Second))
		require.True(t, ok, "call %d is within the budget", i)
	}
	wait, ok := l.take(t0.Add(3 * time.Second))
	require.False(t, ok, "the fourth call in 10 s is refused")
	require.Equal(t, 7*time.Second, wait, "until the first call leaves the window")
	_, ok = l.take(t0.Add(10 * time.Second))
	require.True(t, ok, "the first call has left the window; refused calls did not count")
	_, ok = l.take(t0.Add(10*time.Second + time.Millisecond))
	require.False(t, ok)

	// Over HTTP: Cloudflare's answer, with Retry-After in whole seconds.
	emu, err := New(Config{Token: testToken, AccountID: testAccount, RateLimit: RateLimit{Requests: 2, Window: time.Minute}})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	h := &harness{t: t, emu: emu, srv: srv}
	mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
	mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
	r := h.call(http.MethodGet, "/d1/database", nil)
	mustFail(t, r, http.StatusTooManyRequests, 971)
	require.Equal(t, "Please wait and consider throttling your request speed", r.env.Errors[0].Message)
	require.Contains(t, []string{"59", "60"}, r.header.Get("Retry-After"))
}

// TestFaultyNetwork checks both faults through a real reverse proxy: a 503
// never reaches the API, a reset reaches it and loses only the answer.
func TestFaultyNetwork(t *testing.T) {
	h := newHarness(t)
	target, err := url.Parse(h.srv.URL)
	require.NoError(t, err)
	const seed = 7
	net := NewFaultyNetwork(httputil.NewSingleHostReverseProxy(target), NetworkFaults{Seed: seed, Unavailable: 0.3, Reset: 0.3})
	proxy := httptest.NewServer(net)
	defer proxy.Close()

	call := func(name string) (status int, err error) {
		req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/client/v4/accounts/acc/d1/database", strings.NewReader(`{"name":"`+name+`"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		res, err := proxy.Client().Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		_, err = io.ReadAll(res.Body)
		return res.StatusCode, err
	}
	var unavailable, reset, fine []string
	for i := range 40 {
		name := "db" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		status, err := call(name)
		switch {
		case err != nil:
			require.Equal(t, http.StatusOK, status, "the headers arrived before the reset")
			reset = append(reset, name)
		case status == http.StatusServiceUnavailable:
			unavailable = append(unavailable, name)
		default:
			require.Equal(t, http.StatusOK, status)
			fine = append(fine, name)
		}
	}
	c := net.Counts()
	require.Equal(t, FaultCounts{Calls: 40, Unavailable: len(unavailable), Reset: len(reset)}, c)
	require.NotEmpty(t, unavailable)
	require.NotEmpty(t, reset)
	require.NotEmpty(t, fine)
	for _, name := range unavailable {
		require.NotContains(t, d1Names(h.emu), name, "a 503 never reached the API")
	}
	for _, name := range append(reset, fine...) {
		require.Contains(t, d1Names(h.emu), name, "a reset call was carried out")
	}

	// The same seed fails the same calls.
	again := NewFaultyNetwork(http.NotFoundHandler(), NetworkFaults{Seed: seed, Unavailable: 0.3, Reset: 0.3})
	req := httptest.NewRequest(http.MethodPost, "/client/v4/accounts/acc/d1/database", nil)
	for range 40 {
		again.draw(req)
	}
	require.Equal(t, FaultCounts{Calls: 40, Unavailable: len(unavailable), Reset: len(reset)}, again.Counts())

	net.Heal()
	status, err := call("healed")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}

func d1Names(emu *Emulator) []string {
	emu.acct.mu.Lock()
	defer emu.acct.mu.Unlock()
	var names []string
	for _, d := range emu.acct.st.D1 {
		names = append(names, d.Name)
	}
	return names
}

// TestFirstWrites: the first write of each method and path loses its
// answer, after being carried out; reads, and later writes, go through.
func TestFirstWrites(t *testing.T) {
	net := NewFaultyNetwork(http.NotFoundHandler(), NetworkFaults{FirstWrites: true})
	for _, tt := range []struct {
		method, path string
		reset        bool
	}{
		{http.MethodGet, "/client/v4/accounts/acc/d1/database", false},
		{http.MethodPost, "/client/v4/accounts/acc/d1/database", true},
		{http.MethodPost, "/client/v4/accounts/acc/d1/database", false},
		{http.MethodPut, "/client/v4/accounts/acc/workers/scripts/a", true},
		{http.MethodPut, "/client/v4/accounts/acc/workers/scripts/b", true},
		{http.MethodPut, "/client/v4/accounts/acc/workers/scripts/a", false},
		{http.MethodGet, "/client/v4/accounts/acc/workers/scripts/c", false},
	} {
		require.Equal(t, tt.reset, net.draw(httptest.NewRequest(tt.method, tt.path, nil)) == 2, "%s %s", tt.method, tt.path)
	}
	require.Equal(t, FaultCounts{Calls: 7, Reset: 3}, net.Counts())
}
