// Package bundle turns workers' entry modules into the ES modules uploaded
// to Cloudflare. TypeScript entries are bundled in-process with esbuild, so
// a deploy needs no Node.js toolchain; a .js or .mjs entry is taken to be a
// prebuilt bundle and uploaded as it is.
//
// A Store keeps the results in a content-addressed folder and skips esbuild
// for a worker none of whose input files changed since its last bundle, so
// a preview of a thousand unchanged workers costs reading their inputs once.
package bundle

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Options tune a TypeScript bundle; a prebuilt .js entry ignores them.
type Options struct {
	// SourceMap writes an external source map, which the code links to as
	// index.js.map (the name the upload gives it).
	SourceMap bool
	// Minify shortens whitespace, identifiers and syntax.
	Minify bool
}

// Job is one worker to bundle.
type Job struct {
	Entry   string // entry module: .ts bundled, .js/.mjs uploaded as it is
	Options Options
	// Worker names the worker in the job's error (worker "api": ...);
	// without it the error starts with what failed.
	Worker string
}

// Module is a bundled worker, kept in a Store.
type Module struct {
	File      string // absolute path of the code in the store, named by its SHA-256
	SHA256    string // hex SHA-256 of the code, the stack output CI compares
	MapFile   string // absolute path of the source map in the store; "" without one
	MapSHA256 string // "" without a source map
	// Size is the code's length in bytes, which Cloudflare's size limit
	// counts; Gzipped its length gzip-compressed, which wrangler prints
	// beside it. The source map counts toward neither: Cloudflare caps
	// source maps separately (Workers changelog, 2025-03-25: source maps
	// GA, up to 15 MB gzipped).
	Size    int64
	Gzipped int64
	Cached  bool // reused from the cache: esbuild did not run
}

// sourceMapName is the map's file name, beside the index.js module it maps.
const sourceMapName = "index.js.map"

// prebuilt reports whether entry is uploaded as it is.
func prebuilt(entry string) bool {
	switch filepath.Ext(entry) {
	case ".js", ".mjs":
		return true
	}
	return false
}

// output is what esbuild made of one entry.
type output struct {
	code, sourceMap []byte
	metafile        string // JSON; its inputs are every file the bundle read
}

// compile bundles the TypeScript entry at path with esbuild.
func compile(path string, opts Options) (output, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return output{}, fmt.Errorf("Module not found: %s", path)
	} else if err != nil {
		return output{}, err
	}
	sourceMap := api.SourceMapNone
	if opts.SourceMap {
		sourceMap = api.SourceMapLinked
	}
	// Anything changed here changes bundles: bump cacheVersion with it.
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{path},
		Bundle:      true,
		Write:       false,
		Metafile:    true,
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
		return output{}, buildError(path, res.Errors)
	}
	out := output{metafile: res.Metafile}
	for _, f := range res.OutputFiles {
		switch filepath.Base(f.Path) {
		case "index.js":
			out.code = f.Contents
		case sourceMapName:
			out.sourceMap = f.Contents
		default:
			return output{}, fmt.Errorf("bundling %s produced an unexpected file %s", path, f.Path)
		}
	}
	if len(out.code) == 0 || opts.SourceMap != (len(out.sourceMap) > 0) {
		return output{}, fmt.Errorf("bundling %s produced %d files, want the module and, if asked for, its source map", path, len(res.OutputFiles))
	}
	return out, nil
}

// buildError reports every esbuild error as file:line:col: text, with an
// absolute path (esbuild's are relative to the working directory, which
// means little in a Pulumi error). When an error lies in another file than
// the entry, the entry leads, so a worker's failure in shared code still
// says which worker it broke.
func buildError(entry string, msgs []api.Message) error {
	absEntry, _ := filepath.Abs(entry)
	lines := make([]string, 0, len(msgs))
	inEntry := true
	for _, m := range msgs {
		if l := m.Location; l != nil {
			file, err := filepath.Abs(l.File)
			if err != nil {
				file = l.File
			}
			inEntry = inEntry && file == absEntry
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", file, l.Line, l.Column+1, m.Text))
		} else {
			inEntry = false
			lines = append(lines, m.Text)
		}
	}
	err := errors.New("esbuild: " + strings.Join(lines, "; "))
	if inEntry {
		return err
	}
	return fmt.Errorf("%s: %w", entry, err)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// gzipSize is b's length gzip-compressed at the default level, which is
// what wrangler reports as the size Cloudflare's limit counts.
func gzipSize(b []byte) int64 {
	var n counter
	zw := gzip.NewWriter(&n)
	_, _ = zw.Write(b) // a counter never fails
	_ = zw.Close()
	return int64(n)
}

type counter int64

func (c *counter) Write(p []byte) (int, error) {
	*c += counter(len(p))
	return len(p), nil
}
