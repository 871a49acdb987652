package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/domecf"
)

// migrationFiles is a migrations resource's files input as name -> SQL, in order.
func migrationFiles(t *testing.T, r *registered) [][2]string {
	t.Helper()
	var out [][2]string
	for _, v := range r.Inputs["migrations"].ArrayValue() {
		f := v.ObjectValue()
		out = append(out, [2]string{f["name"].StringValue(), f["sql"].StringValue()})
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// TestSchemaMigrations: every database with a migrationsDir gets a
// migrations resource on its id, and the workers binding it wait for it.
func TestSchemaMigrations(t *testing.T) {
	d, err := deploy(t, "dev", testEnv, nil)
	require.NoError(t, err)
	m := d.mocks

	silo := m.find(t, domecf.TypeD1Migrations, "silo")
	require.Equal(t, "d1database-silo", str(t, silo.Inputs, "databaseId"))
	require.NotContains(t, silo.Inputs, resource.PropertyKey("table"), "wrangler's table unless migrationsTable says otherwise")
	require.Equal(t, [][2]string{
		{"0001_init.sql", readFile(t, "testdata/services/silo/migrations/0001_init.sql")},
		{"0002_add_tags.sql", readFile(t, "testdata/services/silo/migrations/0002_add_tags.sql")},
		{"0003_note_pipeline.sql", readFile(t, "testdata/services/silo/migrations/0003_note_pipeline.sql")},
	}, migrationFiles(t, silo))
	require.Contains(t, silo.Deps, urn("dev", tD1, "silo"))

	meta := m.find(t, domecf.TypeD1Migrations, "dome-meta")
	require.Equal(t, "d1database-dome-meta", str(t, meta.Inputs, "databaseId"))
	require.Len(t, migrationFiles(t, meta), 2)

	// Schema before code: the worker binding silo waits for its migrations;
	// a worker binding no database waits for none.
	require.Contains(t, m.find(t, tWorker, "silo").Deps, urn("dev", domecf.TypeD1Migrations, "silo"))
	require.NotContains(t, m.find(t, tWorker, "dome-api").Deps, urn("dev", domecf.TypeD1Migrations, "silo"))

	t.Run("moving the folder is no change", func(t *testing.T) {
		root := t.TempDir()
		require.NoError(t, os.CopyFS(root, os.DirFS("testdata/services")))
		require.NoError(t, os.Rename(filepath.Join(root, "silo", "migrations"), filepath.Join(root, "silo", "schema")))
		moved, err := deploy(t, "dev", testEnv, func(v *config.Values) {
			v.Config["dome:servicesRoot"] = root
			v.Config["dome:topology"] = replaceIn(t, v.Config["dome:topology"], `"silo/migrations"`, `"silo/schema"`)
		})
		require.NoError(t, err)
		require.Equal(t, silo.Inputs, moved.mocks.find(t, domecf.TypeD1Migrations, "silo").Inputs)
	})

	t.Run("a table override reaches the resource", func(t *testing.T) {
		d, err := deploy(t, "dev", testEnv, func(v *config.Values) {
			v.Config["dome:topology"] = replaceIn(t, v.Config["dome:topology"], `"migrationsDir":"silo/migrations"`, `"migrationsDir":"silo/migrations","migrationsTable":"schema_history"`)
		})
		require.NoError(t, err)
		require.Equal(t, "schema_history", str(t, d.mocks.find(t, domecf.TypeD1Migrations, "silo").Inputs, "table"))
	})
}

// replaceIn replaces old in s, which must hold it.
func replaceIn(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old)
	return strings.ReplaceAll(s, old, new)
}
