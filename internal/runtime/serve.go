package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// Headers of miniflare's entry worker: which worker answers, the URL the
// client asked for, and the secret that lets the entry set Host from it.
const (
	headerRoute       = "MF-Route-Override"
	headerOriginalURL = "MF-Original-URL"
	headerSecret      = "MF-Proxy-Shared-Secret"
	headerNoPretty    = "MF-Disable-Pretty-Error"
)

// dataWorker is the host's internal worker that has every D1 database,
// KV namespace, bucket and queue of the deployment bound.
const dataWorker = "__dome_data"

// target is workerd's entry socket and its secret, or an error when no
// deployment runs yet.
func (r *Runtime) target() (*url.URL, string, error) {
	r.mu.Lock()
	entry, secret := r.entry, r.secret
	r.mu.Unlock()
	if entry == "" {
		return nil, "", fmt.Errorf("the workers' runtime is not serving yet")
	}
	u, err := url.Parse(entry)
	return u, secret, err
}

// Serve answers r with worker, as Cloudflare's edge does once it has
// routed the request: the worker sees the URL and Host the client used.
func (r *Runtime) Serve(w http.ResponseWriter, req *http.Request, worker string) {
	entry, secret, err := r.target()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	original := scheme + "://" + req.Host + req.URL.RequestURI()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(entry)
			pr.Out.Host = entry.Host
			pr.Out.Header.Set(headerRoute, worker)
			pr.Out.Header.Set(headerOriginalURL, original)
			pr.Out.Header.Set(headerSecret, secret)
			pr.Out.Header.Set(headerNoPretty, "true")
		},
		Transport: r.client.Transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, fmt.Sprintf("worker %q did not answer: %v", worker, err), http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, req)
}

// Scheduled runs worker's scheduled handler for cron, as a cron trigger
// firing would.
func (r *Runtime) Scheduled(ctx context.Context, worker, cron string) error {
	resp, err := r.call(ctx, worker, http.MethodGet, "/cdn-cgi/handler/scheduled?cron="+url.QueryEscape(cron), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("worker %q: scheduled handler for %q failed (%s): %s", worker, cron, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// call sends one request to a worker through the entry socket.
func (r *Runtime) call(ctx context.Context, worker, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := r.request(ctx, worker, method, path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return r.client.Do(req)
}

// request builds a request to a worker through the entry socket.
func (r *Runtime) request(ctx context.Context, worker, method, path string, body io.Reader) (*http.Request, error) {
	entry, _, err := r.target()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(entry.String(), "/")+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set(headerRoute, worker)
	req.Header.Set(headerNoPretty, "true")
	return req, nil
}
