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
// that resets the given share of connections after the request was carried
// out. It returns what the recipe printed, Dome's local stack as a dome
// whose account can be checked, and the recipe's error.
func deployLocal(t *testing.T, seed uint64, reset float64) (string, *dome, error) {
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
	net := cfemu.NewFaultyNetwork(httputil.NewSingleHostReverseProxy(target), cfemu.NetworkFaults{Seed: seed, Reset: reset})
	front, certFile := serveTLS(t, net, filepath.Join(p.dir, ".emulator"))
	require.Equal(t, filepath.Join(p.dir, ".emulator", "cfemu-cert.pem"), certFile, "where the recipes trust the emulator")
	stackFile := filepath.Join(p.dir, "Pulumi.local.yaml")
	yaml := string(must(os.ReadFile(stackFile)))
	require.Contains(t, yaml, "127.0.0.1:8787")
	require.NoError(t, os.WriteFile(stackFile, []byte(strings.Replace(yaml, "127.0.0.1:8787", must(url.Parse(front.URL)).Host, 1)), 0o644))

	out, deployErr := p.just([]string{"DOME_DEPLOY_TRIES=5"}, "deploy-local")
	counts := net.Counts()
	t.Logf("seed %d: %d calls, %d reset after the request was carried out", seed, counts.Calls, counts.Reset)

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
			out, d, err := deployLocal(t, n, 0.05)
			require.NoError(t, err, out)
			t.Logf("seed %d converged in one just deploy-local, %s, recovering %d times", n, time.Since(start).Round(time.Second), strings.Count(out, "recovering, then deploying again"))
			d.requireExactly(t)
		})
	}
}
