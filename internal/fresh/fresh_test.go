package fresh

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNeverRunsOlderCode builds a small program that calls Ensure, as
// Dome's does, and edits its sources between runs: every run prints what
// the tree says at that moment, rebuilding only when the sources changed.
func TestNeverRunsOlderCode(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	src, err := os.ReadFile("fresh.go")
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/prog\n\ngo 1.22\n")
	write("fresh/fresh.go", string(src))
	write("lib/lib.go", "package lib\n\nconst Word = \"alpha\"\n")
	main := func(version string) string {
		return `package main

import (
	"fmt"
	"os"

	"example.com/prog/fresh"
	"example.com/prog/lib"
)

func main() {
	if err := fresh.Ensure("."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("` + version + `", lib.Word)
}
`
	}
	write("main.go", main("v1"))

	bin := filepath.Join(dir, "bin", "prog")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	run := func() (stdout string, rebuilt bool) {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Dir = t.TempDir() // wherever it is started from
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		require.NoError(t, cmd.Run(), e.String())
		return o.String(), strings.Contains(e.String(), "rebuilding")
	}

	steps := []struct {
		name        string
		edit        func()
		want        string
		wantRebuild bool
	}{
		{"a binary built without the stamp rebuilds itself", func() {}, "v1 alpha\n", true},
		{"an unchanged tree runs as it is", func() {}, "v1 alpha\n", false},
		{"an edit to main is picked up", func() { write("main.go", main("v2")) }, "v2 alpha\n", true},
		{"an edit to another package is picked up", func() { write("lib/lib.go", "package lib\n\nconst Word = \"beta\"\n") }, "v2 beta\n", true},
		{"tests and testdata do not count", func() {
			write("lib/lib_test.go", "package lib\n")
			write("testdata/x.go", "package x\n")
		}, "v2 beta\n", false},
		{"going back to older sources rebuilds too", func() { write("main.go", main("v1")) }, "v1 beta\n", true},
	}
	for _, s := range steps {
		s.edit()
		got, rebuilt := run()
		require.Equal(t, s.want, got, s.name)
		require.Equal(t, s.wantRebuild, rebuilt, s.name)
	}
}

func TestSum(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module m\n")
	write("a.go", "package a\n")
	sum := func() string {
		s, err := Sum(dir)
		require.NoError(t, err)
		return s
	}
	base := sum()
	for _, ignored := range []string{"a_test.go", "README.md", ".state/x.go", "_old/x.go", "testdata/x.go", "tools/go.mod", "tools/x.go"} {
		write(ignored, "package x\n")
		require.Equal(t, base, sum(), "%s does not change the sum", ignored)
	}
	for _, counted := range []string{"b/b.go", "go.sum", "a.go"} {
		write(counted, "package changed\n")
		next := sum()
		require.NotEqual(t, base, next, "%s changes the sum", counted)
		base = next
	}
}
