// Command dev is the inner loop on the local emulator: it watches the
// workers' sources and uploads each change to the running workers, code
// only, in under a second, where a deploy takes about ten.
//
// Each upload keeps everything else the script has: its bindings (secrets
// included, through keep_bindings), compatibility date and flags, and
// settings, read back from the emulator. The Pulumi state is behind until
// the stack's next deploy, which uploads the same bundle and so changes
// nothing else. Only a stack whose apiHostname is set (the emulator) is
// watched: a real account's workers change only through a deploy.
//
//	go run ./cmd/dev [-dir DIR] STACK
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dome/infra/internal/bundle"
	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/stackcmd"
)

// pollEvery is how often the sources are looked at: the standard library
// has no file watcher, and a stat of a few hundred files costs far less
// than the upload that follows a change.
const pollEvery = 300 * time.Millisecond

// mainModule is the name internal/workers uploads a worker's code under,
// which its source map's name follows.
const mainModule = "index.js"

// watched are the extensions of the files a bundle can be made from.
var watched = []string{".ts", ".js", ".mjs", ".json"}

func main() {
	stackcmd.New("dev", "dev [-dir DIR] STACK").Run(func(ctx context.Context, dir, stack string) error {
		d, err := start(ctx, os.Stdout, dir, stack)
		if err != nil {
			return err
		}
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil // Ctrl-C is how the loop ends
			case <-tick.C:
				d.step(ctx)
			}
		}
	})
}

// dev is one watch of a stack's workers.
type dev struct {
	cfg    *config.Config
	client *cfapi.Client
	out    io.Writer

	files map[string]stamp  // the sources as the last step saw them
	live  map[string]string // logical worker name → SHA-256 of the code the emulator runs

	mu sync.Mutex // out and live, written by concurrent uploads
}

// stamp is what tells a saved file from the one seen before.
type stamp struct {
	modified int64 // Unix nanoseconds
	size     int64
}

// start loads the stack, reads the code each worker runs, says what it
// watches, and uploads the workers whose sources changed since then (edits
// made while nothing watched).
func start(ctx context.Context, w io.Writer, dir, stack string) (*dev, error) {
	cfg, err := config.LoadStack(dir, stack)
	if err != nil {
		return nil, err
	}
	if cfg.APIHostname == "" {
		return nil, fmt.Errorf("stack %s deploys to Cloudflare (its apiHostname is not set): dev uploads code only to the local emulator; run 'just dev local', and deploy %s with its deploy recipe", stack, stack)
	}
	client, err := cfg.Client()
	if err != nil {
		return nil, err
	}
	d := &dev{cfg: cfg, client: client, out: w, live: map[string]string{}}
	for _, wk := range cfg.Topology.Workers {
		physical := cfg.Name(wk.Name)
		code, err := client.GetScriptContent(ctx, physical)
		if cfapi.IsNotFound(err) {
			return nil, fmt.Errorf("worker %q (%s) is not on the emulator at %s: deploy the stack first (just deploy-local), then watch it", wk.Name, physical, cfg.APIHostname)
		} else if err != nil {
			return nil, fmt.Errorf("worker %q (%s): read the code it runs: %w", wk.Name, physical, err)
		}
		sum := sha256.Sum256([]byte(code))
		d.live[wk.Name] = hex.EncodeToString(sum[:])
	}
	if d.files, err = scan(cfg.ServicesRoot); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "watching the sources of %d workers under %s (%s) every %v; each change uploads the code of the workers it changes to the emulator at %s, keeping their bindings, secrets and settings. Ctrl-C stops.\n",
		len(cfg.Topology.Workers), cfg.ServicesRoot, "*"+strings.Join(watched, ", *"), pollEvery, cfg.APIHostname)
	fmt.Fprintf(w, "stack %s's Pulumi state is behind these uploads until its next deploy (just deploy-local), which uploads the same bundles and changes nothing else.\n", stack)
	d.reload(ctx)
	return d, nil
}

// step looks at the sources once and, when any changed, reloads.
func (d *dev) step(ctx context.Context) {
	files, err := scan(d.cfg.ServicesRoot)
	if err != nil {
		fmt.Fprintf(d.out, "%v; still watching\n", err)
		return
	}
	if maps.Equal(files, d.files) {
		return
	}
	d.files = files
	d.reload(ctx)
}

// reload bundles every worker (unchanged ones come from the bundle cache)
// and uploads, at once, each whose code differs from what it runs. A
// worker that fails to bundle or upload keeps its running version, and
// the next save tries it again.
func (d *dev) reload(ctx context.Context) {
	began := time.Now()
	ws := d.cfg.Topology.Workers
	mods, err := bundle.Workers(d.cfg, ws)
	if err != nil {
		for line := range strings.Lines(err.Error()) {
			fmt.Fprintf(d.out, "not reloaded, the running version keeps serving (fix it and save): %s\n", strings.TrimSuffix(line, "\n"))
		}
	}
	// Which workers changed is settled before any upload writes d.live;
	// mods is nil when the bundle store could not be opened.
	var changed []int
	for i, m := range mods {
		if m.File != "" && m.SHA256 != d.live[ws[i].Name] {
			changed = append(changed, i)
		}
	}
	var wg sync.WaitGroup
	for _, i := range changed {
		m, name, physical := mods[i], ws[i].Name, d.cfg.Name(ws[i].Name)
		wg.Go(func() {
			err := d.upload(ctx, physical, m)
			if ctx.Err() != nil {
				return // stopping: an upload cut short says nothing
			}
			d.mu.Lock()
			defer d.mu.Unlock()
			if err != nil {
				fmt.Fprintf(d.out, "not reloaded, the running version keeps serving: %s (%s): %s\n", name, physical, reason(err))
				return
			}
			d.live[name] = m.SHA256
			fmt.Fprintf(d.out, "reloaded %s (%s) in %d ms\n", name, physical, time.Since(began).Milliseconds())
		})
	}
	wg.Wait()
}

// upload replaces the script's code and source map with m's, and nothing
// else: the metadata repeats the live settings and keeps every live
// binding by its type, since secrets' values cannot be read back.
func (d *dev) upload(ctx context.Context, script string, m bundle.Module) error {
	live, err := d.client.GetScriptSettings(ctx, script)
	if err != nil {
		return err
	}
	code, err := os.ReadFile(m.File)
	if err != nil {
		return err
	}
	var sourceMap []byte
	if m.MapFile != "" {
		if sourceMap, err = os.ReadFile(m.MapFile); err != nil {
			return err
		}
	}
	var keep []string
	for _, b := range live.Bindings {
		keep = append(keep, b.Type)
	}
	slices.Sort(keep)
	_, err = d.client.UploadScript(ctx, cfapi.UploadScriptParams{
		ScriptName: script,
		Content:    string(code),
		SourceMap:  string(sourceMap),
		Metadata: cfapi.ScriptMetadata{
			MainModule:         mainModule,
			KeepBindings:       slices.Compact(keep),
			CompatibilityDate:  live.CompatibilityDate,
			CompatibilityFlags: live.CompatibilityFlags,
			Observability:      live.Observability,
			Logpush:            live.Logpush,
			Placement:          live.Placement,
			Tags:               live.Tags,
		},
	})
	return err
}

// reason is why an upload failed: for a refusal, the emulator's code and
// message (workerd's, for a script that throws at start-up) without the
// request, which the line names already.
func reason(err error) string {
	var refused *cfapi.Error
	if errors.As(err, &refused) {
		return fmt.Sprintf("the emulator refused it (code %d): %s", refused.Code, refused.Message)
	}
	return err.Error()
}

// scan stamps every watched file under root. A file removed while the walk
// runs is left out: the next step sees the folder as it settled.
func scan(root string) (map[string]stamp, error) {
	files := map[string]stamp{}
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		if e.IsDir() {
			// node_modules is too big to stat every 300 ms; an install
			// changes package.json or its lock file, which are watched.
			if path != root && (e.Name() == "node_modules" || strings.HasPrefix(e.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !slices.Contains(watched, filepath.Ext(path)) {
			return nil
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		files[path] = stamp{info.ModTime().UnixNano(), info.Size()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", root, err)
	}
	return files, nil
}
