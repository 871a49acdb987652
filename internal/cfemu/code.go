package cfemu

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// codeFiles keeps worker code on disk as files named by the SHA-256 of
// their content, so that the state file only names them and an upload of
// code already there writes nothing. Without a state file it keeps none:
// the code lives in memory only.
type codeFiles struct {
	dir string // "" keeps no files
}

// dataDir is where the data of a state file lives (worker code, and the
// stores' contents): beside it, named after it.
func dataDir(stateFile string) string {
	if stateFile == "" {
		return ""
	}
	return strings.TrimSuffix(stateFile, filepath.Ext(stateFile)) + ".data"
}

func newCodeFiles(stateFile string) codeFiles {
	if stateFile == "" {
		return codeFiles{}
	}
	return codeFiles{dir: filepath.Join(dataDir(stateFile), "scripts")}
}

// put writes the body of each module that is not on disk yet.
func (f codeFiles) put(modules []Module) error {
	if f.dir == "" {
		return nil
	}
	for _, m := range modules {
		path := filepath.Join(f.dir, m.SHA256)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := os.MkdirAll(f.dir, 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(path, m.Body); err != nil {
			return err
		}
	}
	return nil
}

// load reads back the body of every module of the store.
func (f codeFiles) load(st *store) error {
	for _, s := range st.Scripts {
		for i, m := range s.Modules {
			body, err := os.ReadFile(filepath.Join(f.dir, m.SHA256))
			if err != nil {
				return fmt.Errorf("cfemu: the code of script %s, module %s: %w", s.Name, m.Name, err)
			}
			s.Modules[i].Body = body
		}
	}
	return nil
}

// prune removes the files no module of the store names: the code of
// deleted scripts, replaced versions and refused uploads.
func (f codeFiles) prune(st *store) error {
	if f.dir == "" {
		return nil
	}
	entries, err := os.ReadDir(f.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	named := map[string]bool{}
	for _, s := range st.Scripts {
		for _, m := range s.Modules {
			named[m.SHA256] = true
		}
	}
	for _, e := range entries {
		if !named[e.Name()] {
			if err := os.Remove(filepath.Join(f.dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
