package recovery

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/adopt"
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

// fakePulumi starts a long-running program named pulumi (a copy of cat)
// and returns once it runs: it has echoed a line back.
func fakePulumi(t *testing.T) *exec.Cmd {
	t.Helper()
	cat, err := exec.LookPath("cat")
	require.NoError(t, err)
	fake := filepath.Join(t.TempDir(), "pulumi")
	data, err := os.ReadFile(cat)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fake, data, 0o755))
	cmd := exec.Command(fake)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	_, err = stdin.Write([]byte("ready\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	return cmd
}

func TestPulumiRunning(t *testing.T) {
	require.False(t, pulumiRunning(0))
	require.False(t, pulumiRunning(os.Getpid()), "a test binary is not pulumi")

	// A program named pulumi, running: it holds its lock, until it exits.
	cmd := fakePulumi(t)
	require.True(t, pulumiRunning(cmd.Process.Pid))
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.False(t, pulumiRunning(cmd.Process.Pid), "a process that has exited holds nothing")
}

func TestStateSettled(t *testing.T) {
	const (
		provider = `{"urn":"urn:pulumi:dev::dome::pulumi:providers:domecf::domecf"}`
		script   = `{"urn":"urn:pulumi:dev::dome::domecf:index:WorkerScript::api","type":"domecf:index:WorkerScript"}`
		retired  = `{"urn":"urn:pulumi:dev::dome::domecf:index:WorkerSubdomain::api","type":"domecf:index:WorkerSubdomain","protect":true}`
	)
	raw := `{"manifest":{"time":"t"},"resources":[` + provider + `,` + script + `,` + retired + `],` +
		`"pending_operations":[{"type":"creating","resource":{"urn":"urn:pulumi:dev::dome::domecf:index:WorkerScript::web","type":"domecf:index:WorkerScript"}}]}`
	st, err := readState(apitype.UntypedDeployment{Version: 3, Deployment: json.RawMessage(raw)})
	require.NoError(t, err)
	require.Len(t, st.urns, 3)
	require.Len(t, st.pending, 1)
	require.Equal(t, "web", st.pending[0].name())
	require.Equal(t, []string{"urn:pulumi:dev::dome::domecf:index:WorkerSubdomain::api"}, st.retired)
	settled := st.settled()
	require.Equal(t, 3, settled.Version)
	require.JSONEq(t, `{"manifest":{"time":"t"},"resources":[`+provider+`,`+script+`]}`, string(settled.Deployment),
		"no pending operation, and no resource of a retired type, protected or not")
}

func TestSummary(t *testing.T) {
	require.Equal(t, "nothing to apply (5 unchanged)", summary(map[string]int{"same": 5}, "dev"))
	require.Equal(t, "nothing to apply (49 unchanged)", summary(map[string]int{"same": 49, "read": 1}, "local"), "a read is nothing to apply")
	require.Equal(t, "2 to create, 1 to update (3 unchanged); `just pulumi-up dev` applies it", summary(map[string]int{"same": 3, "update": 1, "create": 2}, "dev"))
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

func TestStaleLocks(t *testing.T) {
	host, err := os.Hostname()
	require.NoError(t, err)
	exited := exec.Command("true")
	require.NoError(t, exited.Run())
	live := fakePulumi(t)
	lock := func(pid int, host string) string {
		return fmt.Sprintf(`{"pid": %d, "username": "ci", "hostname": %q, "timestamp": "2026-11-28T07:09:45Z"}`, pid, host)
	}
	tests := []struct {
		name string
		lock string // "" for none
		want []string
		err  string
	}{
		{name: "no lock"},
		{
			name: "its process is gone",
			lock: lock(exited.Process.Pid, host),
			want: []string{fmt.Sprintf("pid %d on %s, taken 2026-11-28T07:09:45Z", exited.Process.Pid, host)},
		},
		{
			name: "taken on another machine",
			lock: lock(exited.Process.Pid, "ci-runner-7"),
			err:  "stack dev is locked by pid " + strconv.Itoa(exited.Process.Pid) + " on ci-runner-7, taken 2026-11-28T07:09:45Z, another machine: make sure no deploy runs there, then run `pulumi cancel --stack dev --yes` and `just recover dev` again",
		},
		{
			name: "its pulumi still runs",
			lock: lock(live.Process.Pid, host),
			err:  "stack dev is locked by a Pulumi process that is still running (pid " + strconv.Itoa(live.Process.Pid) + " on " + host + ", taken 2026-11-28T07:09:45Z): let it finish or stop it, then run `just recover dev` again",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.lock != "" {
				dir := filepath.Join(root, ".pulumi", "locks", "organization", "dome", "dev")
				require.NoError(t, os.MkdirAll(dir, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(dir, "1b2c.json"), []byte(tc.lock), 0o644))
			}
			got, err := staleLocks(root, "dome", "dev")
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestWithoutEarlier: what the account held before the deploy began is
// never adopted in its name; the rest is, with the providers it needs.
func TestWithoutEarlier(t *testing.T) {
	provider := adopt.Spec{Type: "pulumi:providers:cloudflare", Name: "cloudflare"}
	queue := adopt.Spec{Type: "cloudflare:index/queue:Queue", Name: "jobs", ID: "acct/q1", Provider: "cloudflare"}
	db := adopt.Spec{Type: "cloudflare:index/d1Database:D1Database", Name: "silo", ID: "acct/d1", Provider: "cloudflare"}
	lacking := adopt.File{Resources: []adopt.Spec{provider, queue, db}}
	tests := []struct {
		name    string
		before  []adopt.Spec
		kept    []adopt.Spec
		dropped []string
	}{
		{"nothing was there before", nil, []adopt.Spec{provider, queue, db}, nil},
		{"a database that was there before stays out", []adopt.Spec{db}, []adopt.Spec{provider, queue}, []string{"cloudflare:index/d1Database:D1Database silo acct/d1"}},
		{"the same id under another type is another object", []adopt.Spec{{Type: "cloudflare:index/r2Bucket:R2Bucket", Name: "silo", ID: "acct/d1"}}, []adopt.Spec{provider, queue, db}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped := withoutEarlier(lacking, adopt.File{Resources: tt.before})
			require.Equal(t, tt.kept, got.Resources)
			require.Equal(t, tt.dropped, dropped)
		})
	}
	require.Len(t, lacking.Resources, 3, "the file given is left as it was")
}
