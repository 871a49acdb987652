package cfemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// loadState reads a state file; a file that does not exist yet is an empty state (nil, nil).
func loadState(path string) (*store, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cfemu: read state: %w", err)
	}
	st := &store{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("cfemu: parse state %s: %w", path, err)
	}
	st.fillMaps()
	return st, nil
}

// encodeState is the state file's content for st.
func encodeState(st *store) ([]byte, error) {
	return json.MarshalIndent(st, "", "  ")
}

// writeFileAtomic writes through a temporary file and a rename, so a crash
// mid-write leaves the previous content intact.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
