// Command dbstatus prints, for each D1 database of a stack that has schema
// migrations, the files its migrations table records as applied and the
// files still pending. It only reads: it creates no table and applies
// nothing.
//
//	go run ./cmd/dbstatus [-dir DIR] STACK
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/migrations"
	"github.com/dome/infra/internal/stackcmd"
)

func main() {
	stackcmd.New("db-status", "db-status [-dir DIR] STACK").Run(func(ctx context.Context, dir, stack string) error {
		return run(ctx, os.Stdout, dir, stack)
	})
}

func run(ctx context.Context, w io.Writer, dir, stack string) error {
	cfg, err := config.LoadStack(dir, stack)
	if err != nil {
		return err
	}
	client, err := cfg.Client()
	if err != nil {
		return err
	}
	dbs, err := client.ListD1Databases(ctx)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	for _, db := range dbs {
		ids[db.Name] = db.UUID
	}
	fmt.Fprintf(w, "stack %s: D1 schema migrations\n", stack)
	listed := false
	for _, d := range cfg.Topology.D1Databases {
		dir := cfg.MigrationsDir(d)
		if dir == "" {
			continue
		}
		listed = true
		files, err := migrations.Read(dir)
		if err != nil {
			return fmt.Errorf("d1 database %q: %w", d.Name, err)
		}
		table := d.MigrationsTable
		if table == "" {
			table = migrations.DefaultTable
		}
		physical := cfg.Name(d.Name)
		id, exists := ids[physical]
		if !exists {
			fmt.Fprintf(w, "  %s (%s): not created yet\n", d.Name, physical)
			printFiles(w, "pending", files)
			continue
		}
		applied, err := readApplied(ctx, client, id, table)
		if err != nil {
			return fmt.Errorf("d1 database %q (%s): %w", d.Name, id, err)
		}
		fmt.Fprintf(w, "  %s (%s, %s), table %s\n", d.Name, physical, id, table)
		inFolder := map[string]bool{}
		for _, f := range files {
			inFolder[f.Name] = true
		}
		isApplied := map[string]bool{}
		for _, a := range applied {
			isApplied[a.name] = true
			note := ""
			if !inFolder[a.name] {
				note = "  (not in the folder)"
			}
			fmt.Fprintf(w, "    applied  %-32s %s%s\n", a.name, a.at, note)
		}
		pending := slices.DeleteFunc(files, func(f migrations.File) bool { return isApplied[f.Name] })
		printFiles(w, "pending", pending)
		if len(pending) == 0 {
			fmt.Fprintln(w, "    nothing pending")
		}
	}
	if !listed {
		fmt.Fprintln(w, "  no database has a migrationsDir")
	}
	return nil
}

func printFiles(w io.Writer, label string, files []migrations.File) {
	for _, f := range files {
		fmt.Fprintf(w, "    %-8s %s\n", label, f.Name)
	}
}

type appliedFile struct{ name, at string }

// readApplied reads the migrations table in apply order; a database without
// the table has nothing applied. Both queries only read.
func readApplied(ctx context.Context, client *cfapi.Client, id, table string) ([]appliedFile, error) {
	res, err := client.QueryD1(ctx, id, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", table)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 || len(res[0].Results) == 0 {
		return nil, nil
	}
	res, err = client.QueryD1(ctx, id, fmt.Sprintf(`SELECT name, applied_at FROM "%s" ORDER BY id`, table))
	if err != nil {
		return nil, err
	}
	var out []appliedFile
	for _, row := range res[0].Results {
		name, _ := row["name"].(string)
		out = append(out, appliedFile{name, fmt.Sprint(row["applied_at"])})
	}
	return out, nil
}
