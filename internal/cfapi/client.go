package cfapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is Cloudflare's v4 API.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Options configures a Client. Zero values take the defaults noted per field.
type Options struct {
	BaseURL   string // default DefaultBaseURL
	Token     string // API token, sent as a bearer token (required)
	AccountID string // account every call is scoped to (required)

	HTTPClient *http.Client // default: a client with a 2 minute timeout

	MaxAttempts int           // tries per call, first one included; default 5
	BackoffBase time.Duration // first retry waits about this long; default 500ms
	BackoffCap  time.Duration // no single wait is longer, Retry-After included; default 30s

	// Sleep waits between attempts; tests replace it to avoid real waits.
	// Default: a timer that gives up when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error

	// Logf, if set, hears about retries, with the context of the call that
	// is retried so a provider can tie the line to its resource. It is never
	// given a token or a body.
	Logf func(ctx context.Context, format string, args ...any)

	UserAgent string // default "dome-cfapi"

	// Budget is how many calls this client may make in any window of time,
	// retries included: Cloudflare's limit is a budget (1,200 requests per
	// 5 minutes per user), not a rate, so calls within it go at once and
	// only a run that would exceed it waits. The zero Budget does not pace.
	// BudgetFromEnv reads the setting users give.
	Budget Budget

	// LedgerDir, if set, shares the budget with every client on this
	// machine, in whatever process, that uses the same Token against the
	// same BaseURL: all of them book their calls in one file in this
	// directory, named by a hash of the two, and each keeps its own Budget
	// over the calls of all. A client that cannot use the file says so once
	// through Logf and keeps its own count. LedgerDirFromEnv reads the
	// setting users give.
	LedgerDir string
}

// Budget is a number of requests allowed in any window of time.
type Budget struct {
	Requests int
	Window   time.Duration
}

func (b Budget) String() string { return fmt.Sprintf("%d/%s", b.Requests, b.Window) }

// DefaultBudget is Cloudflare's API budget: 1,200 requests per 5 minutes
// per user.
var DefaultBudget = Budget{Requests: 1200, Window: 5 * time.Minute}

// EnvBudget names the budget a process keeps to, as REQUESTS/DURATION
// ("600/5m" leaves half of Cloudflare's to another deploy running at once).
const EnvBudget = "CLOUDFLARE_API_BUDGET"

// EnvRequestsPerSecond is the official provider's pace setting. Read here
// as an average over Cloudflare's 5-minute window (4 a second is its 1,200
// per 5 minutes) when EnvBudget is not set, so a setting made for both
// providers still shares the budget.
const EnvRequestsPerSecond = "CLOUDFLARE_RPS"

// ParseBudget reads a budget written REQUESTS/DURATION, such as 1200/5m,
// as this client's settings and the emulator's -rate-limit write it.
func ParseBudget(v string) (Budget, error) {
	n, d, ok := strings.Cut(v, "/")
	requests, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || requests < 1 {
		return Budget{}, errors.New("want N/DURATION with N a positive count, e.g. 1200/5m")
	}
	window, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || window <= 0 {
		return Budget{}, errors.New("want N/DURATION with a positive Go duration, e.g. 1200/5m")
	}
	return Budget{Requests: requests, Window: window}, nil
}

// BudgetFromEnv reads EnvBudget, else EnvRequestsPerSecond, else
// DefaultBudget.
func BudgetFromEnv(getenv func(string) string) (Budget, error) {
	if v := strings.TrimSpace(getenv(EnvBudget)); v != "" {
		b, err := ParseBudget(v)
		if err != nil {
			return Budget{}, fmt.Errorf("%s=%q is not REQUESTS/DURATION; Cloudflare's is %s=1200/5m, and a share of it such as 600/5m leaves the rest to another deploy", EnvBudget, v, EnvBudget)
		}
		return b, nil
	}
	v := strings.TrimSpace(getenv(EnvRequestsPerSecond))
	if v == "" {
		return DefaultBudget, nil
	}
	rps, err := strconv.ParseFloat(v, 64)
	if err != nil || rps <= 0 {
		return Budget{}, fmt.Errorf("%s=%q is not a positive number of requests per second (Cloudflare allows 4 on average: 1,200 per 5 minutes)", EnvRequestsPerSecond, v)
	}
	return Budget{Requests: max(1, int(rps*DefaultBudget.Window.Seconds())), Window: DefaultBudget.Window}, nil
}

// Client calls the Cloudflare v4 API for one account.
type Client struct {
	base      string
	token     string
	accountID string
	http      *http.Client

	maxAttempts int
	base0, cap  time.Duration
	sleep       func(context.Context, time.Duration) error
	logf        func(context.Context, string, ...any)
	userAgent   string
	pace        *pacer
}

// New checks opts and returns a Client.
func New(opts Options) (*Client, error) {
	if opts.Token == "" {
		return nil, errors.New("cfapi: an API token is required")
	}
	if opts.AccountID == "" {
		return nil, errors.New("cfapi: an account id is required")
	}
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("cfapi: base URL %q is not an absolute URL", base)
	}
	c := &Client{
		base:        base,
		token:       opts.Token,
		accountID:   opts.AccountID,
		http:        opts.HTTPClient,
		maxAttempts: opts.MaxAttempts,
		base0:       opts.BackoffBase,
		cap:         opts.BackoffCap,
		sleep:       opts.Sleep,
		logf:        opts.Logf,
		userAgent:   opts.UserAgent,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 2 * time.Minute}
	}
	if c.maxAttempts < 1 {
		c.maxAttempts = 5
	}
	if c.base0 <= 0 {
		c.base0 = 500 * time.Millisecond
	}
	if c.cap <= 0 {
		c.cap = 30 * time.Second
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.logf == nil {
		c.logf = func(context.Context, string, ...any) {}
	}
	if c.userAgent == "" {
		c.userAgent = "dome-cfapi"
	}
	// Unpaced, the client still honours Retry-After for every call.
	c.pace = &pacer{window: opts.Budget.Window, logf: c.logf}
	if opts.Budget.Window > 0 {
		c.pace.limit = opts.Budget.Requests
	}
	if opts.LedgerDir != "" {
		c.pace.file = ledgerFile(opts.LedgerDir, base, opts.Token)
	}
	return c, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// accountPath joins path segments under /accounts/{id}, escaping each one
// because script and index names come from user input.
func (c *Client) accountPath(segs ...string) string {
	var b strings.Builder
	b.WriteString("/accounts/")
	b.WriteString(url.PathEscape(c.accountID))
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// request is one API call before it is sent. The body is kept as bytes so
// that every retry sends it again unchanged.
type request struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
	raw         bool // the answer is the body itself (script content), not an envelope
}

func jsonRequest(method, path string, in any) (request, error) {
	r := request{method: method, path: path}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return r, fmt.Errorf("cfapi: encode %s %s: %w", method, path, err)
		}
		r.body, r.contentType = b, "application/json"
	}
	return r, nil
}

// ErrorItem is one entry of an envelope's errors list.
type ErrorItem struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// ResultInfo is the paging block of a list answer.
type ResultInfo struct {
	Page       int    `json:"page"`
	PerPage    int    `json:"per_page"`
	Count      int    `json:"count"`
	TotalCount int    `json:"total_count"`
	TotalPages int    `json:"total_pages"`
	Cursor     string `json:"cursor,omitempty"` // R2 pages by cursor instead
}

type envelope struct {
	Success    bool            `json:"success"`
	Errors     []ErrorItem     `json:"errors"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *ResultInfo     `json:"result_info"`
}

// response is a successful answer: the raw body for calls that do not
// answer with an envelope (script content), the envelope's result and
// paging block otherwise.
type response struct {
	raw    []byte
	result json.RawMessage
	info   *ResultInfo
}

// do sends r, retrying 429 and 5xx answers and lost connections, and
// decodes the envelope. The last failure is returned as an *Error (or the
// transport's error) when retries run out. A failed call that is not a read
// and whose answer was lost at least once is marked so that MayHaveApplied
// reports it: Cloudflare may hold what it asked for.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	var lastErr error
	uncertain := false
	var waitedOut time.Time // the hold this call set, and slept through before retrying
	for attempt := 1; ; attempt++ {
		if err := c.pace.wait(ctx, waitedOut); err != nil {
			return nil, fmt.Errorf("cfapi: %s %s: %w", r.method, r.path, err)
		}
		resp, retryAfter, err := c.once(ctx, r)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		var apiErr *Error
		var lost *lostAnswer
		var why string
		switch {
		case errors.As(err, &apiErr) && retryable(apiErr.Status):
			why = fmt.Sprintf("answered HTTP %d", apiErr.Status)
			uncertain = uncertain || apiErr.Status >= 500
		case errors.As(err, &lost):
			// Also when the caller cancelled: the request may have arrived.
			why = "lost its answer (" + lost.err.Error() + ")"
			uncertain = true
		}
		uncertain = uncertain && !read(r.method)
		if why == "" || ctx.Err() != nil || attempt >= c.maxAttempts {
			return nil, c.settle(lastErr, uncertain)
		}
		wait := c.backoff(attempt, retryAfter)
		// Cloudflare's Retry-After holds for the whole account: every call
		// of this client, and of those sharing its ledger, waits, not only
		// the one that was told.
		waitedOut = c.pace.holdFor(ctx, min(retryAfter, c.cap))
		c.logf(ctx, "cloudflare: %s %s %s; retry %d of %d in %s",
			r.method, r.path, why, attempt, c.maxAttempts-1, wait)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w (gave up waiting to retry: %w)", c.settle(lastErr, uncertain), err)
		}
	}
}

// settle marks err as possibly applied when it is.
func (c *Client) settle(err error, uncertain bool) error {
	if uncertain {
		return &mayHaveApplied{err: err}
	}
	return err
}

// read reports whether a method only reads, so a lost answer changed nothing.
func read(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// lostAnswer is a call whose request may have reached Cloudflare but whose
// answer did not come back whole: a reset connection, a timeout, a cut body.
type lostAnswer struct{ err error }

func (l *lostAnswer) Error() string { return l.err.Error() }
func (l *lostAnswer) Unwrap() error { return l.err }

// mayHaveApplied is a failed call that changes something and an earlier
// attempt of which may have been applied by Cloudflare.
type mayHaveApplied struct{ err error }

func (m *mayHaveApplied) Error() string {
	return m.err.Error() + " (an earlier attempt's answer was lost, so Cloudflare may have applied it)"
}
func (m *mayHaveApplied) Unwrap() error { return m.err }

// MayHaveApplied reports whether err is a failed create, update or delete
// that Cloudflare may nevertheless have carried out, because an answer was
// lost on the way (a reset connection, a 5xx): the caller should read the
// object back before deciding that it failed. A retry that then found the
// name taken is such an error too.
func MayHaveApplied(err error) bool {
	var m *mayHaveApplied
	return errors.As(err, &m)
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// backoff waits a random time between half and all of an exponential step
// ("equal jitter"): concurrent deploys spread out, yet none retries sooner
// than half the step.
// A Retry-After from Cloudflare replaces the computed step; the cap bounds
// both so one odd header cannot stall a deploy.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, c.cap)
	}
	step := c.base0
	for i := 1; i < attempt && step < c.cap; i++ {
		step *= 2
	}
	step = min(step, c.cap)
	half := step / 2
	return half + rand.N(half+1)
}

// once sends r one time. For a retryable failure it also returns the wait
// Cloudflare asked for in Retry-After (zero if none).
func (c *Client) once(ctx context.Context, r request) (*response, time.Duration, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, 0, fmt.Errorf("cfapi: build %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", c.userAgent)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	res, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL, which holds no secret: the token is a header.
		return nil, 0, &lostAnswer{fmt.Errorf("cfapi: %s %s: %w", r.method, r.path, err)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, 0, &lostAnswer{fmt.Errorf("cfapi: %s %s: read answer: %w", r.method, r.path, err)}
	}

	// A success is an envelope only when it says it is JSON: script content
	// is returned raw. A failure is read as an envelope whenever it parses,
	// whatever its content type.
	ok := res.StatusCode >= 200 && res.StatusCode < 300
	if ok && (r.raw || len(bytes.TrimSpace(data)) == 0) {
		return &response{raw: data}, 0, nil
	}
	var env envelope
	decoded := json.Unmarshal(data, &env) == nil && (env.Success || len(env.Errors) > 0)
	if ok && decoded && env.Success {
		return &response{raw: data, result: env.Result, info: env.ResultInfo}, 0, nil
	}
	// A success without an envelope is not Cloudflare answering (a proxy's
	// or a sign-in page's 200): taken as an empty result, it would read as
	// an empty account.

	apiErr := &Error{Method: r.method, Path: r.path, Status: res.StatusCode}
	switch {
	case decoded && len(env.Errors) > 0:
		apiErr.Code, apiErr.Message = env.Errors[0].Code, env.Errors[0].Message
		for _, e := range env.Errors[1:] {
			apiErr.Message += fmt.Sprintf("; code %d: %s", e.Code, e.Message)
		}
	case ok:
		apiErr.Message = "answered without Cloudflare's JSON envelope, so not by Cloudflare's API (a proxy or sign-in page in the way?)"
		if len(data) > 0 {
			apiErr.Message += ": " + snippet(data)
		}
	default:
		apiErr.Message = http.StatusText(res.StatusCode)
		if len(data) > 0 {
			apiErr.Message += ": " + snippet(data)
		}
	}
	return nil, retryAfter(res.Header.Get("Retry-After")), apiErr
}

// retryAfter reads Retry-After: delay seconds, as Cloudflare sends it, or
// an HTTP date, as a proxy in front of it may.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return max(0, time.Duration(n)*time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// snippet keeps an unexpected (non-envelope) error body short enough for a
// terminal line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// decode unmarshals the envelope's result into out.
func (r *response) decode(out any) error {
	if len(r.result) == 0 || string(r.result) == "null" {
		return nil
	}
	if err := json.Unmarshal(r.result, out); err != nil {
		return fmt.Errorf("cfapi: decode result: %w", err)
	}
	return nil
}

// call is the common shape: send a JSON request and decode the result.
func call[T any](ctx context.Context, c *Client, method, path string, in any) (T, error) {
	var out T
	r, err := jsonRequest(method, path, in)
	if err != nil {
		return out, err
	}
	res, err := c.do(ctx, r)
	if err != nil {
		return out, err
	}
	err = res.decode(&out)
	return out, err
}

// listAll follows page numbers until result_info says the last page was
// read; an answer without result_info is the whole list. perPage 0 leaves
// the page size to Cloudflare.
func listAll[T any](ctx context.Context, c *Client, path string, perPage int) ([]T, error) {
	var all []T
	for page := 1; ; page++ {
		q := url.Values{}
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
		}
		if perPage > 0 {
			q.Set("per_page", strconv.Itoa(perPage))
		}
		res, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q})
		if err != nil {
			return nil, err
		}
		var items []T
		if err := res.decode(&items); err != nil {
			return nil, err
		}
		all = append(all, items...)
		if res.info == nil || res.info.Page >= res.info.TotalPages || len(items) == 0 {
			return all, nil
		}
	}
}
