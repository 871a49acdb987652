package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/bindings"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/databases"
	"github.com/dome/infra/internal/domecf"
	"github.com/dome/infra/internal/entrypoints"
	"github.com/dome/infra/internal/queues"
	"github.com/dome/infra/internal/runtime"
	"github.com/dome/infra/internal/storage"
	"github.com/dome/infra/internal/vectorize"
	"github.com/dome/infra/internal/workers"
)

// localDome is the emulator with its workers running, served over TLS as
// `just emulator` serves it.
type localDome struct {
	t      testing.TB
	emu    *cfemu.Emulator
	srv    *httptest.Server
	host   string // 127.0.0.1:port
	cert   string // the emulator's certificate, for SSL_CERT_FILE
	client *http.Client
	logs   *syncBuffer
	rt     *runtime.Runtime
}

// syncBuffer is the runtime's log, written by its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startLocalDome(t testing.TB) *localDome {
	t.Helper()
	if _, err := os.Stat("runtime/node_modules/miniflare"); err != nil {
		t.Fatal("the runtime's npm packages are not installed: run 'just runtime-install' (just test does)")
	}
	emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount, Zones: []string{"dome.example"}})
	require.NoError(t, err)
	logs := &syncBuffer{}
	rt, err := runtime.Start(runtime.Options{HostDir: "runtime", Dir: t.TempDir(), Callback: emu.RuntimeCallbacks(), Log: log.New(logs, "", 0)})
	require.NoError(t, err)
	srv, certFile := serveTLS(t, emu, t.TempDir())
	require.NoError(t, emu.Attach(rt))
	d := &localDome{t: t, emu: emu, srv: srv, host: must(url.Parse(srv.URL)).Host, cert: certFile, logs: logs, rt: rt}
	pem, err := os.ReadFile(certFile)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	// Every hostname reaches the emulator's address, as curl --resolve does.
	dialer := &net.Dialer{}
	d.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, d.host)
		},
	}}
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, rt.Stop())
		require.NoError(t, emu.Close())
		if t.Failed() {
			t.Logf("runtime log:\n%s", logs)
		}
	})
	return d
}

// request sends a request to a hostname of the account's workers.
func (d *localDome) request(method, rawURL, body string) (int, string) {
	d.t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	require.NoError(d.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	require.NoError(d.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(d.t, err)
	return resp.StatusCode, string(b)
}

// serve asks worker directly, whatever hostnames it has, and returns the
// status it answers.
func (d *localDome) serve(worker, path string) int {
	rec := httptest.NewRecorder()
	d.rt.Serve(rec, httptest.NewRequest(http.MethodGet, path, nil), worker)
	return rec.Code
}

// apiCall sends a call of the emulator's API, below the account.
func (d *localDome) apiCall(method, path, body string) *http.Response {
	d.t.Helper()
	req, err := http.NewRequest(method, "https://"+d.host+"/client/v4/accounts/"+e2eAccount+path, strings.NewReader(body))
	require.NoError(d.t, err)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	require.NoError(d.t, err)
	return resp
}

// api calls the emulator's API and decodes the envelope's result.
func (d *localDome) api(method, path, body string, out any) {
	d.t.Helper()
	resp := d.apiCall(method, path, body)
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Result  json.RawMessage `json:"result"`
		Errors  []any           `json:"errors"`
	}
	require.NoError(d.t, json.NewDecoder(resp.Body).Decode(&env))
	require.True(d.t, env.Success, "%s %s: %v", method, path, env.Errors)
	if out != nil {
		require.NoError(d.t, json.Unmarshal(env.Result, out))
	}
}

// query runs SQL on the D1 database named name through the API, as
// `just db-status` and wrangler's `d1 execute --remote` do.
func (d *localDome) query(name, sql string) []map[string]any {
	d.t.Helper()
	var dbs []struct{ UUID, Name string }
	d.api(http.MethodGet, "/d1/database", "", &dbs)
	for _, db := range dbs {
		if db.Name == name {
			var res []struct {
				Results []map[string]any `json:"results"`
			}
			body, err := json.Marshal(map[string]string{"sql": sql})
			require.NoError(d.t, err)
			d.api(http.MethodPost, "/d1/database/"+db.UUID+"/query", string(body), &res)
			return res[0].Results
		}
	}
	d.t.Fatalf("no D1 database %q", name)
	return nil
}

// TestLocalDomeRuns deploys the local stack with the whole program, then
// uses Dome as a developer would: a note posted to dome-api goes through
// every hop (silo's D1 row and R2 object, the R2 notification, the queues,
// constellation's embedding in Vectorize, ai-processor's summary) and is
// found by search; dome-cron's scheduled handler records its run.
func TestLocalDomeRuns(t *testing.T) {
	requireCloudflarePlugin(t)
	d := startLocalDome(t)
	e := d.localStack(t, must(filepath.Abs("testdata/services")))
	defer e.dump()
	e.up()
	useDome(t, d, true)
}

// TestLocalDomeRunsOnCompanion is TestLocalDomeRuns on what a fresh
// machine has: the companion provider, the emulator and its runtime, but
// not the official provider. What only the official provider creates (D1
// databases, buckets, queues; cron triggers, routes and custom domains) is
// made through the API under the stack's names, as it would make them; the
// rest of the program (schema migrations, the Vectorize index, event
// notifications, every worker from its bundle with its bindings, workers.dev
// and queue consumers) deploys through the engine, and Dome is used the
// same way.
func TestLocalDomeRunsOnCompanion(t *testing.T) {
	d := startLocalDome(t)
	vals, err := config.ReadFiles(".", "local")
	require.NoError(t, err)
	vals.Config["dome:apiHostname"] = d.host
	vals.Config["dome:servicesRoot"] = must(filepath.Abs("testdata/services"))
	env := map[string]string{config.EnvAccountID: e2eAccount, config.EnvAPIToken: e2eToken, config.EnvBundleDir: t.TempDir()}
	cfg, err := config.Load(vals, func(k string) string { return env[k] })
	require.NoError(t, err)
	for i := range cfg.Topology.Workers {
		w := &cfg.Topology.Workers[i]
		w.Crons, w.Routes, w.CustomDomains = nil, nil, nil
	}

	res := bindings.Resources{Databases: map[string]bindings.Ref{}, Buckets: map[string]bindings.Ref{}, Queues: map[string]bindings.Ref{}}
	ref := func(id, name string) bindings.Ref {
		return bindings.Ref{ID: pulumi.String(id).ToStringOutput(), Name: pulumi.String(name).ToStringOutput()}
	}
	for _, db := range cfg.Topology.D1Databases {
		var made struct{ UUID string }
		d.api(http.MethodPost, "/d1/database", `{"name":"`+cfg.Name(db.Name)+`"}`, &made)
		res.Databases[db.Name] = ref(made.UUID, cfg.Name(db.Name))
	}
	for _, b := range cfg.Topology.R2Buckets {
		d.api(http.MethodPost, "/r2/buckets", `{"name":"`+cfg.Name(b.Name)+`"}`, nil)
		res.Buckets[b.Name] = ref(cfg.Name(b.Name), cfg.Name(b.Name))
	}
	for _, q := range cfg.Topology.Queues {
		var made struct {
			ID string `json:"queue_id"`
		}
		d.api(http.MethodPost, "/queues", `{"queue_name":"`+cfg.Name(q.Name)+`"}`, &made)
		res.Queues[q.Name] = ref(made.ID, cfg.Name(q.Name))
	}

	program := func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, "https://"+d.host+"/client/v4")
		if err != nil {
			return err
		}
		if res.Migrations, err = databases.Migrate(ctx, cfg, res.Databases, use); err != nil {
			return err
		}
		if res.Indexes, err = vectorize.Create(ctx, cfg, use); err != nil {
			return err
		}
		if _, err = storage.Notify(ctx, cfg, res.Buckets, res.Queues, use); err != nil {
			return err
		}
		ws, err := workers.Create(ctx, cfg, res, use)
		if err != nil {
			return err
		}
		scripts := map[string]*domecf.WorkerScript{}
		for _, w := range cfg.Topology.Workers {
			scripts[w.Name] = ws[w.Name].Script
			if _, err := entrypoints.Create(ctx, cfg, w, ws[w.Name].Script, entrypoints.Zones{}, use); err != nil {
				return err
			}
		}
		_, err = queues.Consume(ctx, cfg, res.Queues, scripts, use)
		return err
	}
	e := newEngine(t, "local", program, map[string]string{"SSL_CERT_FILE": d.cert})
	defer e.dump()
	e.up()
	useDome(t, d, false)
}

// localStack is the local stack's engine, pointed at d, its workers' code
// under servicesRoot.
func (d *localDome) localStack(t testing.TB, servicesRoot string) *engine {
	t.Helper()
	vals, err := config.ReadFiles(".", "local")
	require.NoError(t, err)
	vals.Config["dome:apiHostname"] = d.host
	vals.Config["dome:servicesRoot"] = servicesRoot
	env := map[string]string{config.EnvAccountID: e2eAccount, config.EnvAPIToken: e2eToken, config.EnvBundleDir: t.TempDir()}
	e := newEngine(t, "local", wholeProgram(func(k string) string { return env[k] }), map[string]string{"SSL_CERT_FILE": d.cert, "CLOUDFLARE_RPS": "100", "PULUMI_HOME": ""})
	require.NoError(t, e.stack.SetAllConfig(context.Background(), stackConfig(vals)))
	return e
}

// BenchmarkLocalDome measures, through the engine, what a developer waits
// for: a deploy of the local stack, every worker answering after it ends, a
// code change live after its up ends, and a request's latency through
// dome-api → silo → D1. The runtime's memory is in internal/runtime's
// benchmark of the same name.
func BenchmarkLocalDome(b *testing.B) {
	requireCloudflarePlugin(b)
	for range b.N {
		d := startLocalDome(b)
		services := b.TempDir()
		require.NoError(b, os.CopyFS(services, os.DirFS("testdata/services")))
		e := d.localStack(b, services)

		t0 := time.Now()
		e.up()
		upEnded := time.Now()
		deploy := upEnded.Sub(t0)
		for _, w := range []string{"dome-api", "silo", "constellation", "ai-processor", "dome-cron", "dome-notify"} {
			for d.serve(w+"-dev", "/") == http.StatusServiceUnavailable {
			}
		}
		answering := time.Since(upEnded)

		// A code change: dome-api answers with a new field once it is live.
		main := filepath.Join(services, "dome-api", "src", "index.ts")
		src, err := os.ReadFile(main)
		require.NoError(b, err)
		changed := strings.Replace(string(src), `service: "dome-api", version: env.VERSION`, `service: "dome-api", version: env.VERSION, changed: true`, 1)
		require.NotEqual(b, string(src), changed)
		require.NoError(b, os.WriteFile(main, []byte(changed), 0o644))
		e.up()
		upEnded = time.Now()
		apiURL := "https://dome-api-dev." + cfemu.DefaultSubdomain + ".workers.dev"
		for {
			if _, body := d.request(http.MethodGet, apiURL+"/", ""); strings.Contains(body, `"changed":true`) {
				break
			}
		}
		live := time.Since(upEnded)

		var lat []time.Duration
		for range 200 {
			t0 := time.Now()
			status, body := d.request(http.MethodGet, apiURL+"/notes", "")
			lat = append(lat, time.Since(t0))
			require.Equal(b, http.StatusOK, status, body)
		}
		slices.Sort(lat)
		b.ReportMetric(deploy.Seconds(), "deploy-local-s")
		b.ReportMetric(float64(answering.Milliseconds()), "all-answering-after-up-ms")
		b.ReportMetric(float64(live.Milliseconds()), "change-live-after-up-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "api-silo-d1-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "api-silo-d1-p99-ms")
	}
}

// useDome walks a note through the running Dome and checks each hop where
// the API can see it.
func useDome(t *testing.T, d *localDome, official bool) {
	api := "https://dome-api-dev." + cfemu.DefaultSubdomain + ".workers.dev"
	status, body := d.request(http.MethodGet, api+"/", "")
	require.Equal(t, http.StatusOK, status, body)

	status, body = d.request(http.MethodPost, api+"/notes", `{"title":"Cats","body":"Cats purr and sleep most of the day."}`)
	require.Equal(t, http.StatusCreated, status, body)
	var note struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(body), &note))
	require.NotEmpty(t, note.ID)
	status, body = d.request(http.MethodPost, api+"/notes", `{"title":"Rockets","body":"Rockets burn fuel to reach orbit."}`)
	require.Equal(t, http.StatusCreated, status, body)

	// silo: the D1 row, and the R2 object it stored.
	rows := d.query("silo-dev", fmt.Sprintf("SELECT r2_key FROM notes WHERE id = '%s'", note.ID))
	require.Len(t, rows, 1)
	resp := d.apiCall(http.MethodGet, "/r2/buckets/silo-content-dev/objects/"+rows[0]["r2_key"].(string), "")
	object, err := io.ReadAll(resp.Body)
	require.NoError(t, errors.Join(err, resp.Body.Close()))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(object))
	require.Contains(t, string(object), "Cats purr")

	// The R2 notification reached silo's consumer; silo's queues reached
	// constellation (a vector) and ai-processor (a summary).
	require.Eventually(t, func() bool {
		rows := d.query("silo-dev", fmt.Sprintf("SELECT status, summary FROM notes WHERE id = '%s'", note.ID))
		summary, _ := rows[0]["summary"].(string)
		return rows[0]["status"] == "stored" && strings.Contains(summary, "[local stand-in")
	}, 60*time.Second, 200*time.Millisecond, "the note is stored and summarised")
	require.Eventually(t, func() bool {
		var vectors []struct{ ID string }
		d.api(http.MethodPost, "/vectorize/v2/indexes/dome-notes-dev/get_by_ids", `{"ids":["`+note.ID+`"]}`, &vectors)
		return len(vectors) == 1
	}, 60*time.Second, 200*time.Millisecond, "constellation upserted the note's embedding")

	require.Eventually(t, func() bool {
		status, body = d.request(http.MethodGet, api+"/search?q=do+cats+sleep", "")
		return status == http.StatusOK && strings.Contains(body, note.ID)
	}, 60*time.Second, 200*time.Millisecond, "search finds the note")
	var found struct {
		Results []struct{ ID string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &found))
	require.Equal(t, note.ID, found.Results[0].ID, "the nearest note ranks first: %s", body)

	status, body = d.request(http.MethodGet, api+"/notes/"+note.ID, "")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Cats purr")
	if official {
		// The same worker answers on its custom domain and its route.
		status, body = d.request(http.MethodGet, "https://api.dome.example/notes/"+note.ID, "")
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "Cats purr")
		status, _ = d.request(http.MethodGet, "https://dome.example/api/notes/"+note.ID, "")
		require.Equal(t, http.StatusOK, status)
	}

	// dome-cron's scheduled handler, fired on demand as `just cron` does
	// (for its cron trigger, which only the official provider creates).
	d.api(http.MethodPost, "/workers/scripts/dome-cron-dev/cfemu/scheduled?cron=0+*+*+*+*", "", nil)
	runs := d.query("dome-meta-dev", "SELECT notes FROM cron_runs")
	require.Len(t, runs, 1)
	require.EqualValues(t, 2, runs[0]["notes"])

	// Each worker's console output is in the log, prefixed by its name.
	require.Contains(t, d.logs.String(), "[silo-dev]")
}
