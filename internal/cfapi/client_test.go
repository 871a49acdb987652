package cfapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

const (
	testToken   = "test-token"
	testAccount = "acc"
)

// recorder stands in for the client's sleep and log hooks: it keeps the
// waits the client asked for, without waiting, and the lines it logged.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
	logs   []string
}

func (r *recorder) sleep(_ context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return nil
}

func (r *recorder) logf(_ context.Context, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

type emuEnv struct {
	emu    *cfemu.Emulator
	srv    *httptest.Server
	client *cfapi.Client
	rec    *recorder
}

func newEmuEnv(t *testing.T, token string) *emuEnv {
	t.Helper()
	emu, err := cfemu.New(cfemu.Config{Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	client, err := cfapi.New(cfapi.Options{
		BaseURL:     srv.URL + "/client/v4",
		Token:       token,
		AccountID:   testAccount,
		MaxAttempts: 4,
		BackoffBase: 10 * time.Millisecond,
		BackoffCap:  10 * time.Second,
		Sleep:       rec.sleep,
		Logf:        rec.logf,
	})
	require.NoError(t, err)
	return &emuEnv{emu: emu, srv: srv, client: client, rec: rec}
}

func statuses(reqs []cfemu.Request) []int {
	out := make([]int, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, r.Status)
	}
	return out
}

func TestRetries(t *testing.T) {
	const indexes = "/client/v4/accounts/acc/vectorize/v2/indexes"
	tests := []struct {
		name     string
		token    string
		fault    *cfemu.Fault
		statuses []int
		sleeps   func(t *testing.T, sleeps []time.Duration)
		err      *cfapi.Error // nil: the call succeeds
	}{
		{
			name:     "429 with Retry-After is retried after the asked wait",
			token:    testToken,
			fault:    &cfemu.Fault{Method: "GET", PathPrefix: indexes, Count: 1, Status: 429, RetryAfter: 2 * time.Second},
			statuses: []int{429, 200},
			sleeps: func(t *testing.T, s []time.Duration) {
				require.Equal(t, []time.Duration{2 * time.Second}, s)
			},
		},
		{
			name:     "a burst of 5xx is retried with growing jittered waits",
			token:    testToken,
			fault:    &cfemu.Fault{Method: "GET", PathPrefix: indexes, Count: 3, Status: 503},
			statuses: []int{503, 503, 503, 200},
			sleeps: func(t *testing.T, s []time.Duration) {
				require.Len(t, s, 3)
				for i, d := range s {
					step := 10 * time.Millisecond << i
					require.GreaterOrEqual(t, d, step/2, "wait %d", i)
					require.LessOrEqual(t, d, step, "wait %d", i)
				}
			},
		},
		{
			name:     "a persistent 5xx fails with Cloudflare's message after the last attempt",
			token:    testToken,
			fault:    &cfemu.Fault{Method: "GET", PathPrefix: indexes, Status: 500},
			statuses: []int{500, 500, 500, 500},
			sleeps:   func(t *testing.T, s []time.Duration) { require.Len(t, s, 3) },
			err: &cfapi.Error{Method: "GET", Path: "/accounts/acc/vectorize/v2/indexes", Status: 500, Code: 10013,
				Message: "injected fault: HTTP 500 Internal Server Error"},
		},
		{
			name:     "a 403 fails at once",
			token:    "wrong-token",
			statuses: []int{403},
			sleeps:   func(t *testing.T, s []time.Duration) { require.Empty(t, s) },
			err: &cfapi.Error{Method: "GET", Path: "/accounts/acc/vectorize/v2/indexes", Status: 403, Code: 10000,
				Message: "Authentication error"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEmuEnv(t, tc.token)
			if tc.fault != nil {
				env.emu.Inject(*tc.fault)
			}
			_, err := env.client.ListVectorizeIndexes(t.Context())
			if tc.err == nil {
				require.NoError(t, err)
			} else {
				var apiErr *cfapi.Error
				require.ErrorAs(t, err, &apiErr)
				require.Equal(t, tc.err, apiErr)
				require.NotContains(t, err.Error(), tc.token)
			}
			require.Equal(t, tc.statuses, statuses(env.emu.Requests()))
			tc.sleeps(t, env.rec.sleeps)
			require.Len(t, env.rec.logs, len(env.rec.sleeps), "one log line per retry")
			for _, l := range env.rec.logs {
				require.NotContains(t, l, tc.token)
			}
		})
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	env := newEmuEnv(t, testToken)
	env.emu.Inject(cfemu.Fault{Count: 1, Status: 429, RetryAfter: time.Hour})
	_, err := env.client.ListQueues(t.Context())
	require.NoError(t, err)
	require.Equal(t, []time.Duration{10 * time.Second}, env.rec.sleeps)
}

func TestSleepCancelledByContext(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	emu.Inject(cfemu.Fault{Status: 503})
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: testToken, AccountID: testAccount,
		BackoffBase: time.Hour, BackoffCap: time.Hour})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = client.ListQueues(ctx)
	var apiErr *cfapi.Error
	require.ErrorAs(t, err, &apiErr, "the last Cloudflare error is kept")
	require.ErrorContains(t, err, "gave up waiting to retry")
	require.Len(t, emu.Requests(), 1)
}

func TestErrorHelpers(t *testing.T) {
	env := newEmuEnv(t, testToken)
	ctx := t.Context()

	_, err := env.client.GetVectorizeIndex(ctx, "missing")
	require.True(t, cfapi.IsNotFound(err), "%v", err)
	require.False(t, cfapi.AlreadyExists(err))

	_, err = env.client.GetScriptSettings(ctx, "missing")
	require.True(t, cfapi.IsNotFound(err), "%v", err)

	params := cfapi.CreateVectorizeIndexParams{Name: "dup", Config: cfapi.VectorizeConfig{Dimensions: 3, Metric: "cosine"}}
	_, err = env.client.CreateVectorizeIndex(ctx, params)
	require.NoError(t, err)
	_, err = env.client.CreateVectorizeIndex(ctx, params)
	require.True(t, cfapi.AlreadyExists(err), "%v", err)
	require.False(t, cfapi.IsNotFound(err))
	var apiErr *cfapi.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 3002, apiErr.Code)
	require.Equal(t,
		`cloudflare: POST /accounts/acc/vectorize/v2/indexes: HTTP 409, code 3002: vectorize.index.duplicate_name: an index named "dup" already exists`,
		err.Error())

	require.False(t, cfapi.IsNotFound(fmt.Errorf("plain")))
}

// A proxy in front of Cloudflare can answer with HTML; the error still
// carries the status and says what came back.
func TestNonEnvelopeError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>\n  <body>bad gateway</body>\n</html>"))
	}))
	t.Cleanup(srv.Close)
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL, Token: testToken, AccountID: testAccount, MaxAttempts: 1})
	require.NoError(t, err)
	_, err = client.ListQueues(t.Context())
	var apiErr *cfapi.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 502, apiErr.Status)
	require.Equal(t, 0, apiErr.Code)
	require.Equal(t, "Bad Gateway: <html> <body>bad gateway</body> </html>", apiErr.Message)
}

func TestPaging(t *testing.T) {
	var pages []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		page := r.URL.Query().Get("page")
		pages = append(pages, page)
		n := map[string]int{"": 1, "2": 2, "3": 3}[page]
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"success": true, "errors": []any{}, "messages": []any{},
			"result":      []map[string]string{{"uuid": fmt.Sprint("db-", n), "name": fmt.Sprint("db", n)}},
			"result_info": map[string]int{"page": n, "per_page": 1, "count": 1, "total_count": 3, "total_pages": 3},
		})
	}))
	t.Cleanup(srv.Close)
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL, Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	dbs, err := client.ListD1Databases(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{"", "2", "3"}, pages)
	require.Equal(t, []cfapi.D1Database{{UUID: "db-1", Name: "db1"}, {UUID: "db-2", Name: "db2"}, {UUID: "db-3", Name: "db3"}}, dbs)
}

// raw sends a request to the emulator the way a test fixture would, outside the client.
func raw(t *testing.T, env *emuEnv, method, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, env.srv.URL+"/client/v4/accounts/acc"+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := env.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var env2 struct {
		Success bool           `json:"success"`
		Result  map[string]any `json:"result"`
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	require.NoError(t, json.Unmarshal(buf.Bytes(), &env2), buf.String())
	require.True(t, env2.Success, buf.String())
	return env2.Result
}

// The import tool lists an account's resources through these calls.
func TestListAccountResources(t *testing.T) {
	env := newEmuEnv(t, testToken)
	ctx := t.Context()
	db := raw(t, env, "POST", "/d1/database", `{"name":"dome-db"}`)
	raw(t, env, "POST", "/r2/buckets", `{"name":"dome-files"}`)
	for i := range 25 {
		raw(t, env, "POST", "/queues", fmt.Sprintf(`{"queue_name":"q%02d"}`, i))
	}
	kv := raw(t, env, "POST", "/storage/kv/namespaces", `{"title":"dome-cache"}`)
	_, err := env.client.CreateVectorizeIndex(ctx, cfapi.CreateVectorizeIndexParams{
		Name: "dome-notes", Config: cfapi.VectorizeConfig{Preset: "@cf/baai/bge-base-en-v1.5"}})
	require.NoError(t, err)
	_, err = env.client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "dome-api",
		Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}"})
	require.NoError(t, err)

	dbs, err := env.client.ListD1Databases(ctx)
	require.NoError(t, err)
	require.Len(t, dbs, 1)
	require.Equal(t, db["uuid"], dbs[0].UUID)
	require.Equal(t, "dome-db", dbs[0].Name)

	buckets, err := env.client.ListR2Buckets(ctx)
	require.NoError(t, err)
	require.Len(t, buckets, 1)
	require.Equal(t, "dome-files", buckets[0].Name)

	queues, err := env.client.ListQueues(ctx)
	require.NoError(t, err)
	require.Len(t, queues, 25)
	require.Equal(t, "q24", queues[24].QueueName)

	namespaces, err := env.client.ListKVNamespaces(ctx)
	require.NoError(t, err)
	require.Equal(t, []cfapi.KVNamespace{{ID: kv["id"].(string), Title: "dome-cache"}}, namespaces)

	indexes, err := env.client.ListVectorizeIndexes(ctx)
	require.NoError(t, err)
	require.Len(t, indexes, 1)
	require.Equal(t, cfapi.VectorizeConfig{Dimensions: 768, Metric: "cosine"}, indexes[0].Config)
	info, err := env.client.GetVectorizeIndexInfo(ctx, "dome-notes")
	require.NoError(t, err)
	require.Equal(t, 768, info.Dimensions)
	require.Equal(t, 0, info.VectorCount)

	scripts, err := env.client.ListScripts(ctx)
	require.NoError(t, err)
	require.Len(t, scripts, 1)
	require.Equal(t, "dome-api", scripts[0].ID)
}

// R2 pages with a cursor rather than page numbers.
func TestListR2BucketsFollowsCursor(t *testing.T) {
	var cursors []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := r.URL.Query().Get("cursor")
		cursors = append(cursors, cur)
		name, next := "a", "c1"
		if cur == "c1" {
			name, next = "b", ""
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"success": true, "errors": []any{}, "messages": []any{},
			"result":      map[string]any{"buckets": []map[string]string{{"name": name}}},
			"result_info": map[string]any{"cursor": next, "per_page": 1},
		})
	}))
	t.Cleanup(srv.Close)
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL, Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	buckets, err := client.ListR2Buckets(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{"", "c1"}, cursors)
	require.Equal(t, []cfapi.R2Bucket{{Name: "a"}, {Name: "b"}}, buckets)
}
