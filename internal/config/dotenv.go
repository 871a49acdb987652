package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/joho/godotenv"
)

// LoadStack reads a stack's configuration offline, as the program sees
// it: dir/.env.<stack> into the environment, then Pulumi.yaml and
// Pulumi.<stack>.yaml, validated (with opts, as Load).
func LoadStack(dir, stack string, opts ...Option) (*Config, error) {
	if err := LoadDotEnv(dir, stack); err != nil {
		return nil, err
	}
	vals, err := ReadFiles(dir, stack)
	if err != nil {
		return nil, err
	}
	return Load(vals, os.Getenv, opts...)
}

// LoadTopology reads and validates a stack from its two files alone
// (TopologyOnly): no .env file, no environment variable, no source is read,
// so the result depends on the files and nothing else.
func LoadTopology(dir, stack string) (*Config, error) {
	vals, err := ReadFiles(dir, stack)
	if err != nil {
		return nil, err
	}
	return Load(vals, func(string) string { return "" }, TopologyOnly())
}

// LocalStack is the stack deployed to the local emulator, whose
// credentials are the fixed ones .env.local holds.
const LocalStack = "local"

// LoadDotEnv loads dir/.env.<stack> into the process environment when the
// file exists. Variables already set to a non-empty value win, so CI's
// environment overrides a developer's file; except for the local stack,
// whose file always wins: it talks only to the emulator, which accepts
// only those credentials, and a real token exported in the shell must
// never be sent there.
func LoadDotEnv(dir, stack string) error {
	path := filepath.Join(dir, ".env."+stack)
	vars, err := godotenv.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := vars[EnvAllowDelete]; ok {
		return fmt.Errorf("%s: sets %s, which would allow those deletions in every later deploy of the stack; remove the line, and name the resources on the one command that deletes them: %s=\"<names>\" just pulumi-up %s",
			path, EnvAllowDelete, EnvAllowDelete, stack)
	}
	for k, v := range vars {
		if os.Getenv(k) == "" || stack == LocalStack {
			if err := os.Setenv(k, v); err != nil {
				return fmt.Errorf("%s: %s: %w", path, k, err)
			}
		}
	}
	return nil
}
