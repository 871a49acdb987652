package cfemu

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
)

// A worker's public entry points: zones (seeded, read only), routes in a
// zone, custom domains, and the workers.dev subdomain of the account and of
// each script. The emulator routes requests to them itself, so a change to
// one leaves what the runtime runs as it is: it is saved (change), and
// waits on no reload of the runtime (update).

// DefaultSubdomain is the account's workers.dev subdomain when Config.Subdomain is empty.
const DefaultSubdomain = "cfemu"

// zone is a Cloudflare zone as the zones API describes it.
type zone struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Status      string   `json:"status"`
	Paused      bool     `json:"paused"`
	Type        string   `json:"type"`
	NameServers []string `json:"name_servers"`
	CreatedOn   string   `json:"created_on"`
	ModifiedOn  string   `json:"modified_on"`
	ActivatedOn string   `json:"activated_on"`
	Account     struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"account"`
	Plan struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"plan"`
}

// workerRoute is one route of a zone.
type workerRoute struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Script  string `json:"script"`
}

// storedRoute keeps the zone beside the route, which the API never shows.
type storedRoute struct {
	workerRoute
	Zone string `json:"zone_id"`
}

// workersDomain is a custom domain attached to a worker.
type workersDomain struct {
	ID          string `json:"id"`
	ZoneID      string `json:"zone_id"`
	ZoneName    string `json:"zone_name"`
	Hostname    string `json:"hostname"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
}

// scriptSubdomain is a script's workers.dev setting. ScriptCreatedOn ties
// it to one life of the script: a script deleted and uploaded again starts
// with Cloudflare's default, off.
type scriptSubdomain struct {
	Enabled         bool   `json:"enabled"`
	PreviewsEnabled bool   `json:"previews_enabled"`
	ScriptCreatedOn string `json:"script_created_on"`
}

// entryStore is the part of the store this file serves.
type entryStore struct {
	Zones      map[string]*zone            `json:"zones"`             // by id
	Routes     map[string]*storedRoute     `json:"workers_routes"`    // by id
	Domains    map[string]*workersDomain   `json:"workers_domains"`   // by id
	Subdomains map[string]*scriptSubdomain `json:"script_subdomains"` // by script name
}

func (s *entryStore) fill() {
	if s.Zones == nil {
		s.Zones = map[string]*zone{}
	}
	if s.Routes == nil {
		s.Routes = map[string]*storedRoute{}
	}
	if s.Domains == nil {
		s.Domains = map[string]*workersDomain{}
	}
	if s.Subdomains == nil {
		s.Subdomains = map[string]*scriptSubdomain{}
	}
}

// zoneID derives a zone's id from its name, so a zone seeded at every start
// keeps its id across restarts and state files.
func zoneID(name string) string {
	sum := sha256.Sum256([]byte("zone:" + name))
	return hex.EncodeToString(sum[:16])
}

// seedZones adds the zones named in the config that the store lacks.
func (a *Account) seedZones(names []string) {
	for _, name := range names {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		id := zoneID(name)
		if _, ok := a.st.Zones[id]; ok {
			continue
		}
		z := &zone{ID: id, Name: name, Status: "active", Type: "full",
			NameServers: []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"},
			CreatedOn:   now()}
		z.ModifiedOn, z.ActivatedOn = z.CreatedOn, z.CreatedOn
		z.Account.ID, z.Account.Name = a.id, accountName
		z.Plan.ID, z.Plan.Name = "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "Free Website"
		a.st.Zones[id] = z
	}
}

// ZoneFilter narrows a zone list; empty fields match any zone. Name is
// exact, or "contains:", "starts_with:" or "ends_with:" and a part of it,
// as Cloudflare allows.
type ZoneFilter struct {
	Name, AccountID, Status string
}

func (f ZoneFilter) match(z *zone) bool {
	if (f.AccountID != "" && f.AccountID != z.Account.ID) || (f.Status != "" && f.Status != z.Status) {
		return false
	}
	n := strings.ToLower(f.Name)
	if n == "" {
		return true
	}
	op, arg, found := strings.Cut(n, ":")
	switch {
	case found && op == "contains":
		return strings.Contains(z.Name, arg)
	case found && op == "starts_with":
		return strings.HasPrefix(z.Name, arg)
	case found && op == "ends_with":
		return strings.HasSuffix(z.Name, arg)
	}
	return z.Name == n
}

// Zones lists the zones that match f, oldest first.
func (a *Account) Zones(f ZoneFilter) []zone {
	var out []zone
	a.view(func() {
		for _, z := range inOrder(a.st.Zones, func(z *zone) string { return z.CreatedOn }) {
			if f.match(z) {
				out = append(out, *z)
			}
		}
	})
	return out
}

// zoneNotFound is how Cloudflare answers a zone id the account does not
// have: an identifier it cannot route.
func zoneNotFound(id string) error {
	return refuse(http.StatusNotFound, 7003, "Could not route to /zones/%s, perhaps your object identifier is invalid?", id)
}

// onZone runs f on an existing zone, under the lock the caller holds.
func (a *Account) onZone(id string, f func(*zone) error) error {
	z := a.st.Zones[id]
	if z == nil {
		return zoneNotFound(id)
	}
	return f(z)
}

// Zone reads one zone.
func (a *Account) Zone(id string) (zone, error) {
	var out zone
	err := a.viewErr(func() error {
		return a.onZone(id, func(z *zone) error { out = *z; return nil })
	})
	return out, err
}

// inZone reports whether host is the zone or a name under it.
func inZone(host, zone string) bool {
	return host == zone || strings.HasSuffix(host, "."+zone)
}

// routeHost is the host a pattern matches, without a leading wildcard.
func routeHost(pattern string) string {
	host, _, _ := strings.Cut(pattern, "/")
	return strings.TrimPrefix(strings.TrimPrefix(host, "*"), ".")
}

func (a *Account) zoneRoutes(z *zone) []*storedRoute {
	var out []*storedRoute
	for _, r := range a.st.Routes {
		if r.Zone == z.ID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *storedRoute) int { return strings.Compare(a.Pattern, b.Pattern) })
	return out
}

// Routes lists a zone's routes in pattern order, all in one page as Cloudflare does.
func (a *Account) Routes(zoneID string) ([]workerRoute, error) {
	out := []workerRoute{}
	err := a.viewErr(func() error {
		return a.onZone(zoneID, func(z *zone) error {
			for _, r := range a.zoneRoutes(z) {
				out = append(out, r.workerRoute)
			}
			return nil
		})
	})
	return out, err
}

// RouteParams are a route's pattern and script.
type RouteParams struct {
	Pattern string `json:"pattern"`
	Script  string `json:"script"`
}

// checkRoute applies Cloudflare's checks: a pattern in the zone, a script
// that exists, one route per pattern.
func (a *Account) checkRoute(z *zone, p RouteParams, self string) error {
	switch {
	case p.Pattern == "":
		return refuse(http.StatusBadRequest, 10021, "workers.api.error.invalid_route_pattern: pattern is required")
	case !strings.Contains(p.Pattern, "/") || !inZone(routeHost(p.Pattern), z.Name):
		return refuse(http.StatusBadRequest, 10022, "workers.api.error.invalid_route_pattern: pattern %q does not match zone %s", p.Pattern, z.Name)
	case p.Script != "" && a.st.Scripts[p.Script] == nil:
		return scriptNotFound(p.Script)
	}
	for _, r := range a.zoneRoutes(z) {
		if r.Pattern == p.Pattern && r.ID != self {
			return refuse(http.StatusConflict, 10020, "workers.api.error.duplicate_route: a route with the same pattern already exists")
		}
	}
	return nil
}

// CreateRoute adds a route to a zone.
func (a *Account) CreateRoute(zoneID string, p RouteParams) (workerRoute, error) {
	var out workerRoute
	err := a.change(func() error {
		return a.onZone(zoneID, func(z *zone) error {
			if err := a.checkRoute(z, p, ""); err != nil {
				return err
			}
			r := &storedRoute{workerRoute: workerRoute{ID: newHexID(), Pattern: p.Pattern, Script: p.Script}, Zone: z.ID}
			a.st.Routes[r.ID] = r
			out = r.workerRoute
			return nil
		})
	})
	return out, err
}

// onRoute runs f on an existing route of an existing zone, under the lock the caller holds.
func (a *Account) onRoute(zoneID, routeID string, f func(*zone, *storedRoute) error) error {
	return a.onZone(zoneID, func(z *zone) error {
		r := a.st.Routes[routeID]
		if r == nil || r.Zone != z.ID {
			return refuse(http.StatusNotFound, 10005, "workers.api.error.route_not_found: route %s not found", routeID)
		}
		return f(z, r)
	})
}

// Route reads one route of a zone.
func (a *Account) Route(zoneID, routeID string) (workerRoute, error) {
	var out workerRoute
	err := a.viewErr(func() error {
		return a.onRoute(zoneID, routeID, func(_ *zone, r *storedRoute) error { out = r.workerRoute; return nil })
	})
	return out, err
}

// UpdateRoute replaces a route's pattern and script.
func (a *Account) UpdateRoute(zoneID, routeID string, p RouteParams) (workerRoute, error) {
	var out workerRoute
	err := a.change(func() error {
		return a.onRoute(zoneID, routeID, func(z *zone, r *storedRoute) error {
			if err := a.checkRoute(z, p, r.ID); err != nil {
				return err
			}
			r.Pattern, r.Script = p.Pattern, p.Script
			out = r.workerRoute
			return nil
		})
	})
	return out, err
}

// DeleteRoute removes a route from its zone.
func (a *Account) DeleteRoute(zoneID, routeID string) error {
	return a.change(func() error {
		return a.onRoute(zoneID, routeID, func(_ *zone, r *storedRoute) error { delete(a.st.Routes, r.ID); return nil })
	})
}

// Domains lists the custom domains, in hostname order, whose fields equal
// every non-empty value of filter (keys zone_id, zone_name, hostname,
// service, environment: the query parameters cloudflare-go sends).
func (a *Account) Domains(filter map[string]string) []workersDomain {
	out := []workersDomain{}
	a.view(func() {
		for _, d := range a.st.Domains {
			keep := true
			for param, v := range map[string]string{"zone_id": d.ZoneID, "zone_name": d.ZoneName, "hostname": d.Hostname, "service": d.Service, "environment": d.Environment} {
				if want := filter[param]; want != "" && want != v {
					keep = false
				}
			}
			if keep {
				out = append(out, *d)
			}
		}
	})
	slices.SortFunc(out, func(a, b workersDomain) int { return strings.Compare(a.Hostname, b.Hostname) })
	return out
}

// AttachDomain attaches a hostname to a worker; attaching a hostname again
// moves it, keeping its id, as Cloudflare's PUT does. The zone is named by
// ZoneID, or else by ZoneName; Environment defaults to production.
func (a *Account) AttachDomain(p workersDomain) (workersDomain, error) {
	var out workersDomain
	err := a.change(func() error {
		var z *zone
		for _, cand := range a.st.Zones {
			if (p.ZoneID != "" && cand.ID == p.ZoneID) || (p.ZoneID == "" && cand.Name == p.ZoneName) {
				z = cand
			}
		}
		switch {
		case p.Hostname == "" || p.Service == "":
			return refuse(http.StatusBadRequest, 100101, "hostname and service are required")
		case z == nil:
			return refuse(http.StatusNotFound, 7003, "Could not route to zone %q, perhaps your object identifier is invalid?", p.ZoneID+p.ZoneName)
		case !inZone(p.Hostname, z.Name):
			return refuse(http.StatusBadRequest, 100102, "hostname %q is not in zone %s", p.Hostname, z.Name)
		case a.st.Scripts[p.Service] == nil:
			return scriptNotFound(p.Service)
		}
		if p.Environment == "" {
			p.Environment = "production"
		}
		d := &workersDomain{ID: newHexID(), ZoneID: z.ID, ZoneName: z.Name, Hostname: p.Hostname, Service: p.Service, Environment: p.Environment}
		for _, old := range a.st.Domains {
			if old.Hostname == p.Hostname {
				d.ID = old.ID
			}
		}
		a.st.Domains[d.ID] = d
		out = *d
		return nil
	})
	return out, err
}

func domainNotFound(id string) error {
	return refuse(http.StatusNotFound, 100100, "domain %s not found", id)
}

// Domain reads one custom domain.
func (a *Account) Domain(id string) (workersDomain, error) {
	var out workersDomain
	err := a.viewErr(func() error {
		d := a.st.Domains[id]
		if d == nil {
			return domainNotFound(id)
		}
		out = *d
		return nil
	})
	return out, err
}

// DetachDomain removes a custom domain.
func (a *Account) DetachDomain(id string) error {
	return a.change(func() error {
		if a.st.Domains[id] == nil {
			return domainNotFound(id)
		}
		delete(a.st.Domains, id)
		return nil
	})
}

// Subdomain is the account's workers.dev subdomain.
func (a *Account) Subdomain() string { return a.subdomain }

// scriptSubdomainOf is the script's setting in its current life; off by default.
func (a *Account) scriptSubdomainOf(s *script) scriptSubdomain {
	if sd := a.st.Subdomains[s.Name]; sd != nil && sd.ScriptCreatedOn == s.CreatedOn {
		return *sd
	}
	return scriptSubdomain{ScriptCreatedOn: s.CreatedOn}
}

// ScriptSubdomain reads a script's workers.dev setting.
func (a *Account) ScriptSubdomain(name string) (scriptSubdomain, error) {
	var out scriptSubdomain
	err := a.readScript(name, func(s *script) { out = a.scriptSubdomainOf(s) })
	return out, err
}

// SetScriptSubdomain turns a script's workers.dev URL on or off. previews,
// when nil, follows enabled, as Cloudflare documents for an unset preview
// setting: turning workers.dev on without it turns preview URLs on too.
func (a *Account) SetScriptSubdomain(name string, enabled bool, previews *bool) (scriptSubdomain, error) {
	var out scriptSubdomain
	err := a.change(func() error {
		return a.onScript(name, func(s *script) error {
			sd := a.scriptSubdomainOf(s)
			sd.Enabled, sd.PreviewsEnabled = enabled, enabled
			if previews != nil {
				sd.PreviewsEnabled = *previews
			}
			a.st.Subdomains[s.Name] = &sd
			out = sd
			return nil
		})
	})
	return out, err
}

// HTTP handlers. Those that read a body look the zone (or route) up first,
// so that a missing one is 404 whatever the body holds.

func (e *Emulator) entryEndpoints() []endpoint {
	const acc = "/accounts/{account}"
	return []endpoint{
		{"GET", "/zones", e.zoneList},
		{"GET", "/zones/{zone}", e.zoneGet},
		{"GET", "/zones/{zone}/workers/routes", e.routeList},
		{"POST", "/zones/{zone}/workers/routes", e.routeCreate},
		{"GET", "/zones/{zone}/workers/routes/{route}", e.routeGet},
		{"PUT", "/zones/{zone}/workers/routes/{route}", e.routeUpdate},
		{"DELETE", "/zones/{zone}/workers/routes/{route}", e.routeDelete},

		{"GET", acc + "/workers/domains", e.domainList},
		{"PUT", acc + "/workers/domains", e.domainAttach},
		{"GET", acc + "/workers/domains/{domain}", e.domainGet},
		{"DELETE", acc + "/workers/domains/{domain}", e.domainDetach},

		{"GET", acc + "/workers/subdomain", e.accountSubdomain},
		{"GET", acc + "/workers/scripts/{script}/subdomain", e.scriptSubdomainGet},
		{"POST", acc + "/workers/scripts/{script}/subdomain", e.onScript(e.scriptSubdomainSet)},
	}
}

func (e *Emulator) zoneList(c *call) reply {
	q := c.r.URL.Query()
	page, info := paginate(c, e.acct.Zones(ZoneFilter{Name: q.Get("name"), AccountID: q.Get("account.id"), Status: q.Get("status")}), 20, 50)
	return okList(page, info)
}

func (e *Emulator) zoneGet(c *call) reply {
	return answer(e.acct.Zone(c.r.PathValue("zone")))
}

func (e *Emulator) routeList(c *call) reply {
	return answer(e.acct.Routes(c.r.PathValue("zone")))
}

func (e *Emulator) routeCreate(c *call) reply {
	if _, err := e.acct.Zone(c.r.PathValue("zone")); err != nil {
		return failWith(err)
	}
	var p RouteParams
	if rp, ok := c.decode(&p); !ok {
		return rp
	}
	return answer(e.acct.CreateRoute(c.r.PathValue("zone"), p))
}

func (e *Emulator) routeGet(c *call) reply {
	return answer(e.acct.Route(c.r.PathValue("zone"), c.r.PathValue("route")))
}

func (e *Emulator) routeUpdate(c *call) reply {
	if _, err := e.acct.Route(c.r.PathValue("zone"), c.r.PathValue("route")); err != nil {
		return failWith(err)
	}
	var p RouteParams
	if rp, ok := c.decode(&p); !ok {
		return rp
	}
	return answer(e.acct.UpdateRoute(c.r.PathValue("zone"), c.r.PathValue("route"), p))
}

func (e *Emulator) routeDelete(c *call) reply {
	id := c.r.PathValue("route")
	if err := e.acct.DeleteRoute(c.r.PathValue("zone"), id); err != nil {
		return failWith(err)
	}
	return ok(map[string]string{"id": id})
}

func (e *Emulator) domainList(c *call) reply {
	q := c.r.URL.Query()
	filter := map[string]string{}
	for _, param := range []string{"zone_id", "zone_name", "hostname", "service", "environment"} {
		filter[param] = q.Get(param)
	}
	return ok(e.acct.Domains(filter))
}

func (e *Emulator) domainAttach(c *call) reply {
	var p workersDomain
	if rp, ok := c.decode(&p); !ok {
		return rp
	}
	return answer(e.acct.AttachDomain(p))
}

func (e *Emulator) domainGet(c *call) reply {
	return answer(e.acct.Domain(c.r.PathValue("domain")))
}

func (e *Emulator) domainDetach(c *call) reply {
	return done(e.acct.DetachDomain(c.r.PathValue("domain")))
}

func (e *Emulator) accountSubdomain(*call) reply {
	return ok(map[string]string{"subdomain": e.acct.Subdomain()})
}

func subdomainView(sd scriptSubdomain) map[string]bool {
	return map[string]bool{"enabled": sd.Enabled, "previews_enabled": sd.PreviewsEnabled}
}

func (e *Emulator) scriptSubdomainGet(c *call) reply {
	sd, err := e.acct.ScriptSubdomain(c.r.PathValue("script"))
	if err != nil {
		return failWith(err)
	}
	return ok(subdomainView(sd))
}

// scriptSubdomainSet needs enabled; previews_enabled is optional.
func (e *Emulator) scriptSubdomainSet(c *call, name string) reply {
	var p struct {
		Enabled         *bool `json:"enabled"`
		PreviewsEnabled *bool `json:"previews_enabled"`
	}
	if rp, ok := c.decode(&p); !ok {
		return rp
	}
	if p.Enabled == nil {
		return fail(http.StatusBadRequest, 10021, "enabled is required")
	}
	sd, err := e.acct.SetScriptSubdomain(name, *p.Enabled, p.PreviewsEnabled)
	if err != nil {
		return failWith(err)
	}
	return ok(subdomainView(sd))
}
