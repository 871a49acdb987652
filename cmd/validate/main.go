// Command validate checks stacks' configuration offline: it reads
// Pulumi.yaml, Pulumi.<stack>.yaml and .env.<stack> the way the program
// does, runs the program's own validation (each database's migrations
// included, on an in-memory SQLite) and bundles every worker, with no
// Pulumi CLI and no network. It prints what each stack would deploy, or
// every problem found. It imports neither SDK, so a first run compiles in
// under a minute, not several.
//
//	go run ./cmd/validate [-dir DIR] STACK...
package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/dome/infra/internal/bundle"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/fresh"
	"github.com/dome/infra/internal/migrations"
	"github.com/dome/infra/internal/schemacheck"
)

func main() {
	// `just validate` runs the prebuilt bin/validate: it must never run
	// code older than the tree.
	if err := fresh.Ensure("./cmd/validate"); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	dir := flag.String("dir", ".", "the folder holding Pulumi.yaml")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: validate [-dir DIR] STACK...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	failed := false
	for _, stack := range flag.Args() {
		if err := validate(os.Stdout, *dir, stack); err != nil {
			fmt.Fprintf(os.Stderr, "stack %s: %v\n", stack, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func validate(w io.Writer, dir, stack string) error {
	cfg, err := config.LoadStack(dir, stack, config.CheckSchema(schemacheck.Run))
	if err != nil {
		return err
	}
	order, err := config.Order(cfg.Topology.Workers)
	if err != nil {
		return err
	}
	// Bundled here, offline, a syntax error is found with its file:line:col
	// and an oversized bundle before any upload; the preview then reuses
	// these bundles.
	mods, err := bundle.Workers(cfg, order)
	if err != nil {
		return err
	}
	bundles := make(map[string]bundle.Module, len(order))
	for i, wk := range order {
		bundles[wk.Name] = mods[i]
	}
	t := cfg.Topology
	fmt.Fprintf(w, "stack %s: configuration is valid (environment %s, protected: %t)\n", stack, cfg.Environment, cfg.Protect)
	// The stack-wide settings, as resolved: a change to one (a log level,
	// the API it deploys to) shows here, not only in the preview.
	observability := "off"
	if o := cfg.Observability; o.Enabled {
		observability = fmt.Sprintf("on, head sampling rate %g", o.HeadSamplingRate)
	}
	api := cfg.APIHostname
	if api == "" {
		api = "Cloudflare's"
	}
	for _, row := range [][2]string{
		{"logLevel", cfg.LogLevel},
		{"observability", observability},
		{"plan", string(cfg.Plan)},
		{"account", cfg.AccountID},
		{"apiHostname", api},
		{"servicesRoot", cfg.ServicesRoot},
	} {
		fmt.Fprintf(w, "  %-18s %s\n", row[0], row[1])
	}
	section := func(label string, names []string) {
		physical := make([]string, len(names))
		for i, n := range names {
			physical[i] = cfg.Name(n)
		}
		if len(physical) == 0 {
			physical = []string{"-"}
		}
		fmt.Fprintf(w, "  %-18s %s\n", label, strings.Join(physical, ", "))
	}
	section("d1Databases", names(t.D1Databases, func(d config.Database) string { return d.Name }))
	var migrated []string
	for _, d := range t.D1Databases {
		if dir := cfg.MigrationsDir(d); dir != "" {
			files, err := migrations.Read(dir)
			if err != nil {
				return err
			}
			summary := cfg.Name(d.Name) + " (no files yet)"
			if n := len(files); n > 0 {
				summary = fmt.Sprintf("%s (%d, last %s)", cfg.Name(d.Name), n, files[n-1].Name)
			}
			migrated = append(migrated, summary)
		}
	}
	if len(migrated) == 0 {
		migrated = []string{"-"}
	}
	fmt.Fprintf(w, "  %-18s %s\n", "d1 migrations", strings.Join(migrated, ", "))
	section("r2Buckets", names(t.R2Buckets, func(b config.Bucket) string { return b.Name }))
	section("kvNamespaces", names(t.KVNamespaces, func(n config.KVNamespace) string { return n.Name }))
	section("queues", names(t.Queues, func(q config.Queue) string { return q.Name }))
	section("vectorizeIndexes", names(t.VectorizeIndexes, func(ix config.Index) string { return ix.Name }))
	var pairs []string
	for _, b := range t.R2Buckets {
		for _, q := range b.NotifiedQueues() {
			pairs = append(pairs, cfg.Name(b.Name)+" -> "+cfg.Name(q))
		}
	}
	if len(pairs) == 0 {
		pairs = []string{"-"}
	}
	fmt.Fprintf(w, "  %-18s %s\n", "r2 notifications", strings.Join(pairs, ", "))
	section("workers (in order)", names(order, func(w config.Worker) string { return w.Name }))
	for _, wk := range t.Workers {
		effective(w, cfg, wk, bundles[wk.Name])
	}
	return nil
}

// effective prints a worker's per-stack fields as this stack deploys them,
// after Pulumi.<stack>.yaml's overrides, so a reviewer sees how stacks differ.
func effective(w io.Writer, cfg *config.Config, wk config.Worker, m bundle.Module) {
	header := fmt.Sprintf("  worker %s (%s)", wk.Name, cfg.Name(wk.Name))
	if o := cfg.Overridden(wk.Name); len(o) > 0 {
		header += fmt.Sprintf(", overridden in Pulumi.%s.yaml: %s", cfg.Stack, strings.Join(o, ", "))
	}
	fmt.Fprintln(w, header)
	onOff := map[bool]string{true: "on", false: "off"}
	list := func(items []string) string {
		if len(items) == 0 {
			return "-"
		}
		return strings.Join(items, ", ")
	}
	placement := wk.Placement
	if placement == "" {
		placement = "default"
	}
	// The vars every worker gets, then its own, as the upload sends them.
	var vars []string
	stack := cfg.StackVars()
	for _, k := range slices.Sorted(maps.Keys(stack)) {
		vars = append(vars, k+"="+stack[k])
	}
	for _, k := range slices.Sorted(maps.Keys(wk.Vars)) {
		vars = append(vars, k+"="+wk.Vars[k])
	}
	for _, row := range [][2]string{
		// As wrangler reports an upload, so sizes compare at a glance.
		{"bundle", fmt.Sprintf("%.2f KiB / gzip: %.2f KiB", float64(m.Size)/1024, float64(m.Gzipped)/1024)},
		{"workersDev", onOff[wk.WorkersDev]},
		{"previewUrls", onOff[wk.PreviewURLs]},
		{"routes", list(names(wk.Routes, func(r config.Route) string { return r.Pattern + " (zone " + r.Zone + ")" }))},
		{"customDomains", list(names(wk.CustomDomains, func(d config.CustomDomain) string { return d.Hostname + " (zone " + d.Zone + ")" }))},
		{"crons", list(wk.Crons)},
		{"placement", placement},
		{"logpush", onOff[wk.Logpush]},
		{"vars", list(vars)},
	} {
		fmt.Fprintf(w, "    %-14s %s\n", row[0], row[1])
	}
}

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}
