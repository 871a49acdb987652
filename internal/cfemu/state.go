package cfemu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// loadState reads a state file and the code its scripts name; a file that
// does not exist yet is an empty state (nil, nil).
func loadState(path string, code codeFiles) (*store, error) {
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
	if err := keepInlineCode(data, st, code); err != nil {
		return nil, fmt.Errorf("cfemu: state %s: %w", path, err)
	}
	if err := code.load(st); err != nil {
		return nil, err
	}
	return st, nil
}

// keepInlineCode moves the code of a state file written before code was
// kept as files, which holds each module's body inline, into code files.
func keepInlineCode(data []byte, st *store, code codeFiles) error {
	var inline struct {
		Scripts map[string]struct {
			Modules []struct {
				Body []byte `json:"body"`
			} `json:"modules"`
		} `json:"workers_scripts"`
	}
	if err := json.Unmarshal(data, &inline); err != nil {
		return err
	}
	for name, s := range st.Scripts {
		moved := false
		for i, m := range inline.Scripts[name].Modules {
			if m.Body != nil {
				sum := sha256.Sum256(m.Body)
				s.Modules[i].SHA256, s.Modules[i].Body = hex.EncodeToString(sum[:]), m.Body
				moved = true
			}
		}
		if !moved {
			continue
		}
		if err := code.put(s.Modules); err != nil {
			return err
		}
	}
	return nil
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
