package cfemu

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
)

// endpoint is one API call the emulator serves: a method, a path below
// apiPrefix in ServeMux's pattern syntax, and its handler.
type endpoint struct {
	method, path string
	handle       func(*call) reply
}

// call is one routed request as a handler sees it; r.PathValue reads the
// path's wildcards.
type call struct {
	r    *http.Request
	body []byte
}

// routes serves every endpoint on one ServeMux. A path served under other
// methods answers 405 and any other path 404, in Cloudflare's envelope.
func (e *Emulator) routes() *http.ServeMux {
	const acc = "/accounts/{account}"
	defs := []endpoint{
		{"GET", "/user/tokens/verify", e.verifyToken},
		{"GET", acc + "/tokens/verify", e.verifyToken},
		{"GET", acc, e.getAccount},

		{"GET", acc + "/d1/database", e.d1List},
		{"POST", acc + "/d1/database", e.d1Create},
		{"GET", acc + "/d1/database/{id}", e.d1Get},
		{"DELETE", acc + "/d1/database/{id}", e.d1Delete},
		{"POST", acc + "/d1/database/{id}/query", e.d1Query(false)},
		{"POST", acc + "/d1/database/{id}/raw", e.d1Query(true)},

		{"GET", acc + "/r2/buckets", e.r2List},
		{"POST", acc + "/r2/buckets", e.r2Create},
		{"GET", acc + "/r2/buckets/{name}", e.r2Get},
		{"DELETE", acc + "/r2/buckets/{name}", e.r2Delete},

		{"GET", acc + "/event_notifications/r2/{bucket}/configuration", e.notificationsGet},
		{"PUT", acc + "/event_notifications/r2/{bucket}/configuration/queues/{queue}", e.notificationsPut},
		{"DELETE", acc + "/event_notifications/r2/{bucket}/configuration/queues/{queue}", e.notificationsDelete},

		// The current queue API addresses queues by id...
		{"GET", acc + "/queues", e.queueList},
		{"POST", acc + "/queues", e.queueCreate},
		{"GET", acc + "/queues/{queue}", e.queueGet(byID)},
		{"PUT", acc + "/queues/{queue}", e.queueUpdate(byID)},
		{"PATCH", acc + "/queues/{queue}", e.queueUpdate(byID)},
		{"DELETE", acc + "/queues/{queue}", e.queueDelete(byID)},
		{"GET", acc + "/queues/{queue}/consumers", e.consumerList(byID)},
		{"POST", acc + "/queues/{queue}/consumers", e.consumerCreate(byID)},
		{"GET", acc + "/queues/{queue}/consumers/{consumer}", e.consumerGet(byID)},
		{"PUT", acc + "/queues/{queue}/consumers/{consumer}", e.consumerUpdate(byID)},
		{"DELETE", acc + "/queues/{queue}/consumers/{consumer}", e.consumerDelete(byID)},
		{"POST", acc + "/queues/{queue}/messages", e.queueSend},
		{"POST", acc + "/queues/{queue}/messages/batch", e.queueSendBatch},
		// ...the older one, which the official provider and cloudflare-go use, by name.
		{"GET", acc + "/workers/queues", e.queueList},
		{"POST", acc + "/workers/queues", e.queueCreate},
		{"GET", acc + "/workers/queues/{queue}", e.queueGet(byName)},
		{"PUT", acc + "/workers/queues/{queue}", e.queueUpdate(byName)},
		{"DELETE", acc + "/workers/queues/{queue}", e.queueDelete(byName)},
		{"GET", acc + "/workers/queues/{queue}/consumers", e.consumerList(byName)},
		{"POST", acc + "/workers/queues/{queue}/consumers", e.consumerCreate(byName)},
		{"GET", acc + "/workers/queues/{queue}/consumers/{consumer}", e.consumerGet(byName)},
		{"PUT", acc + "/workers/queues/{queue}/consumers/{consumer}", e.consumerUpdate(byName)},
		{"DELETE", acc + "/workers/queues/{queue}/consumers/{consumer}", e.consumerDelete(byName)},

		{"GET", acc + "/storage/kv/namespaces", e.kvList},
		{"POST", acc + "/storage/kv/namespaces", e.kvCreate},
		{"GET", acc + "/storage/kv/namespaces/{id}", e.kvGet},
		{"PUT", acc + "/storage/kv/namespaces/{id}", e.kvRename},
		{"DELETE", acc + "/storage/kv/namespaces/{id}", e.kvDelete},
		{"GET", acc + "/storage/kv/namespaces/{id}/keys", e.kvListKeys},
		{"PUT", acc + "/storage/kv/namespaces/{id}/values/{key...}", e.kvPutValue},
		{"GET", acc + "/storage/kv/namespaces/{id}/values/{key...}", e.kvGetValue},
		{"DELETE", acc + "/storage/kv/namespaces/{id}/values/{key...}", e.kvDeleteValue},

		{"GET", acc + "/workers/scripts", e.scriptList},
		{"PUT", acc + "/workers/scripts/{script}", e.scriptUpload},
		{"GET", acc + "/workers/scripts/{script}", e.scriptGet},
		{"DELETE", acc + "/workers/scripts/{script}", e.scriptDelete},
		{"GET", acc + "/workers/scripts/{script}/bindings", e.scriptBindings},
		{"GET", acc + "/workers/scripts/{script}/settings", e.scriptSettingsGet},
		{"PATCH", acc + "/workers/scripts/{script}/settings", e.onScript(e.scriptSettingsPatch)},
		{"GET", acc + "/workers/scripts/{script}/script-settings", e.scriptScriptSettingsGet},
		{"PATCH", acc + "/workers/scripts/{script}/script-settings", e.onScript(e.scriptScriptSettingsPatch)},
		{"GET", acc + "/workers/scripts/{script}/content/v2", e.scriptContent},
		{"GET", acc + "/workers/scripts/{script}/secrets", e.secretList},
		{"PUT", acc + "/workers/scripts/{script}/secrets", e.onScript(e.secretPut)},
		{"GET", acc + "/workers/scripts/{script}/secrets/{secret}", e.secretGet},
		{"DELETE", acc + "/workers/scripts/{script}/secrets/{secret}", e.secretDelete},
		{"GET", acc + "/workers/scripts/{script}/schedules", e.schedulesGet},
		{"PUT", acc + "/workers/scripts/{script}/schedules", e.onScript(e.schedulesPut)},
		// The emulator's own: Cloudflare's API cannot fire a cron trigger.
		{"POST", acc + "/workers/scripts/{script}/cfemu/scheduled", e.scheduledRun},

		{"GET", acc + "/vectorize/v2/indexes", e.vecList},
		{"POST", acc + "/vectorize/v2/indexes", e.vecCreate},
		{"GET", acc + "/vectorize/v2/indexes/{index}", e.vecGet},
		{"DELETE", acc + "/vectorize/v2/indexes/{index}", e.vecDelete},
		{"GET", acc + "/vectorize/v2/indexes/{index}/info", e.vecInfo},
		{"POST", acc + "/vectorize/v2/indexes/{index}/insert", e.vecWrite(false)},
		{"POST", acc + "/vectorize/v2/indexes/{index}/upsert", e.vecWrite(true)},
		{"POST", acc + "/vectorize/v2/indexes/{index}/query", e.vecQuery},
		{"POST", acc + "/vectorize/v2/indexes/{index}/get_by_ids", e.vecGetByIDs},
		{"POST", acc + "/vectorize/v2/indexes/{index}/delete_by_ids", e.vecDeleteByIDs},
		{"POST", acc + "/vectorize/v2/indexes/{index}/metadata_index/create", e.vecMetaCreate},
		{"GET", acc + "/vectorize/v2/indexes/{index}/metadata_index/list", e.vecMetaList},
		{"POST", acc + "/vectorize/v2/indexes/{index}/metadata_index/delete", e.vecMetaDelete},
	}
	mux := http.NewServeMux()
	served := map[string]bool{}
	for _, d := range slices.Concat(defs, e.entryEndpoints(), e.objectEndpoints()) {
		mux.Handle(d.method+" "+apiPrefix+d.path, e.serveEndpoint(d.handle))
		if !served[d.path] {
			served[d.path] = true
			mux.Handle(apiPrefix+d.path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeReply(w, fail(http.StatusMethodNotAllowed, 10405, "Method not allowed for %s", r.URL.Path))
			}))
		}
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeReply(w, fail(http.StatusNotFound, 7000, "No route for that URI"))
	}))
	return mux
}

// serveEndpoint runs h on a routed call on the account the token sees.
func (e *Emulator) serveEndpoint(h func(*call) reply) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if acc := r.PathValue("account"); acc != "" && acc != e.cfg.AccountID {
			// Cloudflare answers an account id the token cannot see like an unroutable identifier.
			writeReply(w, fail(http.StatusNotFound, 7003, "Could not route to %s, perhaps your object identifier is invalid?", r.URL.Path))
			return
		}
		body, _ := io.ReadAll(r.Body) // serve has read it into memory already
		writeReply(w, h(&call{r: r, body: body}))
	})
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
