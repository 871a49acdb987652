package cfemu

import (
	"net/http"
	"time"
)

// objectEndpoints are the REST calls on R2 objects that wrangler's
// `r2 object get/put/delete` make.
func (e *Emulator) objectEndpoints() []endpoint {
	const acc = "/accounts/{account}"
	return []endpoint{
		{"GET", acc + "/r2/buckets/{name}/objects/{key...}", e.objectGet},
		{"PUT", acc + "/r2/buckets/{name}/objects/{key...}", e.objectPut},
		{"DELETE", acc + "/r2/buckets/{name}/objects/{key...}", e.objectDelete},
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
