package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/joho/godotenv"

	"github.com/dome/infra/internal/cfemu"
)

// feedbackBase is the last commit before `validate` stopped pulling the
// SDKs and the program ran as a prebuilt binary: the "before" of
// BenchmarkFeedback unless DOME_BENCH_BASE names another revision.
const feedbackBase = "4bf788a"

// measured is one timed command: wall time, CPU time (user+system, which
// a machine shared with other work inflates less), and the peak resident
// memory of the largest process in its tree.
type measured struct {
	wall, cpu time.Duration
	peakMiB   float64
}

func (m measured) String() string {
	return fmt.Sprintf("%6.2f s wall %6.1f s cpu %5.0f MiB", m.wall.Seconds(), m.cpu.Seconds(), m.peakMiB)
}

// BenchmarkFeedback measures the user's feedback loop before (the tree at
// feedbackBase) and after (this work tree), in one run on one machine, and
// prints the four figures: `just validate local` with no Go build cache
// and warm, and a warm `just pulumi-preview local` against the emulator,
// its wall time and peak memory. -short skips the cold builds (the
// "before" one takes many minutes); the preview needs the pinned Pulumi
// CLI, the Go language host and the official Cloudflare plugin, and is
// skipped without them.
//
//	go test -run '^$' -bench Feedback -benchtime 1x .
func BenchmarkFeedback(b *testing.B) {
	for _, tool := range []string{"just", "git", "go", "/usr/bin/time"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s is not installed", tool)
		}
	}
	base := os.Getenv("DOME_BENCH_BASE")
	if base == "" {
		base = feedbackBase
	}
	trees := []struct{ name, dir string }{
		{"before (" + base + ")", exportTree(b, base)},
		{"after (work tree)", exportTree(b, "")},
	}
	pulumiDir, previewSkip := previewTools()
	just := nativeJust(b)

	type row struct {
		figure, target string
		values         []string
	}
	rows := []*row{
		{figure: "just validate local, no Go build cache", target: "< 60 s"},
		{figure: "just validate local, warm", target: "< 0.2 s"},
		{figure: "just pulumi-preview local, warm: wall", target: "<= 3 s"},
		{figure: "just pulumi-preview local, warm: peak memory", target: "<= 300 MiB"},
	}
	for _, tr := range trees {
		env := benchEnv(b, tr.dir, pulumiDir)
		if testing.Short() {
			rows[0].values = append(rows[0].values, "skipped (-short)")
		} else {
			cold := append(env, "GOCACHE="+b.TempDir())
			rows[0].values = append(rows[0].values, runCmd(b, tr.dir, cold, just, "validate", "local").String())
		}
		runCmd(b, tr.dir, env, just, "validate", "local") // warms the cache (and builds bin/validate)
		rows[1].values = append(rows[1].values, best(b, 3, tr.dir, env, just, "validate", "local").String())

		if previewSkip != "" {
			rows[2].values = append(rows[2].values, "skipped: "+previewSkip)
			rows[3].values = append(rows[3].values, "skipped")
			continue
		}
		env = startEmulator(b, tr.dir, env)
		runCmd(b, tr.dir, env, just, "pulumi-stack-init", "local")
		runCmd(b, tr.dir, env, just, "pulumi-preview", "local") // builds everything once
		m := best(b, 3, tr.dir, env, just, "pulumi-preview", "local")
		rows[2].values = append(rows[2].values, fmt.Sprintf("%.2f s (%s)", m.wall.Seconds(), m))
		rows[3].values = append(rows[3].values, fmt.Sprintf("%.0f MiB", m.peakMiB))
	}

	var out strings.Builder
	fmt.Fprintf(&out, "\n%-46s | %-48s | %-48s | %s\n", "figure", trees[0].name, trees[1].name, "target")
	for _, r := range rows {
		fmt.Fprintf(&out, "%-46s | %-48s | %-48s | %s\n", r.figure, r.values[0], r.values[1], r.target)
	}
	b.Log(out.String())
	fmt.Print(out.String())
}

// nativeJust returns the just binary itself: the npm package installs a
// Node.js launcher as `just`, whose start-up alone would swamp the figures
// (the recipes' nested calls already use the binary, just_executable()).
func nativeJust(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "justfile"), []byte("exe:\n    @echo {{just_executable()}}\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("just", "exe")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("finding the just binary: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// exportTree writes the files of revision rev (the work tree's tracked and
// untracked-but-not-ignored files when rev is empty) into a scratch folder.
func exportTree(b *testing.B, rev string) string {
	b.Helper()
	dir := b.TempDir()
	if rev != "" {
		archive := exec.Command("git", "archive", rev)
		extract := exec.Command("tar", "-x", "-C", dir)
		pipe, err := archive.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		extract.Stdin = pipe
		if err := extract.Start(); err != nil {
			b.Fatal(err)
		}
		if err := archive.Run(); err != nil {
			b.Fatalf("git archive %s: %v", rev, err)
		}
		if err := extract.Wait(); err != nil {
			b.Fatal(err)
		}
		return dir
	}
	files, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range strings.Fields(string(files)) {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// previewTools finds the pinned Pulumi CLI (with the Go language host
// beside it) and the official Cloudflare plugin, or says what is missing.
func previewTools() (dir, missing string) {
	home, _ := os.UserHomeDir()
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(home, ".cache")
	}
	dir = filepath.Join(cache, "dome-infra", "pulumi-v3.274.1")
	for _, bin := range []string{"pulumi", "pulumi-language-go"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", bin + " is not in " + dir
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".pulumi", "plugins", "resource-cloudflare-v5.49.1")); err != nil {
		return "", "the official Cloudflare plugin 5.49.1 is not installed"
	}
	return dir, ""
}

// benchEnv is a developer's environment for a tree: the Pulumi CLI first
// on PATH, a file backend of its own, nothing of this process's Pulumi or
// Cloudflare settings.
func benchEnv(b *testing.B, dir, pulumiDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH" && pulumiDir != "":
			env = append(env, "PATH="+pulumiDir+string(os.PathListSeparator)+value)
		case strings.HasPrefix(name, "PULUMI_"), strings.HasPrefix(name, "CLOUDFLARE_"), strings.HasPrefix(name, "DOME_"), name == "SSL_CERT_FILE":
		default:
			env = append(env, kv)
		}
	}
	return append(env, "PULUMI_BACKEND_URL=file://"+filepath.Join(dir, ".state"), "PULUMI_SKIP_UPDATE_CHECK=true")
}

// startEmulator serves the emulator on a random port with the credentials
// of the tree's .env.local, and points the tree's local stack at it.
func startEmulator(b *testing.B, dir string, env []string) []string {
	b.Helper()
	creds, err := godotenv.Read(filepath.Join(dir, ".env.local"))
	if err != nil {
		b.Fatal(err)
	}
	emu, err := cfemu.New(cfemu.Config{Token: creds["CLOUDFLARE_API_TOKEN"], AccountID: creds["CLOUDFLARE_ACCOUNT_ID"], Zones: []string{"dome.example"}})
	if err != nil {
		b.Fatal(err)
	}
	srv, certFile := serveTLS(b, emu, filepath.Join(dir, ".emulator"))
	if filepath.Base(certFile) != "cfemu-cert.pem" {
		b.Fatalf("the emulator's certificate is %s, not where the justfile looks", certFile)
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	stackFile := filepath.Join(dir, "Pulumi.local.yaml")
	data, err := os.ReadFile(stackFile)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(stackFile, bytes.Replace(data, []byte("127.0.0.1:8787"), []byte(u.Host), 1), 0o644); err != nil {
		b.Fatal(err)
	}
	return env
}

// best runs a command n times and keeps the fastest run.
func best(b *testing.B, n int, dir string, env []string, name string, args ...string) measured {
	var m measured
	for i := 0; i < n; i++ {
		r := runCmd(b, dir, env, name, args...)
		if i == 0 || r.wall < m.wall {
			m = r
		}
	}
	return m
}

// runCmd runs a command in dir and measures it; a failure fails the
// benchmark. It runs under GNU time, whose own rusage of the command covers
// every process the command waited for: the largest one's peak is the
// figure. (Measured from this process instead, a child would report this
// benchmark's own memory, which it shares until it execs.)
func runCmd(b *testing.B, dir string, env []string, name string, args ...string) measured {
	b.Helper()
	stats := filepath.Join(b.TempDir(), "time")
	cmd := exec.Command("/usr/bin/time", append([]string{"-o", stats, "-f", "%U %S %M", name}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out.String())
	}
	data, err := os.ReadFile(stats)
	if err != nil {
		b.Fatal(err)
	}
	var user, sys float64
	var peakKiB int64
	if _, err := fmt.Sscanf(string(data), "%f %f %d", &user, &sys, &peakKiB); err != nil {
		b.Fatalf("reading GNU time's figures %q: %v", data, err)
	}
	return measured{
		wall:    wall,
		cpu:     time.Duration((user + sys) * float64(time.Second)),
		peakMiB: float64(peakKiB) / 1024,
	}
}
