package provider

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

// loseAnswers has the emulator carry out the next n calls of method to
// paths under path (after the account) and then lose their answers: the
// connection is reset after the headers, as a flaky network does.
func (e *env) loseAnswers(method, path string, n int) {
	e.emu.Inject(cfemu.Fault{Method: method, PathPrefix: accPath + path, Count: n, LoseAnswer: true})
}

// TestCreateSurvivesLostAnswers: a create whose answer is lost, however
// often it is retried, is recorded as created when Cloudflare holds exactly
// what was sent, and nothing is created twice.
func TestCreateSurvivesLostAnswers(t *testing.T) {
	t.Run("worker upload", func(t *testing.T) {
		e := newEnv(t)
		f := e.workerFixtures()
		// Every attempt of the upload loses its answer: only the read back can tell.
		e.loseAnswers("PUT", "/workers/scripts/dome-api", 100)
		w := e.resource("WorkerScript", "api")
		resp := w.create(apiWorker(t, f, "export default {}"))
		require.Equal(t, "dome-api", resp.ID)
		require.Equal(t, str("v1"), resp.Properties.Get("migrationTag"))
		w.requireNoRefreshDiff()
	})
	t.Run("worker upload, then its workers.dev setting", func(t *testing.T) {
		e := newEnv(t)
		e.loseAnswers("PUT", devScript, 100)
		e.loseAnswers("POST", devPath, 1)
		w := e.resource("WorkerScript", "w")
		// The read back compares what the upload carries: workers.dev is
		// still off then, and is set after, the lost answer retried.
		resp := w.create(devWorker(t, "export default {}", devOn))
		require.Equal(t, "dome-w", resp.ID)
		require.Equal(t, str(devURL), resp.Properties.Get("url"))
		require.NotContains(t, e.calls(), getDev, "the setting is not read back")
		require.Equal(t, cfapi.ScriptSubdomain{Enabled: true}, e.live())
		w.requireNoRefreshDiff()
	})
	t.Run("vectorize index", func(t *testing.T) {
		e := newEnv(t)
		e.loseAnswers("POST", "/vectorize/v2/indexes", 1)
		ix := e.resource("VectorizeIndex", "notes")
		resp := ix.create(map[string]property.Value{"name": str("notes"), "dimensions": num(3), "metric": str("cosine")})
		require.Equal(t, "notes", resp.ID)
		ix.requireNoRefreshDiff()
		posts := 0
		for _, c := range e.calls() {
			if c.Method == "POST" && c.Path == "/vectorize/v2/indexes" {
				posts++
			}
		}
		require.Equal(t, 2, posts, "the retry found the name taken, then the index was read back")
	})
	t.Run("vectorize index from a preset", func(t *testing.T) {
		e := newEnv(t)
		e.loseAnswers("POST", "/vectorize/v2/indexes", 1)
		ix := e.resource("VectorizeIndex", "notes")
		// Read back, the index has the preset's dimensions and metric, not its name.
		resp := ix.create(map[string]property.Value{"name": str("notes"), "preset": str("@cf/baai/bge-small-en-v1.5")})
		require.Equal(t, "notes", resp.ID)
		ix.requireNoRefreshDiff()
	})
	t.Run("d1 migration", func(t *testing.T) {
		e := newEnv(t)
		db := e.newDatabase("silo-dev")
		// The table read goes through; the first file runs, and its answer is lost.
		e.emu.Inject(cfemu.Fault{Method: "POST", PathPrefix: accPath + "/d1/database/" + db + "/query", Skip: 1, Count: 1, LoseAnswer: true})
		m := e.resource("D1Migrations", "silo")
		created := m.create(migrationInputs(db, files("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL)))
		require.Equal(t, applied("0001_init.sql", initSQL, "0002_tags.sql", tagsSQL), created.Properties.Get("applied"))
		require.Equal(t, []any{"0001_init.sql", "0002_tags.sql"}, e.recorded(db, "d1_migrations"), "each file recorded once")
		require.Equal(t, []any{"d1_migrations", "notes"}, e.tables(db))
	})
	t.Run("queue consumer", func(t *testing.T) {
		e := newEnv(t)
		q := e.queueFixtures()
		e.loseAnswers("POST", "/queues/", 1)
		c := e.resource("QueueConsumer", "jobs")
		resp := c.create(consumerInputs(q.jobs))
		require.True(t, strings.HasPrefix(resp.ID, q.jobs+"/"), resp.ID)
		c.requireNoRefreshDiff()
		list, err := e.client().ListQueueConsumers(t.Context(), q.jobs)
		require.NoError(t, err)
		require.Len(t, list, 1, "one consumer, not two")
	})
}

// TestCreateAfterLostAnswerRefusesADifferentObject: when the object found
// by name is not what this create sent, it is someone else's, and the
// create still fails with the "already exists" advice.
func TestCreateAfterLostAnswerRefusesADifferentObject(t *testing.T) {
	e := newEnv(t)
	// Someone else's index, made straight in the account.
	req := httptest.NewRequest(http.MethodPost, accPath+"/vectorize/v2/indexes",
		strings.NewReader(`{"name":"notes","config":{"dimensions":5,"metric":"euclidean"}}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	e.emu.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	e.loseAnswers("POST", "/vectorize/v2/indexes", 1)
	err := e.resource("VectorizeIndex", "notes").createErr(map[string]property.Value{"name": str("notes"), "dimensions": num(3), "metric": str("cosine")})
	require.ErrorContains(t, err, `VectorizeIndex "notes" already exists`)
	require.ErrorContains(t, err, "just recover test")
}
