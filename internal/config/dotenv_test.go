package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadDotEnv(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.dev"), []byte("DOME_TEST_A=from-file\nDOME_TEST_B=from-file\nDOME_TEST_C=from-file\n"), 0o600))
	t.Setenv("DOME_TEST_A", "from-shell")
	t.Setenv("DOME_TEST_B", "")
	t.Setenv("DOME_TEST_C", "")
	require.NoError(t, os.Unsetenv("DOME_TEST_C"))

	require.NoError(t, LoadDotEnv(dir, "dev"))
	require.Equal(t, "from-shell", os.Getenv("DOME_TEST_A"), "the environment wins")
	require.Equal(t, "from-file", os.Getenv("DOME_TEST_B"), "an empty variable is unset")
	require.Equal(t, "from-file", os.Getenv("DOME_TEST_C"))

	require.NoError(t, LoadDotEnv(dir, "staging"), "no file is fine")

	// The local stack's file wins: its credentials are the emulator's.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.local"), []byte("DOME_TEST_A=emulator\n"), 0o600))
	require.NoError(t, LoadDotEnv(dir, LocalStack))
	require.Equal(t, "emulator", os.Getenv("DOME_TEST_A"), "a real token in the shell never reaches the emulator")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.bad"), []byte("A='unterminated\n"), 0o600))
	require.ErrorContains(t, LoadDotEnv(dir, "bad"), ".env.bad")

	// A deletion is allowed per command, never by a file.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".env.qa"), []byte("DOME_TEST_D=x\nDOME_ALLOW_DELETE=silo\n"), 0o600))
	t.Setenv("DOME_TEST_D", "")
	require.EqualError(t, LoadDotEnv(dir, "qa"), filepath.Join(dir, ".env.qa")+`: sets DOME_ALLOW_DELETE, which would allow those deletions in every later deploy of the stack; remove the line, and name the resources on the one command that deletes them: DOME_ALLOW_DELETE="<names>" just pulumi-up qa`)
	require.Empty(t, os.Getenv("DOME_TEST_D"), "nothing of the file was loaded")
}
