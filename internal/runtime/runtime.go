// Package runtime runs the emulated account's workers on this machine, in
// workerd through miniflare, so that what the emulator holds is what
// serves requests.
//
// It starts and supervises the Node host (runtime/host.mjs): the host
// turns a cfemu.Deployment into miniflare's options and reports what the
// workers print. A crash of the host is reported and the host started
// again with the last deployment. Requests for a worker, and the API's
// calls on D1, KV, R2 and queue data, go straight to workerd's entry
// socket; the workers' Vectorize and AI bindings call back into Go.
package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dome/infra/internal/cfemu"
)

// Options configure Start.
type Options struct {
	// HostDir holds host.mjs and its installed npm packages.
	HostDir string
	// Dir keeps the runtime's state: worker code as files, and the data
	// of D1, KV, R2, queues and Durable Objects, which survives restarts.
	Dir string
	// Node is the node binary; default "node" on PATH.
	Node string
	// Callback answers the workers' Vectorize and AI bindings.
	Callback http.Handler
	// Log receives the workers' output, prefixed by worker, and the
	// runtime's own reports.
	Log *log.Logger
}

// Runtime is a running host. It implements cfemu.Runtime.
type Runtime struct {
	opts     Options
	callback *http.Server
	cbAddr   string
	client   *http.Client

	mu      sync.Mutex
	host    *host            // nil while restarting
	entry   string           // workerd's entry socket, "" before the first deployment
	secret  string           // lets the entry socket take Host from the original URL
	pending cfemu.Deployment // the newest deployment asked for
	stopped bool

	applyMu sync.Mutex // one deployment at a time
	tried   uint64     // version of the newest deployment applied or refused
	lastErr error      // its result
	applied *cfemu.Deployment
	// appliedJSON is what the host last took, under applyMu; a restarted
	// host has taken nothing.
	appliedJSON []byte
}

// host is one run of node host.mjs.
type host struct {
	cmd     *exec.Cmd
	stdin   io.Closer
	control string
	exited  chan struct{}
	err     error // why it exited, once exited is closed
}

var _ cfemu.Runtime = (*Runtime)(nil)

// Start starts the host and waits until it answers. Stop ends it.
func Start(opts Options) (*Runtime, error) {
	if opts.Node == "" {
		opts.Node = "node"
	}
	if opts.Log == nil {
		opts.Log = log.New(io.Discard, "", 0)
	}
	if _, err := os.Stat(filepath.Join(opts.HostDir, "node_modules", "miniflare")); err != nil {
		return nil, fmt.Errorf("the local runtime's npm packages are not installed in %s: run 'just runtime-install' (npm ci from the committed lockfile)", opts.HostDir)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "code"), 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Runtime{opts: opts, cbAddr: ln.Addr().String(),
		callback: &http.Server{Handler: opts.Callback, ReadHeaderTimeout: 10 * time.Second},
		client:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	go func() { _ = r.callback.Serve(ln) }()
	h, err := r.launch()
	if err != nil {
		_ = r.callback.Close()
		return nil, err
	}
	r.host = h
	go r.supervise(h)
	return r, nil
}

// launch starts node host.mjs and reads the line it prints when ready.
func (r *Runtime) launch() (*host, error) {
	abs, err := filepath.Abs(r.opts.Dir)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(r.opts.Node, filepath.Join(r.opts.HostDir, "host.mjs"), "--dir", abs, "--callback", "http://"+r.cbAddr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	// The host and the workerd it spawns share a process group, so that a
	// host that dies takes its workerd along instead of leaving it serving
	// stale workers on the entry socket; the host dies with this process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the local runtime (%s): %w", r.opts.Node, err)
	}
	h := &host{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	lines := make(chan []string, 1)
	go func() {
		// The host's log: the workers' console and its own reports.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		var early []string
		for sc.Scan() {
			r.opts.Log.Print(sc.Text())
			if len(early) < 20 {
				early = append(early, sc.Text())
			}
		}
		lines <- early
	}()
	ready := make(chan error, 1)
	go func() {
		var hello struct {
			Control string `json:"control"`
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil {
			err = json.Unmarshal([]byte(line), &hello)
		}
		h.control = hello.Control
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		h.err = cmd.Wait()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		close(h.exited)
	}()
	select {
	case err := <-ready:
		if err == nil {
			return h, nil
		}
		_ = cmd.Process.Kill()
		<-h.exited
		return nil, fmt.Errorf("the local runtime did not start: %v: %s", err, strings.Join(<-lines, "\n"))
	case <-h.exited:
		return nil, fmt.Errorf("the local runtime exited as it started (%v): %s", h.err, strings.Join(<-lines, "\n"))
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		return nil, errors.New("the local runtime did not answer within a minute of starting")
	}
}

// supervise restarts a host that exits while the runtime runs, and gives
// it the last deployment again, so a crash is reported, never silent.
func (r *Runtime) supervise(h *host) {
	for {
		<-h.exited
		r.mu.Lock()
		stopped := r.stopped
		r.host, r.entry = nil, ""
		r.mu.Unlock()
		if stopped {
			return
		}
		r.opts.Log.Printf("runtime: the workers' runtime exited (%v); starting it again", h.err)
		var err error
		for attempt := 0; ; attempt++ {
			if h, err = r.launch(); err == nil {
				break
			}
			r.opts.Log.Printf("runtime: could not start again: %v", err)
			time.Sleep(time.Duration(min(attempt+1, 10)) * time.Second)
			r.mu.Lock()
			stopped = r.stopped
			r.mu.Unlock()
			if stopped {
				return
			}
		}
		r.mu.Lock()
		stopped = r.stopped
		if !stopped {
			r.host = h
		}
		r.mu.Unlock()
		if stopped {
			// Stop came while this host started: it saw none to end.
			_ = h.stdin.Close()
			<-h.exited
			return
		}
		r.restore()
	}
}

// restore gives a restarted host the newest deployment asked for, which
// changes that arrived while it was down hold, else the last one that ran.
func (r *Runtime) restore() {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	r.appliedJSON = nil
	r.mu.Lock()
	newest := r.pending
	r.mu.Unlock()
	for _, d := range []*cfemu.Deployment{&newest, r.applied} {
		if d == nil || (d != r.applied && r.applied != nil && d.Version <= r.applied.Version) {
			continue
		}
		err := r.put(context.Background(), *d)
		if err == nil {
			r.tried, r.lastErr, r.applied = d.Version, nil, d
			r.opts.Log.Printf("runtime: restarted; %d workers serve again", len(d.Workers))
			return
		}
		r.opts.Log.Printf("runtime: restarted, but the workers did not start again: %v", err)
	}
}

// Stop ends the host (it exits when its stdin closes) and the callback server.
func (r *Runtime) Stop() error {
	r.mu.Lock()
	r.stopped = true
	h := r.host
	r.mu.Unlock()
	if h != nil {
		_ = h.stdin.Close()
		select {
		case <-h.exited:
		case <-time.After(10 * time.Second):
			_ = h.cmd.Process.Kill()
			<-h.exited
		}
	}
	return r.callback.Close()
}

// Run applies d, or a newer deployment asked for meanwhile: changes that
// arrive while the host reloads are applied together in its next reload.
func (r *Runtime) Run(ctx context.Context, d cfemu.Deployment) error {
	r.mu.Lock()
	if d.Version >= r.pending.Version {
		r.pending = d
	}
	r.mu.Unlock()

	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	if d.Version <= r.tried && r.applied != nil {
		return r.lastErr // a newer deployment, holding this change, went first
	}
	r.mu.Lock()
	next := r.pending
	r.mu.Unlock()
	r.tried, r.lastErr = next.Version, r.put(ctx, next)
	if r.lastErr == nil {
		r.applied = &next
	} else if _, startup := r.lastErr.(*cfemu.StartupError); !startup {
		r.opts.Log.Printf("runtime: could not apply the account's change: %v", r.lastErr)
	}
	return r.lastErr
}
