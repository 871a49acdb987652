package main

import (
	"bytes"
	"debug/buildinfo"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/fresh"
)

// TestRun: a missing binary is built once, stamped with the sources' hash
// (so its first start does not rebuild it), saying what it builds; one
// that exists is left to keep itself fresh.
func TestRun(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "bin", "validate")
	var log bytes.Buffer
	require.NoError(t, run(&log, root, []string{out + "=./cmd/validate"}))
	require.Contains(t, log.String(), "building this tree's binaries once")
	require.Contains(t, log.String(), "  "+out+" (./cmd/validate) ...")

	info, err := buildinfo.ReadFile(out)
	require.NoError(t, err)
	sum, err := fresh.Sum(root)
	require.NoError(t, err)
	var ldflags string
	for _, s := range info.Settings {
		if s.Key == "-ldflags" {
			ldflags = s.Value
		}
	}
	require.Contains(t, ldflags, "fresh.Hash="+sum, "stamped with the hash Ensure compares")

	log.Reset()
	before, err := os.Stat(out)
	require.NoError(t, err)
	require.NoError(t, run(&log, root, []string{out + "=./cmd/validate"}))
	require.Empty(t, log.String(), "an existing binary is not built again")
	after, err := os.Stat(out)
	require.NoError(t, err)
	require.Equal(t, before.ModTime(), after.ModTime())

	require.EqualError(t, run(&log, root, []string{"bin/validate"}), `"bin/validate" is not OUT=PKG (e.g. bin/cfemu=./cmd/cfemu)`)
}
