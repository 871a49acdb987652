package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// started is a run in progress: its output lines and its result.
type started struct {
	lines  chan string
	done   chan error
	cancel context.CancelFunc
}

func start(t *testing.T, args []string, env map[string]string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &started{lines: make(chan string, 100), done: make(chan error, 1), cancel: cancel}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	go func() {
		err := run(ctx, args, func(k string) string { return env[k] }, pw)
		pw.Close()
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// next waits for the next output line that contains want.
func (s *started) next(t *testing.T, want string) string {
	t.Helper()
	for line := range s.lines {
		if strings.Contains(line, want) {
			return line
		}
	}
	t.Fatalf("output ended without a line containing %q", want)
	return ""
}

// stop ends the run as SIGINT would and returns its result.
func (s *started) stop() error {
	s.cancel()
	err := <-s.done
	s.done <- err // for the cleanup
	return err
}

func baseURL(t *testing.T, line string) string {
	t.Helper()
	i := strings.Index(line, "http")
	require.GreaterOrEqual(t, i, 0, line)
	return strings.Fields(line[i:])[0]
}

func get(t *testing.T, client *http.Client, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no token", nil, "token is required"},
		{"all interfaces", []string{"-token", "t", "-addr", "0.0.0.0:0"}, "not a loopback"},
		{"empty host", []string{"-token", "t", "-addr", ":0"}, "not a loopback"},
		{"lan address", []string{"-token", "t", "-addr", "192.168.1.10:8787"}, "not a loopback"},
		{"host name", []string{"-token", "t", "-addr", "example.com:8787"}, "not a loopback"},
		{"no port", []string{"-token", "t", "-addr", "127.0.0.1"}, "missing port"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"rate limit without window", []string{"-token", "t", "-rate-limit", "1200"}, `-rate-limit "1200": want N/DURATION`},
		{"rate limit of zero", []string{"-token", "t", "-rate-limit", "0/5m"}, "positive count"},
		{"rate limit bad window", []string{"-token", "t", "-rate-limit", "10/soon"}, "positive Go duration"},
		{"crons without the runtime", []string{"-token", "t", "-crons"}, "-crons needs -runtime"},
		{"crons with the runtime off", []string{"-token", "t", "-runtime=false", "-crons"}, "-crons needs -runtime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, func(string) string { return "" }, io.Discard)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestRunHelp(t *testing.T) {
	var out strings.Builder
	env := func(k string) string { return map[string]string{"CLOUDFLARE_API_TOKEN": "secret-token"}[k] }
	require.NoError(t, run(context.Background(), []string{"-h"}, env, &out))
	require.NotContains(t, out.String(), "secret-token")
	for _, flag := range []string{"-addr", "-token", "-account", "-state", "-tls", "-cert-dir", "-log", "-zone", "-subdomain", "-rate-limit", "-runtime", "-crons"} {
		require.Contains(t, out.String(), flag)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8787", "[::1]:8787", "localhost:0", "127.0.0.2:1"} {
		require.NoError(t, checkLoopback(addr), addr)
	}
}

func TestRunServesAndLogs(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	s := start(t, []string{"-addr", "127.0.0.1:0", "-log", "-state", state},
		map[string]string{"CLOUDFLARE_API_TOKEN": "env-token", "CLOUDFLARE_ACCOUNT_ID": "acct"})
	url := baseURL(t, s.next(t, "serving"))
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	require.True(t, strings.HasSuffix(url, "/client/v4"), url)
	s.next(t, "state file: "+state)

	res := get(t, http.DefaultClient, url+"/accounts/acct", "env-token")
	require.Equal(t, http.StatusOK, res.StatusCode)
	line := s.next(t, "GET /client/v4/accounts/acct")
	require.Contains(t, line, " 200 ")
	require.NotContains(t, line, "env-token")

	req, err := http.NewRequest(http.MethodPost, url+"/accounts/acct/d1/database", strings.NewReader(`{"name":"db"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer env-token")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	s.next(t, "POST /client/v4/accounts/acct/d1/database 200")
	saved, err := os.ReadFile(state)
	require.NoError(t, err)
	require.Contains(t, string(saved), `"name": "db"`)

	require.NoError(t, s.stop(), "a clean shutdown")
}

func TestRunFlagsOverrideEnv(t *testing.T) {
	s := start(t, []string{"-addr", "127.0.0.1:0", "-token", "flag-token"}, map[string]string{"CLOUDFLARE_API_TOKEN": "env-token"})
	line := s.next(t, "serving")
	require.Contains(t, line, "account "+devAccountID)
	url := baseURL(t, line)
	require.Equal(t, http.StatusForbidden, get(t, http.DefaultClient, url+"/accounts/"+devAccountID, "env-token").StatusCode)
	require.Equal(t, http.StatusOK, get(t, http.DefaultClient, url+"/accounts/"+devAccountID, "flag-token").StatusCode)
}

func TestRunTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	s := start(t, []string{"-addr", "127.0.0.1:0", "-tls", "-cert-dir", dir, "-token", "tok"}, nil)
	url := baseURL(t, s.next(t, "serving"))
	require.True(t, strings.HasPrefix(url, "https://127.0.0.1:"), url)
	certPath := strings.TrimSpace(strings.SplitN(s.next(t, "certificate:"), "certificate:", 2)[1])
	require.Equal(t, filepath.Join(dir, "cfemu-cert.pem"), certPath)
	require.Contains(t, s.next(t, "SSL_CERT_FILE"), "export SSL_CERT_FILE="+certPath)
	require.Contains(t, s.next(t, "apiHostname"), strings.TrimPrefix(strings.TrimSuffix(url, "/client/v4"), "https://"))

	pemBytes, err := os.ReadFile(certPath)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	require.Equal(t, http.StatusOK, get(t, client, url+"/user/tokens/verify", "tok").StatusCode)
	require.NoError(t, s.stop())
}

func TestRunRateLimit(t *testing.T) {
	s := start(t, []string{"-addr", "127.0.0.1:0", "-token", "tok", "-rate-limit", "2/1h"}, nil)
	url := baseURL(t, s.next(t, "serving"))
	s.next(t, "rate limit: 2 requests per 1h0m0s")
	for range 2 {
		require.Equal(t, http.StatusOK, get(t, http.DefaultClient, url+"/user/tokens/verify", "tok").StatusCode)
	}
	res := get(t, http.DefaultClient, url+"/user/tokens/verify", "tok")
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.Equal(t, "3600", res.Header.Get("Retry-After"))
	require.NoError(t, s.stop())
}

func TestRunSeedsZones(t *testing.T) {
	s := start(t, []string{"-addr", "127.0.0.1:0", "-token", "tok", "-zone", "dome.example", "-zone", "dome.test", "-subdomain", "dome-team"}, nil)
	url := baseURL(t, s.next(t, "serving"))
	require.Contains(t, s.next(t, "zones:"), "zones: dome.example, dome.test; workers.dev subdomain: dome-team")
	var zones struct {
		Result []struct{ Name string } `json:"result"`
	}
	require.NoError(t, json.NewDecoder(get(t, http.DefaultClient, url+"/zones?account.id="+devAccountID, "tok").Body).Decode(&zones))
	require.Len(t, zones.Result, 2)
	require.ElementsMatch(t, []string{"dome.example", "dome.test"}, []string{zones.Result[0].Name, zones.Result[1].Name})
	var sub struct {
		Result struct{ Subdomain string } `json:"result"`
	}
	require.NoError(t, json.NewDecoder(get(t, http.DefaultClient, url+"/accounts/"+devAccountID+"/workers/subdomain", "tok").Body).Decode(&sub))
	require.Equal(t, "dome-team", sub.Result.Subdomain)
}
