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

func r2NotFound() error {
	return refuse(http.StatusNotFound, 10006, "The specified bucket does not exist.")
}

// CreateR2Bucket creates a bucket; an empty storage class is Standard.
func (a *Account) CreateR2Bucket(name, locationHint, storageClass string) (r2Bucket, error) {
	var out r2Bucket
	err := a.update(func() error {
		if !r2NameRule.MatchString(name) {
			return refuse(http.StatusBadRequest, 10005, "The specified bucket name is not valid.")
		}
		if locationHint != "" && !r2Locations[strings.ToLower(locationHint)] {
			return refuse(http.StatusBadRequest, 10085, "The specified location hint %q is not valid; use one of wnam, enam, weur, eeur, apac, oc.", locationHint)
		}
		switch storageClass {
		case "":
			storageClass = "Standard"
		case "Standard", "InfrequentAccess":
		default:
			return refuse(http.StatusBadRequest, 10040, "The storage class %q is not valid; use Standard or InfrequentAccess.", storageClass)
		}
		if _, taken := a.st.Buckets[name]; taken {
			return refuse(http.StatusConflict, 10004, "The bucket you tried to create already exists, and you own it.")
		}
		b := &r2Bucket{Name: name, CreationDate: now(), Location: locationHint, StorageClass: storageClass}
		a.st.Buckets[b.Name] = b
		out = *b
		return nil
	})
	return out, err
}

// ListR2Buckets lists, in name order as R2 does, up to limit buckets named
// after startAfter whose name contains nameContains; more says whether
// others follow.
func (a *Account) ListR2Buckets(nameContains, startAfter string, limit int) (buckets []r2Bucket, more bool) {
	buckets = []r2Bucket{}
	a.view(func() {
		for _, b := range inOrder(a.st.Buckets, func(*r2Bucket) string { return "" }) { // no creation order: by name
			if b.Name <= startAfter || !strings.Contains(b.Name, nameContains) {
				continue
			}
			if len(buckets) == limit {
				more = true
				return
			}
			buckets = append(buckets, *b)
		}
	})
	return buckets, more
}

// GetR2Bucket reads one bucket.
func (a *Account) GetR2Bucket(name string) (r2Bucket, error) {
	var out r2Bucket
	err := a.viewErr(func() error {
		b := a.st.Buckets[name]
		if b == nil {
			return r2NotFound()
		}
		out = *b
		return nil
	})
	return out, err
}

// DeleteR2Bucket deletes an empty bucket and its event notification
// rules; a bucket with objects is refused, as R2 refuses it.
func (a *Account) DeleteR2Bucket(name string) error {
	return a.update(func() error {
		if a.st.Buckets[name] == nil {
			return r2NotFound()
		}
		if a.r2.count(name) > 0 {
			return refuse(http.StatusConflict, 10008, "The bucket you tried to delete is not empty.")
		}
		delete(a.st.Buckets, name)
		delete(a.st.Notifications, name)
		return nil
	})
}

// HTTP handlers.

func (e *Emulator) r2Create(c *call) reply {
	var in struct {
		Name         string `json:"name"`
		LocationHint string `json:"locationHint"`
		StorageClass string `json:"storageClass"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.CreateR2Bucket(in.Name, in.LocationHint, in.StorageClass))
}

// r2ResultInfo is R2's cursor paging block: more buckets follow while cursor is set.
type r2ResultInfo struct {
	Cursor  string `json:"cursor,omitempty"`
	PerPage int    `json:"per_page"`
}

// r2List answers with R2's cursor paging: the cursor is the last name sent, in hex.
func (e *Emulator) r2List(c *call) reply {
	q := c.r.URL.Query()
	after := q.Get("start_after")
	if cur, err := hex.DecodeString(q.Get("cursor")); err == nil && len(cur) > 0 {
		after = string(cur)
	}
	per := min(c.intQuery("per_page", 20), 1000)
	out, more := e.acct.ListR2Buckets(q.Get("name_contains"), after, per)
	info := r2ResultInfo{PerPage: per}
	if more {
		info.Cursor = hex.EncodeToString([]byte(out[len(out)-1].Name))
	}
	return okList(map[string]any{"buckets": out}, info)
}

func (e *Emulator) r2Get(c *call) reply {
	return answer(e.acct.GetR2Bucket(c.r.PathValue("name")))
}

func (e *Emulator) r2Delete(c *call) reply {
	return done(e.acct.DeleteR2Bucket(c.r.PathValue("name")))
}
