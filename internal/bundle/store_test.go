package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// project is a worker that imports a local module and an npm package.
var project = map[string]string{
	"src/index.ts": `import { greet } from "./greet";
import { shout } from "dep";
export default { fetch: (r: Request) => new Response(shout(greet(r.url))) };
`,
	"src/greet.ts":                  "export const greet = (who: string): string => `hello ${who}`;\n",
	"node_modules/dep/package.json": `{"name": "dep", "main": "index.js"}` + "\n",
	"node_modules/dep/index.js":     "export const shout = (s) => s.toUpperCase() + '!';\n",
	"node_modules/dep/other.js":     "export const shout = (s) => 'other ' + s;\n",
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// TestStoreCache builds a worker, changes something, and builds it again:
// only a change that can change the bundle may cost an esbuild run.
func TestStoreCache(t *testing.T) {
	tests := []struct {
		name     string
		change   func(t *testing.T, dir string, first Module)
		opts     Options // of the second build
		cached   bool
		contains string // in the second bundle
	}{
		{name: "unchanged inputs reuse the bundle", cached: true, contains: "hello"},
		{
			name: "an edited input, same size, is rebuilt",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"src/greet.ts": "export const greet = (who: string): string => `hallo ${who}`;\n"})
			},
			contains: "hallo",
		},
		{
			name: "an edited package file is rebuilt",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"node_modules/dep/index.js": "export const shout = (s) => s + '?!';\n"})
			},
			contains: "?!",
		},
		{
			name: "a touched but identical input is reused",
			change: func(t *testing.T, dir string, _ Module) {
				later := time.Now().Add(time.Hour)
				require.NoError(t, os.Chtimes(filepath.Join(dir, "src/greet.ts"), later, later))
			},
			cached:   true,
			contains: "hello",
		},
		{
			name: "a new file that shadows a resolved one is picked up",
			change: func(t *testing.T, dir string, _ Module) {
				// esbuild tries .tsx before .ts.
				writeFiles(t, dir, map[string]string{"src/greet.tsx": "export const greet = (who: string): string => `shadowed ${who}`;\n"})
			},
			contains: "shadowed",
		},
		{
			name: "a package installed nearer the importer is picked up",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{
					"src/node_modules/dep/package.json": `{"name": "dep", "main": "index.js"}`,
					"src/node_modules/dep/index.js":     "export const shout = (s) => 'nearer ' + s;\n",
				})
			},
			contains: "nearer",
		},
		{
			name: "a package.json pointing elsewhere is picked up",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"node_modules/dep/package.json": `{"name": "dep", "main": "other.js"}` + "\n"})
			},
			contains: "other ",
		},
		{name: "other options are another bundle", opts: Options{SourceMap: true}, contains: "hello"},
		{
			name: "a bundle missing from the store is rebuilt",
			change: func(t *testing.T, _ string, first Module) {
				require.NoError(t, os.Remove(first.File))
			},
			contains: "hello",
		},
		{
			name: "a corrupt cache entry is a miss, not an error",
			change: func(t *testing.T, dir string, _ Module) {
				entries, err := filepath.Glob(filepath.Join(dir, "store", cacheDir, "*.json"))
				require.NoError(t, err)
				require.Len(t, entries, 1)
				require.NoError(t, os.WriteFile(entries[0], []byte(`{"Version": 1, "Module": {"SHA2`), 0o644))
			},
			contains: "hello",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, project)
			s, err := Open(filepath.Join(dir, "store"))
			require.NoError(t, err)
			entry := filepath.Join(dir, "src/index.ts")

			first, err := s.Build([]Job{{Entry: entry}})
			require.NoError(t, err)
			require.False(t, first[0].Cached)
			if tt.change != nil {
				tt.change(t, dir, first[0])
			}
			second, err := s.Build([]Job{{Entry: entry, Options: tt.opts}})
			require.NoError(t, err)
			m := second[0]
			require.Equal(t, tt.cached, m.Cached)
			code := readFile(t, m.File)
			require.Contains(t, code, tt.contains)
			require.Equal(t, sum([]byte(code)), m.SHA256, "the store file is named by, and holds, the hash")
			require.Equal(t, filepath.Join(s.dir, m.SHA256+".js"), m.File)
			require.Equal(t, int64(len(code)), m.Size)
			require.Equal(t, gzipSize([]byte(code)), m.Gzipped)
			if tt.opts.SourceMap {
				require.Equal(t, sum([]byte(readFile(t, m.MapFile))), m.MapSHA256)
			} else {
				require.Empty(t, m.MapFile)
			}

			// The same build again always hits: the rebuild was recorded.
			third, err := s.Build([]Job{{Entry: entry, Options: tt.opts}})
			require.NoError(t, err)
			require.True(t, third[0].Cached)
			require.Equal(t, m.SHA256, third[0].SHA256)
		})
	}
}

// TestStoreBuildIsTheBundle: the store holds exactly what esbuild makes.
func TestStoreBuildIsTheBundle(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	opts := Options{SourceMap: true, Minify: true}
	ms, err := s.Build([]Job{{Entry: "testdata/ok/src/index.ts", Options: opts}})
	require.NoError(t, err)
	want, err := compile("testdata/ok/src/index.ts", opts)
	require.NoError(t, err)
	require.Equal(t, string(want.code), readFile(t, ms[0].File))
	require.Equal(t, string(want.sourceMap), readFile(t, ms[0].MapFile))
	require.Equal(t, sum(want.code), ms[0].SHA256)
}

// TestStoreBuildReportsEveryFailure: many jobs at once, some failing: each
// failure is reported with its entry, the rest are built, in job order.
func TestStoreBuildReportsEveryFailure(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	var jobs []Job
	for i := range 24 {
		name := fmt.Sprintf("w%02d/index.ts", i)
		files[name] = fmt.Sprintf("export default { fetch: () => new Response(%q) };\n", name)
		jobs = append(jobs, Job{Entry: filepath.Join(dir, name), Worker: fmt.Sprintf("w%02d", i)})
	}
	files["w07/index.ts"] = "export default {\n  fetch() { return new Response(\"unterminated; },\n};\n"
	files["w19/index.ts"] = `import { x } from "../shared/broken";` + "\nexport default { fetch: () => new Response(x) };\n"
	files["shared/broken.ts"] = "export const x = ;\n"
	writeFiles(t, dir, files)
	jobs = append(jobs, Job{Entry: filepath.Join(dir, "w99/index.ts")}) // no worker name: the error starts with what failed

	s, err := Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	ms, err := s.Build(jobs)
	require.EqualError(t, err, strings.Join([]string{
		`worker "w07": esbuild: ` + filepath.Join(dir, "w07/index.ts") + ":2:50: Unterminated string literal",
		`worker "w19": ` + filepath.Join(dir, "w19/index.ts") + ": esbuild: " + filepath.Join(dir, "shared/broken.ts") + ":1:18: Unexpected \";\"",
		"Module not found: " + filepath.Join(dir, "w99/index.ts"),
	}, "\n"))
	require.Len(t, ms, len(jobs))
	for i, m := range ms {
		switch i {
		case 7, 19, 24:
			require.Zero(t, m, "job %d failed", i)
		default:
			require.Contains(t, readFile(t, m.File), fmt.Sprintf("w%02d/index.ts", i), "job %d's module is in its place", i)
		}
	}
}

// TestStorePrebuilt: a .js entry is copied into the store as it is, and
// reused while the file is unchanged.
func TestStorePrebuilt(t *testing.T) {
	dir := t.TempDir()
	entry := filepath.Join(dir, "worker.js")
	orig := readFile(t, "testdata/prebuilt/worker.js")
	writeFiles(t, dir, map[string]string{"worker.js": orig})
	s, err := Open(filepath.Join(dir, "store"))
	require.NoError(t, err)

	for i, step := range []struct {
		text   string // written before the build; "" keeps the file
		cached bool
	}{
		{cached: false},
		{cached: true},
		{text: orig + "// edited\n", cached: false},
	} {
		if step.text != "" {
			writeFiles(t, dir, map[string]string{"worker.js": step.text})
		}
		ms, err := s.Build([]Job{{Entry: entry, Options: Options{SourceMap: true, Minify: true}}})
		require.NoError(t, err)
		m := ms[0]
		require.Equal(t, step.cached, m.Cached, "build %d", i)
		require.Equal(t, readFile(t, entry), readFile(t, m.File), "uploaded as it is")
		require.Empty(t, m.MapFile, "a prebuilt bundle has no map")
	}
	_, err = s.Build([]Job{{Entry: filepath.Join(dir, "nope.js")}})
	require.ErrorContains(t, err, "Module not found: "+filepath.Join(dir, "nope.js"))
}

// TestStorePrune: files unused by a build and untouched for a day go;
// everything else stays.
func TestStorePrune(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, project)
	s, err := Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	entry := filepath.Join(dir, "src/index.ts")
	first, err := s.Build([]Job{{Entry: entry, Options: Options{SourceMap: true}}})
	require.NoError(t, err)

	old := time.Now().Add(-25 * time.Hour)
	recent := time.Now().Add(-23 * time.Hour)
	stale := map[string]time.Time{
		"0000.js":               old,
		"0000.js.map":           old,
		cacheDir + "/0000.json": old,
		".tmp-123":              old,
		"1111.js":               recent,
		"README.txt":            old, // not the store's: never removed
	}
	for name, at := range stale {
		writeFiles(t, s.dir, map[string]string{name: "x"})
		require.NoError(t, os.Chtimes(filepath.Join(s.dir, name), at, at))
	}
	// The build's own files are old too, but used: kept, and touched.
	keyFiles, err := filepath.Glob(filepath.Join(s.dir, cacheDir, "*.json"))
	require.NoError(t, err)
	used := []string{first[0].File, first[0].MapFile}
	for _, f := range keyFiles {
		if filepath.Base(f) != "0000.json" {
			used = append(used, f)
		}
	}
	require.Len(t, used, 3)
	for _, f := range used {
		require.NoError(t, os.Chtimes(f, old, old))
	}

	second, err := s.Build([]Job{{Entry: entry, Options: Options{SourceMap: true}}})
	require.NoError(t, err)
	require.True(t, second[0].Cached)
	for name := range stale {
		_, err := os.Stat(filepath.Join(s.dir, name))
		gone := stale[name].Equal(old) && name != "README.txt"
		require.Equal(t, gone, os.IsNotExist(err), name)
	}
	for _, f := range used {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), st.ModTime(), time.Minute, "%s is touched", f)
	}
}

// TestProbeAsksOnce: however many jobs ask about a shared file at once,
// the file system is asked once.
func TestProbeAsksOnce(t *testing.T) {
	var m memo[int]
	m.m = map[string]*cell[int]{}
	var calls atomic.Int32
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			key := []string{"node_modules/a.js", "node_modules/b.js"}[i%2]
			v := m.get(key, func() int { return int(calls.Add(1)) })
			require.Positive(t, v)
		})
	}
	wg.Wait()
	require.Equal(t, int32(2), calls.Load())
}
