package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu/cfemutest"
	"github.com/dome/infra/internal/config"
)

// TestDev drives the watch one step at a time against an emulator (no
// runtime: an upload is visible through the API), with a copy of Dome's
// services to edit. Every edit sets its file's time explicitly, one second
// after the last, so no step depends on the clock's resolution.
func TestDev(t *testing.T) {
	srv := cfemutest.Start(t)
	ctx := t.Context()
	t.Setenv(config.EnvBundleDir, t.TempDir())
	services := filepath.Join(t.TempDir(), "services")
	require.NoError(t, os.CopyFS(services, os.DirFS("../../testdata/services")))
	dir := srv.Project(t, "local", "dev")
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	stackFile := func(stack, config string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte("config:\n  dome:servicesRoot: "+services+"\n"+config), 0o644))
	}
	stackFile("local", "  dome:environment: dev\n  dome:apiHostname: "+u.Host+"\n")
	stackFile("cloud", "  dome:environment: staging\n")

	t.Run("refuses", func(t *testing.T) {
		tests := []struct{ stack, want string }{
			{"cloud", "stack cloud deploys to Cloudflare (its apiHostname is not set): dev uploads code only to the local emulator"},
			{"local", `worker "dome-api" (dome-api-dev) is not on the emulator at ` + u.Host + ": deploy the stack first (just deploy-local)"},
		}
		for _, tt := range tests {
			t.Run(tt.stack, func(t *testing.T) {
				_, err := start(ctx, io.Discard, dir, tt.stack)
				require.ErrorContains(t, err, tt.want)
			})
		}
	})

	// The deploy: placeholder code, and for dome-api every kind of setting
	// an upload could lose.
	for _, name := range []string{"silo-dev", "constellation-dev", "ai-processor-dev", "dome-cron-dev", "dome-notify-dev"} {
		_, err := srv.API.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: name, Content: "export default {}",
			Metadata: cfapi.ScriptMetadata{MainModule: "index.js", CompatibilityDate: "2025-04-15"}})
		require.NoError(t, err)
	}
	rate, on := 0.5, true
	_, err = srv.API.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "dome-api-dev", Content: "export default {}",
		Metadata: cfapi.ScriptMetadata{
			MainModule:         "index.js",
			CompatibilityDate:  "2025-04-15",
			CompatibilityFlags: []string{"nodejs_als"},
			Bindings: []cfapi.WorkerBinding{
				{Type: "plain_text", Name: "VERSION", Text: "0.1.0"},
				{Type: "secret_text", Name: "API_KEY", Text: "s3cret"},
				{Type: "service", Name: "SILO", Service: "silo-dev"},
				{Type: "ai", Name: "AI"},
			},
			Observability: &cfapi.Observability{Enabled: true, HeadSamplingRate: &rate},
			Logpush:       &on,
			Placement:     &cfapi.Placement{Mode: "smart"},
			Tags:          []string{"dome", "dev"},
		}})
	require.NoError(t, err)
	deployed := settings(t, srv, "dome-api-dev")
	srv.Emu.ResetLog()

	// Started, it uploads what changed while nothing watched: here, all.
	var out bytes.Buffer
	d, err := start(ctx, &out, dir, "local")
	require.NoError(t, err)
	require.Contains(t, out.String(), "watching the sources of 6 workers under "+services+" (*.ts, *.js, *.mjs, *.json) every 300ms")
	require.Contains(t, out.String(), "stack local's Pulumi state is behind these uploads until its next deploy (just deploy-local)")
	require.Equal(t, 6, strings.Count(out.String(), "\nreloaded "), out.String())
	require.Len(t, uploads(srv), 6)
	code, err := srv.API.GetScriptContent(ctx, "dome-api-dev")
	require.NoError(t, err)
	require.Contains(t, code, `service: "dome-api"`)
	require.JSONEq(t, deployed, settings(t, srv, "dome-api-dev"))

	index := filepath.Join(services, "dome-api", "src", "index.ts")
	log := filepath.Join(services, "shared", "log.ts")
	edited := strings.Replace(read(t, index), `service: "dome-api"`, `service: "dome-api", edited: true`, 1)
	saved := time.Now()
	steps := []struct {
		name          string
		file, content string
		uploads       []string
		says          string // a part of what the step prints; "" when it prints nothing
	}{
		{"one worker's source", index, edited, []string{"dome-api-dev"}, "reloaded dome-api (dome-api-dev) in "},
		{"the same content saved again", index, edited, nil, ""},
		{"a file that changes no bundle", filepath.Join(services, "dome-api", "notes.json"), "{}", nil, ""},
		{"a syntax error", index, edited + "\nexport const = ;\n", nil, `not reloaded, the running version keeps serving (fix it and save): worker "dome-api": esbuild: ` + index + ":"},
		{"fixed back to the code that runs", index, edited, nil, ""},
		{"shared code", log, strings.Replace(read(t, log), "warn: 30", "warn: 31", 1),
			[]string{"ai-processor-dev", "constellation-dev", "dome-api-dev", "dome-cron-dev", "silo-dev"}, "reloaded silo (silo-dev) in "},
	}
	save := func(file, content string) {
		require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
		saved = saved.Add(time.Second)
		require.NoError(t, os.Chtimes(file, saved, saved))
		out.Reset()
		d.step(ctx)
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			save(tt.file, tt.content)
			require.Equal(t, tt.uploads, uploads(srv), out.String())
			if tt.says == "" {
				require.Empty(t, out.String())
			} else {
				require.Contains(t, out.String(), tt.says)
			}
			require.JSONEq(t, deployed, settings(t, srv, "dome-api-dev"), "an upload changes the code only")
		})
	}

	t.Run("a refused upload", func(t *testing.T) {
		// Without its service binding's target, the emulator refuses any upload of dome-api.
		require.NoError(t, srv.API.DeleteScript(ctx, "silo-dev"))
		save(index, strings.Replace(edited, "edited: true", "refused: true", 1))
		require.Contains(t, out.String(), `not reloaded, the running version keeps serving: dome-api (dome-api-dev): the emulator refused it (code 10007): workers.api.error.script_not_found: service binding SILO references script "silo-dev"`)
		code, err := srv.API.GetScriptContent(ctx, "dome-api-dev")
		require.NoError(t, err)
		require.Contains(t, code, "edited: true")
	})
}

// uploads names the scripts uploaded since the last look, sorted.
func uploads(srv *cfemutest.Server) []string {
	var out []string
	prefix := "/client/v4/accounts/" + cfemutest.AccountID + "/workers/scripts/"
	for _, r := range srv.Emu.Requests() {
		if name, ok := strings.CutPrefix(r.Path, prefix); ok && r.Method == http.MethodPut && !strings.Contains(name, "/") {
			out = append(out, name)
		}
	}
	srv.Emu.ResetLog()
	slices.Sort(out)
	return out
}

// settings is a script's GET .../settings answer, as Cloudflare sends it.
func settings(t *testing.T, srv *cfemutest.Server, script string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/client/v4/accounts/"+cfemutest.AccountID+"/workers/scripts/"+script+"/settings", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+cfemutest.Token)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return string(body)
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
