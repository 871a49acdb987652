// Package recovery brings a stack whose deploy was cut short (a killed CLI,
// a lost connection, a failed step) back in line with what Cloudflare holds,
// so that the next `pulumi up` converges. Run is `just recover <stack>`: it
// removes a stale lock once no Pulumi process holds it, clears the
// operations the state left pending, imports every resource of the stack's
// config that Cloudflare has and the state lacks (pending creates that did
// happen, and orphans whose answer never reached the state) with the
// program's own providers, and ends with a preview. It also drops from the
// state the resources of retired types (domecf.Retired), which a deploy
// cannot drop where they are protected. When nothing is wrong it changes
// nothing.
package recovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optimport"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/dome/infra/internal/adopt"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// Options is what Run works on.
type Options struct {
	Stack   auto.Stack     // the stack, on the project's backend
	Project string         // the project name, as in Pulumi.yaml
	Config  *config.Config // the stack's config: which physical names are its own
	Account adopt.Account  // the Cloudflare account, read only
	Out     io.Writer      // where Run says what it does, resource by resource
	Preview []optpreview.Option
	// Import options for the import of what the state lacks, such as
	// where its progress goes.
	Import []optimport.Option
	// Before, when set, is what the account held under the stack's names
	// before the deploy being recovered began (cmd/import's plan): nothing
	// it lists is adopted, since that deploy cannot have created it. Unset,
	// whatever the config names is adopted, as when a person runs recover.
	Before *adopt.File
}

// Report is what Run did.
type Report struct {
	Lock      string         // what was done about a lock; "" when there was none
	State     []string       // what was done about state files the killed CLI was writing
	Processes []string       // what was done about plugins a killed CLI left running
	Pending   []string       // one line per pending operation and what became of it
	Retired   []string       // the URNs of the resources of retired types dropped from the state
	Imported  []string       // "<type> <name> <id>" of each resource imported
	Left      []string       // what Options.Before kept from being adopted
	Preview   map[string]int // the closing preview's change summary
}

// Changed reports whether Run changed the stack.
func (r Report) Changed() bool {
	return r.Lock != "" || len(r.State) > 0 || len(r.Processes) > 0 || len(r.Pending) > 0 || len(r.Retired) > 0 || len(r.Imported) > 0
}

// Run recovers the stack. It stops before changing anything when a live
// Pulumi process holds the stack's lock.
func Run(ctx context.Context, o Options) (Report, error) {
	var rep Report
	say := func(format string, args ...any) { fmt.Fprintf(o.Out, format+"\n", args...) }
	stack := o.Stack.Name()
	say("recover %s:", stack)

	who, err := o.Stack.Workspace().WhoAmIDetails(ctx)
	if err != nil {
		return rep, fmt.Errorf("find the state backend: %w", err)
	}
	if root, ok := fileBackend(who.URL, o.Stack.Workspace().WorkDir()); ok {
		// A live lock stops everything before any file is touched; the
		// checkpoint is mended before the stale lock goes, since removing
		// a lock reads the stack.
		stale, err := staleLocks(root, o.Project, stack)
		if err != nil {
			return rep, err
		}
		if rep.State, err = repairCheckpoint(root, o.Project, stack); err != nil {
			return rep, err
		}
		for _, done := range rep.State {
			say("  state     %s", done)
		}
		if len(stale) > 0 {
			if err := o.Stack.Cancel(ctx); err != nil {
				return rep, fmt.Errorf("remove the stale lock of stack %s: %w", stack, err)
			}
			rep.Lock = "removed the stale lock of " + strings.Join(stale, "; ") + " (no such Pulumi process runs)"
			say("  lock      %s", rep.Lock)
		}
	}

	rep.Processes = endLeftovers(o.Stack.Workspace().WorkDir())
	for _, done := range rep.Processes {
		say("  process   %s", done)
	}

	dep, err := o.Stack.Export(ctx)
	if err != nil {
		return rep, fmt.Errorf("read the state of stack %s: %w", stack, err)
	}
	st, err := readState(dep)
	if err != nil {
		return rep, fmt.Errorf("stack %s: %w", stack, err)
	}

	plan, err := adopt.Build(ctx, o.Config, o.Account)
	if err != nil {
		return rep, fmt.Errorf("look up stack %s's resources in Cloudflare: %w", stack, err)
	}
	lacking := plan.Lacking(stack, o.Project, st.urns)
	if o.Before != nil {
		var left []string
		lacking, left = withoutEarlier(lacking, *o.Before)
		for _, k := range left {
			line := fmt.Sprintf("%s was in the account before this deploy began, so it was not adopted; if it is this stack's, `just recover %s` adopts it", k, stack)
			rep.Left = append(rep.Left, line)
			say("  left      %s", line)
		}
	}
	importing := map[string]adopt.Spec{}
	for _, s := range lacking.Resources {
		if s.ID != "" {
			importing[adopt.URN(stack, o.Project, s.Type, s.Name)] = s
		}
	}

	if len(st.pending) > 0 || len(st.retired) > 0 {
		if err := o.Stack.Import(ctx, st.settled()); err != nil {
			return rep, fmt.Errorf("clear the pending operations and retired resources of stack %s: %w", stack, err)
		}
	}
	for _, urn := range st.retired {
		rep.Retired = append(rep.Retired, urn)
		say("  retired   dropped %s from the state, its type being retired; nothing changed in Cloudflare (the setting is the worker script's now, and the next deploy sets it there)", urn)
	}
	if lacking.Imports() > 0 {
		if err := importAll(ctx, o.Stack, lacking, o.Config.Protect, o.Import...); err != nil {
			if len(st.pending) > 0 {
				say("  pending   %d operations cleared", len(st.pending))
			}
			return rep, fmt.Errorf("%w; run `just recover %s` again once that is fixed: it picks up where this run stopped", err, stack)
		}
	}
	// Said once done, so no line claims an import that failed.
	for _, op := range st.pending {
		rep.Pending = append(rep.Pending, describePending(op, importing))
		say("  pending   %s", rep.Pending[len(rep.Pending)-1])
	}
	if lacking.Imports() > 0 {
		for _, s := range lacking.Resources {
			if s.ID == "" {
				continue
			}
			rep.Imported = append(rep.Imported, s.Type+" "+s.Name+" "+s.ID)
			say("  imported  %-44s %-30s id %s", s.Type, s.Name, s.ID)
		}
	}
	if !rep.Changed() {
		say("  nothing to recover: no lock, no pending operation, nothing in Cloudflare that the state lacks")
	}

	preview, err := o.Stack.Preview(ctx, o.Preview...)
	if err != nil {
		return rep, fmt.Errorf("preview stack %s after recovering it: %w", stack, err)
	}
	rep.Preview = map[string]int{}
	for op, n := range preview.ChangeSummary {
		rep.Preview[string(op)] = n
	}
	say("  preview   %s", summary(rep.Preview, stack))
	return rep, nil
}

// describePending says what became of one interrupted operation. A create
// is settled by the import: the resource either is in Cloudflare and is
// imported, or is not and the next up creates it.
func describePending(op pendingOp, importing map[string]adopt.Spec) string {
	what := op.Resource.Type + " " + op.name()
	if op.Type != "creating" {
		return fmt.Sprintf("%s %s: cleared; the preview shows what still differs", op.Type, what)
	}
	if s, ok := importing[op.Resource.URN]; ok {
		return fmt.Sprintf("creating %s: found in Cloudflare (id %s), imported", what, s.ID)
	}
	return fmt.Sprintf("creating %s: not in Cloudflare, cleared; the next up creates it", what)
}

// withoutEarlier drops from f the resources that before lists (by type and
// import id), returning what it dropped as "<type> <name> <id>". Providers
// stay for the imports that remain.
func withoutEarlier(f adopt.File, before adopt.File) (adopt.File, []string) {
	held := map[[2]string]bool{}
	for _, s := range before.Resources {
		if s.ID != "" {
			held[[2]string{s.Type, s.ID}] = true
		}
	}
	var dropped []string
	kept := f.Resources[:0:0]
	for _, s := range f.Resources {
		if s.ID != "" && held[[2]string{s.Type, s.ID}] {
			dropped = append(dropped, s.Type+" "+s.Name+" "+s.ID)
			continue
		}
		kept = append(kept, s)
	}
	f.Resources = kept
	return f, dropped
}

// importAll imports f with Pulumi, protecting what it imports exactly when
// the program protects it.
func importAll(ctx context.Context, stack auto.Stack, f adopt.File, protect bool, opts ...optimport.Option) error {
	dir, err := os.MkdirTemp("", "dome-recover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "import.json")
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	_, err = stack.ImportResources(ctx, append([]optimport.Option{optimport.ImportFile(path), optimport.Protect(protect), optimport.GenerateCode(false)}, opts...)...)
	if err != nil {
		return fmt.Errorf("import into stack %s what Cloudflare holds and the state lacks: %w", stack.Name(), err)
	}
	return nil
}

// state is the part of an exported deployment recovery reads.
type state struct {
	raw     map[string]json.RawMessage
	version int
	urns    map[string]bool
	pending []pendingOp
	retired []string          // URNs of resources of retired types
	kept    []json.RawMessage // the other resources, as exported
}

type pendingOp struct {
	Type     string `json:"type"`
	Resource struct {
		URN  string `json:"urn"`
		Type string `json:"type"`
	} `json:"resource"`
}

func (op pendingOp) name() string {
	return op.Resource.URN[strings.LastIndex(op.Resource.URN, "::")+2:]
}

func readState(dep apitype.UntypedDeployment) (*state, error) {
	st := &state{version: dep.Version, urns: map[string]bool{}}
	if err := json.Unmarshal(dep.Deployment, &st.raw); err != nil {
		return nil, fmt.Errorf("decode the exported state: %w", err)
	}
	var resources []json.RawMessage
	if raw, ok := st.raw["resources"]; ok {
		if err := json.Unmarshal(raw, &resources); err != nil {
			return nil, fmt.Errorf("decode the state's resources: %w", err)
		}
	}
	for _, raw := range resources {
		var r struct {
			URN  string `json:"urn"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("decode the state's resources: %w", err)
		}
		st.urns[r.URN] = true
		if slices.Contains(domecf.Retired, r.Type) {
			st.retired = append(st.retired, r.URN)
		} else {
			st.kept = append(st.kept, raw)
		}
	}
	if raw, ok := st.raw["pending_operations"]; ok {
		if err := json.Unmarshal(raw, &st.pending); err != nil {
			return nil, fmt.Errorf("decode the state's pending operations: %w", err)
		}
	}
	return st, nil
}

// settled is the deployment without its pending operations and without
// the resources of retired types. Nothing depends on those: no resource
// the program registered ever took one as a dependency or a parent.
func (st *state) settled() apitype.UntypedDeployment {
	raw := make(map[string]json.RawMessage, len(st.raw))
	for k, v := range st.raw {
		if k != "pending_operations" {
			raw[k] = v
		}
	}
	if len(st.retired) > 0 {
		raw["resources"], _ = json.Marshal(st.kept)
	}
	data, _ := json.Marshal(raw) // re-encoding what was just decoded cannot fail
	return apitype.UntypedDeployment{Version: st.version, Deployment: data}
}

// lockFile is what Pulumi's file backend writes while a command holds a stack.
type lockFile struct {
	Pid       int       `json:"pid"`
	Username  string    `json:"username"`
	Hostname  string    `json:"hostname"`
	Timestamp time.Time `json:"timestamp"`
}

// repairCheckpoint mends what a CLI killed while saving the stack leaves
// in a file backend, and says what it did.
//
// The blob library under Pulumi's file backend writes each object to a
// temporary file and renames it, but writes the object's metadata sidecar
// (<file>.attrs: a content type and an MD5) in place. A kill during that
// write leaves the sidecar empty, and every later read of the object, by
// `pulumi cancel` and `pulumi up` alike, fails with "failed to load
// checkpoint: EOF". The library reads an object that has no sidecar, so a
// broken one is removed. A checkpoint that is itself cut short (a file
// system without atomic rename) is replaced by the previous one Pulumi
// keeps beside it (.bak); the step it lacks is imported as an orphan.
func repairCheckpoint(root, project, stack string) ([]string, error) {
	var done []string
	state := filepath.Join(root, ".pulumi")
	patterns := []string{filepath.Join(state, "stacks", project, stack+".json*.attrs")}
	for _, dir := range append(lockDirs(root, project, stack), filepath.Join(state, "history", project, stack), filepath.Join(state, "backups", project, stack)) {
		patterns = append(patterns, filepath.Join(dir, "*.attrs"))
	}
	for _, pattern := range patterns {
		sidecars, _ := filepath.Glob(pattern)
		for _, f := range sidecars {
			if data, err := os.ReadFile(f); err != nil || json.Valid(data) {
				continue
			}
			if err := os.Remove(f); err != nil {
				return done, fmt.Errorf("remove the broken metadata file %s of stack %s: %w", f, stack, err)
			}
			rel, _ := filepath.Rel(state, f)
			done = append(done, fmt.Sprintf("%s was cut short when the CLI died; removed it (metadata Pulumi reads the state without)", rel))
		}
	}

	path := filepath.Join(state, "stacks", project, stack+".json")
	data, err := os.ReadFile(path)
	if err != nil || json.Valid(data) {
		return done, nil
	}
	bak, err := os.ReadFile(path + ".bak")
	if err != nil || !json.Valid(bak) {
		return done, fmt.Errorf("the state of stack %s (%s) was cut short when the CLI died, and no intact backup (%s.bak) is beside it", stack, path, filepath.Base(path))
	}
	// Through a new file and a rename, so a second interruption cannot cut
	// the restored checkpoint short in turn.
	tmp := path + ".restoring"
	if err := os.WriteFile(tmp, bak, 0o644); err != nil {
		return done, fmt.Errorf("restore the state of stack %s: %w", stack, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return done, fmt.Errorf("restore the state of stack %s: %w", stack, err)
	}
	return append(done, fmt.Sprintf("%s was cut short when the CLI died; restored the previous checkpoint from %s.bak", filepath.Base(path), filepath.Base(path))), nil
}

// lockDirs are where Pulumi's file backend keeps a stack's locks: under
// the project for project-scoped stacks, else under the stack alone.
func lockDirs(root, project, stack string) []string {
	return []string{
		filepath.Join(root, ".pulumi", "locks", "organization", project, stack),
		filepath.Join(root, ".pulumi", "locks", stack),
	}
}

// staleLocks returns the holders of the stack's locks in a file backend at
// root, all of them gone, and refuses when one still runs or cannot be
// checked. A lock on another backend is left to Pulumi, whose error names
// `pulumi cancel`.
func staleLocks(root, project, stack string) ([]string, error) {
	var files []string
	for _, dir := range lockDirs(root, project, stack) {
		found, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		files = append(files, found...)
	}
	host, _ := os.Hostname()
	var stale []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read the lock %s: %w", f, err)
		}
		var l lockFile
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("read the lock %s: %w", f, err)
		}
		holder := fmt.Sprintf("pid %d on %s, taken %s", l.Pid, l.Hostname, l.Timestamp.Format(time.RFC3339))
		switch {
		case l.Hostname != host:
			return nil, fmt.Errorf("stack %s is locked by %s, another machine: make sure no deploy runs there, then run `pulumi cancel --stack %s --yes` and `just recover %s` again",
				stack, holder, stack, stack)
		case pulumiRunning(l.Pid):
			return nil, fmt.Errorf("stack %s is locked by a Pulumi process that is still running (%s): let it finish or stop it, then run `just recover %s` again",
				stack, holder, stack)
		}
		stale = append(stale, holder)
	}
	return stale, nil
}

// fileBackend is the folder of a file:// backend URL, resolved as Pulumi
// resolves it: ~ is the home folder, a relative path is relative to the
// folder Pulumi runs in.
func fileBackend(backend, workDir string) (string, bool) {
	path, ok := strings.CutPrefix(backend, "file://")
	if !ok {
		return "", false
	}
	path, _, _ = strings.Cut(path, "?")
	if rest, ok := strings.CutPrefix(path, "~"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", false
		}
		path = home + rest
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(workDir, path)
	}
	return path, true
}

// pulumiRunning reports whether pid is a running pulumi command. When that
// cannot be told it answers yes: a lock is never taken away from a process
// that might hold it.
func pulumiRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	name, err := programOf(pid)
	if err != nil {
		return true
	}
	return strings.Contains(name, "pulumi")
}

// procStat reads /proc/<pid>/stat, "<pid> (<name>) <state> <ppid> ...",
// into the name and the fields after it (the state first, then the
// parent's pid). The name may hold spaces and parentheses.
func procStat(pid int) (string, []string, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", nil, err
	}
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	var fields []string
	if open >= 0 && end > open {
		fields = strings.Fields(string(stat[end+1:]))
	}
	if len(fields) < 2 {
		return "", nil, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, stat)
	}
	return string(stat[open+1 : end]), fields, nil
}

// programOf is the name of the program pid runs, "" when it has exited:
// from /proc where there is one (Linux), else from ps (macOS). The name is
// the one the kernel keeps for the process (its first 15 bytes), which an
// exiting process still has while its parent has not reaped it.
func programOf(pid int) (string, error) {
	name, fields, err := procStat(pid)
	if err == nil {
		if fields[0] == "Z" {
			return "", nil
		}
		return name, nil
	}
	if _, procErr := os.Stat("/proc/self"); procErr == nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil // it exited after the signal check
		}
		return "", err
	}
	out, err := exec.Command("ps", "-o", "comm=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return "", err
	}
	return filepath.Base(strings.TrimSpace(string(out))), nil
}

// summary reads a preview's change summary as a sentence, ending with the
// command that applies it when there is anything to apply. A read changes
// nothing, so it is not something to apply.
func summary(changes map[string]int, stack string) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(changes)) {
		if op != "same" && op != "read" && changes[op] > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", changes[op], op))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("nothing to apply (%d unchanged)", changes["same"])
	}
	return fmt.Sprintf("%s (%d unchanged); `just pulumi-up %s` applies it", strings.Join(parts, ", "), changes["same"], stack)
}
