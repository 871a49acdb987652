package cfemu

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// route maps a method and a path pattern (":name" captures one segment) to a handler.
type route struct {
	method  string
	pattern []string
	handle  func(*call) reply
}

// call is one routed request as a handler sees it.
type call struct {
	r    *http.Request
	body []byte
	p    map[string]string
}

func (e *Emulator) buildRoutes() []route {
	const acc = "/accounts/:account"
	defs := []struct {
		method, pattern string
		h               func(*call) reply
	}{
		{"GET", "/user/tokens/verify", e.verifyToken},
		{"GET", acc + "/tokens/verify", e.verifyToken},
		{"GET", acc, e.getAccount},

		{"GET", acc + "/d1/database", e.d1List},
		{"POST", acc + "/d1/database", e.d1Create},
		{"GET", acc + "/d1/database/:id", e.d1Get},
		{"DELETE", acc + "/d1/database/:id", e.d1Delete},
		{"POST", acc + "/d1/database/:id/query", e.d1Query(false)},
		{"POST", acc + "/d1/database/:id/raw", e.d1Query(true)},

		{"GET", acc + "/r2/buckets", e.r2List},
		{"POST", acc + "/r2/buckets", e.r2Create},
		{"GET", acc + "/r2/buckets/:name", e.r2Get},
		{"DELETE", acc + "/r2/buckets/:name", e.r2Delete},

		// The current queue API addresses queues by id...
		{"GET", acc + "/queues", e.queueList},
		{"POST", acc + "/queues", e.queueCreate},
		{"GET", acc + "/queues/:queue", e.queueGet(byID)},
		{"PUT", acc + "/queues/:queue", e.queueUpdate(byID)},
		{"PATCH", acc + "/queues/:queue", e.queueUpdate(byID)},
		{"DELETE", acc + "/queues/:queue", e.queueDelete(byID)},
		{"GET", acc + "/queues/:queue/consumers", e.consumerList(byID)},
		{"POST", acc + "/queues/:queue/consumers", e.consumerCreate(byID)},
		{"GET", acc + "/queues/:queue/consumers/:consumer", e.consumerGet(byID)},
		{"PUT", acc + "/queues/:queue/consumers/:consumer", e.consumerUpdate(byID)},
		{"DELETE", acc + "/queues/:queue/consumers/:consumer", e.consumerDelete(byID)},
		// ...the older one, which the official provider and cloudflare-go use, by name.
		{"GET", acc + "/workers/queues", e.queueList},
		{"POST", acc + "/workers/queues", e.queueCreate},
		{"GET", acc + "/workers/queues/:queue", e.queueGet(byName)},
		{"PUT", acc + "/workers/queues/:queue", e.queueUpdate(byName)},
		{"DELETE", acc + "/workers/queues/:queue", e.queueDelete(byName)},
		{"GET", acc + "/workers/queues/:queue/consumers", e.consumerList(byName)},
		{"POST", acc + "/workers/queues/:queue/consumers", e.consumerCreate(byName)},
		{"GET", acc + "/workers/queues/:queue/consumers/:consumer", e.consumerGet(byName)},
		{"PUT", acc + "/workers/queues/:queue/consumers/:consumer", e.consumerUpdate(byName)},
		{"DELETE", acc + "/workers/queues/:queue/consumers/:consumer", e.consumerDelete(byName)},

		{"GET", acc + "/storage/kv/namespaces", e.kvList},
		{"POST", acc + "/storage/kv/namespaces", e.kvCreate},
		{"GET", acc + "/storage/kv/namespaces/:id", e.kvGet},
		{"PUT", acc + "/storage/kv/namespaces/:id", e.kvRename},
		{"DELETE", acc + "/storage/kv/namespaces/:id", e.kvDelete},

		{"GET", acc + "/workers/scripts", e.scriptList},
		{"PUT", acc + "/workers/scripts/:script", e.scriptUpload},
		{"GET", acc + "/workers/scripts/:script", e.onScript(e.scriptGet)},
		{"DELETE", acc + "/workers/scripts/:script", e.scriptDelete},
		{"GET", acc + "/workers/scripts/:script/bindings", e.onScript(e.scriptBindings)},
		{"GET", acc + "/workers/scripts/:script/settings", e.onScript(e.scriptSettingsGet)},
		{"PATCH", acc + "/workers/scripts/:script/settings", e.onScript(e.scriptSettingsPatch)},
		{"GET", acc + "/workers/scripts/:script/script-settings", e.onScript(e.scriptScriptSettingsGet)},
		{"PATCH", acc + "/workers/scripts/:script/script-settings", e.onScript(e.scriptScriptSettingsPatch)},
		{"GET", acc + "/workers/scripts/:script/content/v2", e.onScript(e.scriptContent)},
		{"GET", acc + "/workers/scripts/:script/schedules", e.onScript(e.schedulesGet)},
		{"PUT", acc + "/workers/scripts/:script/schedules", e.onScript(e.schedulesPut)},

		{"GET", acc + "/vectorize/v2/indexes", e.vecList},
		{"POST", acc + "/vectorize/v2/indexes", e.vecCreate},
		{"GET", acc + "/vectorize/v2/indexes/:index", e.vecGet},
		{"DELETE", acc + "/vectorize/v2/indexes/:index", e.vecDelete},
		{"GET", acc + "/vectorize/v2/indexes/:index/info", e.vecInfo},
		{"POST", acc + "/vectorize/v2/indexes/:index/metadata_index/create", e.vecMetaCreate},
		{"GET", acc + "/vectorize/v2/indexes/:index/metadata_index/list", e.vecMetaList},
		{"POST", acc + "/vectorize/v2/indexes/:index/metadata_index/delete", e.vecMetaDelete},
	}
	routes := make([]route, 0, len(defs))
	for _, d := range defs {
		routes = append(routes, route{method: d.method, pattern: splitPath(d.pattern), handle: d.h})
	}
	return append(routes, e.entryRoutes()...)
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match finds the route for method and path. When only the method is wrong
// it says so, so the caller can answer 405 rather than 404.
func (e *Emulator) match(method, path string) (*route, map[string]string, bool) {
	segs := splitPath(path)
	pathMatched := false
	for i := range e.routes {
		rt := &e.routes[i]
		params, ok := matchSegments(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method == method {
			return rt, params, true
		}
		pathMatched = true
	}
	return nil, nil, pathMatched
}

func matchSegments(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range pattern {
		if name, isParam := strings.CutPrefix(p, ":"); isParam {
			if segs[i] == "" {
				return nil, false
			}
			params[name] = segs[i]
		} else if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// decode parses a JSON body into v; Cloudflare answers a body it cannot
// parse with 400 and code 6007.
func (c *call) decode(v any) (reply, bool) {
	if err := json.Unmarshal(c.body, v); err != nil {
		return fail(http.StatusBadRequest, 6007, "Malformed JSON in request body: %v", err), false
	}
	return reply{}, true
}

// intQuery reads a positive integer query parameter, falling back to def
// for a missing or unusable value the way Cloudflare's list endpoints do.
func (c *call) intQuery(name string, def int) int {
	n, err := strconv.Atoi(c.r.URL.Query().Get(name))
	if err != nil || n < 1 {
		return def
	}
	return n
}

// resultInfo is the paging block of a list answer. page and total_pages
// are always sent: a client loop that sees total_pages without page asks
// for page 1 forever.
type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// paginate cuts one page out of items by the page and per_page query parameters.
func paginate[T any](c *call, items []T, defPerPage, maxPerPage int) ([]T, *resultInfo) {
	page := c.intQuery("page", 1)
	per := min(c.intQuery("per_page", defPerPage), maxPerPage)
	total := len(items)
	lo := total
	if page-1 <= total/per { // guards the multiplication against a huge page number
		lo = min((page-1)*per, total)
	}
	hi := min(lo+per, total)
	out := append(make([]T, 0, hi-lo), items[lo:hi]...)
	return out, &resultInfo{Page: page, PerPage: per, Count: len(out), TotalCount: total, TotalPages: (total + per - 1) / per}
}
