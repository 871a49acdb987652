package bundle

import (
	"errors"
	"path/filepath"

	"github.com/dome/infra/internal/config"
)

// Workers bundles the given workers of cfg into the stack's store
// (cfg.BundleDir), all at once, and refuses any bundle Cloudflare would
// refuse on the stack's plan. The program and `just validate` both call
// it, so the preview uses the bundles validate made and refuses what
// validate refuses. Every worker's problem is reported; modules come back
// in the order of ws.
func Workers(cfg *config.Config, ws []config.Worker) ([]Module, error) {
	store, err := Open(cfg.BundleDir)
	if err != nil {
		return nil, err
	}
	jobs := make([]Job, len(ws))
	for i, w := range ws {
		jobs[i] = Job{
			Entry:   filepath.Join(cfg.ServicesRoot, w.Main),
			Options: Options{SourceMap: w.UploadsSourceMap(), Minify: w.Minify},
			Worker:  w.Name,
		}
	}
	mods, err := store.Build(jobs)
	errs := []error{err}
	for i, m := range mods {
		if m.File != "" { // bundled
			errs = append(errs, cfg.CheckSize(ws[i].Name, m.Size))
		}
	}
	return mods, errors.Join(errs...)
}
