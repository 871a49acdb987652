package provider

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

const (
	testToken   = "test-token"
	testAccount = "acc"
	apiPrefix   = "/client/v4"
	accPath     = "/client/v4/accounts/acc"
)

// env is one emulated Cloudflare account and an in-process domecf provider
// configured against it.
type env struct {
	t      *testing.T
	emu    *cfemu.Emulator
	srv    *httptest.Server
	server integration.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	emu, err := cfemu.New(cfemu.Config{Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	e := &env{t: t, emu: emu, srv: srv, server: newServer(t)}
	require.NoError(t, e.server.Configure(p.ConfigureRequest{Args: property.NewMap(map[string]property.Value{
		"apiToken":   property.New(testToken).WithSecret(true),
		"accountId":  property.New(testAccount),
		"apiBaseUrl": property.New(srv.URL + apiPrefix),
	})}))
	return e
}

// newServer runs the provider in-process with backoffs short enough, and a
// pace fast enough, that retried calls do not slow the tests down.
func newServer(t *testing.T) integration.Server {
	t.Helper()
	prov := newProvider(cfapi.Options{BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond, Budget: cfapi.Budget{Requests: 1 << 20, Window: time.Second}})
	server, err := integration.NewServer(t.Context(), Name, semver.MustParse(Version), integration.WithProvider(prov))
	require.NoError(t, err)
	return server
}

func urn(typ, name string) presource.URN {
	return presource.NewURN("test", "dome", "", tokens.Type("domecf:index:"+typ), name)
}

// fixture calls the emulator directly, as another Pulumi resource or a
// person would have, and returns the result object.
func (e *env) fixture(method, path, body string) map[string]any {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+accPath+path, strings.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	var out struct {
		Success bool           `json:"success"`
		Result  map[string]any `json:"result"`
	}
	require.NoError(e.t, json.Unmarshal(data, &out), string(data))
	require.True(e.t, out.Success, string(data))
	return out.Result
}

// client is a cfapi client on the emulator, for fixtures the client can make.
func (e *env) client() *cfapi.Client {
	c, err := cfapi.New(cfapi.Options{BaseURL: e.srv.URL + apiPrefix, Token: testToken, AccountID: testAccount})
	require.NoError(e.t, err)
	return c
}

// call is one request as the emulator logged it, reduced to what the tests compare.
type call struct{ Method, Path, Query string }

func (e *env) calls() []call {
	var out []call
	for _, r := range e.emu.Requests() {
		out = append(out, call{r.Method, strings.TrimPrefix(r.Path, accPath), r.RawQuery})
	}
	return out
}

// lastRequest is the last logged request with this method and path.
func (e *env) lastRequest(method, path string) cfemu.Request {
	e.t.Helper()
	reqs := e.emu.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && reqs[i].Path == accPath+path {
			return reqs[i]
		}
	}
	e.t.Fatalf("no %s %s request in the log", method, path)
	return cfemu.Request{}
}

// jsonBody decodes a logged JSON request body into a generic value, so
// tests compare the exact wire shape rather than a Go struct's view of it.
func jsonBody(t *testing.T, r cfemu.Request) any {
	t.Helper()
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var v any
	require.NoError(t, json.Unmarshal(r.Body, &v), string(r.Body))
	return v
}

// part is one multipart part of a logged upload.
type part struct {
	Name, Filename, ContentType string
	Body                        []byte
}

func multipartParts(t *testing.T, r cfemu.Request) []part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", mt)
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	var parts []part
	for {
		pt, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		require.NoError(t, err)
		body, err := io.ReadAll(pt)
		require.NoError(t, err)
		parts = append(parts, part{pt.FormName(), pt.FileName(), pt.Header.Get("Content-Type"), body})
	}
}

// lifecycle drives one resource through the provider the way the engine
// does, keeping its id and state between steps.
type lifecycle struct {
	e      *env
	urn    presource.URN
	id     string
	inputs property.Map // last checked inputs
	state  property.Map
}

func (e *env) resource(typ, name string) *lifecycle {
	return &lifecycle{e: e, urn: urn(typ, name)}
}

func (l *lifecycle) check(inputs map[string]property.Value) p.CheckResponse {
	l.e.t.Helper()
	resp, err := l.e.server.Check(p.CheckRequest{Urn: l.urn, State: l.inputs, Inputs: property.NewMap(inputs)})
	require.NoError(l.e.t, err)
	return resp
}

func (l *lifecycle) checkOK(inputs map[string]property.Value) property.Map {
	l.e.t.Helper()
	resp := l.check(inputs)
	require.Empty(l.e.t, resp.Failures)
	return resp.Inputs
}

// create previews then creates, and checks that the preview called nothing.
func (l *lifecycle) create(inputs map[string]property.Value) p.CreateResponse {
	l.e.t.Helper()
	checked := l.checkOK(inputs)
	before := len(l.e.emu.Requests())
	_, err := l.e.server.Create(p.CreateRequest{Urn: l.urn, Properties: checked, DryRun: true})
	require.NoError(l.e.t, err)
	require.Len(l.e.t, l.e.emu.Requests(), before, "a preview must not call the API")
	resp, err := l.e.server.Create(p.CreateRequest{Urn: l.urn, Properties: checked})
	require.NoError(l.e.t, err)
	l.id, l.inputs, l.state = resp.ID, checked, resp.Properties
	return resp
}

func (l *lifecycle) createErr(inputs map[string]property.Value) error {
	l.e.t.Helper()
	checked := l.checkOK(inputs)
	_, err := l.e.server.Create(p.CreateRequest{Urn: l.urn, Properties: checked})
	require.Error(l.e.t, err)
	return err
}

func (l *lifecycle) diff(inputs map[string]property.Value) (p.DiffResponse, property.Map) {
	l.e.t.Helper()
	checked := l.checkOK(inputs)
	resp, err := l.e.server.Diff(p.DiffRequest{ID: l.id, Urn: l.urn, State: l.state, Inputs: checked, OldInputs: l.inputs})
	require.NoError(l.e.t, err)
	return resp, checked
}

// update diffs, requires an in-place change of exactly the given
// properties, previews, then updates.
func (l *lifecycle) update(inputs map[string]property.Value, changed ...string) p.UpdateResponse {
	l.e.t.Helper()
	d, checked := l.diff(inputs)
	require.True(l.e.t, d.HasChanges)
	require.ElementsMatch(l.e.t, changed, slices.Collect(maps.Keys(d.DetailedDiff)))
	for k, v := range d.DetailedDiff {
		require.NotContains(l.e.t, []p.DiffKind{p.AddReplace, p.DeleteReplace, p.UpdateReplace}, v.Kind, k)
	}
	req := p.UpdateRequest{ID: l.id, Urn: l.urn, State: l.state, Inputs: checked, OldInputs: l.inputs, DryRun: true}
	before := len(l.e.emu.Requests())
	_, err := l.e.server.Update(req)
	require.NoError(l.e.t, err)
	require.Len(l.e.t, l.e.emu.Requests(), before, "a preview must not call the API")
	req.DryRun = false
	resp, err := l.e.server.Update(req)
	require.NoError(l.e.t, err)
	l.inputs, l.state = checked, resp.Properties
	return resp
}

// read refreshes the resource and returns what Read answered.
func (l *lifecycle) read() p.ReadResponse {
	l.e.t.Helper()
	resp, err := l.e.server.Read(p.ReadRequest{ID: l.id, Urn: l.urn, Properties: l.state, Inputs: l.inputs})
	require.NoError(l.e.t, err)
	return resp
}

// requireNoRefreshDiff is "pulumi refresh right after a deploy shows no change".
func (l *lifecycle) requireNoRefreshDiff() {
	l.e.t.Helper()
	resp := l.read()
	require.Equal(l.e.t, l.id, resp.ID)
	require.Equal(l.e.t, l.state, resp.Properties, "refreshed state")
	require.Equal(l.e.t, l.inputs, resp.Inputs, "refreshed inputs")
}

// refreshDiff reads the resource and diffs it as `pulumi refresh` does to
// show drift (and so `just drift`): the program's last inputs against what
// was read, the diff the next `up` would make.
func (l *lifecycle) refreshDiff() (p.ReadResponse, p.DiffResponse) {
	l.e.t.Helper()
	read := l.read()
	require.Equal(l.e.t, l.id, read.ID, "the resource is still there")
	d, err := l.e.server.Diff(p.DiffRequest{ID: read.ID, Urn: l.urn, State: read.Properties, OldInputs: read.Inputs, Inputs: l.inputs})
	require.NoError(l.e.t, err)
	return read, d
}

func (l *lifecycle) delete() {
	l.e.t.Helper()
	require.NoError(l.e.t, l.e.server.Delete(p.DeleteRequest{ID: l.id, Urn: l.urn, Properties: l.state, OldInputs: l.inputs}))
}

// importRead is what `pulumi import` does: Read with nothing but the id.
func (e *env) importRead(typ, id string) p.ReadResponse {
	e.t.Helper()
	resp, err := e.server.Read(p.ReadRequest{ID: id, Urn: urn(typ, "imported")})
	require.NoError(e.t, err)
	return resp
}

// withCode writes text to a file named by its hash, as the program's
// bundle store does, and sets in's code inputs to it.
func withCode(t *testing.T, in map[string]property.Value, text string) map[string]property.Value {
	t.Helper()
	file := filepath.Join(t.TempDir(), sha256Hex(text)+".js")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
	in["contentFile"], in["contentSha256"] = str(file), str(sha256Hex(text))
	return in
}

// Shorthands for building property maps.
func str(s string) property.Value  { return property.New(s) }
func num(n float64) property.Value { return property.New(n) }
func obj(m map[string]property.Value) property.Value {
	return property.New(property.NewMap(m))
}
func arr(vs ...property.Value) property.Value { return property.New(property.NewArray(vs)) }
func strs(ss ...string) property.Value {
	vs := make([]property.Value, 0, len(ss))
	for _, s := range ss {
		vs = append(vs, str(s))
	}
	return arr(vs...)
}
