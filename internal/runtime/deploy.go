package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/dome/infra/internal/cfemu"
)

// hostDeployment is a deployment as the host takes it: each module's code
// as a file, named by its SHA-256, instead of bytes.
type hostDeployment struct {
	cfemu.Deployment
	Workers []hostWorker `json:"workers"`
}

type hostWorker struct {
	cfemu.Worker
	Modules []hostModule `json:"modules"`
}

type hostModule struct {
	cfemu.WorkerModule
	Path string `json:"path"`
}

// put hands d to the host. A worker that fails at start-up comes back as
// a *cfemu.StartupError, and the host is back on the deployment before.
func (r *Runtime) put(ctx context.Context, d cfemu.Deployment) error {
	r.mu.Lock()
	h := r.host
	r.mu.Unlock()
	if h == nil {
		return errors.New("the workers' runtime is restarting")
	}
	body, err := r.hostJSON(d)
	if err != nil {
		return err
	}
	if bytes.Equal(body, r.appliedJSON) {
		return nil // a change of routing or metadata only: nothing to reload
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.control+"/deployment", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("the workers' runtime did not answer: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Entry  string `json:"entry"`
		Secret string `json:"secret"`
		Error  struct {
			Script  string `json:"script"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return fmt.Errorf("the workers' runtime answered %s without JSON: %w", resp.Status, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		r.mu.Lock()
		r.entry, r.secret = out.Entry, out.Secret
		r.mu.Unlock()
		r.appliedJSON = body
		return nil
	case resp.StatusCode == http.StatusUnprocessableEntity && out.Error.Script != "":
		return &cfemu.StartupError{Script: out.Error.Script, Message: out.Error.Message}
	default:
		return fmt.Errorf("the workers' runtime refused the deployment (%s): %s", resp.Status, out.Error.Message)
	}
}

// hostJSON writes the code of d's modules as files the host reads, once
// per content, and encodes d as the host takes it.
func (r *Runtime) hostJSON(d cfemu.Deployment) ([]byte, error) {
	hd := hostDeployment{Deployment: d, Workers: make([]hostWorker, len(d.Workers))}
	for i, w := range d.Workers {
		hw := hostWorker{Worker: w, Modules: make([]hostModule, len(w.Modules))}
		for j, m := range w.Modules {
			path, err := r.codeFile(m)
			if err != nil {
				return nil, fmt.Errorf("worker %q: module %q: %w", w.Name, m.Name, err)
			}
			hw.Modules[j] = hostModule{WorkerModule: m, Path: path}
		}
		hd.Workers[i] = hw
	}
	return json.Marshal(hd)
}

// codeFile is the file holding a module's code, written if absent.
func (r *Runtime) codeFile(m cfemu.WorkerModule) (string, error) {
	path, err := filepath.Abs(filepath.Join(r.opts.Dir, "code", m.SHA256))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, m.Body, 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}
