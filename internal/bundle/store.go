package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"time"
)

// Store keeps finished bundles in a content-addressed folder,
// <dir>/<sha256>.js and <dir>/<sha256>.js.map, and in <dir>/cache one
// entry per job recording the files its bundle was made from, so a job
// whose inputs are unchanged skips esbuild.
type Store struct {
	dir string // absolute
}

// Open returns the store in dir, creating the folder.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle store %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, cacheDir), 0o755); err != nil {
		return nil, fmt.Errorf("bundle store: %w", err)
	}
	return &Store{dir: abs}, nil
}

// Build bundles every job concurrently, at most GOMAXPROCS at a time, and
// returns the modules in job order. Every failing job is reported, in job
// order, each error naming its worker and entry; a failed job's Module is
// zero.
func (s *Store) Build(jobs []Job) ([]Module, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("bundling: %w", err)
	}
	b := &build{store: s, wd: wd, probe: newProbe(), used: map[string]bool{}}
	out := make([]Module, len(jobs))
	errs := make([]error, len(jobs))
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			out[i], errs[i] = b.job(job)
			if errs[i] != nil && job.Worker != "" {
				errs[i] = fmt.Errorf("worker %q: %w", job.Worker, errs[i])
			}
		})
	}
	wg.Wait()
	s.prune(b.used)
	return out, errors.Join(errs...)
}

// build is one Store.Build: what its jobs share.
type build struct {
	store *Store
	wd    string // esbuild's working directory: the map's sources are relative to it
	probe *probe // stats and hashes, each file's once for all jobs

	mu   sync.Mutex
	used map[string]bool // store files this build returned or read
}

func (b *build) use(paths ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range paths {
		b.used[p] = true
	}
}

func (b *build) job(j Job) (Module, error) {
	abs, err := filepath.Abs(j.Entry)
	if err != nil {
		return Module{}, fmt.Errorf("%s: %w", j.Entry, err)
	}
	s := b.store
	keyFile := filepath.Join(s.dir, cacheDir, cacheKey(b.wd, abs, j.Options)+".json")
	b.use(keyFile)
	if e, ok := readEntry(keyFile); ok && e.fresh(b.probe) {
		if m, ok := s.lookup(e.Module, b.probe); ok {
			b.use(m.File, m.MapFile)
			s.touch(keyFile, m.File, m.MapFile)
			m.Cached = true
			return m, nil
		}
	}

	var code, sourceMap []byte
	var inputs []string
	if prebuilt(abs) {
		if code, err = os.ReadFile(abs); errors.Is(err, fs.ErrNotExist) {
			return Module{}, fmt.Errorf("Module not found: %s", j.Entry)
		} else if err != nil {
			return Module{}, err
		}
		inputs = []string{abs}
	} else {
		out, err := compile(j.Entry, j.Options)
		if err != nil {
			return Module{}, err
		}
		code, sourceMap = out.code, out.sourceMap
		if inputs, err = metafileInputs(out.metafile, b.wd); err != nil {
			return Module{}, fmt.Errorf("%s: %w", j.Entry, err)
		}
	}
	rec := record{SHA256: sum(code), Size: int64(len(code)), Gzipped: gzipSize(code)}
	if err := s.put(rec.SHA256+".js", code); err != nil {
		return Module{}, fmt.Errorf("%s: %w", j.Entry, err)
	}
	if sourceMap != nil {
		rec.MapSHA256 = sum(sourceMap)
		if err := s.put(rec.MapSHA256+".js.map", sourceMap); err != nil {
			return Module{}, fmt.Errorf("%s: %w", j.Entry, err)
		}
	}
	m := s.module(rec)
	b.use(m.File, m.MapFile)
	e := &entry{Version: cacheVersion, Module: rec}
	if prebuilt(abs) {
		// The hash of the very bytes uploaded: no later write can slip in.
		e.Files = []fileFact{{Path: abs, SHA256: rec.SHA256}}
	} else if files, dirs, ok := b.probe.facts(inputs); ok {
		e.Files, e.Dirs = files, dirs
	} else {
		_ = os.Remove(keyFile) // its facts are outdated too
		return m, nil
	}
	// A cache entry that cannot be written costs the next run a rebuild,
	// nothing more; the bundle itself is in the store.
	_ = writeEntry(keyFile, e)
	return m, nil
}

// module is rec's Module, with its files' paths in the store.
func (s *Store) module(rec record) Module {
	m := Module{SHA256: rec.SHA256, MapSHA256: rec.MapSHA256, Size: rec.Size, Gzipped: rec.Gzipped}
	m.File = filepath.Join(s.dir, rec.SHA256+".js")
	if rec.MapSHA256 != "" {
		m.MapFile = filepath.Join(s.dir, rec.MapSHA256+".js.map")
	}
	return m
}

// lookup returns rec's Module if its files are still in the store, as
// they were written: a store file edited by hand is a miss, and written
// again, rather than a deploy the provider refuses.
func (s *Store) lookup(rec record, p *probe) (Module, bool) {
	m := s.module(rec)
	if h, _ := p.hash(m.File); h != rec.SHA256 {
		return Module{}, false
	}
	if m.MapFile != "" {
		if h, _ := p.hash(m.MapFile); h != rec.MapSHA256 {
			return Module{}, false
		}
	}
	return m, true
}

// put writes a content-addressed file, whole, even when the store has one
// of that name: that one may have been damaged since.
func (s *Store) put(name string, data []byte) error {
	return writeAtomic(filepath.Join(s.dir, name), data)
}

// touch marks files used now, so prune keeps them; a file touched within
// the hour is left alone, sparing a warm run thousands of writes.
func (s *Store) touch(paths ...string) {
	now := time.Now()
	for _, p := range paths {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && now.Sub(st.ModTime()) > time.Hour {
			_ = os.Chtimes(p, now, now)
		}
	}
}

// pruneAge is how long an unused file stays in the store.
const pruneAge = 24 * time.Hour

// prune removes store files and cache entries not used by this build and
// untouched for a day. That is safe because a bundle is read only in the
// run that produced or reused it: the program writes it during the
// preview or update, and the provider reads contentFile in that same run;
// a later run rebuilds or reuses it, and a reused file is touched. A run
// lasting more than a day would have touched its own files at its start.
// Removal is best effort: a file left behind is only disk space.
func (s *Store) prune(used map[string]bool) {
	cutoff := time.Now().Add(-pruneAge)
	for _, dir := range []string{s.dir, filepath.Join(s.dir, cacheDir)} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, de := range entries {
			path := filepath.Join(dir, de.Name())
			if de.IsDir() || used[path] || !storeFile(de.Name()) {
				continue
			}
			if info, err := de.Info(); err == nil && info.ModTime().Before(cutoff) {
				_ = os.Remove(path)
			}
		}
	}
}

// storeFile reports whether name is a file the store writes (a bundle, a
// map, a cache entry, a temporary file): prune never removes anything else,
// so a store pointed at a folder that holds other files leaves them be.
var storeFile = regexp.MustCompile(`^([0-9a-f]{64}(\.js|\.js\.map|\.json)|\.tmp-[0-9]+)$`).MatchString

const tempPrefix = ".tmp-"

// writeAtomic writes data to path through a temporary file and a rename,
// so a reader (or a run killed midway) never sees half a file.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), tempPrefix+"*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
