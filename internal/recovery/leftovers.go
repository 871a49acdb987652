package recovery

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Leftover is a plugin or language-host process that a killed Pulumi CLI
// left running: the CLI stops its plugins when it ends, but a SIGKILL (a
// closed laptop, a cancelled job) gives it no chance to.
type Leftover struct {
	PID  int
	Name string // the program, such as pulumi-resource-domecf
}

// Leftovers finds the leftovers of a killed run in the project folder dir:
// processes running a Pulumi plugin or language host (pulumi-resource-*,
// pulumi-language-*) in dir whose parent is no longer a pulumi process.
// A running deploy's plugins are its CLI's children, so they never match.
// It reads /proc; where there is none (macOS) it finds nothing.
func Leftovers(dir string) []Leftover {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []Leftover
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		proc := filepath.Join("/proc", e.Name())
		exe, err := os.Readlink(filepath.Join(proc, "exe"))
		if err != nil {
			continue // another user's, or gone
		}
		name := filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
		if !strings.HasPrefix(name, "pulumi-resource-") && !strings.HasPrefix(name, "pulumi-language-") {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join(proc, "cwd")); err != nil || cwd != dir {
			continue
		}
		if parent, err := programOf(parentOf(pid)); err != nil || parent == "pulumi" {
			continue
		}
		out = append(out, Leftover{PID: pid, Name: name})
	}
	return out
}

// parentOf is pid's parent, or 0 when that cannot be read.
func parentOf(pid int) int {
	_, fields, err := procStat(pid)
	if err != nil {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// endLeftovers stops the leftovers of a killed run in dir, saying what
// it ended.
func endLeftovers(dir string) []string {
	var done []string
	for _, l := range Leftovers(dir) {
		if err := syscall.Kill(l.PID, syscall.SIGTERM); err != nil {
			continue
		}
		done = append(done, fmt.Sprintf("ended %s (pid %d), which a killed pulumi left running", l.Name, l.PID))
	}
	return done
}
