package cfemu

import (
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
)

type r2Bucket struct {
	Name         string `json:"name"`
	CreationDate string `json:"creation_date"`
	// Location echoes the locationHint exactly as sent (case too): the
	// official provider compares it with its input and would replace the
	// bucket on any difference. Empty when no hint was sent.
	Location     string `json:"location,omitempty"`
	StorageClass string `json:"storage_class"`
}

// r2NameRule is Cloudflare's bucket naming rule: 3-63 characters of
// lowercase letters, digits and hyphens, starting and ending alphanumeric.
var r2NameRule = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

var r2Locations = map[string]bool{"wnam": true, "enam": true, "weur": true, "eeur": true, "apac": true, "oc": true}

func (e *Emulator) r2Create(c *call) reply {
	var in struct {
		Name         string `json:"name"`
		LocationHint string `json:"locationHint"`
		StorageClass string `json:"storageClass"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if !r2NameRule.MatchString(in.Name) {
		return fail(http.StatusBadRequest, 10005, "The specified bucket name is not valid.")
	}
	if in.LocationHint != "" && !r2Locations[strings.ToLower(in.LocationHint)] {
		return fail(http.StatusBadRequest, 10085, "The specified location hint %q is not valid; use one of wnam, enam, weur, eeur, apac, oc.", in.LocationHint)
	}
	switch in.StorageClass {
	case "":
		in.StorageClass = "Standard"
	case "Standard", "InfrequentAccess":
	default:
		return fail(http.StatusBadRequest, 10040, "The storage class %q is not valid; use Standard or InfrequentAccess.", in.StorageClass)
	}
	if _, taken := e.st.Buckets[in.Name]; taken {
		return fail(http.StatusConflict, 10004, "The bucket you tried to create already exists, and you own it.")
	}
	b := &r2Bucket{Name: in.Name, CreationDate: now(), Location: in.LocationHint, StorageClass: in.StorageClass}
	e.st.Buckets[b.Name] = b
	return ok(b)
}

// r2ResultInfo is R2's cursor paging block: more buckets follow while cursor is set.
type r2ResultInfo struct {
	Cursor  string `json:"cursor,omitempty"`
	PerPage int    `json:"per_page"`
}

// r2List lists buckets in name order, as R2 does, with its cursor paging.
func (e *Emulator) r2List(c *call) reply {
	q := c.r.URL.Query()
	after := q.Get("start_after")
	if cur, err := hex.DecodeString(q.Get("cursor")); err == nil && len(cur) > 0 {
		after = string(cur)
	}
	per := min(c.intQuery("per_page", 20), 1000)
	all := inOrder(e.st.Buckets, func(*r2Bucket) string { return "" }) // no creation order: by name
	out := []*r2Bucket{}
	info := r2ResultInfo{PerPage: per}
	for _, b := range all {
		if b.Name <= after || !strings.Contains(b.Name, q.Get("name_contains")) {
			continue
		}
		if len(out) == per {
			info.Cursor = hex.EncodeToString([]byte(out[len(out)-1].Name))
			break
		}
		out = append(out, b)
	}
	return okList(map[string]any{"buckets": out}, info)
}

func (e *Emulator) r2Get(c *call) reply {
	b, found := e.st.Buckets[c.r.PathValue("name")]
	if !found {
		return r2NotFound()
	}
	return ok(b)
}

func (e *Emulator) r2Delete(c *call) reply {
	if _, found := e.st.Buckets[c.r.PathValue("name")]; !found {
		return r2NotFound()
	}
	delete(e.st.Buckets, c.r.PathValue("name"))
	delete(e.st.Notifications, c.r.PathValue("name")) // a bucket's notifications go with it
	return ok(nil)
}

func r2NotFound() reply {
	return fail(http.StatusNotFound, 10006, "The specified bucket does not exist.")
}
