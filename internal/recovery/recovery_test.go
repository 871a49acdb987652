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
	const whole, previous = `{"version":3}`, `{"version":3,"previous":true}`
	stacks := filepath.Join(".pulumi", "stacks", "dome")
	lock := filepath.Join(".pulumi", "locks", "organization", "dome", "dev", "a1b2.json")
	tests := []struct {
		name    string
		files   map[string]string // under the backend's root
		want    []string
		wantErr string
		after   map[string]string // exact content afterwards
		gone    []string
	}{
		{name: "no checkpoint yet"},
		{
			name:  "whole state is left alone",
			files: map[string]string{stacks + "/dev.json": whole, stacks + "/dev.json.attrs": `{"md5":"AA=="}`, lock + ".attrs": `{}`},
			after: map[string]string{stacks + "/dev.json": whole, stacks + "/dev.json.attrs": `{"md5":"AA=="}`, lock + ".attrs": `{}`},
		},
		{
			name:  "empty sidecars are removed, the checkpoint kept",
			files: map[string]string{stacks + "/dev.json": whole, stacks + "/dev.json.attrs": "", stacks + "/dev.json.bak.attrs": `{"user.cont`, lock + ".attrs": ""},
			want: []string{
				"stacks/dome/dev.json.attrs was cut short when the CLI died; removed it (metadata Pulumi reads the state without)",
				"stacks/dome/dev.json.bak.attrs was cut short when the CLI died; removed it (metadata Pulumi reads the state without)",
				"locks/organization/dome/dev/a1b2.json.attrs was cut short when the CLI died; removed it (metadata Pulumi reads the state without)",
			},
			after: map[string]string{stacks + "/dev.json": whole},
			gone:  []string{stacks + "/dev.json.attrs", stacks + "/dev.json.bak.attrs", lock + ".attrs"},
		},
		{
			name:  "another stack's sidecar is not touched",
			files: map[string]string{stacks + "/prod.json.attrs": ""},
			after: map[string]string{stacks + "/prod.json.attrs": ""},
		},
		{
			name:    "cut-short checkpoint without a backup",
			files:   map[string]string{stacks + "/dev.json": `{"vers`},
			wantErr: "was cut short when the CLI died, and no intact backup (dev.json.bak)",
		},
		{
			name:  "cut-short checkpoint is restored from its backup",
			files: map[string]string{stacks + "/dev.json": "", stacks + "/dev.json.bak": previous},
			want:  []string{"dev.json was cut short when the CLI died; restored the previous checkpoint from dev.json.bak"},
			after: map[string]string{stacks + "/dev.json": previous},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, data := range tc.files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(data), 0o644))
			}
			got, err := repairCheckpoint(root, "dome", "dev")
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			for name, want := range tc.after {
				data, err := os.ReadFile(filepath.Join(root, name))
				require.NoError(t, err, name)
				require.Equal(t, want, string(data), name)
			}
			for _, name := range tc.gone {
				require.NoFileExists(t, filepath.Join(root, name))
			}
		})
	}
}
