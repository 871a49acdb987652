package recovery

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/require"
)

func TestFileBackend(t *testing.T) {
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	tests := []struct {
		url, want string
		ok        bool
	}{
		{"file://.state?create_dir=true", "/proj/.state", true},
		{"file:///var/state", "/var/state", true},
		{"file://~/state", filepath.Join(home, "state"), true},
		{"s3://bucket/state", "", false},
		{"https://api.pulumi.com", "", false},
	}
	for _, tc := range tests {
		got, ok := fileBackend(tc.url, "/proj")
		require.Equal(t, tc.ok, ok, tc.url)
		require.Equal(t, tc.want, got, tc.url)
	}
}

func TestPulumiRunning(t *testing.T) {
	require.False(t, pulumiRunning(0))
	require.False(t, pulumiRunning(os.Getpid()), "a test binary is not pulumi")
	// A process that has exited holds nothing.
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	require.False(t, pulumiRunning(cmd.Process.Pid))
}

func TestStateWithoutPending(t *testing.T) {
	raw := `{"manifest":{"time":"t"},"resources":[{"urn":"urn:pulumi:dev::dome::pulumi:providers:domecf::domecf"}],` +
		`"pending_operations":[{"type":"creating","resource":{"urn":"urn:pulumi:dev::dome::domecf:index:WorkerScript::api","type":"domecf:index:WorkerScript"}}]}`
	st, err := readState(apitype.UntypedDeployment{Version: 3, Deployment: json.RawMessage(raw)})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"urn:pulumi:dev::dome::pulumi:providers:domecf::domecf": true}, st.urns)
	require.Len(t, st.pending, 1)
	require.Equal(t, "api", st.pending[0].name())
	cleared := st.withoutPending()
	require.Equal(t, 3, cleared.Version)
	require.JSONEq(t, `{"manifest":{"time":"t"},"resources":[{"urn":"urn:pulumi:dev::dome::pulumi:providers:domecf::domecf"}]}`, string(cleared.Deployment))
}

func TestSummary(t *testing.T) {
	require.Equal(t, "no changes (5 unchanged)", summary(map[string]int{"same": 5}))
	require.Equal(t, "2 to create, 1 to update (3 unchanged)", summary(map[string]int{"same": 3, "update": 1, "create": 2}))
}

func TestRepairCheckpoint(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, ".pulumi", "stacks", "dome")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "dev.json")

	got, err := repairCheckpoint(root, "dome", "dev")
	require.NoError(t, err)
	require.Empty(t, got, "no checkpoint yet: nothing to repair")

	require.NoError(t, os.WriteFile(path, []byte(`{"version":3}`), 0o644))
	got, err = repairCheckpoint(root, "dome", "dev")
	require.NoError(t, err)
	require.Empty(t, got, "a whole checkpoint is left alone")

	require.NoError(t, os.WriteFile(path, nil, 0o644))
	_, err = repairCheckpoint(root, "dome", "dev")
	require.ErrorContains(t, err, "was cut short when the CLI died, and no intact backup (dev.json.bak)")

	require.NoError(t, os.WriteFile(path+".bak", []byte(`{"version":3,"previous":true}`), 0o644))
	got, err = repairCheckpoint(root, "dome", "dev")
	require.NoError(t, err)
	require.Equal(t, "dev.json was cut short when the CLI died; restored the previous checkpoint from dev.json.bak", got)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.JSONEq(t, `{"version":3,"previous":true}`, string(data))
}
