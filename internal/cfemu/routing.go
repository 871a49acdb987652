package cfemu

import (
	"strings"
)

// RouteRequest names the worker that answers a request for host and path,
// in the order Cloudflare's edge decides: a custom domain owns its whole
// hostname; otherwise the most specific route of a zone whose pattern
// matches; otherwise <script>.<subdomain>.workers.dev when that script has
// workers.dev turned on.
func (a *Account) RouteRequest(host, path string) (string, bool) {
	host = strings.ToLower(host)
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, d := range a.st.Domains {
		if strings.EqualFold(d.Hostname, host) && a.st.Scripts[d.Service] != nil {
			return d.Service, true
		}
	}
	best, bestLen := "", -1
	for _, r := range a.st.Routes {
		if r.Script == "" || a.st.Scripts[r.Script] == nil || !routeMatches(r.Pattern, host, path) {
			continue
		}
		// The longer pattern is the more specific one.
		if len(r.Pattern) > bestLen {
			best, bestLen = r.Script, len(r.Pattern)
		}
	}
	if bestLen >= 0 {
		return best, true
	}
	name, found := strings.CutSuffix(host, "."+a.subdomain+".workers.dev")
	if !found {
		return "", false
	}
	s := a.st.Scripts[name]
	if s == nil || !a.scriptSubdomainOf(s).Enabled {
		return "", false
	}
	return name, true
}

// routeMatches matches a route pattern (host/path, with a * that may open
// the host and close the path) against a request, as Cloudflare documents:
// "*.example.com/*" matches every subdomain, "example.com/api/*" every
// path under /api/, and a pattern without * matches only itself.
func routeMatches(pattern, host, path string) bool {
	pHost, pPath, _ := strings.Cut(strings.ToLower(pattern), "/")
	pPath = "/" + pPath
	switch {
	case strings.HasPrefix(pHost, "*."):
		if !strings.HasSuffix(host, pHost[1:]) {
			return false
		}
	case strings.HasPrefix(pHost, "*"):
		if !inZone(host, pHost[1:]) {
			return false
		}
	case pHost != host:
		return false
	}
	if prefix, wild := strings.CutSuffix(pPath, "*"); wild {
		return strings.HasPrefix(path, prefix)
	}
	return path == pPath
}
