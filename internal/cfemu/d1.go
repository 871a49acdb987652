package cfemu

import "net/http"

type d1Database struct {
	UUID         string `json:"uuid"`
	Name         string `json:"name"`
	CreatedAt    string `json:"created_at"`
	Version      string `json:"version"`
	NumTables    int    `json:"num_tables"`
	FileSize     int64  `json:"file_size"`
	LocationHint string `json:"primary_location_hint,omitempty"`
}

// d1Locations are the values Cloudflare accepts for primary_location_hint.
var d1Locations = map[string]bool{"wnam": true, "enam": true, "weur": true, "eeur": true, "apac": true, "oc": true}

func (e *Emulator) d1Create(c *call) reply {
	var in struct {
		Name         string `json:"name"`
		LocationHint string `json:"primary_location_hint"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if in.Name == "" {
		return fail(http.StatusBadRequest, 7400, "The request is malformed: name is required")
	}
	if in.LocationHint != "" && !d1Locations[in.LocationHint] {
		return fail(http.StatusBadRequest, 7400, "The request is malformed: primary_location_hint %q is not one of wnam, enam, weur, eeur, apac, oc", in.LocationHint)
	}
	for _, db := range e.st.D1 {
		if db.Name == in.Name {
			return fail(http.StatusBadRequest, 7502, "A database with that name already exists")
		}
	}
	db := &d1Database{UUID: newUUID(), Name: in.Name, CreatedAt: now(), Version: "production", LocationHint: in.LocationHint}
	e.st.D1[db.UUID] = db
	return ok(db)
}

// d1List filters by name the way Cloudflare's search does: a substring match.
func (e *Emulator) d1List(c *call) reply {
	name := c.r.URL.Query().Get("name")
	var matched []*d1Database
	for _, db := range inOrder(e.st.D1, func(d *d1Database) string { return d.CreatedAt }) {
		if containsFold(db.Name, name) {
			matched = append(matched, db)
		}
	}
	items, info := paginate(c, matched, 1000, 10000)
	for _, db := range items {
		if rp, good := e.d1Stats(c, db); !good {
			return rp
		}
	}
	return okList(items, info)
}

func (e *Emulator) d1Get(c *call) reply {
	db, found := e.st.D1[c.r.PathValue("id")]
	if !found {
		return d1NotFound(c.r.PathValue("id"))
	}
	if rp, good := e.d1Stats(c, db); !good {
		return rp
	}
	return ok(db)
}

// d1Stats brings a database's file_size and num_tables up to date with its SQLite database.
func (e *Emulator) d1Stats(c *call, db *d1Database) (reply, bool) {
	size, tables, err := e.d1.stats(c.r.Context(), db.UUID)
	if err != nil {
		return fail(http.StatusInternalServerError, 7500, "could not read database %s: %v", db.UUID, err), false
	}
	db.FileSize, db.NumTables = size, tables
	return reply{}, true
}

func (e *Emulator) d1Delete(c *call) reply {
	if _, found := e.st.D1[c.r.PathValue("id")]; !found {
		return d1NotFound(c.r.PathValue("id"))
	}
	if err := e.d1.remove(c.r.PathValue("id")); err != nil {
		return fail(http.StatusInternalServerError, 7500, "could not delete the database's data: %v", err)
	}
	delete(e.st.D1, c.r.PathValue("id"))
	return ok(nil)
}

func d1NotFound(id string) reply {
	return fail(http.StatusNotFound, 7404, "The database %s could not be found", id)
}
