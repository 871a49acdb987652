package cfemu

import (
	"context"
	"encoding/json"
	"net/http"
)

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

func d1NotFound(id string) error {
	return refuse(http.StatusNotFound, 7404, "The database %s could not be found", id)
}

// CreateD1 creates an empty D1 database; names are unique in the account.
func (a *Account) CreateD1(name, locationHint string) (d1Database, error) {
	var db d1Database
	err := a.update(func() error {
		if name == "" {
			return refuse(http.StatusBadRequest, 7400, "The request is malformed: name is required")
		}
		if locationHint != "" && !d1Locations[locationHint] {
			return refuse(http.StatusBadRequest, 7400, "The request is malformed: primary_location_hint %q is not one of wnam, enam, weur, eeur, apac, oc", locationHint)
		}
		for _, other := range a.st.D1 {
			if other.Name == name {
				return refuse(http.StatusBadRequest, 7502, "A database with that name already exists")
			}
		}
		stored := &d1Database{UUID: newUUID(), Name: name, CreatedAt: now(), Version: "production", LocationHint: locationHint}
		a.st.D1[stored.UUID] = stored
		db = *stored
		return nil
	})
	return db, err
}

// ListD1 lists the databases whose name contains nameContains (any case),
// oldest first, the way Cloudflare's search matches.
func (a *Account) ListD1(ctx context.Context, nameContains string) ([]d1Database, error) {
	var out []d1Database
	a.view(func() {
		for _, db := range inOrder(a.st.D1, func(d *d1Database) string { return d.CreatedAt }) {
			if containsFold(db.Name, nameContains) {
				out = append(out, *db)
			}
		}
	})
	for i := range out {
		if err := a.d1Stats(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetD1 reads one database, its size and table count as they are now.
func (a *Account) GetD1(ctx context.Context, id string) (d1Database, error) {
	var db d1Database
	err := a.viewErr(func() error {
		found := a.st.D1[id]
		if found == nil {
			return d1NotFound(id)
		}
		db = *found
		return nil
	})
	if err != nil {
		return db, err
	}
	return db, a.d1Stats(ctx, &db)
}

// d1Stats fills in a database's file_size and num_tables from its SQLite database.
func (a *Account) d1Stats(ctx context.Context, db *d1Database) error {
	if rt := a.runtime(); rt != nil {
		return a.d1StatsRuntime(ctx, rt, db)
	}
	size, tables, err := a.d1.stats(ctx, db.UUID)
	if err != nil {
		return refuse(http.StatusInternalServerError, 7500, "could not read database %s: %v", db.UUID, err)
	}
	db.FileSize, db.NumTables = size, tables
	return nil
}

// d1StatsRuntime counts the tables of the runtime's copy of a database.
// Its size is the runtime's to know; D1 bindings do not report it.
func (a *Account) d1StatsRuntime(ctx context.Context, rt Runtime, db *d1Database) error {
	answers, err := rt.QueryD1(ctx, db.UUID, []D1Statement{{SQL: d1TablesSQL, Params: []any{}}}, true)
	if err != nil {
		return runtimeFailed("read database "+db.UUID, err)
	}
	var res struct {
		Results d1RawRows `json:"results"`
	}
	if len(answers) != 1 || json.Unmarshal(answers[0], &res) != nil || len(res.Results.Rows) != 1 || len(res.Results.Rows[0]) != 1 {
		return refuse(http.StatusBadGateway, 7500, "the local runtime answered the table count of database %s in an unexpected shape", db.UUID)
	}
	n, _ := res.Results.Rows[0][0].(float64)
	db.NumTables = int(n)
	return nil
}

// DeleteD1 deletes a database and its data.
func (a *Account) DeleteD1(id string) error {
	return a.update(func() error {
		if a.st.D1[id] == nil {
			return d1NotFound(id)
		}
		if err := a.d1.remove(id); err != nil {
			return refuse(http.StatusInternalServerError, 7500, "could not delete the database's data: %v", err)
		}
		delete(a.st.D1, id)
		return nil
	})
}

// HTTP handlers.

func (e *Emulator) d1Create(c *call) reply {
	var in struct {
		Name         string `json:"name"`
		LocationHint string `json:"primary_location_hint"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.CreateD1(in.Name, in.LocationHint))
}

func (e *Emulator) d1List(c *call) reply {
	all, err := e.acct.ListD1(c.r.Context(), c.r.URL.Query().Get("name"))
	if err != nil {
		return failWith(err)
	}
	items, info := paginate(c, all, 1000, 10000)
	return okList(items, info)
}

func (e *Emulator) d1Get(c *call) reply {
	return answer(e.acct.GetD1(c.r.Context(), c.r.PathValue("id")))
}

func (e *Emulator) d1Delete(c *call) reply {
	return done(e.acct.DeleteD1(c.r.PathValue("id")))
}
