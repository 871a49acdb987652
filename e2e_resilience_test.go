package main

// Interrupted and faulty deploys on the real engine: a network that drops
// answers, a CLI killed mid-deploy, and Cloudflare's rate limit. The
// companion-only tests need just the pinned CLI; the whole-program ones
// also need the official provider plugin.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optimport"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
	"github.com/dome/infra/internal/recovery"
)

// fleet is a companion-only stack described by a config, so that recovery
// finds its resources by physical name as it does for Dome's: workers and
// Vectorize indexes only.
func fleet(workers, indexes int) *config.Config {
	cfg := &config.Config{Stack: "dev", Environment: "dev", AccountID: e2eAccount, APIToken: e2eToken}
	for i := range workers {
		cfg.Topology.Workers = append(cfg.Topology.Workers, config.Worker{Name: fmt.Sprintf("w%03d", i), CompatibilityDate: "2025-04-15"})
	}
	for i := range indexes {
		cfg.Topology.VectorizeIndexes = append(cfg.Topology.VectorizeIndexes, config.Index{Name: fmt.Sprintf("ix%d", i), Dimensions: 8, Metric: "cosine"})
	}
	return cfg
}

// fleetProgram deploys cfg's workers and indexes under their logical names,
// as the Dome program does.
func fleetProgram(cfg *config.Config, baseURL string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, baseURL)
		if err != nil {
			return err
		}
		for _, ix := range cfg.Topology.VectorizeIndexes {
			if _, err := domecf.NewVectorizeIndex(ctx, ix.Name, domecf.VectorizeIndexArgs{
				Name: pulumi.String(cfg.Name(ix.Name)), Dimensions: ix.Dimensions, Metric: ix.Metric,
			}, use); err != nil {
				return err
			}
		}
		for _, w := range cfg.Topology.Workers {
			if _, err := domecf.NewWorkerScript(ctx, w.Name, domecf.WorkerScriptArgs{
				Name:              pulumi.String(cfg.Name(w.Name)),
				Content:           workerCode("export default { fetch() { return new Response('" + w.Name + "'); } };"),
				CompatibilityDate: w.CompatibilityDate,
				// As the program does: every worker's workers.dev setting is managed.
				WorkersDev: &domecf.WorkersDev{Enabled: w.WorkersDev, Previews: w.PreviewURLs},
			}, use); err != nil {
				return err
			}
		}
		return nil
	}
}

// requireFleetExactly checks that the account holds exactly cfg's workers
// and indexes: none missing, none extra, none twice.
func requireFleetExactly(t *testing.T, cfg *config.Config, client *cfapi.Client) {
	t.Helper()
	var want, got []string
	for _, w := range cfg.Topology.Workers {
		want = append(want, "worker "+cfg.Name(w.Name))
	}
	for _, ix := range cfg.Topology.VectorizeIndexes {
		want = append(want, "index "+cfg.Name(ix.Name))
	}
	scripts, err := client.ListScripts(context.Background())
	require.NoError(t, err)
	for _, s := range scripts {
		got = append(got, "worker "+s.ID)
	}
	indexes, err := client.ListVectorizeIndexes(context.Background())
	require.NoError(t, err)
	for _, ix := range indexes {
		got = append(got, "index "+ix.Name)
	}
	slices.Sort(want)
	slices.Sort(got)
	require.Equal(t, want, got)
}

// emulated is an emulator served on loopback, optionally behind a faulty network.
type emulated struct {
	emu    *cfemu.Emulator
	api    *httptest.Server // the emulator itself
	front  *httptest.Server // what the providers call: the faulty network, or the emulator
	net    *cfemu.FaultyNetwork
	client *cfapi.Client // a client on the emulator itself, for checks
}

func newEmulated(t testing.TB, cfg cfemu.Config, faults *cfemu.NetworkFaults) *emulated {
	t.Helper()
	cfg.Token, cfg.AccountID = e2eToken, e2eAccount
	emu, err := cfemu.New(cfg)
	require.NoError(t, err)
	e := &emulated{emu: emu, api: httptest.NewServer(emu)}
	t.Cleanup(e.api.Close)
	e.front = e.api
	if faults != nil {
		target, err := url.Parse(e.api.URL)
		require.NoError(t, err)
		e.net = cfemu.NewFaultyNetwork(httputil.NewSingleHostReverseProxy(target), *faults)
		e.front = httptest.NewServer(e.net)
		t.Cleanup(e.front.Close)
	}
	e.client, err = cfapi.New(cfapi.Options{BaseURL: e.api.URL + "/client/v4", Token: e2eToken, AccountID: e2eAccount})
	require.NoError(t, err)
	return e
}

// recoverStack is `just recover` on an engine's stack.
func recoverStack(t *testing.T, e *engine, cfg *config.Config, account *cfapi.Client) recovery.Report {
	t.Helper()
	var out bytes.Buffer
	rep, err := recovery.Run(context.Background(), recovery.Options{
		Stack: e.stack, Project: "dome", Config: cfg, Account: account, Out: &out,
		Preview: []optpreview.Option{optpreview.ProgressStreams(e.log), optpreview.ErrorProgressStreams(e.log)},
		Import:  []optimport.Option{optimport.ProgressStreams(e.log), optimport.ErrorProgressStreams(e.log)},
	})
	t.Logf("just recover printed:\n%s", out.String())
	require.NoError(t, err, e.log.String())
	return rep
}

// TestFaultyNetworkConverges deploys through a network that answers 10 % of
// calls with 503 and resets 5 % after the headers: the companion's own
// retries and read-backs make one up succeed with nothing to recover.
func TestFaultyNetworkConverges(t *testing.T) {
	cfg := fleet(40, 4)
	env := newEmulated(t, cfemu.Config{}, &cfemu.NetworkFaults{Seed: 2, Unavailable: 0.10, Reset: 0.05})
	e := newEngine(t, "dev", fleetProgram(cfg, env.front.URL+"/client/v4"), map[string]string{"CLOUDFLARE_RPS": "1000"})
	defer e.dump()

	require.Equal(t, map[string]int{"create": 2 + 40 + 4}, e.up(), "stack, provider, workers, indexes in one up")
	counts := env.net.Counts()
	t.Logf("faulty network: %d calls, %d answered 503, %d reset after the headers", counts.Calls, counts.Unavailable, counts.Reset)
	require.Positive(t, counts.Unavailable)
	require.Positive(t, counts.Reset)

	requireFleetExactly(t, cfg, env.client)
	onlySame(t, e.preview())
	rep := recoverStack(t, e, cfg, env.client)
	require.False(t, rep.Changed(), "nothing to recover after a deploy that succeeded")
}

// killable is a pulumi CLI that records the pid of its latest run, so a
// test can kill the CLI itself (not the test process) mid-deploy.
func killable(t *testing.T) (auto.PulumiCommand, func()) {
	t.Helper()
	real := filepath.Join(pulumiRoot(t), "bin", "pulumi")
	root := t.TempDir()
	pidFile := filepath.Join(root, "pid")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	script := "#!/bin/sh\necho $$ > " + pidFile + "\nexec " + real + " \"$@\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "pulumi"), []byte(script), 0o755))
	cli, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, SkipVersionCheck: true})
	require.NoError(t, err)
	kill := func() {
		data, err := os.ReadFile(pidFile)
		if err != nil {
			return
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return cli, kill
}

// TestKilledDeployRecovers kills the CLI (SIGKILL, as a closed laptop or a
// cancelled CI job would) while creates are in flight. It leaves a lock,
// pending creates and orphans; `just recover` then one up converge.
func TestKilledDeployRecovers(t *testing.T) {
	requireLanguageHost(t)
	cfg := fleet(30, 2)
	var puts atomic.Int32
	var once sync.Once
	var kill func()
	env := newEmulated(t, cfemu.Config{OnRequest: func(r cfemu.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.Path, "/workers/scripts/") && puts.Add(1) == 10 {
			once.Do(kill)
		}
	}}, nil)
	// Slow answers keep several creates in flight when the CLI dies.
	env.emu.Inject(cfemu.Fault{Latency: 150 * time.Millisecond})
	cli, killCLI := killable(t)
	kill = killCLI
	e := newEngineOn(t, cli, "dev", fleetProgram(cfg, env.front.URL+"/client/v4"), map[string]string{"CLOUDFLARE_RPS": "1000"})
	defer e.dump()

	require.Error(t, e.upErr(), "the CLI was killed")
	// The killed CLI left its lock, and sometimes a broken metadata file of the
	// checkpoint it was saving (see TestBrokenMetadataRecovers).
	err := e.upErr()
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "failed to load checkpoint"), err.Error())

	rep := recoverStack(t, e, cfg, env.client)
	require.Contains(t, rep.Lock, "removed the stale lock")
	require.NotEmpty(t, rep.Processes, "the killed CLI's provider plugin was still running")
	require.Empty(t, recovery.Leftovers(e.stack.Workspace().WorkDir()), "recover ends what the killed CLI left running")
	require.NotEmpty(t, rep.Pending, "the kill left pending creates")
	require.NotEmpty(t, rep.Imported, "creates that landed are imported, not created again")
	require.NotContains(t, rep.Preview, "update", "what was imported matches the program")

	env.emu.ClearFaults()
	changes := e.up()
	require.Equal(t, rep.Preview["create"], changes["create"], "the up does what recover's preview showed")
	requireFleetExactly(t, cfg, env.client)
	onlySame(t, e.preview())
	again := recoverStack(t, e, cfg, env.client)
	require.False(t, again.Changed(), "recover changes nothing once all is well")
}

// TestBrokenMetadataRecovers reproduces what a kill can leave behind
// deterministically: the CLI died while writing the checkpoint's metadata
// sidecar (the blob library writes it in place), so every later command
// fails with "failed to load checkpoint: EOF" although the checkpoint is
// whole. `just recover` removes the sidecar and nothing else changes.
func TestBrokenMetadataRecovers(t *testing.T) {
	cfg := fleet(3, 0)
	env := newEmulated(t, cfemu.Config{}, nil)
	e := newEngine(t, "dev", fleetProgram(cfg, env.front.URL+"/client/v4"), map[string]string{"CLOUDFLARE_RPS": "1000"})
	defer e.dump()
	e.up()

	sidecar := filepath.Join(e.dir, "state", ".pulumi", "stacks", "dome", "dev.json.attrs")
	require.FileExists(t, sidecar)
	require.NoError(t, os.WriteFile(sidecar, nil, 0o644))
	require.ErrorContains(t, e.upErr(), "failed to load checkpoint: EOF")

	rep := recoverStack(t, e, cfg, env.client)
	require.Equal(t, []string{"stacks/dome/dev.json.attrs was cut short when the CLI died; removed it (metadata Pulumi reads the state without)"}, rep.State)
	require.Empty(t, rep.Pending)
	require.Empty(t, rep.Imported)
	onlySame(t, e.preview())
}

// TestRateLimitedDeploy deploys 300 workers against an emulator enforcing a
// Cloudflare-style budget (scaled to 200 calls per 5 s so the test takes
// seconds, not minutes) with the companion keeping to the same budget: no
// step fails, and 429s stay within what the budget allows (at most one per
// window, where arrival jitter puts one call past the boundary). The wall
// time is printed against the budget's floor: each full window of calls
// after the first has to wait for the window before it to pass.
func TestRateLimitedDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys 300 workers")
	}
	const workers, budget, window = 300, 200, 5 * time.Second
	cfg := fleet(workers, 0)
	env := newEmulated(t, cfemu.Config{RateLimit: cfemu.RateLimit{Requests: budget, Window: window}}, nil)
	e := newEngine(t, "dev", fleetProgram(cfg, env.front.URL+"/client/v4"), map[string]string{cfapi.EnvBudget: fmt.Sprintf("%d/%s", budget, window)})
	defer e.dump()

	start := time.Now()
	require.Equal(t, map[string]int{"create": workers + 2}, e.up())
	wall := time.Since(start)

	reqs := env.emu.Requests()
	limited := 0
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	admitted := len(reqs) - limited
	floor := time.Duration((admitted+budget-1)/budget-1) * window
	t.Logf("%d workers: %d calls admitted, %d answered 429; wall %s against the budget's floor %s (%d calls at %d per %s), %.2fx",
		workers, admitted, limited, wall.Round(time.Millisecond), floor, admitted, budget, window, float64(wall)/float64(floor))
	windows := int(wall/window) + 1
	require.LessOrEqual(t, limited, windows, "at most one 429 per window")
	requireFleetExactly(t, cfg, env.client)
}
