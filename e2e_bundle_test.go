package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/bundle"
	"github.com/dome/infra/internal/bundle/bundletest"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/domecf"
)

// codeFleet deploys one worker per bundle, each with a VERSION var read
// from version at run time, so changing it updates every worker.
func codeFleet(baseURL string, mods []bundle.Module, version *atomic.Value) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		use, err := e2eProvider(ctx, baseURL)
		if err != nil {
			return err
		}
		for i, m := range mods {
			name := fmt.Sprintf("w%03d", i)
			args := domecf.WorkerScriptArgs{
				Name:              pulumi.String(name),
				Content:           domecf.Code{File: m.File, SHA256: m.SHA256},
				CompatibilityDate: "2025-04-15",
				Bindings:          []domecf.Binding{{Type: "plain_text", Name: "VERSION", Text: pulumi.String(version.Load().(string))}},
			}
			if m.MapFile != "" {
				args.SourceMap = &domecf.Code{File: m.MapFile, SHA256: m.MapSHA256}
			}
			if _, err := domecf.NewWorkerScript(ctx, name, args, use); err != nil {
				return err
			}
		}
		return nil
	}
}

// tinyBundles is n one-line workers, stored as the program stores bundles.
func tinyBundles(t testing.TB, n int) []bundle.Module {
	t.Helper()
	dir := t.TempDir()
	jobs := make([]bundle.Job, n)
	for i := range n {
		jobs[i].Entry = filepath.Join(dir, fmt.Sprintf("w%03d.js", i))
		require.NoError(t, os.WriteFile(jobs[i].Entry, fmt.Appendf(nil, "export default { fetch() { return new Response('w%03d'); } };\n", i), 0o644))
	}
	return storeBundles(t, jobs)
}

// realBundles is n generated TypeScript workers of real size (each about
// 200 KB bundled, with its source map), bundled by esbuild.
func realBundles(t testing.TB, n int) []bundle.Module {
	t.Helper()
	dir := t.TempDir()
	entries, err := bundletest.Write(dir, n)
	require.NoError(t, err)
	jobs := make([]bundle.Job, n)
	for i, e := range entries {
		jobs[i] = bundle.Job{Entry: filepath.Join(dir, e), Options: bundle.Options{SourceMap: true}}
	}
	return storeBundles(t, jobs)
}

func storeBundles(t testing.TB, jobs []bundle.Job) []bundle.Module {
	t.Helper()
	store, err := bundle.Open(t.TempDir())
	require.NoError(t, err)
	mods, err := store.Build(jobs)
	require.NoError(t, err)
	return mods
}

// BenchmarkBundleCost deploys N workers on the real engine to the emulator,
// one-line workers beside real-size ones (≥ 150 KB each, with source
// maps), and prints the create time, the time to update every worker (a
// var changed, so every bundle is uploaded again) and the checkpoint's
// size. The companion is unpaced, so the API budget (the subject of
// TestRateLimitedDeploy) does not hide the cost. With bundles out of
// state, size must not matter: real-size updates stay within 1.5x of tiny
// ones, and the state under 1 MB, at 100 workers.
//
//	go test -run '^$' -bench BundleCost -benchtime 1x .
func BenchmarkBundleCost(b *testing.B) {
	type figures struct {
		create, update time.Duration
		state          int
		bundle         int64
	}
	measure := func(mods []bundle.Module) figures {
		emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
		require.NoError(b, err)
		srv := httptest.NewServer(emu)
		defer srv.Close()
		var version atomic.Value
		version.Store("1")
		// The emulator has no rate limit: unpaced, the figures are the
		// engine's and the state's cost, not Cloudflare's API budget.
		e := newEngine(b, "bench", codeFleet(srv.URL+"/client/v4", mods, &version), map[string]string{"CLOUDFLARE_RPS": "1000"})
		defer e.dump()
		start := time.Now()
		require.Equal(b, map[string]int{"create": len(mods) + 2}, e.up())
		f := figures{create: time.Since(start), bundle: mods[0].Size}
		version.Store("2")
		start = time.Now()
		require.Equal(b, map[string]int{"update": len(mods), "same": 2}, e.up())
		f.update = time.Since(start)
		f.state = len(e.stateFile())
		return f
	}
	for b.Loop() {
		b.Logf("%8s %12s %10s %12s %10s", "workers", "bundle each", "create", "update all", "state")
		var tiny100, real100 figures
		for _, n := range []int{10, 100} {
			for _, kind := range []string{"tiny", "real"} {
				mods := tinyBundles(b, n)
				if kind == "real" {
					mods = realBundles(b, n)
				}
				f := measure(mods)
				b.Logf("%8d %9.1f KB %10s %12s %7.2f MB", n, float64(f.bundle)/1024, f.create.Round(10*time.Millisecond),
					f.update.Round(10*time.Millisecond), float64(f.state)/(1<<20))
				switch {
				case n == 100 && kind == "tiny":
					tiny100 = f
				case n == 100:
					real100 = f
				}
			}
		}
		ratio := float64(real100.update) / float64(tiny100.update)
		b.Logf("100 workers: real-size update takes %.2fx the tiny one (target 1.5x); real-size state %.2f MB (target < 1 MB)", ratio, float64(real100.state)/(1<<20))
		if ratio > 1.5 || real100.state >= 1<<20 {
			b.Fatal("bundle size still drives the deploy's cost")
		}
	}
}

// TestStateUpgrade: a stack deployed by the version that kept code in
// state (content and sourceMap inline) moves to the new form on its next
// up: every worker is an in-place update whose diff names the removed
// properties, nothing is uploaded, and the checkpoint no longer holds any
// code.
func TestStateUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("deploys on the real engine")
	}
	const n = 3
	mods := realBundles(t, n)
	env := newEmulated(t, cfemu.Config{}, nil)
	var version atomic.Value
	version.Store("1")
	e := newEngine(t, "dev", codeFleet(env.front.URL+"/client/v4", mods, &version), nil)
	defer e.dump()
	require.Equal(t, map[string]int{"create": n + 2}, e.up())

	ctx := context.Background()
	current, err := e.stack.Export(ctx)
	require.NoError(t, err)
	legacy := inlineCode(t, current)
	require.NoError(t, e.stack.Import(ctx, legacy))
	inline := e.stateFile()
	code := string(must(os.ReadFile(mods[0].File)))
	require.Contains(t, inline, string(must(json.Marshal(code))[1:200]), "the legacy checkpoint holds the code")

	env.emu.ResetLog()
	e.log.Reset()
	require.Equal(t, map[string]int{"update": n, "same": 2}, e.preview())
	require.Contains(t, e.log.String(), "- content", "the diff names the code leaving state")
	require.Equal(t, map[string]int{"update": n, "same": 2}, e.up())
	require.Empty(t, mutations(env.emu), "the code Cloudflare holds is already the program's: nothing is uploaded")
	upgraded := e.stateFile()
	require.NotContains(t, upgraded, `"content":`)
	require.NotContains(t, upgraded, `"sourceMap":`)
	t.Logf("checkpoint: %d KB with code inline, %d KB after the upgrade", len(inline)/1024, len(upgraded)/1024)
	require.Less(t, len(upgraded)*10, len(inline))

	onlySame(t, e.up())
	require.Empty(t, mutations(env.emu))
}

// inlineCode rewrites a deployment as the version before contentFile wrote
// it: each worker's inputs and outputs hold content and sourceMap inline,
// and contentSha256 is an output only.
func inlineCode(t *testing.T, d apitype.UntypedDeployment) apitype.UntypedDeployment {
	t.Helper()
	var dep map[string]any
	require.NoError(t, json.Unmarshal(d.Deployment, &dep))
	workers := 0
	for _, r := range dep["resources"].([]any) {
		res := r.(map[string]any)
		if res["type"] != domecf.TypeWorkerScript {
			continue
		}
		workers++
		for _, key := range []string{"inputs", "outputs"} {
			props := res[key].(map[string]any)
			props["content"] = string(must(os.ReadFile(props["contentFile"].(string))))
			if f, ok := props["sourceMapFile"].(string); ok {
				props["sourceMap"] = string(must(os.ReadFile(f)))
			}
			for _, k := range []string{"contentFile", "sourceMapFile", "sourceMapSha256"} {
				delete(props, k)
			}
			if key == "inputs" {
				delete(props, "contentSha256")
			}
		}
	}
	require.NotZero(t, workers)
	d.Deployment = must(json.Marshal(dep))
	return d
}
