package provider

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"
)

// losing carries out every call but loses the answers of the first lose
// calls whose "METHOD path" starts with prefix: the connection is reset
// after the headers, as a flaky network does.
type losing struct {
	next   http.Handler
	prefix string
	mu     sync.Mutex
	lose   int
}

func (l *losing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	hit := l.lose > 0 && strings.HasPrefix(r.Method+" "+r.URL.Path, l.prefix)
	if hit {
		l.lose--
	}
	l.mu.Unlock()
	if !hit {
		l.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, r)
	w.WriteHeader(rec.Code)
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func newLosingEnv(t *testing.T, prefix string, lose int) *env {
	return newEnvBehind(t, func(h http.Handler) http.Handler { return &losing{next: h, prefix: prefix, lose: lose} })
}

// TestCreateSurvivesLostAnswers: a create whose answer is lost, however
// often it is retried, is recorded as created when Cloudflare holds exactly
// what was sent, and nothing is created twice.
func TestCreateSurvivesLostAnswers(t *testing.T) {
	t.Run("worker upload", func(t *testing.T) {
		// Every attempt of the upload loses its answer: only the read back can tell.
		e := newLosingEnv(t, "PUT "+accPath+"/workers/scripts/dome-api", 100)
		f := e.workerFixtures()
		w := e.resource("WorkerScript", "api")
		resp := w.create(apiWorker(t, f, "export default {}"))
		require.Equal(t, "dome-api", resp.ID)
		require.Equal(t, str("v1"), resp.Properties.Get("migrationTag"))
		w.requireNoRefreshDiff()
	})
	t.Run("vectorize index", func(t *testing.T) {
		e := newLosingEnv(t, "POST "+accPath+"/vectorize/v2/indexes", 1)
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
	t.Run("queue consumer", func(t *testing.T) {
		e := newLosingEnv(t, "POST "+accPath+"/queues/", 1)
		q := e.queueFixtures()
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
	e := newLosingEnv(t, "POST "+accPath+"/vectorize/v2/indexes", 1)
	// Someone else's index, made straight in the account.
	req := httptest.NewRequest(http.MethodPost, accPath+"/vectorize/v2/indexes",
		strings.NewReader(`{"name":"notes","config":{"dimensions":5,"metric":"euclidean"}}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	e.emu.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	err := e.resource("VectorizeIndex", "notes").createErr(map[string]property.Value{"name": str("notes"), "dimensions": num(3), "metric": str("cosine")})
	require.ErrorContains(t, err, `VectorizeIndex "notes" already exists`)
	require.ErrorContains(t, err, "just recover test")
}
