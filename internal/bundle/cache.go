package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// cacheDir holds one entry per job, inside the store.
const cacheDir = "cache"

// cacheVersion names the build settings in compile and the entry format:
// bump it with any change to either, and every old entry misses.
const cacheVersion = 2

// esbuildVersion is the esbuild module this binary was built with: a new
// esbuild may bundle the same inputs differently. Binaries built by go
// build (bin/dome, bin/validate, the program Pulumi builds) list their
// modules; test binaries do not, and their stores are temporary.
var esbuildVersion = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/evanw/esbuild" {
			if d.Replace != nil {
				d = d.Replace
			}
			return d.Path + "@" + d.Version + " " + d.Sum
		}
	}
	return "unknown"
})

// cacheKey names a job's cache entry: everything besides the input files
// that decides the bundle. The working directory is part of it because
// the source map's paths are relative to it.
func cacheKey(wd, entry string, opts Options) string {
	var k []byte
	if prebuilt(entry) {
		// Uploaded as it is: only the file's content matters.
		k, _ = json.Marshal([]any{cacheVersion, "prebuilt", entry})
	} else {
		k, _ = json.Marshal([]any{cacheVersion, esbuildVersion(), wd, entry, opts.SourceMap, opts.Minify})
	}
	return sum(k)
}

// entry is a job's cache entry: the module it produced and what its
// inputs held when it did.
type entry struct {
	Version int
	Module  record
	// Files are every input file, the files in the inputs' folders and
	// their parents that steer resolution (package.json, tsconfig.json,
	// jsconfig.json, and the configs a tsconfig extends), present or not.
	Files []fileFact
	// Dirs are the inputs' folders (a new file there could shadow a
	// resolved one: greet.tsx before greet.ts) and each parent's
	// node_modules (a package installed nearer the importer would win),
	// recorded by what they hold rather than by their modification time,
	// which is coarse and moves when nothing that matters did.
	Dirs []dirFact
}

// record is a Module without its paths, which follow from the store.
type record struct {
	SHA256, MapSHA256 string
	Size, Gzipped     int64
}

// fileFact is a file by its content. Sizes and times are not trusted:
// npm extracts every package file with one fixed time, so an update that
// keeps a file's size keeps its size and time both.
type fileFact struct {
	Path   string
	SHA256 string `json:",omitempty"` // "" when no file is there
}

type dirFact struct {
	Path    string
	Missing bool   `json:",omitempty"`
	Names   string `json:",omitempty"` // hex SHA-256 of what the folder holds
}

// readEntry reads a cache entry; a missing, unreadable or corrupt one is
// simply a miss.
func readEntry(path string) (*entry, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var e entry
	if json.Unmarshal(data, &e) != nil || e.Version != cacheVersion || e.Module.SHA256 == "" || len(e.Files) == 0 {
		return nil, false
	}
	return &e, true
}

func writeEntry(path string, e *entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// fresh reports whether every recorded fact still holds: each file has the
// same content (or is still absent), each folder holds the same names.
func (e *entry) fresh(p *probe) bool {
	for _, f := range e.Files {
		if h, ok := p.hash(f.Path); !ok || h != f.SHA256 {
			return false
		}
	}
	for _, d := range e.Dirs {
		if p.folder(d.Path) != d {
			return false
		}
	}
	return true
}

// metafileInputs returns the absolute paths of the files esbuild read, from
// its metafile (whose paths are relative to the working directory).
func metafileInputs(metafile, wd string) ([]string, error) {
	var meta struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(metafile), &meta); err != nil {
		return nil, fmt.Errorf("reading esbuild's metafile: %w", err)
	}
	out := make([]string, 0, len(meta.Inputs))
	for p := range meta.Inputs {
		if !filepath.IsAbs(p) {
			p = filepath.Join(wd, p)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// resolutionFiles are the files esbuild consults, in an importer's folder
// and its parents, to decide how imports resolve and compile.
var resolutionFiles = []string{"package.json", "tsconfig.json", "jsconfig.json"}

// probe answers hashes and folder listings for one Build, each path's
// once: a thousand workers sharing node_modules read each shared file once.
type probe struct {
	now    time.Time // when the build started: esbuild read every input after it
	hashes memo[hashed]
	names  memo[string]
}

type hashed struct {
	sum string // "" when there is no file
	ok  bool   // false when there is one that cannot be read
}

func newProbe() *probe {
	return &probe{
		now:    time.Now(),
		hashes: memo[hashed]{m: map[string]*cell[hashed]{}},
		names:  memo[string]{m: map[string]*cell[string]{}},
	}
}

// hash is the hex SHA-256 of the file at path, "" when there is none (or a
// folder stands there); ok is false when it exists but cannot be read.
func (p *probe) hash(path string) (sum string, ok bool) {
	h := p.hashes.get(path, func() hashed {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return hashed{ok: true}
		}
		if err != nil {
			return hashed{}
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return hashed{ok: true}
		}
		d := sha256.New()
		if _, err := io.Copy(d, f); err != nil {
			return hashed{}
		}
		return hashed{sum: hex.EncodeToString(d.Sum(nil)), ok: true}
	})
	return h.sum, h.ok
}

// folder is what the folder at path holds now: its names, where each
// symbolic link points (pnpm and workspaces switch a package's version by
// relinking it), and in a node_modules folder the packages inside each
// @scope.
func (p *probe) folder(path string) dirFact {
	names := p.names.get(path, func() string {
		des, err := os.ReadDir(path)
		if err != nil {
			return ""
		}
		d := sha256.New()
		list := func(des []fs.DirEntry, dir, prefix string) {
			for _, de := range des { // ReadDir sorts by name
				fmt.Fprintf(d, "%s%s\x00", prefix, de.Name())
				if de.Type()&fs.ModeSymlink != 0 {
					target, _ := os.Readlink(filepath.Join(dir, de.Name()))
					fmt.Fprintf(d, "-> %s\x00", target)
				}
			}
		}
		list(des, path, "")
		if filepath.Base(path) == "node_modules" {
			for _, de := range des {
				if strings.HasPrefix(de.Name(), "@") {
					scope := filepath.Join(path, de.Name())
					inner, _ := os.ReadDir(scope)
					list(inner, scope, de.Name()+"/")
				}
			}
		}
		return hex.EncodeToString(d.Sum(nil))
	})
	if names == "" {
		return dirFact{Path: path, Missing: true}
	}
	return dirFact{Path: path, Names: names}
}

// facts records the inputs, their folders, and what in those folders and
// their parents steers resolution. ok is false when the record cannot be
// trusted: a file could not be read, or one was written since the build
// began, so the content hashed may not be the content esbuild read.
func (p *probe) facts(inputs []string) (files []fileFact, dirs []dirFact, ok bool) {
	seen := map[string]bool{}
	var add func(path string, tsconfig bool)
	add = func(path string, tsconfig bool) {
		if seen[path] {
			return
		}
		seen[path] = true
		sum, _ := p.hash(path)
		files = append(files, fileFact{Path: path, SHA256: sum})
		if tsconfig && sum != "" {
			for _, base := range extendsCandidates(path) {
				add(base, true)
			}
		}
	}
	inputDirs, walked := map[string]bool{}, map[string]bool{}
	for _, in := range inputs {
		add(in, false)
		dir := filepath.Dir(in)
		if !inputDirs[dir] {
			inputDirs[dir] = true
			dirs = append(dirs, p.folder(dir))
		}
		// Up to the root, which is its own parent and so ends the walk.
		for d := dir; !walked[d]; d = filepath.Dir(d) {
			walked[d] = true
			for _, name := range resolutionFiles {
				add(filepath.Join(d, name), name != "package.json")
			}
			if filepath.Base(d) != "node_modules" {
				dirs = append(dirs, p.folder(filepath.Join(d, "node_modules")))
			}
		}
	}
	for _, f := range files {
		if _, readable := p.hash(f.Path); !readable || p.changedSinceStart(f.Path) {
			return nil, nil, false
		}
	}
	return files, dirs, true
}

// extendsCandidates lists the files the tsconfig at path may extend, each
// place TypeScript (and esbuild after it) looks: a relative base as it is
// and with .json added, a package's in every node_modules up the tree.
// Recording the places where no file is yet means one appearing later is
// noticed too.
func extendsCandidates(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var cfg struct {
		Extends json.RawMessage `json:"extends"`
	}
	if json.Unmarshal(jsonc(data), &cfg) != nil || cfg.Extends == nil {
		return nil
	}
	var specs []string
	if json.Unmarshal(cfg.Extends, &specs) != nil {
		var one string
		if json.Unmarshal(cfg.Extends, &one) != nil {
			return nil
		}
		specs = []string{one}
	}
	var out []string
	withJSON := func(p string) []string {
		if strings.HasSuffix(p, ".json") {
			return []string{p}
		}
		return []string{p, p + ".json", filepath.Join(p, "tsconfig.json")}
	}
	dir := filepath.Dir(path)
	for _, spec := range specs {
		switch {
		case filepath.IsAbs(spec):
			out = append(out, withJSON(spec)...)
		case strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../"):
			out = append(out, withJSON(filepath.Join(dir, spec))...)
		default:
			for d := dir; ; d = filepath.Dir(d) {
				if filepath.Base(d) != "node_modules" {
					out = append(out, withJSON(filepath.Join(d, "node_modules", spec))...)
				}
				if filepath.Dir(d) == d {
					break
				}
			}
		}
	}
	return out
}

// jsonc turns tsconfig's JSON with comments and trailing commas into JSON.
func jsonc(data []byte) []byte {
	return outsideStrings(outsideStrings(data, func(rest []byte) int {
		switch {
		case bytes.HasPrefix(rest, []byte("//")):
			if end := bytes.IndexByte(rest, '\n'); end >= 0 {
				return end
			}
			return len(rest)
		case bytes.HasPrefix(rest, []byte("/*")):
			if end := bytes.Index(rest[2:], []byte("*/")); end >= 0 {
				return end + 4
			}
			return len(rest)
		}
		return 0
	}), func(rest []byte) int {
		if rest[0] == ',' {
			if next := bytes.TrimLeft(rest[1:], " \t\r\n"); len(next) > 0 && (next[0] == '}' || next[0] == ']') {
				return 1
			}
		}
		return 0
	})
}

// outsideStrings copies data but for what drop says to leave out: at each
// byte outside a JSON string, drop(rest) is how many bytes to skip there.
func outsideStrings(data []byte, drop func(rest []byte) int) []byte {
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); {
		if data[i] == '"' {
			j := i + 1
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(data))
			out = append(out, data[i:j]...)
			i = j
			continue
		}
		if n := drop(data[i:]); n > 0 {
			i += n
			continue
		}
		out = append(out, data[i])
		i++
	}
	return out
}

// racyWindow is how close to the build's start a modification time is too
// close to tell before from after: well above file systems' timestamp
// granularity (a few milliseconds on Linux, two seconds on FAT).
const racyWindow = 2 * time.Second

// changedSinceStart reports whether the file at path may have been written
// after the build started. It asks the file system afresh: the memo may
// predate the write.
func (p *probe) changedSinceStart(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.ModTime().Before(p.now.Add(-racyWindow))
}

// memo computes a value per key once, however many goroutines ask.
type memo[V any] struct {
	mu sync.Mutex
	m  map[string]*cell[V]
}

type cell[V any] struct {
	once sync.Once
	v    V
}

func (m *memo[V]) get(key string, f func() V) V {
	m.mu.Lock()
	c, ok := m.m[key]
	if !ok {
		c = &cell[V]{}
		m.m[key] = c
	}
	m.mu.Unlock()
	c.once.Do(func() { c.v = f() })
	return c.v
}
