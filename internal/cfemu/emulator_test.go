package cfemu

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewRequiresTokenAndAccount(t *testing.T) {
	for _, cfg := range []Config{{AccountID: "a"}, {Token: "t"}} {
		_, err := New(cfg)
		require.Error(t, err)
	}
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, auth, path string
		status, code     int
	}{
		{"no header", "", "/d1/database", http.StatusForbidden, 10000},
		{"wrong token", "Bearer nope", "/d1/database", http.StatusForbidden, 10000},
		{"not bearer", "Basic " + testToken, "/r2/buckets", http.StatusForbidden, 10000},
		{"verify with wrong token", "Bearer nope", "/client/v4/user/tokens/verify", http.StatusUnauthorized, 1000},
		{"verify without token", "", "/client/v4/user/tokens/verify", http.StatusUnauthorized, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustFail(t, h.callAs(tt.auth, http.MethodGet, tt.path, nil), tt.status, tt.code)
		})
	}
	t.Run("refused requests change nothing", func(t *testing.T) {
		mustFail(t, h.callAs("Bearer nope", http.MethodPost, "/d1/database", map[string]string{"name": "x"}), http.StatusForbidden, 10000)
		require.Empty(t, h.emu.acct.st.D1)
	})
}

func TestTokenVerifyAndAccount(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/client/v4/user/tokens/verify", "/tokens/verify"} {
		res := mustOK(t, h.call(http.MethodGet, path, nil)).obj(t)
		require.Equal(t, "active", res["status"])
		require.NotEmpty(t, res["id"])
	}
	acct := mustOK(t, h.call(http.MethodGet, "", nil)).obj(t)
	require.Equal(t, testAccount, acct["id"])
}

func TestEnvelopeAndRouting(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, method, path string
		body               any
		status, code       int
	}{
		{"unknown route", http.MethodGet, "/no/such/thing", nil, http.StatusNotFound, 7000},
		{"outside /client/v4", http.MethodGet, "/client/v3/x", nil, http.StatusNotFound, 7000},
		{"unknown account", http.MethodGet, "/client/v4/accounts/other/d1/database", nil, http.StatusNotFound, 7003},
		{"wrong method", http.MethodPatch, "/d1/database", nil, http.StatusMethodNotAllowed, 10405},
		{"malformed JSON", http.MethodPost, "/d1/database", `{"name":`, http.StatusBadRequest, 6007},
		{"empty body", http.MethodPost, "/storage/kv/namespaces", "", http.StatusBadRequest, 6007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.call(tt.method, tt.path, tt.body)
			mustFail(t, r, tt.status, tt.code)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			require.NotNil(t, r.env.Messages, "messages is an array, never null")
			require.Equal(t, "null", string(r.env.Result))
		})
	}
	t.Run("success envelope", func(t *testing.T) {
		r := mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Contains(t, string(r.raw), `"errors":[]`)
		require.Contains(t, string(r.raw), `"messages":[]`)
		require.Equal(t, "[]", string(r.env.Result))
	})
}

// TestPaging checks result_info on every paged list and that the paging
// loop of cloudflare-go and the official provider (request page N until
// page >= total_pages) ends.
func TestPaging(t *testing.T) {
	h := newHarness(t)
	for i := range 7 {
		mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": fmt.Sprintf("db%d", i)}))
		mustOK(t, h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": fmt.Sprintf("ns%d", i)}))
		mustOK(t, h.call(http.MethodPost, "/queues", map[string]string{"queue_name": fmt.Sprintf("q%d", i)}))
	}
	for _, path := range []string{"/d1/database", "/storage/kv/namespaces", "/queues", "/workers/queues"} {
		t.Run(path, func(t *testing.T) {
			var names []any
			requests := 0
			for page := 1; ; page++ {
				requests++
				require.Less(t, requests, 10, "paging loop does not end")
				r := mustOK(t, h.call(http.MethodGet, fmt.Sprintf("%s?page=%d&per_page=3", path, page), nil))
				var items []map[string]any
				r.into(t, &items)
				for _, it := range items {
					names = append(names, it["name"], it["title"], it["queue_name"])
				}
				info := r.env.ResultInfo
				require.EqualValues(t, page, info["page"])
				require.EqualValues(t, 3, info["per_page"])
				require.EqualValues(t, len(items), info["count"])
				require.EqualValues(t, 7, info["total_count"])
				require.EqualValues(t, 3, info["total_pages"])
				if int(info["page"].(float64)) >= int(info["total_pages"].(float64)) {
					break
				}
			}
			require.Equal(t, 3, requests)
			require.Len(t, names, 21)
		})
	}
	t.Run("empty list ends at once", func(t *testing.T) {
		r := mustOK(t, h.call(http.MethodGet, "/d1/database?name=nothing-matches", nil))
		require.EqualValues(t, 1, r.env.ResultInfo["page"])
		require.EqualValues(t, 0, r.env.ResultInfo["total_pages"])
	})
	t.Run("page past the end is empty", func(t *testing.T) {
		r := mustOK(t, h.call(http.MethodGet, "/d1/database?page=99&per_page=5", nil))
		require.Equal(t, "[]", string(r.env.Result))
		require.EqualValues(t, 2, r.env.ResultInfo["total_pages"])
	})
	t.Run("unusable paging values fall back to defaults", func(t *testing.T) {
		r := mustOK(t, h.call(http.MethodGet, "/storage/kv/namespaces?page=x&per_page=-1", nil))
		require.EqualValues(t, 1, r.env.ResultInfo["page"])
		require.EqualValues(t, 20, r.env.ResultInfo["per_page"])
	})
	t.Run("per_page is capped", func(t *testing.T) {
		r := mustOK(t, h.call(http.MethodGet, "/queues?per_page=100000", nil))
		require.EqualValues(t, 1000, r.env.ResultInfo["per_page"])
	})
}

func TestRequestLog(t *testing.T) {
	h := newHarness(t)
	mustOK(t, h.call(http.MethodPost, "/d1/database?x=1", map[string]string{"name": "logged"}))
	mustFail(t, h.callAs("Bearer wrong", http.MethodGet, "/d1/database", nil), http.StatusForbidden, 10000)
	h.emu.Inject(Fault{Status: http.StatusServiceUnavailable, Count: 1})
	mustFail(t, h.call(http.MethodGet, "/r2/buckets", nil), http.StatusServiceUnavailable, 10013)

	log := h.emu.Requests()
	require.Len(t, log, 3)
	first := log[0]
	require.Equal(t, http.MethodPost, first.Method)
	require.Equal(t, "/client/v4/accounts/acc/d1/database", first.Path)
	require.Equal(t, "x=1", first.RawQuery)
	require.JSONEq(t, `{"name":"logged"}`, string(first.Body))
	require.Equal(t, http.StatusOK, first.Status)
	require.Equal(t, "Bearer [redacted]", first.Header.Get("Authorization"))
	require.True(t, first.Mutating())
	require.False(t, first.Time.IsZero())
	require.Equal(t, http.StatusForbidden, log[1].Status)
	require.Equal(t, "Bearer [redacted]", log[1].Header.Get("Authorization"), "refused tokens are redacted too")
	require.False(t, log[1].Mutating())
	require.Equal(t, http.StatusServiceUnavailable, log[2].Status)
	require.True(t, !log[1].Time.Before(first.Time) && !log[2].Time.Before(log[1].Time), "arrival order")

	log[0].Method = "changed"
	require.Equal(t, http.MethodPost, h.emu.Requests()[0].Method, "Requests returns a copy")
	h.emu.ResetLog()
	require.Empty(t, h.emu.Requests())

	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		require.True(t, Request{Method: m}.Mutating(), m)
	}
	for _, m := range []string{"GET", "HEAD", "OPTIONS"} {
		require.False(t, Request{Method: m}.Mutating(), m)
	}
}

func TestFaults(t *testing.T) {
	t.Run("latency", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Latency: 100 * time.Millisecond, Count: 1})
		start := time.Now()
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
		require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
		require.GreaterOrEqual(t, h.emu.Requests()[0].Duration, 100*time.Millisecond)
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
		require.Less(t, h.emu.Requests()[1].Duration, 100*time.Millisecond, "the fault was used up")
	})
	t.Run("429 with Retry-After rounded up", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond, Count: 1})
		r := h.call(http.MethodGet, "/d1/database", nil)
		mustFail(t, r, http.StatusTooManyRequests, 971)
		require.Equal(t, "2", r.header.Get("Retry-After"))
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
	})
	t.Run("5xx for the next N requests, before auth", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Status: http.StatusInternalServerError, Count: 2})
		mustFail(t, h.callAs("", http.MethodGet, "/d1/database", nil), http.StatusInternalServerError, 10013)
		mustFail(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "x"}), http.StatusInternalServerError, 10013)
		require.Empty(t, h.emu.acct.st.D1, "a faulted request is not handled")
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
	})
	t.Run("by method and path", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Method: http.MethodPost, PathPrefix: "/client/v4/accounts/acc/r2/", Status: http.StatusBadGateway})
		mustOK(t, h.call(http.MethodGet, "/r2/buckets", nil))
		mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "d"}))
		for range 3 { // Count 0: every matching request
			mustFail(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "bkt"}), http.StatusBadGateway, 10013)
		}
		h.emu.ClearFaults()
		mustOK(t, h.call(http.MethodPost, "/r2/buckets", map[string]string{"name": "bkt"}))
	})
	t.Run("after the first matching requests", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Method: http.MethodGet, Status: http.StatusServiceUnavailable, Skip: 2, Count: 1})
		mustOK(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "d"})) // not matching: not counted
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
		mustOK(t, h.call(http.MethodGet, "/r2/buckets", nil))
		mustFail(t, h.call(http.MethodGet, "/d1/database", nil), http.StatusServiceUnavailable, 10013)
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
	})
	t.Run("latency and status together", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Latency: 20 * time.Millisecond, Count: 1})
		h.emu.Inject(Fault{Status: http.StatusServiceUnavailable, Count: 1})
		start := time.Now()
		mustFail(t, h.call(http.MethodGet, "/d1/database", nil), http.StatusServiceUnavailable, 10013)
		require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
		mustOK(t, h.call(http.MethodGet, "/d1/database", nil))
	})
	t.Run("a lost answer: the call applies, the client gets no answer", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Method: http.MethodPost, PathPrefix: "/client/v4/accounts/acc/d1/", LoseAnswer: true, Count: 1})
		req, err := http.NewRequest(http.MethodPost, h.url("/d1/database"), strings.NewReader(`{"name":"d"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testToken)
		res, err := h.srv.Client().Do(req)
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		require.Error(t, err, "the connection is reset before the body")
		require.Len(t, h.emu.acct.st.D1, 1, "the call was carried out")
		require.Equal(t, http.StatusOK, h.emu.Requests()[0].Status, "and logged with the status it had")
		mustFail(t, h.call(http.MethodPost, "/d1/database", map[string]string{"name": "d"}), http.StatusBadRequest, 7502)
	})
	t.Run("latency ends early when the client gives up", func(t *testing.T) {
		h := newHarness(t)
		h.emu.Inject(Fault{Latency: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url("/d1/database"), nil)
		require.NoError(t, err)
		cancel()
		_, err = h.srv.Client().Do(req)
		require.Error(t, err)
	})
}

// TestConcurrentRequests runs creates in parallel, as the official
// provider does for independent resources (run it with -race).
func TestConcurrentRequests(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := h.call(http.MethodPost, "/storage/kv/namespaces", map[string]string{"title": fmt.Sprintf("t%d", i)})
			if r.status != http.StatusOK {
				errs <- string(r.raw)
			}
		}()
		go func() {
			defer wg.Done()
			if r := h.call(http.MethodGet, "/storage/kv/namespaces", nil); r.status != http.StatusOK {
				errs <- string(r.raw)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	require.Len(t, h.emu.acct.st.KV, 20)
	require.Len(t, h.emu.Requests(), 40)
}

func TestOversizedBody(t *testing.T) {
	h := newHarness(t)
	r := h.call(http.MethodPost, "/d1/database", strings.Repeat("x", maxBodyBytes+1))
	mustFail(t, r, http.StatusRequestEntityTooLarge, 10027)
}
