// Command build builds the project's prebuilt binaries (bin/dome, the
// companion provider, the emulator, validate), each stamped with the hash
// of the sources it was built from, so none of them rebuilds itself on its
// first start (internal/fresh). It says what it builds and why it may take
// a while, and leaves alone a binary that already exists: each keeps itself
// up to date from then on.
//
//	go run ./cmd/build OUT=PKG...
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dome/infra/internal/fresh"
)

func main() {
	if err := run(os.Stdout, ".", os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

// run builds each OUT=PKG target whose OUT is missing, from the module in root.
func run(w io.Writer, root string, targets []string) error {
	if len(targets) == 0 {
		return errors.New("usage: go run ./cmd/build OUT=PKG... (e.g. bin/cfemu=./cmd/cfemu)")
	}
	var sum string
	for _, t := range targets {
		out, pkg, ok := strings.Cut(t, "=")
		if !ok || out == "" || pkg == "" {
			return fmt.Errorf("%q is not OUT=PKG (e.g. bin/cfemu=./cmd/cfemu)", t)
		}
		if _, err := os.Stat(out); err == nil {
			continue
		}
		if sum == "" {
			var err error
			if sum, err = fresh.Sum(root); err != nil {
				return err
			}
			fmt.Fprintln(w, "building this tree's binaries once; the first build on a machine compiles the Cloudflare SDK and Pulumi's, about a minute or two")
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		start := time.Now()
		fmt.Fprintf(w, "  %s (%s) ...", out, pkg)
		if err := fresh.Build(root, pkg, out, sum); err != nil {
			fmt.Fprintln(w)
			return err
		}
		fmt.Fprintf(w, " %.0f s\n", time.Since(start).Seconds())
	}
	return nil
}
