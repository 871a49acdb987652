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
// each script.

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
func (e *Emulator) seedZones(names []string) {
	for _, name := range names {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		id := zoneID(name)
		if _, ok := e.st.Zones[id]; ok {
			continue
		}
		z := &zone{ID: id, Name: name, Status: "active", Type: "full",
			NameServers: []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"},
			CreatedOn:   now()}
		z.ModifiedOn, z.ActivatedOn = z.CreatedOn, z.CreatedOn
		z.Account.ID, z.Account.Name = e.cfg.AccountID, accountName
		z.Plan.ID, z.Plan.Name = "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "Free Website"
		e.st.Zones[id] = z
	}
}

func (e *Emulator) entryEndpoints() []endpoint {
	const acc = "/accounts/{account}"
	return []endpoint{
		{"GET", "/zones", e.zoneList},
		{"GET", "/zones/{zone}", e.onZone(e.zoneGet)},
		{"GET", "/zones/{zone}/workers/routes", e.onZone(e.routeList)},
		{"POST", "/zones/{zone}/workers/routes", e.onZone(e.routeCreate)},
		{"GET", "/zones/{zone}/workers/routes/{route}", e.onZone(e.routeGet)},
		{"PUT", "/zones/{zone}/workers/routes/{route}", e.onZone(e.routeUpdate)},
		{"DELETE", "/zones/{zone}/workers/routes/{route}", e.onZone(e.routeDelete)},

		{"GET", acc + "/workers/domains", e.domainList},
		{"PUT", acc + "/workers/domains", e.domainAttach},
		{"GET", acc + "/workers/domains/{domain}", e.domainGet},
		{"DELETE", acc + "/workers/domains/{domain}", e.domainDetach},

		{"GET", acc + "/workers/subdomain", e.accountSubdomain},
		{"GET", acc + "/workers/scripts/{script}/subdomain", e.onScript(e.scriptSubdomainGet)},
		{"POST", acc + "/workers/scripts/{script}/subdomain", e.onScript(e.scriptSubdomainSet)},
	}
}

// zoneList filters by name (exact, or "contains:", "starts_with:",
// "ends_with:" as Cloudflare allows), account.id and status, and pages at
// 20 a page by default, 50 at most.
func (e *Emulator) zoneList(c *call) reply {
	q := c.r.URL.Query()
	match := func(string) bool { return true }
	if n := strings.ToLower(q.Get("name")); n != "" {
		op, arg, found := strings.Cut(n, ":")
		switch {
		case found && op == "contains":
			match = func(s string) bool { return strings.Contains(s, arg) }
		case found && op == "starts_with":
			match = func(s string) bool { return strings.HasPrefix(s, arg) }
		case found && op == "ends_with":
			match = func(s string) bool { return strings.HasSuffix(s, arg) }
		default:
			match = func(s string) bool { return s == n }
		}
	}
	var out []*zone
	for _, z := range inOrder(e.st.Zones, func(z *zone) string { return z.CreatedOn }) {
		if !match(z.Name) ||
			(q.Get("account.id") != "" && q.Get("account.id") != z.Account.ID) ||
			(q.Get("status") != "" && q.Get("status") != z.Status) {
			continue
		}
		out = append(out, z)
	}
	page, info := paginate(c, out, 20, 50)
	return okList(page, info)
}

// onZone looks the zone up; an id the account does not have is an
// identifier Cloudflare cannot route.
func (e *Emulator) onZone(h func(*call, *zone) reply) func(*call) reply {
	return func(c *call) reply {
		z := e.st.Zones[c.r.PathValue("zone")]
		if z == nil {
			return fail(http.StatusNotFound, 7003, "Could not route to %s, perhaps your object identifier is invalid?", c.r.URL.Path)
		}
		return h(c, z)
	}
}

func (e *Emulator) zoneGet(_ *call, z *zone) reply { return ok(z) }

// inZone reports whether host is the zone or a name under it.
func inZone(host, zone string) bool {
	return host == zone || strings.HasSuffix(host, "."+zone)
}

// routeHost is the host a pattern matches, without a leading wildcard.
func routeHost(pattern string) string {
	host, _, _ := strings.Cut(pattern, "/")
	return strings.TrimPrefix(strings.TrimPrefix(host, "*"), ".")
}

func (e *Emulator) zoneRoutes(z *zone) []*storedRoute {
	var out []*storedRoute
	for _, r := range e.st.Routes {
		if r.Zone == z.ID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *storedRoute) int { return strings.Compare(a.Pattern, b.Pattern) })
	return out
}

// routeList answers the whole list in one page, as Cloudflare does.
func (e *Emulator) routeList(_ *call, z *zone) reply {
	out := []workerRoute{}
	for _, r := range e.zoneRoutes(z) {
		out = append(out, r.workerRoute)
	}
	return ok(out)
}

type routeParams struct {
	Pattern string `json:"pattern"`
	Script  string `json:"script"`
}

// checkRoute applies Cloudflare's checks: a pattern in the zone, a script
// that exists, one route per pattern.
func (e *Emulator) checkRoute(z *zone, p routeParams, self string) (reply, bool) {
	switch {
	case p.Pattern == "":
		return fail(http.StatusBadRequest, 10021, "workers.api.error.invalid_route_pattern: pattern is required"), false
	case !strings.Contains(p.Pattern, "/") || !inZone(routeHost(p.Pattern), z.Name):
		return fail(http.StatusBadRequest, 10022, "workers.api.error.invalid_route_pattern: pattern %q does not match zone %s", p.Pattern, z.Name), false
	case p.Script != "" && e.st.Scripts[p.Script] == nil:
		return scriptNotFound(p.Script), false
	}
	for _, r := range e.zoneRoutes(z) {
		if r.Pattern == p.Pattern && r.ID != self {
			return fail(http.StatusConflict, 10020, "workers.api.error.duplicate_route: a route with the same pattern already exists"), false
		}
	}
	return reply{}, true
}

func (e *Emulator) routeCreate(c *call, z *zone) reply {
	var p routeParams
	if rp, ok := c.decode(&p); !ok {
		return rp
	}
	if rp, ok := e.checkRoute(z, p, ""); !ok {
		return rp
	}
	r := &storedRoute{workerRoute: workerRoute{ID: newHexID(), Pattern: p.Pattern, Script: p.Script}, Zone: z.ID}
	e.st.Routes[r.ID] = r
	return ok(r.workerRoute)
}

func (e *Emulator) route(c *call, z *zone) (*storedRoute, reply) {
	r := e.st.Routes[c.r.PathValue("route")]
	if r == nil || r.Zone != z.ID {
		return nil, fail(http.StatusNotFound, 10005, "workers.api.error.route_not_found: route %s not found", c.r.PathValue("route"))
	}
	return r, reply{}
}

func (e *Emulator) routeGet(c *call, z *zone) reply {
	r, rp := e.route(c, z)
	if r == nil {
		return rp
	}
	return ok(r.workerRoute)
}

func (e *Emulator) routeUpdate(c *call, z *zone) reply {
	r, rp := e.route(c, z)
	if r == nil {
		return rp
	}
	var p routeParams
	if rp, ok := c.decode(&p); !ok {
		return rp
	}
	if rp, ok := e.checkRoute(z, p, r.ID); !ok {
		return rp
	}
	r.Pattern, r.Script = p.Pattern, p.Script
	return ok(r.workerRoute)
}

func (e *Emulator) routeDelete(c *call, z *zone) reply {
	r, rp := e.route(c, z)
	if r == nil {
		return rp
	}
	delete(e.st.Routes, r.ID)
	return ok(map[string]string{"id": r.ID})
}

// domainList filters by the query parameters cloudflare-go sends.
func (e *Emulator) domainList(c *call) reply {
	q := c.r.URL.Query()
	out := []*workersDomain{}
	for _, d := range e.domains() {
		keep := true
		for param, v := range map[string]string{"zone_id": d.ZoneID, "zone_name": d.ZoneName, "hostname": d.Hostname, "service": d.Service, "environment": d.Environment} {
			if want := q.Get(param); want != "" && want != v {
				keep = false
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	return ok(out)
}

func (e *Emulator) domains() []*workersDomain {
	out := make([]*workersDomain, 0, len(e.st.Domains))
	for _, d := range e.st.Domains {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *workersDomain) int { return strings.Compare(a.Hostname, b.Hostname) })
	return out
}

// domainAttach attaches a hostname to a worker; attaching a hostname again
// moves it, keeping its id, as Cloudflare's PUT does.
func (e *Emulator) domainAttach(c *call) reply {
	var p workersDomain
	if rp, ok := c.decode(&p); !ok {
		return rp
	}
	var z *zone
	for _, cand := range e.st.Zones {
		if (p.ZoneID != "" && cand.ID == p.ZoneID) || (p.ZoneID == "" && cand.Name == p.ZoneName) {
			z = cand
		}
	}
	switch {
	case p.Hostname == "" || p.Service == "":
		return fail(http.StatusBadRequest, 100101, "hostname and service are required")
	case z == nil:
		return fail(http.StatusNotFound, 7003, "Could not route to zone %q, perhaps your object identifier is invalid?", p.ZoneID+p.ZoneName)
	case !inZone(p.Hostname, z.Name):
		return fail(http.StatusBadRequest, 100102, "hostname %q is not in zone %s", p.Hostname, z.Name)
	case e.st.Scripts[p.Service] == nil:
		return scriptNotFound(p.Service)
	}
	if p.Environment == "" {
		p.Environment = "production"
	}
	d := &workersDomain{ID: newHexID(), ZoneID: z.ID, ZoneName: z.Name, Hostname: p.Hostname, Service: p.Service, Environment: p.Environment}
	for _, old := range e.st.Domains {
		if old.Hostname == p.Hostname {
			d.ID = old.ID
		}
	}
	e.st.Domains[d.ID] = d
	return ok(d)
}

func (e *Emulator) domainGet(c *call) reply {
	d := e.st.Domains[c.r.PathValue("domain")]
	if d == nil {
		return domainNotFound(c.r.PathValue("domain"))
	}
	return ok(d)
}

func (e *Emulator) domainDetach(c *call) reply {
	if e.st.Domains[c.r.PathValue("domain")] == nil {
		return domainNotFound(c.r.PathValue("domain"))
	}
	delete(e.st.Domains, c.r.PathValue("domain"))
	return ok(nil)
}

func domainNotFound(id string) reply {
	return fail(http.StatusNotFound, 100100, "domain %s not found", id)
}

func (e *Emulator) accountSubdomain(*call) reply {
	return ok(map[string]string{"subdomain": e.subdomain()})
}

func (e *Emulator) subdomain() string {
	if e.cfg.Subdomain != "" {
		return e.cfg.Subdomain
	}
	return DefaultSubdomain
}

// scriptSubdomainOf is the script's setting in its current life; off by default.
func (e *Emulator) scriptSubdomainOf(s *script) scriptSubdomain {
	if sd := e.st.Subdomains[s.Name]; sd != nil && sd.ScriptCreatedOn == s.CreatedOn {
		return *sd
	}
	return scriptSubdomain{ScriptCreatedOn: s.CreatedOn}
}

func subdomainView(sd scriptSubdomain) map[string]bool {
	return map[string]bool{"enabled": sd.Enabled, "previews_enabled": sd.PreviewsEnabled}
}

func (e *Emulator) scriptSubdomainGet(_ *call, s *script) reply {
	return ok(subdomainView(e.scriptSubdomainOf(s)))
}

// scriptSubdomainSet needs enabled. previews_enabled, when left out,
// follows enabled, as Cloudflare documents for an unset preview setting:
// turning workers.dev on without it turns public preview URLs on too.
func (e *Emulator) scriptSubdomainSet(c *call, s *script) reply {
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
	sd := e.scriptSubdomainOf(s)
	sd.Enabled, sd.PreviewsEnabled = *p.Enabled, *p.Enabled
	if p.PreviewsEnabled != nil {
		sd.PreviewsEnabled = *p.PreviewsEnabled
	}
	e.st.Subdomains[s.Name] = &sd
	return ok(subdomainView(sd))
}
