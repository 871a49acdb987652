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

func kvNotFound() error {
	return refuse(http.StatusNotFound, 10013, "get namespace: 'namespace not found'")
}

// CreateKVNamespace creates an empty namespace; titles are unique in the account.
func (a *Account) CreateKVNamespace(title string) (kvView, error) {
	var out kvView
	err := a.update(func() error {
		if err := a.kvCheckTitle(title, ""); err != nil {
			return err
		}
		ns := &kvNamespace{ID: newHexID(), Title: title, CreatedOn: now()}
		a.st.KV[ns.ID] = ns
		out = ns.view()
		return nil
	})
	return out, err
}

// kvCheckTitle refuses an empty, overlong or taken title; self is the
// namespace being renamed, which may keep its own title.
func (a *Account) kvCheckTitle(title, self string) error {
	if title == "" || len(title) > kvMaxTitle {
		return refuse(http.StatusBadRequest, 10019, "title must be 1 to %d characters", kvMaxTitle)
	}
	for _, ns := range a.st.KV {
		if ns.Title == title && ns.ID != self {
			return refuse(http.StatusBadRequest, 10014, "a namespace with this account ID and title already exists")
		}
	}
	return nil
}

// ListKVNamespaces lists the namespaces, oldest first.
func (a *Account) ListKVNamespaces() []kvView {
	var out []kvView
	a.view(func() {
		for _, ns := range inOrder(a.st.KV, func(n *kvNamespace) string { return n.CreatedOn }) {
			out = append(out, ns.view())
		}
	})
	return out
}

// GetKVNamespace reads one namespace.
func (a *Account) GetKVNamespace(id string) (kvView, error) {
	var out kvView
	err := a.viewErr(func() error {
		ns := a.st.KV[id]
		if ns == nil {
			return kvNotFound()
		}
		out = ns.view()
		return nil
	})
	return out, err
}

// RenameKVNamespace gives a namespace another title.
func (a *Account) RenameKVNamespace(id, title string) error {
	return a.update(func() error {
		ns := a.st.KV[id]
		if ns == nil {
			return kvNotFound()
		}
		if err := a.kvCheckTitle(title, ns.ID); err != nil {
			return err
		}
		ns.Title = title
		return nil
	})
}

// DeleteKVNamespace deletes a namespace and its values.
func (a *Account) DeleteKVNamespace(id string) error {
	return a.update(func() error {
		if a.st.KV[id] == nil {
			return kvNotFound()
		}
		a.kv.mu.Lock()
		defer a.kv.mu.Unlock()
		delete(a.kv.ns, id)
		if err := a.kv.save(id); err != nil {
			return refuse(http.StatusInternalServerError, 10001, "could not delete the namespace's values: %v", err)
		}
		delete(a.st.KV, id)
		return nil
	})
}

// HTTP handlers.

func (e *Emulator) kvCreate(c *call) reply {
	var in struct {
		Title string `json:"title"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.CreateKVNamespace(in.Title))
}

func (e *Emulator) kvList(c *call) reply {
	items, info := paginate(c, e.acct.ListKVNamespaces(), 20, 1000)
	return okList(items, info)
}

func (e *Emulator) kvGet(c *call) reply {
	return answer(e.acct.GetKVNamespace(c.r.PathValue("id")))
}

// kvRename looks the namespace up before it reads the body, as Cloudflare
// does: an unknown namespace is 404 whatever the body holds.
func (e *Emulator) kvRename(c *call) reply {
	if _, err := e.acct.GetKVNamespace(c.r.PathValue("id")); err != nil {
		return failWith(err)
	}
	var in struct {
		Title string `json:"title"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return done(e.acct.RenameKVNamespace(c.r.PathValue("id"), in.Title))
}

func (e *Emulator) kvDelete(c *call) reply {
	return done(e.acct.DeleteKVNamespace(c.r.PathValue("id")))
}
