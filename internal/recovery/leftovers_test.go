package recovery

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLeftovers: a plugin process whose parent is no longer a pulumi
// process, working in the project's folder, is a killed run's leftover and
// is ended; one whose parent is a running pulumi CLI, or that works in
// another folder, is left alone.
func TestLeftovers(t *testing.T) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skip("no /proc: leftovers are found on Linux only")
	}
	bin := t.TempDir()
	program := func(name, like string) string {
		path, err := exec.LookPath(like)
		require.NoError(t, err)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), data, 0o755))
		return filepath.Join(bin, name)
	}
	plugin := program("pulumi-resource-test", "sleep")
	cli := program("pulumi", "sh")

	project, elsewhere := t.TempDir(), t.TempDir()
	start := func(dir, name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		return cmd
	}
	run := func(cmd *exec.Cmd) {
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	}
	// The test process is not pulumi: its plugin children stand for orphans.
	orphan := start(project, plugin, "60")
	run(orphan)
	run(start(elsewhere, plugin, "60"))
	// A running deploy: its plugin is the CLI's child, and says when it runs.
	deploy := start(project, cli, "-c", plugin+" 60 & echo started; wait")
	out, err := deploy.StdoutPipe()
	require.NoError(t, err)
	run(deploy)
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "started\n", line)

	require.Equal(t, []Leftover{{PID: orphan.Process.Pid, Name: "pulumi-resource-test"}}, Leftovers(project))
	require.Equal(t, []string{"ended pulumi-resource-test (pid " + strconv.Itoa(orphan.Process.Pid) + "), which a killed pulumi left running"}, endLeftovers(project))
	state, err := orphan.Process.Wait()
	require.NoError(t, err)
	require.Equal(t, syscall.SIGTERM, state.Sys().(syscall.WaitStatus).Signal())
	require.Empty(t, Leftovers(project), "the running deploy's plugin is not a leftover")
}
