package cfemu

import (
	"context"
	"net/http"
	"time"
)

// objectEndpoints are the REST calls on R2 objects that wrangler's
// `r2 object get/put/delete` make, and the emulator's own trigger of a
// worker's scheduled handler, which Cloudflare's API has no twin of.
func (e *Emulator) objectEndpoints() []endpoint {
	const acc = "/accounts/{account}"
	return []endpoint{
		{"GET", acc + "/r2/buckets/{name}/objects/{key...}", e.objectGet},
		{"PUT", acc + "/r2/buckets/{name}/objects/{key...}", e.objectPut},
		{"DELETE", acc + "/r2/buckets/{name}/objects/{key...}", e.objectDelete},
		{"POST", acc + "/workers/scripts/{script}/cfemu/scheduled", e.scheduledRun},
	}
}

func (e *Emulator) objectGet(c *call) reply {
	o, err := e.acct.GetR2(c.r.PathValue("name"), c.r.PathValue("key"))
	if err != nil {
		return failWith(err)
	}
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return reply{status: http.StatusOK, raw: o.Body, rawType: ct}
}

func (e *Emulator) objectPut(c *call) reply {
	o, err := e.acct.PutR2(c.r.PathValue("name"), c.r.PathValue("key"), c.body, c.r.Header.Get("Content-Type"))
	if err != nil {
		return failWith(err)
	}
	return ok(map[string]any{"key": o.Key, "size": o.Size, "etag": o.ETag, "uploaded": o.Uploaded.Format(time.RFC3339Nano)})
}

func (e *Emulator) objectDelete(c *call) reply {
	if err := e.acct.DeleteR2(c.r.PathValue("name"), c.r.PathValue("key")); err != nil {
		return failWith(err)
	}
	return ok(map[string]any{})
}

// scheduledRun fires a worker's scheduled handler now, for its first cron
// trigger or the ?cron= given, as `just cron local <worker>` asks.
func (e *Emulator) scheduledRun(c *call) reply {
	name := c.r.PathValue("script")
	cron := c.r.URL.Query().Get("cron")
	if cron == "" {
		crons, err := e.acct.Schedules(name)
		if err != nil {
			return failWith(err)
		}
		if len(crons) == 0 {
			return fail(http.StatusBadRequest, 10021, "worker %q has no cron trigger; pass ?cron=<expression> to run its scheduled handler anyway", name)
		}
		cron = crons[0].Cron
	} else if err := e.acct.ScriptExists(name); err != nil {
		return failWith(err)
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), time.Minute)
	defer cancel()
	if err := e.acct.RunScheduled(ctx, name, cron); err != nil {
		return failWith(err)
	}
	return ok(map[string]any{"script": name, "cron": cron})
}
