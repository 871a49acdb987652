package cfemu

import "net/http"

type kvNamespace struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	CreatedOn string `json:"created_on"` // kept for list order; Cloudflare does not show it
}

type kvView struct {
	ID                  string `json:"id"`
	Title               string `json:"title"`
	SupportsURLEncoding bool   `json:"supports_url_encoding"`
}

func (ns *kvNamespace) view() kvView {
	return kvView{ID: ns.ID, Title: ns.Title, SupportsURLEncoding: true}
}

// kvMaxTitle is Cloudflare's limit on a namespace title.
const kvMaxTitle = 512

func (e *Emulator) kvCreate(c *call) reply {
	var in struct {
		Title string `json:"title"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if rp, good := e.kvCheckTitle(in.Title, ""); !good {
		return rp
	}
	ns := &kvNamespace{ID: newHexID(), Title: in.Title, CreatedOn: now()}
	e.st.KV[ns.ID] = ns
	return ok(ns.view())
}

// kvCheckTitle refuses an empty, overlong or taken title; self is the
// namespace being renamed, which may keep its own title.
func (e *Emulator) kvCheckTitle(title, self string) (reply, bool) {
	if title == "" || len(title) > kvMaxTitle {
		return fail(http.StatusBadRequest, 10019, "title must be 1 to %d characters", kvMaxTitle), false
	}
	for _, ns := range e.st.KV {
		if ns.Title == title && ns.ID != self {
			return fail(http.StatusBadRequest, 10014, "a namespace with this account ID and title already exists"), false
		}
	}
	return reply{}, true
}

func (e *Emulator) kvList(c *call) reply {
	var all []kvView
	for _, ns := range inOrder(e.st.KV, func(n *kvNamespace) string { return n.CreatedOn }) {
		all = append(all, ns.view())
	}
	items, info := paginate(c, all, 20, 1000)
	return okList(items, info)
}

func (e *Emulator) kvGet(c *call) reply {
	ns, found := e.st.KV[c.r.PathValue("id")]
	if !found {
		return kvNotFound()
	}
	return ok(ns.view())
}

func (e *Emulator) kvRename(c *call) reply {
	ns, found := e.st.KV[c.r.PathValue("id")]
	if !found {
		return kvNotFound()
	}
	var in struct {
		Title string `json:"title"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if rp, good := e.kvCheckTitle(in.Title, ns.ID); !good {
		return rp
	}
	ns.Title = in.Title
	return ok(nil)
}

func (e *Emulator) kvDelete(c *call) reply {
	if _, found := e.st.KV[c.r.PathValue("id")]; !found {
		return kvNotFound()
	}
	delete(e.st.KV, c.r.PathValue("id"))
	return ok(nil)
}

func kvNotFound() reply {
	return fail(http.StatusNotFound, 10013, "get namespace: 'namespace not found'")
}
