package config_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/cfemu/cfemutest"
	"github.com/dome/infra/internal/config"
)

// TestClientTellsTheUser: the commands' client says on standard error what
// a user running one should know, never the token: a call retried, and a
// budget it cannot share with the other processes.
func TestClientTellsTheUser(t *testing.T) {
	srv := cfemutest.Start(t)
	cfg, err := config.LoadStack(srv.Project(t, "local", "dev"), "local")
	require.NoError(t, err)
	blocked := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o600))
	t.Setenv(cfapi.EnvLedgerDir, filepath.Join(blocked, "api-budget")) // under a file: never a folder
	client, err := cfg.Client()
	require.NoError(t, err)
	srv.Emu.Inject(cfemu.Fault{Count: 1, Status: 503})

	r, w, err := os.Pipe()
	require.NoError(t, err)
	stderr := os.Stderr
	os.Stderr = w
	_, err = client.ListQueues(t.Context())
	os.Stderr = stderr
	require.NoError(t, w.Close())
	require.NoError(t, err, "the retry went through")
	said, err := io.ReadAll(r)
	require.NoError(t, err)

	require.Contains(t, string(said), "cannot share the API budget with other processes on this machine")
	require.Regexp(t, `cloudflare: GET /accounts/\S+/queues answered HTTP 503; retry 1 of 4 in \S+`, string(said))
	require.NotContains(t, string(said), cfemutest.Token)
}
