// Package fresh keeps a prebuilt program binary from ever running code
// older than its source. Pulumi.yaml points Pulumi at bin/dome
// (runtime.options.binary) so a preview does not compile and link the
// program each time; in exchange, the binary checks on start that the
// module's sources still hash to what it was built from, and if not
// rebuilds itself in place and runs the new build. A plain `pulumi
// preview` after an edit is therefore slower once, never stale.
package fresh

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
)

// Hash is the sum of the sources the running binary was built from, set
// at link time by Build; empty in a binary built any other way.
var Hash string

// envRebuilt marks the process a rebuild exec'd, so a tree that keeps
// changing during builds fails instead of rebuilding forever.
const envRebuilt = "DOME_FRESH_REBUILT"

// Ensure makes sure the running binary, the main package pkg (such as
// "." or "./cmd/validate") of the module it lies in (bin/dome in the
// module's folder), was built from that module's sources: if so it
// returns, else it rebuilds the binary from them and replaces the process
// with it. A binary outside any module was built by `go run`, `go test` or
// Pulumi's own compile from the tree as it was, and is left alone.
func Ensure(pkg string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the program binary: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("finding the program binary: %w", err)
	}
	root := moduleRoot(filepath.Dir(exe))
	if root == "" {
		return nil
	}
	sum, err := Sum(root)
	if err != nil {
		return err
	}
	if sum == Hash {
		return nil
	}
	if os.Getenv(envRebuilt) != "" {
		return errors.New("the program's sources changed while it was being rebuilt; run again once they settle")
	}
	fmt.Fprintf(os.Stderr, "fresh: the sources changed since %s was built; rebuilding it\n", filepath.Base(exe))
	if err := Build(root, pkg, exe, sum); err != nil {
		return err
	}
	env := append(os.Environ(), envRebuilt+"=1")
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("running the rebuilt %s: %w", exe, err)
	}
	return nil
}

// Build builds the main package pkg of the module in root into out, stamped with sum (the
// sources' Sum taken before the build, so an edit made during the build
// makes the result look stale, never fresh). It writes beside out and
// renames, so a running or concurrent reader never sees half a binary.
func Build(root, pkg, out, sum string) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+"-*")
	if err != nil {
		return fmt.Errorf("rebuilding %s: %w", out, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	stamp := fmt.Sprintf("-X %s.Hash=%s", reflect.TypeFor[marker]().PkgPath(), sum)
	cmd := exec.Command("go", "build", "-ldflags", stamp, "-o", tmp.Name(), pkg)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("rebuilding %s with go build: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("rebuilding %s: %w", out, err)
	}
	return nil
}

// moduleRoot returns the nearest folder from dir up holding a go.mod, or "".
func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// marker names this package's import path for the -X stamp.
type marker struct{}

// Sum hashes the module's sources under root: go.mod, go.sum and every
// non-test .go file, skipping what the go command skips (testdata, names
// starting with . or _) and nested modules. Sources of packages the
// binary does not use count too: a needless rebuild is cheap, a missed one
// is not.
func Sum(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) && name != "go.mod" && name != "go.sum" {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		// Name and length first, so no two trees hash alike.
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), info.Size())
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("hashing the program's sources: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
