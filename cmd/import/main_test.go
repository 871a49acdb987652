package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/adopt"
	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
)

// TestRun plans the adoption of the local stack from an emulated account
// that already holds its silo database and dome-api worker.
func TestRun(t *testing.T) {
	const account, token = "00000000000000000000000000000001", "local-emulator-token-not-a-real-secret-0"
	t.Setenv(config.EnvAccountID, "")
	t.Setenv(config.EnvAPIToken, "")

	emu, err := cfemu.New(cfemu.Config{Token: token, AccountID: account})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(emu)
	defer srv.Close()
	ctx := context.Background()
	c, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: token, AccountID: account, HTTPClient: srv.Client()})
	require.NoError(t, err)
	_, err = c.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "dome-api-dev", Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}"})
	require.NoError(t, err)

	// A copy of the project whose local stack points at this emulator.
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", ".env.local"} {
		data, err := os.ReadFile(filepath.Join("../..", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	host := must(url.Parse(srv.URL)).Host
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.local.yaml"), []byte("config:\n  dome:environment: dev\n  dome:apiHostname: "+host+"\n  dome:servicesRoot: "+must(filepath.Abs("../../testdata/services"))+"\n"), 0o644))
	// Trust the test server's certificate the way a user trusts the emulator's.
	certFile := filepath.Join(dir, "cert.pem")
	require.NoError(t, os.WriteFile(certFile, pemOf(t, srv), 0o644))
	t.Setenv("SSL_CERT_FILE", certFile)

	var out bytes.Buffer
	file := filepath.Join(dir, "import-local.json")
	require.NoError(t, run(ctx, &out, dir, "local", file))
	require.Contains(t, out.String(), "stack local: 2 existing resources match the config; wrote "+file)
	require.Contains(t, out.String(), "  adopt   domecf:index:WorkerScript")
	require.Contains(t, out.String(), "  adopt   domecf:index:WorkerSubdomain")
	require.Contains(t, out.String(), "  create  D1 database silo (silo-dev) (not in the account)")
	require.Contains(t, out.String(), "  SSL_CERT_FILE="+certFile+" pulumi import --stack local --file "+file+" --generate-code=false --yes\n")
	require.Contains(t, out.String(), "run `just recover local` instead")

	var written adopt.File
	require.NoError(t, json.Unmarshal(must(os.ReadFile(file)), &written))
	require.Equal(t, adopt.Spec{Type: "domecf:index:WorkerScript", Name: "dome-api", ID: "dome-api-dev", Provider: "domecf"}, written.Resources[2])
	require.NotContains(t, string(must(os.ReadFile(file))), token)
}

// pemOf is the test server's certificate as a PEM file's contents. Go reads
// SSL_CERT_FILE once per process, so this is the package's only TLS test.
func pemOf(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
