package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
)

const (
	testToken   = "runtime-test-token"
	testAccount = "0123456789abcdef0123456789abcdef"
)

// logBuffer collects the runtime's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// account is an emulator with a runtime attached, served on loopback.
type account struct {
	t    testing.TB
	emu  *cfemu.Emulator
	rt   *Runtime
	srv  *httptest.Server
	logs *logBuffer
}

// hostDir is the repository's runtime folder, installed by `just runtime-install`.
func hostDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../../runtime")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "miniflare")); err != nil {
		t.Fatalf("the runtime's npm packages are not installed: run 'just runtime-install' (just test does)")
	}
	return dir
}

func newAccount(t testing.TB) *account {
	t.Helper()
	emu, err := cfemu.New(cfemu.Config{Token: testToken, AccountID: testAccount, Zones: []string{"dome.example"}})
	require.NoError(t, err)
	logs := &logBuffer{}
	rt, err := Start(Options{HostDir: hostDir(t), Dir: t.TempDir(), Callback: emu.RuntimeCallbacks(), Log: log.New(logs, "", 0)})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, rt.Stop())
		require.NoError(t, emu.Close())
		if t.Failed() {
			t.Logf("runtime log:\n%s", logs)
		}
	})
	require.NoError(t, emu.Attach(rt))
	return &account{t: t, emu: emu, rt: rt, srv: srv, logs: logs}
}

// api calls the emulator's API and returns the envelope's result.
func (a *account) api(method, path string, body any) (json.RawMessage, error) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(a.t, err)
		rd = bytes.NewReader(b)
	}
	return a.do(a.request(method, path, rd, "application/json"))
}

// request is a call of the API below the account, with the token.
func (a *account) request(method, path string, body io.Reader, contentType string) *http.Request {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+"/client/v4/accounts/"+testAccount+path, body)
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// raw sends an API call whose answer is the data itself (a KV value, an
// R2 object), not an envelope, and returns its status and body.
func (a *account) raw(method, path string, body io.Reader) (int, string) {
	a.t.Helper()
	resp, err := http.DefaultClient.Do(a.request(method, path, body, ""))
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return resp.StatusCode, string(b)
}

func (a *account) do(req *http.Request) (json.RawMessage, error) {
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Result  json.RawMessage `json:"result"`
		Errors  []struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	require.NoError(a.t, json.NewDecoder(resp.Body).Decode(&env))
	if !env.Success {
		return nil, fmt.Errorf("%d: %s", env.Errors[0].Code, env.Errors[0].Message)
	}
	return env.Result, nil
}

func (a *account) must(method, path string, body any) json.RawMessage {
	a.t.Helper()
	out, err := a.api(method, path, body)
	require.NoError(a.t, err, "%s %s", method, path)
	return out
}

// worker is a script upload: TypeScript source, bundled here with a
// source map, the way the program uploads Dome's workers.
type worker struct {
	name       string
	source     string // TypeScript of src/index.ts
	bindings   []map[string]any
	migrations map[string]any // Durable Object migrations, as the upload's metadata carries them
}

func (a *account) upload(w worker) error {
	a.t.Helper()
	built := api.Build(api.BuildOptions{
		Stdin:     &api.StdinOptions{Contents: w.source, Sourcefile: "src/index.ts", Loader: api.LoaderTS},
		Bundle:    true,
		Format:    api.FormatESModule,
		Sourcemap: api.SourceMapExternal,
		Outfile:   "index.js",
		External:  []string{"cloudflare:*", "node:*"}, // the runtime's own modules
		Write:     false,
	})
	require.Empty(a.t, built.Errors)
	var code, srcMap []byte
	for _, f := range built.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			srcMap = f.Contents
		} else {
			code = f.Contents
		}
	}
	code = append(code, []byte("\n//# sourceMappingURL=index.js.map\n")...)
	if w.bindings == nil {
		w.bindings = []map[string]any{}
	}
	metadata := map[string]any{"main_module": "index.js", "compatibility_date": "2025-04-15", "bindings": w.bindings}
	if w.migrations != nil {
		metadata["migrations"] = w.migrations
	}
	meta, err := json.Marshal(metadata)
	require.NoError(a.t, err)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part := func(name, ctype string, content []byte) {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, name))
		h.Set("Content-Type", ctype)
		pw, err := mw.CreatePart(h)
		require.NoError(a.t, err)
		_, err = pw.Write(content)
		require.NoError(a.t, err)
	}
	part("metadata", "application/json", meta)
	part("index.js", "application/javascript+module", code)
	part("index.js.map", "application/source-map", srcMap)
	require.NoError(a.t, mw.Close())
	_, err = a.do(a.request(http.MethodPut, "/workers/scripts/"+w.name, &body, mw.FormDataContentType()))
	return err
}

// get asks a worker hostname on the emulator's address, as curl with a
// Host header does.
func (a *account) get(host, path string) (int, string) {
	a.t.Helper()
	return a.send(http.MethodGet, host, path, "")
}

// send is get with any method and a body.
func (a *account) send(method, host, path, body string) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	require.NoError(a.t, err)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return resp.StatusCode, string(b)
}

func (a *account) enableWorkersDev(name string) {
	a.must(http.MethodPost, "/workers/scripts/"+name+"/subdomain", map[string]any{"enabled": true})
}

func dev(name string) string { return name + "." + cfemu.DefaultSubdomain + ".workers.dev" }

func TestWorkersServeWhatTheAPIHolds(t *testing.T) {
	a := newAccount(t)
	var db struct {
		UUID string `json:"uuid"`
	}
	require.NoError(t, json.Unmarshal(a.must(http.MethodPost, "/d1/database", map[string]any{"name": "notes"}), &db))
	// A migration through the API's /query is what env.DB reads.
	a.must(http.MethodPost, "/d1/database/"+db.UUID+"/query", map[string]any{"sql": "CREATE TABLE notes (id TEXT, title TEXT); INSERT INTO notes VALUES ('n1', 'first')"})

	require.NoError(t, a.upload(worker{name: "silo", source: `
interface Env { DB: D1Database }
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    if (req.method === "POST") {
      await env.DB.prepare("INSERT INTO notes VALUES (?, ?)").bind("n2", await req.text()).run();
      return new Response("stored", { status: 201 });
    }
    const { results } = await env.DB.prepare("SELECT id, title FROM notes ORDER BY id").all();
    return Response.json(results);
  },
};`, bindings: []map[string]any{{"type": "d1", "name": "DB", "id": db.UUID}}}))
	api := worker{name: "api", source: `
interface Env { SILO: Fetcher; GREETING: string }
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const notes = await (await env.SILO.fetch("https://silo/notes")).json();
    return Response.json({ greeting: env.GREETING, host: new URL(req.url).host, notes });
  },
};`, bindings: []map[string]any{{"type": "service", "name": "SILO", "service": "silo"}, {"type": "plain_text", "name": "GREETING", "text": "hello"}}}
	require.NoError(t, a.upload(api))
	a.enableWorkersDev("api")

	status, body := a.get(dev("api"), "/")
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, `{"greeting":"hello","host":"`+dev("api")+`","notes":[{"id":"n1","title":"first"}]}`, body)

	// A row a worker writes is visible through the API.
	a.enableWorkersDev("silo")
	status, body = a.send(http.MethodPost, dev("silo"), "/", "second")
	require.Equal(t, http.StatusCreated, status, body)
	rows := a.must(http.MethodPost, "/d1/database/"+db.UUID+"/query", map[string]any{"sql": "SELECT title FROM notes WHERE id = 'n2'"})
	require.Contains(t, string(rows), `"title":"second"`)

	// A changed var applies on the next request.
	api.bindings[1]["text"] = "bonjour"
	require.NoError(t, a.upload(api))
	_, body = a.get(dev("api"), "/")
	require.Contains(t, body, `"greeting":"bonjour"`)

	// Nothing claims a hostname of no worker; a deleted worker stops answering.
	status, _ = a.get(dev("nobody"), "/")
	require.Equal(t, http.StatusNotFound, status)
	a.must(http.MethodDelete, "/workers/scripts/api", nil)
	status, _ = a.get(dev("api"), "/")
	require.Equal(t, http.StatusNotFound, status)
}

func TestStartupFailureIsRefusedAtUpload(t *testing.T) {
	a := newAccount(t)
	require.NoError(t, a.upload(worker{name: "good", source: `export default { fetch() { return new Response("good") } }`}))
	a.enableWorkersDev("good")

	err := a.upload(worker{name: "bad", source: `
const config = JSON.parse("{not json");
export default { fetch() { return new Response(String(config)) } }`})
	require.Error(t, err)
	require.Contains(t, err.Error(), "10021")
	require.Contains(t, err.Error(), "SyntaxError")

	_, err = a.api(http.MethodGet, "/workers/scripts/bad/settings", nil)
	require.ErrorContains(t, err, "10007", "a refused upload leaves no script behind")
	status, body := a.get(dev("good"), "/")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "good", body)
}

func TestLogsNameTheWorkerAndTheSourceLine(t *testing.T) {
	a := newAccount(t)
	require.NoError(t, a.upload(worker{name: "thrower", source: `
function explode(): never {
  throw new Error("kaboom");
}
export default {
  fetch(): Response {
    console.log("about to throw");
    explode();
  },
};`}))
	a.enableWorkersDev("thrower")
	status, _ := a.get(dev("thrower"), "/")
	require.Equal(t, http.StatusInternalServerError, status)
	require.Eventually(t, func() bool { return strings.Contains(a.logs.String(), "src/index.ts:3") }, 5*time.Second, 20*time.Millisecond,
		"the stack names the TypeScript line that threw; log:\n%s", a.logs)
	require.Contains(t, a.logs.String(), "[thrower] about to throw")
}

func TestQueuesAndR2NotificationsReachTheConsumer(t *testing.T) {
	a := newAccount(t)
	a.must(http.MethodPost, "/r2/buckets", map[string]any{"name": "uploads"})
	var q struct {
		ID string `json:"queue_id"`
	}
	require.NoError(t, json.Unmarshal(a.must(http.MethodPost, "/queues", map[string]any{"queue_name": "uploaded"}), &q))
	var ns struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(a.must(http.MethodPost, "/storage/kv/namespaces", map[string]any{"title": "seen"}), &ns))
	a.must(http.MethodPut, "/event_notifications/r2/uploads/configuration/queues/"+q.ID,
		map[string]any{"rules": []map[string]any{{"actions": []string{"PutObject"}, "prefix": "in/"}}})

	require.NoError(t, a.upload(worker{name: "writer", source: `
interface Env { BUCKET: R2Bucket }
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const key = new URL(req.url).pathname.slice(1);
    await env.BUCKET.put(key, "content of " + key);
    return new Response("put " + key);
  },
};`, bindings: []map[string]any{{"type": "r2_bucket", "name": "BUCKET", "bucket_name": "uploads"}}}))
	require.NoError(t, a.upload(worker{name: "consumer", source: `
interface Env { SEEN: KVNamespace }
export default {
  async queue(batch: MessageBatch<any>, env: Env): Promise<void> {
    for (const m of batch.messages) {
      await env.SEEN.put(m.body.object.key, JSON.stringify({ action: m.body.action, size: m.body.object.size, batch: batch.messages.length }));
    }
  },
};`, bindings: []map[string]any{{"type": "kv_namespace", "name": "SEEN", "namespace_id": ns.ID}}}))
	a.must(http.MethodPost, "/queues/"+q.ID+"/consumers", map[string]any{"script_name": "consumer", "type": "worker",
		"settings": map[string]any{"batch_size": 2, "max_wait_time_ms": 100}})
	a.enableWorkersDev("writer")

	for _, key := range []string{"in/a.txt", "in/b.txt", "out/c.txt"} {
		status, body := a.get(dev("writer"), "/"+key)
		require.Equal(t, http.StatusOK, status, body)
	}
	value := func(key string) string {
		status, body := a.raw(http.MethodGet, "/storage/kv/namespaces/"+ns.ID+"/values/"+key, nil)
		if status != http.StatusOK {
			return ""
		}
		return body
	}
	require.Eventually(t, func() bool { return value("in/a.txt") != "" && value("in/b.txt") != "" }, 10*time.Second, 50*time.Millisecond)
	require.JSONEq(t, `{"action":"PutObject","size":19,"batch":2}`, value("in/a.txt"))
	require.Empty(t, value("out/c.txt"), "the rule's prefix filters out/")

	// The object the worker wrote is readable through the API.
	status, object := a.raw(http.MethodGet, "/r2/buckets/uploads/objects/in/a.txt", nil)
	require.Equal(t, http.StatusOK, status, object)
	require.Equal(t, "content of in/a.txt", object)
}

func TestCrashedRuntimeIsRestarted(t *testing.T) {
	a := newAccount(t)
	require.NoError(t, a.upload(worker{name: "steady", source: `export default { fetch() { return new Response("still here") } }`}))
	a.enableWorkersDev("steady")
	a.rt.mu.Lock()
	proc := a.rt.host.cmd.Process
	a.rt.mu.Unlock()
	require.NoError(t, proc.Kill())
	require.Eventually(t, func() bool { return strings.Contains(a.logs.String(), "starting it again") }, 10*time.Second, 20*time.Millisecond,
		"a crash is reported, never silent")
	// An upload while the runtime is down is the account's; the restarted
	// runtime runs it.
	require.NoError(t, a.upload(worker{name: "steady", source: `export default { fetch() { return new Response("back, newer") } }`}))
	require.Eventually(t, func() bool {
		status, body := a.get(dev("steady"), "/")
		return status == http.StatusOK && body == "back, newer"
	}, 30*time.Second, 100*time.Millisecond)
}

func TestVectorizeAndAIBindings(t *testing.T) {
	a := newAccount(t)
	a.must(http.MethodPost, "/vectorize/v2/indexes", map[string]any{"name": "notes", "config": map[string]any{"dimensions": 768, "metric": "cosine"}})
	a.must(http.MethodPost, "/vectorize/v2/indexes/notes/metadata_index/create", map[string]any{"propertyName": "kind", "indexType": "string"})
	require.NoError(t, a.upload(worker{name: "search", source: `
interface Env { AI: Ai; INDEX: VectorizeIndex }
async function embed(env: Env, text: string): Promise<number[]> {
  const out: any = await env.AI.run("@cf/baai/bge-base-en-v1.5", { text: [text] });
  return out.data[0];
}
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    if (req.method === "POST") {
      const text = await req.text();
      await env.INDEX.upsert([{ id: url.pathname.slice(1), values: await embed(env, text), metadata: { kind: "note", text } }]);
      return new Response("upserted");
    }
    if (url.pathname === "/summary") {
      return Response.json(await env.AI.run("@cf/meta/llama-3.1-8b-instruct", { prompt: "Summarise: the cat sat on the mat." }));
    }
    const found = await env.INDEX.query(await embed(env, url.searchParams.get("q") ?? ""), { topK: 2, returnMetadata: "all", filter: { kind: "note" } });
    return Response.json(found.matches.map((m) => ({ id: m.id, text: m.metadata?.text })));
  },
};`, bindings: []map[string]any{{"type": "ai", "name": "AI"}, {"type": "vectorize", "name": "INDEX", "index_name": "notes"}}}))
	a.enableWorkersDev("search")
	for id, text := range map[string]string{"cats": "cats purr and sleep all day", "rockets": "rockets burn fuel to reach orbit"} {
		status, body := a.send(http.MethodPost, dev("search"), "/"+id, text)
		require.Equal(t, http.StatusOK, status, body)
	}
	status, body := a.get(dev("search"), "/?q=do+cats+sleep")
	require.Equal(t, http.StatusOK, status, body)
	var matches []struct{ ID, Text string }
	require.NoError(t, json.Unmarshal([]byte(body), &matches))
	require.Len(t, matches, 2)
	require.Equal(t, "cats", matches[0].ID, "the nearer text ranks first")

	// The API's index holds what the binding wrote.
	info := a.must(http.MethodGet, "/vectorize/v2/indexes/notes/info", nil)
	require.Contains(t, string(info), `"vectorCount":2`)

	_, body = a.get(dev("search"), "/summary")
	require.Contains(t, body, "[local stand-in for @cf/meta/llama-3.1-8b-instruct]", "the AI stand-in says what it is")
}

func TestBindingsWorkerdCannotRunLeaveTheWorkerRunning(t *testing.T) {
	a := newAccount(t)
	require.NoError(t, a.upload(worker{name: "events", source: `
interface Env { EVENTS?: AnalyticsEngineDataset }
export default { fetch(_: Request, env: Env) { return new Response(env.EVENTS === undefined ? "no events locally" : "events") } }`,
		bindings: []map[string]any{{"type": "analytics_engine", "name": "EVENTS", "dataset": "dome_events"}}}))
	a.enableWorkersDev("events")
	status, body := a.get(dev("events"), "/")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "no events locally", body)
	require.Contains(t, a.logs.String(), "binding EVENTS of type analytics_engine does not run locally")
}

func TestDurableObjectsAndSecrets(t *testing.T) {
	a := newAccount(t)
	counter := worker{name: "counter", source: `
import { DurableObject } from "cloudflare:workers";
interface Env { COUNTER: DurableObjectNamespace<Counter>; TOKEN: string }
export class Counter extends DurableObject {
  async next(): Promise<number> {
    const n = ((await this.ctx.storage.get<number>("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return n;
  }
}
export default {
  async fetch(_: Request, env: Env): Promise<Response> {
    const n = await env.COUNTER.get(env.COUNTER.idFromName("one")).next();
    return new Response(n + " " + env.TOKEN);
  },
};`, bindings: []map[string]any{
		{"type": "durable_object_namespace", "name": "COUNTER", "class_name": "Counter"},
		{"type": "secret_text", "name": "TOKEN", "text": "first"},
	}, migrations: map[string]any{"new_tag": "v1", "new_sqlite_classes": []string{"Counter"}}}
	require.NoError(t, a.upload(counter))
	a.enableWorkersDev("counter")
	_, body := a.get(dev("counter"), "/")
	require.Equal(t, "1 first", body)

	// A secret put through the API applies on the next request; the
	// object's storage outlives the reload.
	a.must(http.MethodPut, "/workers/scripts/counter/secrets", map[string]any{"name": "TOKEN", "text": "second", "type": "secret_text"})
	_, body = a.get(dev("counter"), "/")
	require.Equal(t, "2 second", body)
	require.NotContains(t, a.logs.String(), "second", "a secret's text is never logged")
}

func TestRetriesEndInTheDeadLetterQueue(t *testing.T) {
	a := newAccount(t)
	var jobs, dead struct {
		ID string `json:"queue_id"`
	}
	require.NoError(t, json.Unmarshal(a.must(http.MethodPost, "/queues", map[string]any{"queue_name": "jobs"}), &jobs))
	require.NoError(t, json.Unmarshal(a.must(http.MethodPost, "/queues", map[string]any{"queue_name": "jobs-dlq"}), &dead))
	var ns struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(a.must(http.MethodPost, "/storage/kv/namespaces", map[string]any{"title": "seen"}), &ns))
	require.NoError(t, a.upload(worker{name: "failing", source: `
interface Env { SEEN: KVNamespace }
export default {
  async queue(batch: MessageBatch<any>, env: Env): Promise<void> {
    for (const m of batch.messages) {
      const tries = Number((await env.SEEN.get("tries:" + m.body.job)) ?? 0) + 1;
      await env.SEEN.put("tries:" + m.body.job, String(tries));
    }
    throw new Error("the job fails every time");
  },
};`, bindings: []map[string]any{{"type": "kv_namespace", "name": "SEEN", "namespace_id": ns.ID}}}))
	require.NoError(t, a.upload(worker{name: "undertaker", source: `
interface Env { SEEN: KVNamespace }
export default {
  async queue(batch: MessageBatch<any>, env: Env): Promise<void> {
    for (const m of batch.messages) await env.SEEN.put("dead:" + m.body.job, "yes");
  },
  async fetch(req: Request, env: Env): Promise<Response> {
    return new Response(await env.SEEN.get(new URL(req.url).pathname.slice(1)));
  },
};`, bindings: []map[string]any{{"type": "kv_namespace", "name": "SEEN", "namespace_id": ns.ID}}}))
	a.must(http.MethodPost, "/queues/"+jobs.ID+"/consumers", map[string]any{"script_name": "failing", "type": "worker", "dead_letter_queue": "jobs-dlq",
		"settings": map[string]any{"batch_size": 1, "max_retries": 2, "max_wait_time_ms": 100}})
	a.must(http.MethodPost, "/queues/"+dead.ID+"/consumers", map[string]any{"script_name": "undertaker", "type": "worker",
		"settings": map[string]any{"batch_size": 1, "max_wait_time_ms": 100}})

	// A value put through the API is what the worker reads.
	status, answer := a.raw(http.MethodPut, "/storage/kv/namespaces/"+ns.ID+"/values/greeting", strings.NewReader("hello from the API"))
	require.Equal(t, http.StatusOK, status, answer)
	a.enableWorkersDev("undertaker")
	_, body := a.get(dev("undertaker"), "/greeting")
	require.Equal(t, "hello from the API", body)

	a.must(http.MethodPost, "/queues/"+jobs.ID+"/messages", map[string]any{"body": map[string]any{"job": "j1"}})
	require.Eventually(t, func() bool {
		_, body := a.get(dev("undertaker"), "/dead:j1")
		return body == "yes"
	}, 30*time.Second, 100*time.Millisecond, "after its retries the message reaches the dead-letter queue's consumer")
	_, body = a.get(dev("undertaker"), "/tries:j1")
	require.Equal(t, "3", body, "the first delivery and max_retries (2) more")
}
