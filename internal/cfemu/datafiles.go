package cfemu

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dataFiles is where one store keeps its contents: JSON files (and, for R2,
// object bodies) in a folder of the state file's data folder, each written
// when what it holds changes. Without a state file it keeps nothing.
type dataFiles struct {
	dir string // "" keeps no files
}

func newDataFiles(stateFile, name string) dataFiles {
	if stateFile == "" {
		return dataFiles{}
	}
	return dataFiles{dir: filepath.Join(dataDir(stateFile), name)}
}

// save writes v as JSON to name, or removes the file when v is nil.
func (f dataFiles) save(name string, v any) error {
	if f.dir == "" {
		return nil
	}
	path := filepath.Join(f.dir, name)
	if v == nil {
		return f.remove(name)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, data)
}

// remove deletes a file or folder; one that is not there is no error.
func (f dataFiles) remove(name string) error {
	if f.dir == "" {
		return nil
	}
	err := os.RemoveAll(filepath.Join(f.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// loadAll decodes every name.json file of the folder into a new T, by name.
func loadAll[T any](f dataFiles) (map[string]T, error) {
	out := map[string]T{}
	if f.dir == "" {
		return out, nil
	}
	entries, err := os.ReadDir(f.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name, isJSON := strings.CutSuffix(e.Name(), ".json")
		if e.IsDir() || !isJSON {
			continue
		}
		data, err := os.ReadFile(filepath.Join(f.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}
