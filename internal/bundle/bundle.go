// Package bundle turns a worker's entry module into the one ES module that
// is uploaded to Cloudflare. TypeScript entries are bundled in-process with
// esbuild, so a deploy needs no Node.js toolchain; a .js or .mjs entry is
// taken to be a prebuilt bundle and uploaded as it is.
package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Module is a bundled worker.
type Module struct {
	Code   string
	SHA256 string // hex SHA-256 of Code, the stack output CI compares
}

// Build bundles the entry module at path.
func Build(path string) (Module, error) {
	switch filepath.Ext(path) {
	case ".js", ".mjs":
		code, err := os.ReadFile(path)
		if err != nil {
			return Module{}, fmt.Errorf("Module not found: %s: %w", path, errors.Unwrap(err))
		}
		return newModule(string(code)), nil
	}
	if _, err := os.Stat(path); err != nil {
		return Module{}, fmt.Errorf("Module not found: %s", path)
	}
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{path},
		Bundle:      true,
		Write:       false,
		Outfile:     "index.js",
		Format:      api.FormatESModule,
		Platform:    api.PlatformNeutral,
		Target:      api.ES2022,
		// The Workers runtime resolves these itself.
		External:   []string{"cloudflare:*", "node:*"},
		Conditions: []string{"workerd", "worker", "browser"},
		MainFields: []string{"browser", "module", "main"},
		LogLevel:   api.LogLevelSilent,
		Charset:    api.CharsetUTF8,
	})
	if len(res.Errors) > 0 {
		return Module{}, buildError(res.Errors)
	}
	if len(res.OutputFiles) != 1 {
		return Module{}, fmt.Errorf("bundling %s produced %d files, want 1", path, len(res.OutputFiles))
	}
	return newModule(string(res.OutputFiles[0].Contents)), nil
}

func newModule(code string) Module {
	sum := sha256.Sum256([]byte(code))
	return Module{Code: code, SHA256: hex.EncodeToString(sum[:])}
}

// buildError reports every esbuild error as file:line:col: text, with an
// absolute path (esbuild's are relative to the working directory, which
// means little in a Pulumi error).
func buildError(msgs []api.Message) error {
	lines := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if l := m.Location; l != nil {
			file, err := filepath.Abs(l.File)
			if err != nil {
				file = l.File
			}
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", file, l.Line, l.Column+1, m.Text))
		} else {
			lines = append(lines, m.Text)
		}
	}
	return errors.New("esbuild: " + strings.Join(lines, "; "))
}
