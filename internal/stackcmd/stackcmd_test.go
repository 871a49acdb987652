package stackcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain runs a probe command instead of the tests when the test binary
// is started as that command: Run exits the process, so the test sees it
// from outside.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("STACKCMD_ARGS"); ok {
		os.Args = append([]string{"probe"}, strings.Fields(args)...)
		cmd := New("probe", "probe [-dir DIR] [-n N] STACK")
		n := cmd.Int("n", 0, "a number")
		cmd.Run(func(_ context.Context, dir, stack string) error {
			if stack == "broken" {
				return errors.New("it broke")
			}
			fmt.Printf("dir=%s stack=%s n=%d\n", dir, stack, *n)
			return nil
		})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRun(t *testing.T) {
	tests := []struct {
		args           string
		code           int
		stdout, stderr string
	}{
		{args: "dev", stdout: "dir=. stack=dev n=0\n"},
		{args: "-dir infra -n 3 prod", stdout: "dir=infra stack=prod n=3\n"},
		{args: "broken", code: 1, stderr: "probe broken: it broke\n"},
		{args: "", code: 2, stderr: "usage: probe [-dir DIR] [-n N] STACK\n"},
		{args: "dev prod", code: 2, stderr: "usage: probe [-dir DIR] [-n N] STACK\n"},
		{args: "-x dev", code: 2, stderr: "flag provided but not defined: -x\nusage: probe"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "STACKCMD_ARGS="+tt.args)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
				code = exit.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.code, code, stderr.String())
			require.Equal(t, tt.stdout, stdout.String())
			require.True(t, strings.HasPrefix(stderr.String(), tt.stderr), stderr.String())
		})
	}
}
