// Command cfemu serves the local Cloudflare API emulator on loopback, for a
// local Dome stack and for trying a deploy without a Cloudflare account.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/fresh"
	"github.com/dome/infra/internal/runtime"
)

// devAccountID is the account id served when none is given.
const devAccountID = "0123456789abcdef0123456789abcdef"

func main() {
	// `just emulator` runs the prebuilt bin/cfemu: it must never run code
	// older than the tree.
	if err := fresh.Ensure("./cmd/cfemu"); err != nil {
		fmt.Fprintln(os.Stderr, "cfemu:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cfemu:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down, letting requests in flight
// finish, and closes the emulator, which flushes its state and closes its
// databases.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("cfemu", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8787", "loopback `host:port` to listen on")
	// The environment is read after parsing so that -h never prints the token.
	token := fs.String("token", "", "the accepted API token (default $CLOUDFLARE_API_TOKEN)")
	account := fs.String("account", "", "the account id served (default $CLOUDFLARE_ACCOUNT_ID, else "+devAccountID+")")
	state := fs.String("state", "", "JSON `file` to load state from and save its metadata to after every change; D1 databases, worker code, KV values, R2 objects and queue messages are files in folders beside it")
	useTLS := fs.Bool("tls", false, "serve https with a generated self-signed certificate")
	certDir := fs.String("cert-dir", ".emulator", "`dir` the certificate PEM is written to with -tls")
	logReqs := fs.Bool("log", false, "print one line per request: method, path, status, duration")
	rateLimit := fs.String("rate-limit", "", "refuse calls beyond `N/DURATION` (e.g. 1200/5m, Cloudflare's budget) with Cloudflare's 429 answer")
	var zones []string
	fs.Func("zone", "a zone `name` the account has, for routes and custom domains (repeat for more)", func(v string) error {
		zones = append(zones, v)
		return nil
	})
	subdomain := fs.String("subdomain", cfemu.DefaultSubdomain, "the account's workers.dev `subdomain`")
	runWorkers := fs.Bool("runtime", false, "run the account's workers in workerd (miniflare), reachable by their hostnames on this address")
	runtimeDir := fs.String("runtime-dir", "runtime", "`dir` of the runtime's Node host and its npm packages (just runtime-install)")
	crons := fs.Bool("crons", false, "fire the workers' cron triggers on their schedule (UTC), as Cloudflare does; needs -runtime")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage; asking for it is not a failure
		}
		return err
	}
	if *crons && !*runWorkers {
		return errors.New("-crons needs -runtime: a cron trigger runs its worker's scheduled handler in the local runtime")
	}
	*token = cmp.Or(*token, getenv("CLOUDFLARE_API_TOKEN"))
	*account = cmp.Or(*account, getenv("CLOUDFLARE_ACCOUNT_ID"), devAccountID)
	if *token == "" {
		return errors.New("an API token is required: pass -token or set CLOUDFLARE_API_TOKEN")
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	limit, err := parseRateLimit(*rateLimit)
	if err != nil {
		return err
	}
	logger := log.New(out, "cfemu: ", 0)
	cfg := cfemu.Config{Token: *token, AccountID: *account, StateFile: *state, Zones: zones, Subdomain: *subdomain, RateLimit: limit}
	if *logReqs {
		// The request log never holds the token, so neither does this line.
		cfg.OnRequest = func(r cfemu.Request) {
			logger.Printf("%s %s %d %s", r.Method, r.Path, r.Status, r.Duration.Round(time.Microsecond))
		}
	}
	emu, err := cfemu.New(cfg)
	if err != nil {
		return err
	}
	// Closed once the server has stopped, so no request is still using it.
	defer func() { err = errors.Join(err, emu.Close()) }()
	if *runWorkers {
		stopRuntime, err := startRuntime(emu, *runtimeDir, *state, logger)
		if err != nil {
			return withFix(err)
		}
		defer func() { err = errors.Join(err, stopRuntime()) }()
	} else if err := emu.KeepDataHere(); err != nil {
		return withFix(err)
	}
	if *crons {
		stopCrons := startCrons(ctx, emu.Account(), logger)
		defer stopCrons() // deferred after the runtime's stop, so it runs first
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	var certPath string
	if *useTLS {
		certPath, srv.TLSConfig, err = cfemu.GenerateCert(*certDir, workerHostnames(*subdomain, zones)...)
		if err != nil {
			return err
		}
		// Absolute, so the printed export works from any directory.
		if certPath, err = filepath.Abs(certPath); err != nil {
			return err
		}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	host := ln.Addr().String()
	logger.Printf("serving the Cloudflare API emulator at %s://%s/client/v4 (account %s)", scheme, host, *account)
	if *useTLS {
		logger.Printf("certificate: %s", certPath)
		logger.Printf("trust it with: export SSL_CERT_FILE=%s", certPath)
		logger.Printf("(SSL_CERT_FILE replaces the system roots for Go programs; SSL_CERT_DIR=%s adds to them)", filepath.Dir(certPath))
		logger.Printf("point a stack at it with dome:apiHostname: %s in its Pulumi.<stack>.yaml (Pulumi.local.yaml does)", host)
	}
	if *state != "" {
		logger.Printf("state file: %s", *state)
	}
	if limit.Requests > 0 {
		logger.Printf("rate limit: %d requests per %s", limit.Requests, limit.Window)
	}
	if len(zones) > 0 {
		logger.Printf("zones: %s; workers.dev subdomain: %s", strings.Join(zones, ", "), *subdomain)
	}

	served := make(chan error, 1)
	go func() {
		if *useTLS {
			served <- srv.ServeTLS(ln, "", "") // certificates come from srv.TLSConfig
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	logger.Printf("stopped")
	return nil
}

// startRuntime starts the workers' runtime and attaches it to the
// emulator, which then runs every worker it holds. Its state lives beside
// the emulator's (state.runtime/), or in a temporary folder without one.
func startRuntime(emu *cfemu.Emulator, hostDir, stateFile string, logger *log.Logger) (stop func() error, err error) {
	dir := strings.TrimSuffix(stateFile, filepath.Ext(stateFile)) + ".runtime"
	cleanup := func() error { return nil }
	if stateFile == "" {
		if dir, err = os.MkdirTemp("", "cfemu-runtime-"); err != nil {
			return nil, err
		}
		cleanup = func() error { return os.RemoveAll(dir) }
	}
	rt, err := runtime.Start(runtime.Options{HostDir: hostDir, Dir: dir, Callback: emu.RuntimeCallbacks(), Log: logger})
	if err != nil {
		return nil, errors.Join(err, cleanup())
	}
	stop = func() error { return errors.Join(rt.Stop(), cleanup()) }
	if err := emu.Attach(rt); err != nil {
		var se *cfemu.StartupError
		if !errors.As(err, &se) {
			return nil, errors.Join(err, stop())
		}
		logger.Printf("runtime: %v; upload a fixed version (just deploy-local) to run the account's workers", err)
	}
	logger.Printf("runtime: workers answer on this address by hostname: <worker>.%s.workers.dev, and the routes and custom domains of its zones (state: %s)", emu.Account().Subdomain(), dir)
	return stop, nil
}

// workerHostnames are the hostnames the account's workers answer on, for
// the certificate: every workers.dev name of the account, and each zone
// with its subdomains.
func workerHostnames(subdomain string, zones []string) []string {
	out := []string{"*." + subdomain + ".workers.dev"}
	for _, z := range zones {
		out = append(out, z, "*."+z)
	}
	return out
}

// withFix adds, to a state folder refused for the keeper of its data, the
// two ways on: keep that keeper, or start the local stack over.
func withFix(err error) error {
	var owner *cfemu.DataOwnerError
	if !errors.As(err, &owner) {
		return err
	}
	keep := "start the emulator with -runtime=false (just emulator -runtime=false)"
	if owner.Runtime {
		keep = "start the emulator with -runtime (just emulator)"
	}
	return fmt.Errorf("%w.\nEither %s, or start the local stack over: 'just reset-local' (it removes .emulator and forgets the local stack), then 'just emulator' and 'just deploy-local'", err, keep)
}

// parseRateLimit reads N/DURATION; "" is no limit.
func parseRateLimit(v string) (cfemu.RateLimit, error) {
	if v == "" {
		return cfemu.RateLimit{}, nil
	}
	b, err := cfapi.ParseBudget(v)
	if err != nil {
		return cfemu.RateLimit{}, fmt.Errorf("-rate-limit %q: %w", v, err)
	}
	return cfemu.RateLimit{Requests: b.Requests, Window: b.Window}, nil
}

// checkLoopback refuses an address other machines could reach: the
// emulator accepts a token in the clear and keeps no real secrets safe.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address; use 127.0.0.1, ::1 or localhost", addr)
}
