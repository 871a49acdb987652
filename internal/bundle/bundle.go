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
	// SourceMap maps Code back to the sources; empty for a prebuilt entry
	// or when Options.SourceMap is off.
	SourceMap string
}

// Options tune a TypeScript bundle; a prebuilt .js entry ignores them.
type Options struct {
	// SourceMap writes an external source map, which Code links to as
	// index.js.map (the name the upload gives it).
	SourceMap bool
	// Minify shortens whitespace, identifiers and syntax.
	Minify bool
}

// sourceMapName is the map's file name, beside the index.js module it maps.
const sourceMapName = "index.js.map"

// Build bundles the entry module at path.
func Build(path string, opts Options) (Module, error) {
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
	sourceMap := api.SourceMapNone
	if opts.SourceMap {
		sourceMap = api.SourceMapLinked
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
		// Linked: a separate map, named in the code's sourceMappingURL
		// comment, which is how the runtime pairs the two.
		Sourcemap:         sourceMap,
		MinifyWhitespace:  opts.Minify,
		MinifyIdentifiers: opts.Minify,
		MinifySyntax:      opts.Minify,
	})
	if len(res.Errors) > 0 {
		return Module{}, buildError(res.Errors)
	}
	var code, sourceMapText string
	for _, f := range res.OutputFiles {
		switch filepath.Base(f.Path) {
		case "index.js":
			code = string(f.Contents)
		case sourceMapName:
			sourceMapText = string(f.Contents)
		default:
			return Module{}, fmt.Errorf("bundling %s produced an unexpected file %s", path, f.Path)
		}
	}
	if code == "" || opts.SourceMap != (sourceMapText != "") {
		return Module{}, fmt.Errorf("bundling %s produced %d files, want the module and, if asked for, its source map", path, len(res.OutputFiles))
	}
	m := newModule(code)
	m.SourceMap = sourceMapText
	return m, nil
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
