package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuild(t *testing.T) {
	prebuilt, err := os.ReadFile("testdata/prebuilt/worker.js")
	require.NoError(t, err)

	tests := []struct {
		name     string
		path     string
		contains []string
		absent   []string
		exact    string
		err      string
	}{
		{
			name: "typescript is bundled into one module",
			path: "testdata/ok/src/index.ts",
			contains: []string{
				`from "cloudflare:workers"`, // external, left for the runtime
				`from "node:async_hooks"`,
				"hello ${who}", // the local import is inlined
				"export {",
			},
			absent: []string{"./greet", "<string>"}, // no import left, types stripped
		},
		{name: "prebuilt javascript is uploaded as it is", path: "testdata/prebuilt/worker.js", exact: string(prebuilt)},
		{name: "missing entry", path: "testdata/nope/index.ts", err: "Module not found: testdata/nope/index.ts"},
		{name: "missing prebuilt bundle", path: "testdata/nope/index.js", err: "Module not found: testdata/nope/index.js"},
		{name: "syntax error names file and position", path: "testdata/broken/index.ts", err: "esbuild: " + abs(t, "testdata/broken/index.ts") + ":3:39: Unterminated string literal"},
		{name: "unresolved import", path: "testdata/missingdep/index.ts", err: "esbuild: " + abs(t, "testdata/missingdep/index.ts") + `:1:25: Could not resolve "./does-not-exist"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := buildOne(t, tt.path, Options{})
			if tt.err != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			if tt.exact != "" {
				require.Equal(t, tt.exact, m.code)
			}
			for _, s := range tt.contains {
				require.Contains(t, m.code, s)
			}
			for _, s := range tt.absent {
				require.NotContains(t, m.code, s)
			}
			sum := sha256.Sum256([]byte(m.code))
			require.Equal(t, hex.EncodeToString(sum[:]), m.SHA256)
		})
	}
}

// built is a module with its code and map read back from the store.
type built struct {
	Module
	code, sourceMap string
}

// buildOne bundles one entry through a fresh store.
func buildOne(t *testing.T, path string, opts Options) (built, error) {
	t.Helper()
	store, err := Open(t.TempDir())
	require.NoError(t, err)
	mods, err := store.Build([]Job{{Entry: path, Options: opts}})
	if err != nil {
		return built{}, err
	}
	b := built{Module: mods[0], code: readFile(t, mods[0].File)}
	if mods[0].MapFile != "" {
		b.sourceMap = readFile(t, mods[0].MapFile)
	}
	return b, nil
}

func abs(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	require.NoError(t, err)
	return p
}

func TestBuildIsDeterministic(t *testing.T) {
	opts := Options{SourceMap: true}
	a, err := buildOne(t, "testdata/ok/src/index.ts", opts)
	require.NoError(t, err)
	b, err := buildOne(t, "testdata/ok/src/index.ts", opts)
	require.NoError(t, err)
	require.Equal(t, a.SHA256, b.SHA256)
	require.Equal(t, a.sourceMap, b.sourceMap)
}

func TestBuildSourceMapAndMinify(t *testing.T) {
	plain, err := buildOne(t, "testdata/ok/src/index.ts", Options{})
	require.NoError(t, err)
	require.Empty(t, plain.sourceMap)
	require.NotContains(t, plain.code, "sourceMappingURL")

	mapped, err := buildOne(t, "testdata/ok/src/index.ts", Options{SourceMap: true})
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(strings.TrimSpace(mapped.code), "//# sourceMappingURL=index.js.map"), "the module links its map by the name it is uploaded under")
	var sm struct {
		Version        int      `json:"version"`
		Sources        []string `json:"sources"`
		SourcesContent []string `json:"sourcesContent"`
		Mappings       string   `json:"mappings"`
	}
	require.NoError(t, json.Unmarshal([]byte(mapped.sourceMap), &sm))
	require.Equal(t, 3, sm.Version)
	require.Equal(t, []string{"testdata/ok/src/index.ts", "testdata/ok/src/greet.ts"}, sm.Sources, "paths relative to the project, the same on every machine")
	require.Len(t, sm.SourcesContent, 2)
	require.NotEmpty(t, sm.Mappings)

	minified, err := buildOne(t, "testdata/ok/src/index.ts", Options{SourceMap: true, Minify: true})
	require.NoError(t, err)
	require.Less(t, len(minified.code), len(mapped.code))
	require.NotEqual(t, mapped.sourceMap, minified.sourceMap)

	prebuilt, err := buildOne(t, "testdata/prebuilt/worker.js", Options{SourceMap: true, Minify: true})
	require.NoError(t, err)
	require.Empty(t, prebuilt.sourceMap, "a prebuilt bundle is uploaded as it is")
}
