package bundle

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// cacheDir holds one entry per job, inside the store.
const cacheDir = "cache"

// cacheVersion names the build settings in compile and the entry format:
// bump it with any change to either, and every old entry misses.
const cacheVersion = 1

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
// inputs looked like when it did.
type entry struct {
	Version int
	Module  record
	// Files are every input file, and the files in the inputs' folders and
	// their parents that steer resolution (package.json, tsconfig.json,
	// jsconfig.json), present or not.
	Files []fileFact
	// Dirs are the inputs' folders (a new file there could shadow a
	// resolved one: greet.tsx before greet.ts) and each parent's
	// node_modules (a package installed nearer the importer would win),
	// recorded by the names they hold rather than by their modification
	// time, which is coarse (a file created in the same clock tick as the
	// last build would go unseen) and moves when nothing that matters did.
	Dirs []dirFact
}

// record is a Module without its paths, which follow from the store.
type record struct {
	SHA256, MapSHA256 string
	Size, Gzipped     int64
}

type fileFact struct {
	Path    string
	Missing bool  `json:",omitempty"`
	Size    int64 `json:",omitempty"`
	// ModTime is in UnixNano; 0 when the file was written so shortly
	// before it was recorded that a same-size edit could keep the time
	// (timestamps are coarse): such a file is hashed next time.
	ModTime int64  `json:",omitempty"`
	SHA256  string `json:",omitempty"`
}

type dirFact struct {
	Path    string
	Missing bool   `json:",omitempty"`
	Names   string `json:",omitempty"` // hex SHA-256 of the sorted entry names
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

// fresh reports whether every recorded fact still holds. A file whose
// size and time are unchanged is taken as unchanged; one whose time moved
// is hashed, and if its content is the same the entry still holds, with
// the new time recorded in e and revalidated set.
func (e *entry) fresh(p *probe) (fresh, revalidated bool) {
	for i, f := range e.Files {
		st := p.stat(f.Path)
		switch {
		case f.Missing || !st.exists || st.dir:
			if f.Missing != !st.exists || st.dir {
				return false, false
			}
		case st.size != f.Size:
			return false, false
		case st.modTime != f.ModTime:
			if p.hash(f.Path) != f.SHA256 {
				return false, false
			}
			e.Files[i].ModTime = p.stableTime(st.modTime)
			revalidated = true
		}
	}
	for _, d := range e.Dirs {
		if p.folder(d.Path) != d {
			return false, false
		}
	}
	return true, revalidated
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

// probe answers stats and hashes for one Build, each path's once: a
// thousand workers sharing node_modules stat each shared file once.
type probe struct {
	now    time.Time
	stats  memo[fileState]
	hashes memo[string]
	names  memo[string]
}

type fileState struct {
	exists, dir bool
	size        int64
	modTime     int64
}

func newProbe() *probe {
	return &probe{
		now:    time.Now(),
		stats:  memo[fileState]{m: map[string]*cell[fileState]{}},
		hashes: memo[string]{m: map[string]*cell[string]{}},
		names:  memo[string]{m: map[string]*cell[string]{}},
	}
}

// racyWindow is how recent a modification time is too recent to trust:
// well above the kernel's timestamp granularity.
const racyWindow = 2 * time.Second

// stableTime is t, or 0 if t is within racyWindow of the build.
func (p *probe) stableTime(t int64) int64 {
	if p.now.Sub(time.Unix(0, t)) < racyWindow {
		return 0
	}
	return t
}

func (p *probe) stat(path string) fileState {
	return p.stats.get(path, func() fileState {
		st, err := os.Stat(path)
		if err != nil {
			return fileState{}
		}
		return fileState{exists: true, dir: st.IsDir(), size: st.Size(), modTime: st.ModTime().UnixNano()}
	})
}

// hash is the file's hex SHA-256, "" if it cannot be read.
func (p *probe) hash(path string) string {
	return p.hashes.get(path, func() string {
		f, err := os.Open(path)
		if err != nil {
			return ""
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return ""
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	})
}

// file is what path looks like now. The stat comes before the hash, so a
// write between the two leaves a time that no longer matches: the next
// run hashes again rather than trusting a stale hash.
func (p *probe) file(path string) fileFact {
	st := p.stat(path)
	if !st.exists || st.dir {
		return fileFact{Path: path, Missing: true}
	}
	return fileFact{Path: path, Size: st.size, ModTime: p.stableTime(st.modTime), SHA256: p.hash(path)}
}

// folder is what the folder at path holds now: the names in it.
func (p *probe) folder(path string) dirFact {
	names := p.names.get(path, func() string {
		des, err := os.ReadDir(path)
		if err != nil {
			return ""
		}
		h := sha256.New()
		for _, de := range des { // ReadDir sorts by name
			fmt.Fprintf(h, "%s\x00", de.Name())
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	})
	if names == "" {
		return dirFact{Path: path, Missing: true}
	}
	return dirFact{Path: path, Names: names}
}

// facts records the inputs, their folders, and what in those folders and
// their parents steers resolution.
func (p *probe) facts(inputs []string) ([]fileFact, []dirFact) {
	files := make([]fileFact, 0, len(inputs))
	var dirs []dirFact
	inputDirs, walked := map[string]bool{}, map[string]bool{}
	for _, in := range inputs {
		files = append(files, p.file(in))
		dir := filepath.Dir(in)
		if !inputDirs[dir] {
			inputDirs[dir] = true
			dirs = append(dirs, p.folder(dir))
		}
		// Up to the root, which is its own parent and so ends the walk.
		for d := dir; !walked[d]; d = filepath.Dir(d) {
			walked[d] = true
			for _, name := range resolutionFiles {
				files = append(files, p.file(filepath.Join(d, name)))
			}
			if filepath.Base(d) != "node_modules" {
				dirs = append(dirs, p.folder(filepath.Join(d, "node_modules")))
			}
		}
	}
	return files, dirs
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
