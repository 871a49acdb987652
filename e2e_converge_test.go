package main

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/joho/godotenv"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
)

// deployLocal runs `just deploy-local`, as a developer would, in a copy of
// this project whose local stack points at an emulator behind a network
// with the given faults. The copy's topology also has a KV namespace, the
// one kind Dome does not use yet, so every kind of resource meets them. It
// returns what the recipe printed, Dome's local stack as a dome whose
// account can be checked, and the recipe's error.
func deployLocal(t *testing.T, faults cfemu.NetworkFaults) (string, *dome, error) {
	t.Helper()
	requireCloudflarePlugin(t)
	requireLanguageHost(t)
	p := recipesOn(t, nil)
	creds, err := godotenv.Read(filepath.Join(p.dir, ".env.local"))
	require.NoError(t, err)
	token, account := creds[config.EnvAPIToken], creds[config.EnvAccountID]
	emu, err := cfemu.New(cfemu.Config{Token: token, AccountID: account, Zones: []string{"dome.example"}})
	require.NoError(t, err)
	api := httptest.NewServer(emu)
	t.Cleanup(api.Close)
	target, err := url.Parse(api.URL)
	require.NoError(t, err)
	net := cfemu.NewFaultyNetwork(httputil.NewSingleHostReverseProxy(target), faults)
	front, certFile := serveTLS(t, net, filepath.Join(p.dir, ".emulator"))
	require.Equal(t, filepath.Join(p.dir, ".emulator", "cfemu-cert.pem"), certFile, "where the recipes trust the emulator")
	stackFile := filepath.Join(p.dir, "Pulumi.local.yaml")
	yaml := string(must(os.ReadFile(stackFile)))
	require.Contains(t, yaml, "127.0.0.1:8787")
	require.NoError(t, os.WriteFile(stackFile, []byte(strings.Replace(yaml, "127.0.0.1:8787", must(url.Parse(front.URL)).Host, 1)), 0o644))
	project := filepath.Join(p.dir, "Pulumi.yaml")
	topology := string(must(os.ReadFile(project)))
	require.Contains(t, topology, "\n      queues:\n")
	topology = strings.Replace(topology, "\n      queues:\n", "\n      kvNamespaces:\n        - name: sessions\n      queues:\n", 1)
	require.NoError(t, os.WriteFile(project, []byte(topology), 0o644))

	out, deployErr := p.just([]string{"DOME_DEPLOY_TRIES=5"}, "deploy-local")
	counts := net.Counts()
	t.Logf("%d calls, %d reset after the request was carried out", counts.Calls, counts.Reset)

	vals, err := config.ReadFiles(p.dir, "local")
	require.NoError(t, err)
	cfg, err := config.Load(vals, func(k string) string {
		return map[string]string{config.EnvAPIToken: token, config.EnvAccountID: account, config.EnvBundleDir: t.TempDir()}[k]
	})
	require.NoError(t, err)
	client, err := cfapi.New(cfapi.Options{BaseURL: api.URL + "/client/v4", Token: token, AccountID: account})
	require.NoError(t, err)
	return out, &dome{env: &emulated{emu: emu, api: api, client: client}, cfg: cfg}, deployErr
}

// TestDeployConverges: under a network that resets 5 % of connections after
// the request was carried out, so that both providers lose answers to
// creates, one `just deploy-local` ends with exit 0 and the account holds
// exactly the stack's resources, nothing twice: the recipe recovers what a
// lost answer left and deploys again. DOME_CONVERGE_SEEDS (default "3")
// names the networks' seeds, for a longer measurement.
func TestDeployConverges(t *testing.T) {
	seeds := os.Getenv("DOME_CONVERGE_SEEDS")
	if seeds == "" {
		seeds = "3"
	}
	for _, seed := range strings.Split(seeds, ",") {
		t.Run("seed "+seed, func(t *testing.T) {
			n, err := strconv.ParseUint(strings.TrimSpace(seed), 10, 64)
			require.NoError(t, err, "DOME_CONVERGE_SEEDS")
			start := time.Now()
			out, d, err := deployLocal(t, cfemu.NetworkFaults{Seed: n, Reset: 0.05})
			require.NoError(t, err, out)
			t.Logf("seed %d converged in one just deploy-local, %s, recovering %d times", n, time.Since(start).Round(time.Second), strings.Count(out, "recovering, then deploying again"))
			d.requireExactly(t)
		})
	}
}

// TestDeployConvergesOnEveryKind: every write of a new kind loses its first
// answer after being carried out (each database, bucket, namespace, queue,
// route, domain and cron trigger create of the official provider, and each
// of the companion's), and one `just deploy-local` still ends with exit 0
// and the account holding exactly the stack's resources.
func TestDeployConvergesOnEveryKind(t *testing.T) {
	start := time.Now()
	out, d, err := deployLocal(t, cfemu.NetworkFaults{FirstWrites: true})
	require.NoError(t, err, out)
	t.Logf("converged in one just deploy-local, %s, recovering %d times", time.Since(start).Round(time.Second), strings.Count(out, "recovering, then deploying again"))
	d.requireExactly(t)
}
