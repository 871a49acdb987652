package cfemu

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".emulator")
	certPath, cfg, err := GenerateCert(dir)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, CertFileName), certPath)
	keyInfo, err := os.Stat(filepath.Join(dir, KeyFileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), keyInfo.Mode().Perm(), "the key is private")

	emu, err := New(Config{Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(emu)
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)

	pemBytes, err := os.ReadFile(certPath)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	port := srv.Listener.Addr().String()[strings.LastIndex(srv.Listener.Addr().String(), ":"):]
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "https://"+host+port+"/client/v4/user/tokens/verify", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+testToken)
			res, err := client.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			var env struct{ Success bool }
			require.NoError(t, json.NewDecoder(res.Body).Decode(&env))
			require.True(t, env.Success)
		})
	}
	t.Run("a client without the PEM refuses", func(t *testing.T) {
		_, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}).Get(srv.URL)
		require.Error(t, err)
	})
	t.Run("unwritable dir", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		_, _, err := GenerateCert(filepath.Join(file, "sub"))
		require.Error(t, err)
	})
}
