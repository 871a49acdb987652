// Package cfemutest serves the Cloudflare API emulator the way `just
// emulator` does, over TLS with the local stack's credentials, for tests of
// the commands users point at it (import, db-status, smoke).
package cfemutest

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
)

// The local stack's credentials, as .env.local holds them.
const (
	AccountID = "00000000000000000000000000000001"
	Token     = "local-emulator-token-not-a-real-secret-0"
)

// Server is an emulator serving one test.
type Server struct {
	*httptest.Server
	Emu *cfemu.Emulator
	API *cfapi.Client // talks to the emulator directly, to seed or inspect it
}

// Start serves a fresh emulator over TLS until the test ends, puts its
// credentials (and an unlimited CLOUDFLARE_API_BUDGET, shared in the test's
// own directory) in the environment, and trusts its certificate the way a
// user trusts the emulator's: through SSL_CERT_FILE. Go reads that file
// once per process, so a test binary starts one server.
func Start(t *testing.T) *Server {
	t.Helper()
	emu, err := cfemu.New(cfemu.Config{Token: Token, AccountID: AccountID})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Close()) }) // after the server's cleanup below
	srv := httptest.NewTLSServer(emu)
	t.Cleanup(srv.Close)
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: Token, AccountID: AccountID, HTTPClient: srv.Client()})
	require.NoError(t, err)

	certFile := filepath.Join(t.TempDir(), "cert.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	t.Setenv("SSL_CERT_FILE", certFile)
	t.Setenv(config.EnvAPIToken, Token)
	t.Setenv(config.EnvAccountID, AccountID)
	// Commands keep to Cloudflare's budget by default; an emulator has none.
	t.Setenv(cfapi.EnvBudget, "1000000/1s")
	// They share it through a ledger in the user's cache, which is no
	// test's to write.
	t.Setenv(cfapi.EnvLedgerDir, t.TempDir())
	return &Server{Server: srv, Emu: emu, API: client}
}

// Project writes a project folder whose stack points at the server: this
// repository's Pulumi.yaml, and Pulumi.<stack>.yaml naming the
// environment, the server as the API host, and the example workers under
// testdata/services.
func (s *Server) Project(t *testing.T, stack, environment string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), data, 0o644))
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	stackFile := "config:\n  dome:environment: " + environment + "\n  dome:apiHostname: " + u.Host +
		"\n  dome:servicesRoot: " + filepath.Join(root, "testdata", "services") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(stackFile), 0o644))
	return dir
}

// Create posts body to an account path, as the official provider would
// create a resource, and returns the result.
func (s *Server) Create(t *testing.T, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/client/v4/accounts/"+AccountID+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Server.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env struct {
		Success bool
		Result  map[string]any
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	require.True(t, env.Success, "POST %s", path)
	return env.Result
}
