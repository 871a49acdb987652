package cfapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Zone is a Cloudflare zone (a domain) of the account.
type Zone struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// WorkerRoute sends the requests matching Pattern in a zone to Script.
type WorkerRoute struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Script  string `json:"script"`
}

// WorkersDomain is a hostname served by a worker (a custom domain).
type WorkersDomain struct {
	ID          string `json:"id"`
	ZoneID      string `json:"zone_id"`
	ZoneName    string `json:"zone_name"`
	Hostname    string `json:"hostname"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
}

// ScriptSubdomain is whether a script is served on workers.dev and whether
// each of its versions gets a public preview URL there.
type ScriptSubdomain struct {
	Enabled         bool `json:"enabled"`
	PreviewsEnabled bool `json:"previews_enabled"`
}

// GetAccountSubdomain returns the account's workers.dev subdomain: scripts
// are served at https://<script>.<subdomain>.workers.dev.
func (c *Client) GetAccountSubdomain(ctx context.Context) (string, error) {
	out, err := call[struct {
		Subdomain string `json:"subdomain"`
	}](ctx, c, http.MethodGet, c.accountPath("workers", "subdomain"), nil)
	return out.Subdomain, err
}

// GetScriptSubdomain reads a script's workers.dev setting.
func (c *Client) GetScriptSubdomain(ctx context.Context, script string) (ScriptSubdomain, error) {
	return call[ScriptSubdomain](ctx, c, http.MethodGet, c.accountPath("workers", "scripts", script, "subdomain"), nil)
}

// SetScriptSubdomain turns a script's workers.dev route and its preview
// URLs on or off. Both are always sent: Cloudflare takes a missing
// previews_enabled to follow enabled, so turning workers.dev on alone would
// publish a preview URL for every uploaded version.
func (c *Client) SetScriptSubdomain(ctx context.Context, script string, s ScriptSubdomain) (ScriptSubdomain, error) {
	return call[ScriptSubdomain](ctx, c, http.MethodPost, c.accountPath("workers", "scripts", script, "subdomain"), s)
}

// ListZones lists the account's zones.
func (c *Client) ListZones(ctx context.Context) ([]Zone, error) {
	var all []Zone
	for page := 1; ; page++ {
		q := url.Values{"account.id": {c.accountID}, "per_page": {"50"}, "page": {strconv.Itoa(page)}}
		res, err := c.do(ctx, request{method: http.MethodGet, path: "/zones", query: q})
		if err != nil {
			return nil, err
		}
		var items []Zone
		if err := res.decode(&items); err != nil {
			return nil, err
		}
		all = append(all, items...)
		if res.info == nil || res.info.Page >= res.info.TotalPages || len(items) == 0 {
			return all, nil
		}
	}
}

// ListWorkerRoutes lists a zone's worker routes.
func (c *Client) ListWorkerRoutes(ctx context.Context, zoneID string) ([]WorkerRoute, error) {
	return call[[]WorkerRoute](ctx, c, http.MethodGet, "/zones/"+url.PathEscape(zoneID)+"/workers/routes", nil)
}

// ListWorkersDomains lists the account's custom domains.
func (c *Client) ListWorkersDomains(ctx context.Context) ([]WorkersDomain, error) {
	return call[[]WorkersDomain](ctx, c, http.MethodGet, c.accountPath("workers", "domains"), nil)
}
