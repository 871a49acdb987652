package cfemu

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// apiPrefix is where Cloudflare mounts the v4 API; clients take it as part of their base URL.
const apiPrefix = "/client/v4"

// maxBodyBytes bounds a request body, well above the largest worker
// Cloudflare accepts, so that a runaway client cannot exhaust memory.
const maxBodyBytes = 64 << 20

// Config sets the one token and the one account the emulator accepts.
type Config struct {
	Token     string // the one accepted bearer token (required)
	AccountID string // the one known account id (required)
	// StateFile is optional: loaded at New if present, its metadata saved
	// after every mutation (atomic write). Data lives in folders beside it
	// named after it: D1 databases as state.d1/<uuid>.sqlite, worker code as
	// state.data/scripts/<sha256>, KV values, R2 objects, queue messages
	// and Vectorize vectors under state.data/kv, r2, queues and vectorize.
	// Without it all lives in memory.
	StateFile string
	// Zones names the zones the account has (routes and custom domains
	// need one); they are added at New when the state lacks them.
	Zones []string
	// Subdomain is the account's workers.dev subdomain; default DefaultSubdomain.
	Subdomain string
	// OnRequest, if set, hears of every request once it is answered, as
	// the request log records it (token redacted).
	OnRequest func(Request)
	// RateLimit, if set, refuses calls beyond the budget with Cloudflare's
	// 429 answer (code 971 and Retry-After), as Cloudflare does.
	RateLimit RateLimit
}

// Emulator serves the emulated API. It is safe for concurrent use.
type Emulator struct {
	cfg Config
	mux *http.ServeMux

	acct *Account

	logMu sync.Mutex
	log   []Request

	faultMu sync.Mutex
	faults  []*faultRule

	limit *limiter
}

// New returns an emulator with an empty store, or the store saved in cfg.StateFile.
func New(cfg Config) (*Emulator, error) {
	if cfg.Token == "" {
		return nil, errors.New("cfemu: Config.Token is required")
	}
	if cfg.AccountID == "" {
		return nil, errors.New("cfemu: Config.AccountID is required")
	}
	acct, err := newAccount(cfg)
	if err != nil {
		return nil, err
	}
	e := &Emulator{cfg: cfg, acct: acct, limit: &limiter{RateLimit: cfg.RateLimit}}
	e.mux = e.routes()
	return e, nil
}

// Close ends the emulator once it serves no more requests: see Account.Close.
func (e *Emulator) Close() error { return e.acct.Close() }

// Account is the account the emulator serves, for callers that reach its
// data without HTTP.
func (e *Emulator) Account() *Account { return e.acct }

// Request is one entry of the request log.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header // Authorization is redacted to "Bearer [redacted]"
	Body                   []byte      // raw request body, multipart uploads included
	Status                 int
	Time                   time.Time
	Duration               time.Duration
}

// Mutating reports whether the request could have changed state, which is
// what a test counts to prove that a no-op deploy made no writes.
func (r Request) Mutating() bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Requests returns a copy of the request log, in arrival order.
func (e *Emulator) Requests() []Request {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return append([]Request(nil), e.log...)
}

// ResetLog empties the request log.
func (e *Emulator) ResetLog() {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	e.log = nil
}

// apiError is one item of the envelope's errors list.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// envelope is Cloudflare's v4 answer. errors and messages are always arrays,
// never null, because some clients range over them without a nil check.
type envelope struct {
	Success    bool       `json:"success"`
	Errors     []apiError `json:"errors"`
	Messages   []apiError `json:"messages"`
	Result     any        `json:"result"`
	ResultInfo any        `json:"result_info,omitempty"`
}

// reply is what a handler answers; ServeHTTP turns it into bytes.
type reply struct {
	status  int
	result  any
	info    any // *resultInfo, or R2's cursor block
	errs    []apiError
	raw     []byte // sent as is instead of an envelope (script bodies)
	rawType string
}

func ok(result any) reply { return reply{status: http.StatusOK, result: result} }

func okList(result any, info any) reply {
	return reply{status: http.StatusOK, result: result, info: info}
}

func fail(status, code int, format string, args ...any) reply {
	return reply{status: status, errs: []apiError{{Code: code, Message: fmt.Sprintf(format, args...)}}}
}

// failWith is the one place an operation's error becomes an answer: an
// *Error keeps Cloudflare's status and code, and anything else is the
// emulator's own failure.
func failWith(err error) reply {
	var ae *Error
	if errors.As(err, &ae) {
		return reply{status: ae.Status, errs: []apiError{{Code: ae.Code, Message: ae.Message}}}
	}
	return fail(http.StatusInternalServerError, 10001, "internal error: %v", err)
}

// answer is the reply to an operation that returns a result or an error.
func answer[T any](result T, err error) reply {
	if err != nil {
		return failWith(err)
	}
	return ok(result)
}

// done is the reply to an operation that returns only an error; Cloudflare's
// result is then null.
func done(err error) reply {
	if err != nil {
		return failWith(err)
	}
	return ok(nil)
}

func (rp reply) failed() bool { return rp.status >= 400 }

func writeReply(w http.ResponseWriter, rp reply) {
	if rp.raw != nil {
		w.Header().Set("Content-Type", rp.rawType)
		w.WriteHeader(rp.status)
		_, _ = w.Write(rp.raw)
		return
	}
	env := envelope{
		Success:    !rp.failed(),
		Errors:     rp.errs,
		Messages:   []apiError{},
		Result:     rp.result,
		ResultInfo: rp.info,
	}
	if env.Errors == nil {
		env.Errors = []apiError{}
	}
	body, err := json.Marshal(env)
	if err != nil {
		body = []byte(`{"success":false,"errors":[{"code":10001,"message":"internal error encoding the answer"}],"messages":[],"result":null}`)
		rp.status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rp.status)
	_, _ = w.Write(body)
}

// statusRecorder remembers the status for the request log; every answer
// goes through writeReply, which always sets one.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// ServeHTTP answers one API call: faults first, then authentication, then the route.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if host, isWorker := workerHost(r); isWorker {
		if rt := e.acct.runtime(); rt != nil {
			// Cloudflare's edge, not its API: faults, the rate limit
			// and the request log are the API's.
			e.serveWorker(w, r, rt, host)
			return
		}
	}
	f := e.takeFaults(r)
	if f.loseAnswer {
		loseAnswer(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.serve(w, r, f) }))
		return
	}
	e.serve(w, r, f)
}

// serve answers r with the faults taken for it.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request, f faults) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	defer func() { e.record(r, body, rec.status, start) }()

	if e.applyFaults(rec, r, f) || e.applyRateLimit(rec) {
		return
	}
	if readErr != nil {
		writeReply(rec, fail(http.StatusBadRequest, 10001, "could not read the request body: %v", readErr))
		return
	}
	if len(body) > maxBodyBytes {
		writeReply(rec, fail(http.StatusRequestEntityTooLarge, 10027, "request body is larger than %d bytes", maxBodyBytes))
		return
	}
	if !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		writeReply(rec, fail(http.StatusNotFound, 7000, "No route for that URI"))
		return
	}
	if rp, authed := e.authenticate(r); !authed {
		writeReply(rec, rp)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	e.mux.ServeHTTP(rec, r)
}

// authenticate checks the bearer token. Cloudflare refuses a missing or
// wrong token on account endpoints with HTTP 403 and code 10000
// "Authentication error"; /user/tokens/verify instead answers 401 with code
// 1000 "Invalid API Token", which clients use to tell a bad token apart.
func (e *Emulator) authenticate(r *http.Request) (reply, bool) {
	token, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if isBearer && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(e.cfg.Token)) == 1 {
		return reply{}, true
	}
	if r.URL.Path == apiPrefix+"/user/tokens/verify" {
		return fail(http.StatusUnauthorized, 1000, "Invalid API Token"), false
	}
	return fail(http.StatusForbidden, 10000, "Authentication error"), false
}

func (e *Emulator) record(r *http.Request, body []byte, status int, start time.Time) {
	h := r.Header.Clone()
	if h.Get("Authorization") != "" {
		h.Set("Authorization", "Bearer [redacted]")
	}
	req := Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   h,
		Body:     body,
		Status:   status,
		Time:     start,
		Duration: time.Since(start),
	}
	e.logMu.Lock()
	e.log = append(e.log, req)
	e.logMu.Unlock()
	if e.cfg.OnRequest != nil {
		e.cfg.OnRequest(req)
	}
}
