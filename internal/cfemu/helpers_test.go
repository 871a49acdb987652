package cfemu

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testToken   = "test-token"
	testAccount = "acc"
)

type harness struct {
	t   *testing.T
	emu *Emulator
	srv *httptest.Server
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	emu, err := New(Config{Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, emu.Close()) }) // after the server's cleanup below
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &harness{t: t, emu: emu, srv: srv}
}

// response is a decoded answer; env is empty when the body is not JSON.
type response struct {
	status int
	header http.Header
	raw    []byte
	env    struct {
		Success    bool              `json:"success"`
		Errors     []apiError        `json:"errors"`
		Messages   []json.RawMessage `json:"messages"`
		Result     json.RawMessage   `json:"result"`
		ResultInfo map[string]any    `json:"result_info"`
	}
}

// code is the first error code, or 0.
func (r response) code() int {
	if len(r.env.Errors) == 0 {
		return 0
	}
	return r.env.Errors[0].Code
}

// into decodes result into v.
func (r response) into(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.env.Result, v), "result: %s", r.env.Result)
}

// obj decodes result as a JSON object.
func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.into(t, &m)
	return m
}

// url makes an account path absolute: "/d1/database" becomes
// "/client/v4/accounts/acc/d1/database"; paths starting with /client stay.
func (h *harness) url(path string) string {
	if !strings.HasPrefix(path, "/client/") {
		path = "/client/v4/accounts/" + testAccount + path
	}
	return h.srv.URL + path
}

func (h *harness) call(method, path string, body any) response {
	h.t.Helper()
	return h.callAs("Bearer "+testToken, method, path, body)
}

// callAs sends body (nil, string, []byte or a value to encode as JSON) with
// the given Authorization header ("" for none), the way the official
// provider does: Content-Type application/json on every request.
func (h *harness) callAs(auth, method, path string, body any) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.url(path), rd)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) response {
	h.t.Helper()
	res, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		require.NoError(h.t, json.Unmarshal(raw, &out.env), "body: %s", raw)
	}
	return out
}

// part is one multipart part of a worker upload.
type part struct {
	name, contentType, body string
}

func multipartBody(t *testing.T, parts []part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", `form-data; name="`+p.name+`"; filename="`+p.name+`"`)
		hdr.Set("Content-Type", p.contentType)
		w, err := mw.CreatePart(hdr)
		require.NoError(t, err)
		_, err = io.WriteString(w, p.body)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

// upload PUTs an ES module worker: metadata plus index.js as its main module.
func (h *harness) upload(name string, meta map[string]any) response {
	h.t.Helper()
	if meta == nil {
		meta = map[string]any{}
	}
	if _, has := meta["main_module"]; !has {
		meta["main_module"] = "index.js"
	}
	data, err := json.Marshal(meta)
	require.NoError(h.t, err)
	return h.uploadParts(name, []part{
		{"metadata", "application/json", string(data)},
		{"index.js", "application/javascript+module", "export default { async fetch() { return new Response('" + name + "') } }"},
	})
}

func (h *harness) uploadParts(name string, parts []part) response {
	h.t.Helper()
	ct, body := multipartBody(h.t, parts)
	return h.sendMultipart(http.MethodPut, "/workers/scripts/"+name, ct, body)
}

func (h *harness) sendMultipart(method, path, contentType string, body []byte) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url(path), bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+testToken)
	return h.do(req)
}

// mustOK fails the test unless r is a 200 success envelope.
func mustOK(t *testing.T, r response) response {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	require.True(t, r.env.Success, "body: %s", r.raw)
	return r
}

// mustFail checks status and first error code.
func mustFail(t *testing.T, r response, status, code int) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.raw)
	require.False(t, r.env.Success, "body: %s", r.raw)
	require.Equal(t, code, r.code(), "body: %s", r.raw)
	require.NotEmpty(t, r.env.Errors[0].Message)
}

// created returns the id field of a successful create.
func (h *harness) created(r response, field string) string {
	h.t.Helper()
	mustOK(h.t, r)
	id, _ := r.obj(h.t)[field].(string)
	require.NotEmpty(h.t, id, "body: %s", r.raw)
	return id
}
