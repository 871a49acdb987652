package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu/cfemutest"
)

// TestRun reports the local stack's databases from an emulated account in
// which silo has its first migration (applied by wrangler) and dome-meta
// exists with nothing applied.
func TestRun(t *testing.T) {
	srv := cfemutest.Start(t)
	ctx := context.Background()
	silo := srv.Create(t, "/d1/database", `{"name":"silo-dev"}`)["uuid"].(string)
	meta := srv.Create(t, "/d1/database", `{"name":"dome-meta-dev"}`)["uuid"].(string)
	_, err := srv.API.QueryD1(ctx, silo, `CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
		INSERT INTO d1_migrations (name, applied_at) VALUES ('0001_init.sql', '2026-11-01 10:00:00'), ('0000_legacy.sql', '2026-10-01 09:00:00')`)
	require.NoError(t, err)

	dir := srv.Project(t, "local", "dev")

	srv.Emu.ResetLog()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, dir, "local"))
	require.Equal(t, `stack local: D1 schema migrations
  dome-meta (dome-meta-dev, `+meta+`), table d1_migrations
    pending  0001_init.sql
    pending  0002_cron_runs.sql
  silo (silo-dev, `+silo+`), table d1_migrations
    applied  0001_init.sql                    2026-11-01 10:00:00
    applied  0000_legacy.sql                  2026-10-01 09:00:00  (not in the folder)
    pending  0002_add_tags.sql
    pending  0003_note_pipeline.sql
`, out.String())

	// It only read: dome-meta still has no table at all.
	db, err := srv.API.GetD1Database(ctx, meta)
	require.NoError(t, err)
	require.Zero(t, db.NumTables)
	for _, r := range srv.Emu.Requests() {
		if r.Method != "GET" {
			require.Regexp(t, regexp.MustCompile(`^\{"sql":"SELECT `), string(r.Body), "only SELECTs are sent")
		}
	}

	t.Run("a database not created yet has everything pending", func(t *testing.T) {
		out.Reset()
		require.NoError(t, run(ctx, &out, srv.Project(t, "local", "staging"), "local"))
		require.Contains(t, out.String(), "  silo (silo-staging): not created yet\n    pending  0001_init.sql\n    pending  0002_add_tags.sql\n    pending  0003_note_pipeline.sql\n")
	})
}
