package bundle

import (
	"encoding/json"
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

// writeFiles writes files dated an hour back: sources are not written the
// moment a deploy starts, and the cache rightly distrusts ones that are.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	hourAgo := time.Now().Add(-time.Hour)
	for name, text := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		require.NoError(t, os.Chtimes(path, hourAgo, hourAgo))
	}
}

// npmTime is the modification time npm gives every file it extracts.
var npmTime = time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)

// aliased is the project with src/index.ts importing @lib/greet, which a
// tsconfig's paths map to lib1/ (the words "one") or lib2/ ("two").
var aliased = map[string]string{
	"src/index.ts":  `import { greet } from "@lib/greet";` + "\nexport default { fetch: () => new Response(greet()) };\n",
	"lib1/greet.ts": "export const greet = () => 'one';\n",
	"lib2/greet.ts": "export const greet = () => 'two';\n",
}

func pathsTo(lib string) string {
	return `{"compilerOptions": {"baseUrl": ".", "paths": {"@lib/*": ["` + lib + `/*"]}}}`
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
		setup    func(t *testing.T, dir string) // after the project is written
		change   func(t *testing.T, dir string, first Module)
		opts     Options // of the second build
		cached   bool
		contains string // in the second bundle
		gains    bool   // contains is what the change brings: the first bundle lacks it
	}{
		{name: "unchanged inputs reuse the bundle", cached: true, contains: "hello"},
		{
			name: "an edited input, same size, is rebuilt",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"src/greet.ts": "export const greet = (who: string): string => `hallo ${who}`;\n"})
			},
			contains: "hallo",
			gains:    true,
		},
		{
			name: "an edited package file is rebuilt",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"node_modules/dep/index.js": "export const shout = (s) => s + '?!';\n"})
			},
			contains: "?!",
			gains:    true,
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
			gains:    true,
		},
		{
			name: "a package installed nearer the importer is picked up",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{
					"src/node_modules/dep/package.json": `{"name": "dep", "main": "index.js"}`,
					"src/node_modules/dep/index.js":     "export const shout = (s) => 'nearer ' + s;\n",
				})
			},
			contains: `"nearer "`,
			gains:    true,
		},
		{
			name: "a package.json pointing elsewhere is picked up",
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"node_modules/dep/package.json": `{"name": "dep", "main": "other.js"}` + "\n"})
			},
			contains: "other ",
			gains:    true,
		},
		{
			name: "a package updated in place keeping size and time, as npm extracts it, is rebuilt",
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.Chtimes(filepath.Join(dir, "node_modules/dep/index.js"), npmTime, npmTime))
			},
			change: func(t *testing.T, dir string, _ Module) {
				path := filepath.Join(dir, "node_modules/dep/index.js")
				writeFiles(t, dir, map[string]string{"node_modules/dep/index.js": "export const shout = (s) => s.toLowerCase() + '!';\n"})
				require.NoError(t, os.Chtimes(path, npmTime, npmTime))
			},
			contains: "toLowerCase",
			gains:    true,
		},
		{
			name: "a package relinked to another version, as pnpm does, is picked up",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{
					".pnpm/dep@1/node_modules/dep/package.json": `{"name": "dep", "main": "index.js"}`,
					".pnpm/dep@1/node_modules/dep/index.js":     "export const shout = (s) => 'version one ' + s;\n",
					".pnpm/dep@2/node_modules/dep/package.json": `{"name": "dep", "main": "index.js"}`,
					".pnpm/dep@2/node_modules/dep/index.js":     "export const shout = (s) => 'version two ' + s;\n",
				})
				require.NoError(t, os.RemoveAll(filepath.Join(dir, "node_modules/dep")))
				require.NoError(t, os.Symlink("../.pnpm/dep@1/node_modules/dep", filepath.Join(dir, "node_modules/dep")))
			},
			change: func(t *testing.T, dir string, _ Module) {
				require.NoError(t, os.Remove(filepath.Join(dir, "node_modules/dep")))
				require.NoError(t, os.Symlink("../.pnpm/dep@2/node_modules/dep", filepath.Join(dir, "node_modules/dep")))
			},
			contains: "version two",
			gains:    true,
		},
		{
			name: "a scoped package installed nearer the importer is picked up",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{
					"src/index.ts":                          `import { shout } from "@dome/dep";` + "\nexport default { fetch: () => new Response(shout('hello')) };\n",
					"node_modules/@dome/dep/package.json":   `{"name": "@dome/dep", "main": "index.js"}`,
					"node_modules/@dome/dep/index.js":       "export const shout = (s) => 'far ' + s;\n",
					"src/node_modules/@dome/x/package.json": `{"name": "@dome/x"}`,
				})
			},
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{
					"src/node_modules/@dome/dep/package.json": `{"name": "@dome/dep", "main": "index.js"}`,
					"src/node_modules/@dome/dep/index.js":     "export const shout = (s) => 'nearer scoped ' + s;\n",
				})
			},
			contains: "nearer scoped",
			gains:    true,
		},
		{
			name: "a tsconfig base the worker's tsconfig extends is followed",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, aliased)
				writeFiles(t, dir, map[string]string{
					"tsconfig.base.json": pathsTo("lib1"),
					// Comments and a trailing comma, as tsconfig allows.
					"src/tsconfig.json": "{\n  // shared settings\n  \"extends\": \"../tsconfig.base\", /* no .json */\n}\n",
				})
			},
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"tsconfig.base.json": pathsTo("lib2")})
			},
			contains: "two",
			gains:    true,
		},
		{
			name: "a tsconfig base from a package is followed",
			setup: func(t *testing.T, dir string) {
				writeFiles(t, dir, aliased)
				writeFiles(t, dir, map[string]string{
					"node_modules/@dome/tsconfig/base.json": pathsTo("../../../lib1"),
					"src/tsconfig.json":                     `{"extends": ["@dome/tsconfig/base.json"]}`,
				})
			},
			change: func(t *testing.T, dir string, _ Module) {
				writeFiles(t, dir, map[string]string{"node_modules/@dome/tsconfig/base.json": pathsTo("../../../lib2")})
			},
			contains: "two",
			gains:    true,
		},
		{
			name: "a store file damaged by hand is written again",
			change: func(t *testing.T, _ string, first Module) {
				code := readFile(t, first.File)
				require.NoError(t, os.WriteFile(first.File, []byte(strings.Repeat("x", len(code))), 0o644))
			},
			contains: "hello",
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
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			s, err := Open(filepath.Join(dir, "store"))
			require.NoError(t, err)
			entry := filepath.Join(dir, "src/index.ts")

			first, err := s.Build([]Job{{Entry: entry}})
			require.NoError(t, err)
			require.False(t, first[0].Cached)
			again, err := s.Build([]Job{{Entry: entry}})
			require.NoError(t, err)
			require.True(t, again[0].Cached, "nothing changed yet")
			if tt.gains {
				require.NotContains(t, readFile(t, first[0].File), tt.contains)
			}
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
	zeros, ones := strings.Repeat("0", 64), strings.Repeat("1", 64)
	stale := map[string]time.Time{
		zeros + ".js":                    old,
		zeros + ".js.map":                old,
		cacheDir + "/" + zeros + ".json": old,
		".tmp-123":                       old,
		ones + ".js":                     recent,
		// Not the store's, in a store pointed at a folder holding them: never removed.
		"README.txt":   old,
		"package.json": old,
		"worker.js":    old,
	}
	kept := map[string]bool{"README.txt": true, "package.json": true, "worker.js": true}
	for name, at := range stale {
		writeFiles(t, s.dir, map[string]string{name: "x"})
		require.NoError(t, os.Chtimes(filepath.Join(s.dir, name), at, at))
	}
	// The build's own files are old too, but used: kept, and touched.
	keyFiles, err := filepath.Glob(filepath.Join(s.dir, cacheDir, "*.json"))
	require.NoError(t, err)
	used := []string{first[0].File, first[0].MapFile}
	for _, f := range keyFiles {
		if filepath.Base(f) != zeros+".json" {
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
		gone := stale[name].Equal(old) && !kept[name]
		require.Equal(t, gone, os.IsNotExist(err), name)
	}
	for _, f := range used {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), st.ModTime(), time.Minute, "%s is touched", f)
	}
}

// TestProbeAsksOnce: however many jobs ask about a shared file at once,
// the file system is asked once, and every job gets that one answer.
func TestProbeAsksOnce(t *testing.T) {
	var m memo[int]
	m.m = map[string]*cell[int]{}
	var calls atomic.Int32
	var wg sync.WaitGroup
	got := make([]int, 200)
	for i := range got {
		wg.Go(func() {
			key := []string{"node_modules/a.js", "node_modules/b.js"}[i%2]
			got[i] = m.get(key, func() int { return int(calls.Add(1)) })
		})
	}
	wg.Wait()
	require.Equal(t, int32(2), calls.Load())
	require.NotEqual(t, got[0], got[1])
	for i, v := range got {
		require.Equal(t, got[i%2], v, "job %d", i)
	}
}

// TestStoreDistrustsFreshWrites: an input written as the build starts may
// have changed after esbuild read it, so its hash cannot vouch for the
// bundle: no entry is kept until the file has been still for a while.
func TestStoreDistrustsFreshWrites(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, project)
	s, err := Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	jobs := []Job{{Entry: filepath.Join(dir, "src/index.ts")}}
	greet := filepath.Join(dir, "src/greet.ts")
	entries := func() []string {
		found, err := filepath.Glob(filepath.Join(s.dir, cacheDir, "*.json"))
		require.NoError(t, err)
		return found
	}

	now := time.Now()
	require.NoError(t, os.Chtimes(greet, now, now))
	for range 2 {
		ms, err := s.Build(jobs)
		require.NoError(t, err)
		require.False(t, ms[0].Cached)
		require.Empty(t, entries(), "no entry vouches for a file written as the build ran")
	}

	minuteAgo := now.Add(-time.Minute)
	require.NoError(t, os.Chtimes(greet, minuteAgo, minuteAgo))
	ms, err := s.Build(jobs)
	require.NoError(t, err)
	require.False(t, ms[0].Cached)
	require.Len(t, entries(), 1)
	ms, err = s.Build(jobs)
	require.NoError(t, err)
	require.True(t, ms[0].Cached)
}

func TestJSONC(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1}`, `{"a": 1}`},
		{"{\n  // a comment\n  \"a\": 1, /* another */\n}", "{\n  \n  \"a\": 1 \n}"},
		{`{"a": [1, 2,], "b": "x,}"}`, `{"a": [1, 2], "b": "x,}"}`},
		{`{"url": "http://x//y", "s": "a\"//b"}`, `{"url": "http://x//y", "s": "a\"//b"}`},
		{"{\"a\": 1, // trailing\n}", "{\"a\": 1 \n}"},
	}
	for _, tt := range tests {
		got := jsonc([]byte(tt.in))
		require.Equal(t, tt.want, string(got), tt.in)
		require.True(t, json.Valid(got), tt.in)
	}
}
