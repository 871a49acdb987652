package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
)

const account, token = "00000000000000000000000000000001", "local-emulator-token-not-a-real-secret-0"

// TestRun reports the local stack's databases from an emulated account in
// which silo has its first migration (applied by wrangler) and dome-meta
// exists with nothing applied.
func TestRun(t *testing.T) {
	t.Setenv(config.EnvAccountID, "")
	t.Setenv(config.EnvAPIToken, "")

	emu, err := cfemu.New(cfemu.Config{Token: token, AccountID: account})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(emu)
	defer srv.Close()
	ctx := context.Background()
	c, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: token, AccountID: account, HTTPClient: srv.Client()})
	require.NoError(t, err)
	silo := createDB(t, srv, "silo-dev")
	meta := createDB(t, srv, "dome-meta-dev")
	_, err = c.QueryD1(ctx, silo, `CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
		INSERT INTO d1_migrations (name, applied_at) VALUES ('0001_init.sql', '2026-11-01 10:00:00'), ('0000_legacy.sql', '2026-10-01 09:00:00')`)
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
	certFile := filepath.Join(dir, "cert.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644))
	t.Setenv("SSL_CERT_FILE", certFile) // Go reads it once per process: this is the package's only TLS test

	emu.ResetLog()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, dir, "local"))
	require.Equal(t, `stack local: D1 schema migrations
  dome-meta (dome-meta-dev, `+meta+`), table d1_migrations
    pending  0001_init.sql
  silo (silo-dev, `+silo+`), table d1_migrations
    applied  0001_init.sql                    2026-11-01 10:00:00
    applied  0000_legacy.sql                  2026-10-01 09:00:00  (not in the folder)
    pending  0002_add_tags.sql
`, out.String())

	// It only read: dome-meta still has no table at all.
	db, err := c.GetD1Database(ctx, meta)
	require.NoError(t, err)
	require.Zero(t, db.NumTables)
	for _, r := range emu.Requests() {
		if r.Method != "GET" {
			require.Regexp(t, regexp.MustCompile(`^\{"sql":"SELECT `), string(r.Body), "only SELECTs are sent")
		}
	}

	t.Run("a database not created yet has everything pending", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.local.yaml"), []byte("config:\n  dome:environment: staging\n  dome:apiHostname: "+host+"\n  dome:servicesRoot: "+must(filepath.Abs("../../testdata/services"))+"\n"), 0o644))
		out.Reset()
		require.NoError(t, run(ctx, &out, dir, "local"))
		require.Contains(t, out.String(), "  silo (silo-staging): not created yet\n    pending  0001_init.sql\n    pending  0002_add_tags.sql\n")
	})
}

// createDB creates a database as the official provider would.
func createDB(t *testing.T, srv *httptest.Server, name string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/client/v4/accounts/"+account+"/d1/database", strings.NewReader(`{"name":"`+name+`"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out struct {
		Result struct{ UUID string } `json:"result"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	require.NotEmpty(t, out.Result.UUID)
	return out.Result.UUID
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
