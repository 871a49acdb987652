package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Route sends the requests matching Pattern, in the zone named Zone, to the
// worker. The zone is named, not given by id: the program looks its id up in
// the account at preview.
type Route struct {
	Pattern string `json:"pattern"`
	Zone    string `json:"zone"`
}

// CustomDomain makes the worker the origin of Hostname, in the zone named Zone.
type CustomDomain struct {
	Hostname string `json:"hostname"`
	Zone     string `json:"zone"`
}

// HasEntryPoints reports whether any worker has a route or a custom domain,
// and so whether the program needs the account's zones.
func (t Topology) HasEntryPoints() bool {
	return slices.ContainsFunc(t.Workers, func(w Worker) bool {
		return len(w.Routes) > 0 || len(w.CustomDomains) > 0
	})
}

// Zones lists the zones the workers' routes and custom domains name, sorted.
func (t Topology) Zones() []string {
	set := map[string]bool{}
	for _, w := range t.Workers {
		for _, r := range w.Routes {
			set[r.Zone] = true
		}
		for _, d := range w.CustomDomains {
			set[d.Zone] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// overridable maps each worker field a stack may override under
// dome:workers to how to write it. docs/overrides.md says
// how each combines with Pulumi.yaml.
var overridable = map[string]string{
	"vars":          "{FEATURE_FLAG: \"on\"}",
	"workersDev":    "true",
	"previewUrls":   "false",
	"routes":        "[{pattern: api.dome.example/*, zone: dome.example}]",
	"customDomains": "[{hostname: api.dome.example, zone: dome.example}]",
	"crons":         "[\"*/5 * * * *\"]",
	"placement":     "smart",
	"logpush":       "true",
}

// applyOverrides applies dome:workers, the stack's per-worker overrides, to
// the topology: {<worker>: {<field>: value}}. Workers and fields are checked
// by name, so a typo is an error rather than a setting silently ignored;
// workers only when the whole topology was read, since one that failed to
// decode is missing rather than undeclared.
func (c *Config) applyOverrides(raw string, topologyRead bool) Problems {
	var ps Problems
	const form = "write it as {<worker>: {<field>: value}}, e.g. {dome-api: {workersDev: true}}"
	n, err := parseJSON(raw)
	if err != nil {
		ps.add(key(KeyWorkers), "is not a valid value (%v); %s", err, form)
		return ps
	}
	if n.kind != kindObject {
		ps.add(key(KeyWorkers), "must be a mapping of workers to their overridden fields, not %s; %s", n.describe(), form)
		return ps
	}
	byWorker := map[string]map[string]*node{}
	for _, w := range n.members {
		if w.value.kind != kindObject {
			ps.add(key(KeyWorkers)+"."+w.name, "must be a mapping of fields to their values, not %s; %s", w.value.describe(), form)
			continue
		}
		byWorker[w.name] = map[string]*node{}
		for _, f := range w.value.members {
			byWorker[w.name][f.name] = f.value
		}
	}
	declared := make([]string, len(c.Topology.Workers))
	for i, w := range c.Topology.Workers {
		declared[i] = w.Name
	}
	fields := slices.Sorted(maps.Keys(overridable))
	c.overridden = map[string]map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(byWorker)) {
		wk := key(KeyWorkers) + "." + name
		i := slices.Index(declared, name)
		if i < 0 {
			if topologyRead {
				slices.Sort(declared)
				ps.add(wk, "worker %q is not declared in Pulumi.yaml; override one of %s, by its logical name", name, strings.Join(declared, ", "))
			}
			continue
		}
		w := &c.Topology.Workers[i]
		set := map[string]bool{}
		c.overridden[name] = set
		for _, field := range slices.Sorted(maps.Keys(byWorker[name])) {
			value := byWorker[name][field]
			fk := wk + "." + field
			example, ok := overridable[field]
			if !ok {
				ps.add(fk, "%q cannot be overridden per stack; a stack may override only %s (everything else is declared once in Pulumi.yaml)", field, strings.Join(fields, ", "))
				continue
			}
			if bad := w.override(field, fk, value, set); len(bad) > 0 {
				for _, p := range bad {
					p.Message += "; for example " + example
					ps = append(ps, p)
				}
				continue
			}
			set[field] = true
		}
	}
	return ps
}

// override decodes one overridden field, at key, into w, noting the vars it
// sets. Problems name the key and the value as the rest of the topology's
// do, and a field that has any leaves w as it was.
func (w *Worker) override(field, key string, value *node, set map[string]bool) Problems {
	switch field {
	case "vars":
		var vars map[string]string
		if ps := assign(&vars, key, value); len(ps) > 0 {
			return ps
		}
		if w.Vars == nil {
			w.Vars = map[string]string{}
		}
		for k, v := range vars {
			w.Vars[k] = v
			set["vars."+k] = true
		}
		return nil
	case "workersDev":
		return assign(&w.WorkersDev, key, value)
	case "previewUrls":
		return assign(&w.PreviewURLs, key, value)
	case "routes":
		return assign(&w.Routes, key, value)
	case "customDomains":
		return assign(&w.CustomDomains, key, value)
	case "crons":
		return assign(&w.Crons, key, value)
	case "placement":
		return assign(&w.Placement, key, value)
	case "logpush":
		return assign(&w.Logpush, key, value)
	}
	var ps Problems
	ps.add(key, "no such field")
	return ps
}

// assign sets *dst to value, decoded whole, or leaves it and says why.
func assign[T any](dst *T, key string, value *node) Problems {
	var v T
	if ps := decodeNode(value, key, &v); len(ps) > 0 {
		return ps
	}
	*dst = v
	return nil
}

// FieldKey is the key a problem in a worker's field is reported under: the
// stack's override when it set the field, else the topology's.
func (c *Config) FieldKey(worker, field string) string {
	if c.overridden[worker][field] {
		return key(KeyWorkers) + "." + worker + "." + field
	}
	return workerKey(worker) + "." + field
}

// Overridden lists the fields of worker that this stack's overrides set.
func (c *Config) Overridden(worker string) []string {
	var out []string
	for f := range c.overridden[worker] {
		if _, ok := overridable[f]; ok {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

var (
	zoneName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	hostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// inZone reports whether host is the zone itself or a name under it.
func inZone(host, zone string) bool {
	return host == zone || strings.HasSuffix(host, "."+zone)
}

// validateEntryPoints checks every worker's routes and custom domains, and
// that no route pattern or hostname is claimed twice: Cloudflare sends a
// request to one worker only.
func (c *Config) validateEntryPoints(ps *Problems) {
	routes := map[string]string{}  // pattern -> worker
	domains := map[string]string{} // hostname -> worker
	for _, w := range c.Topology.Workers {
		for i, r := range w.Routes {
			rk := fmt.Sprintf("%s[%d]", c.FieldKey(w.Name, "routes"), i)
			zoneOK := checkZone(ps, rk, r.Zone)
			host, path, hasPath := strings.Cut(r.Pattern, "/")
			switch {
			case r.Pattern == "":
				ps.add(rk+".pattern", "is empty; give the route pattern, e.g. api.%s/*", orExample(r.Zone))
				continue
			case strings.Contains(r.Pattern, "://"):
				ps.add(rk+".pattern", "%q has a scheme; Cloudflare route patterns match both http and https, so write it without one, e.g. %s", r.Pattern, r.Pattern[strings.Index(r.Pattern, "://")+3:])
			case !hasPath:
				ps.add(rk+".pattern", "%q has no path; a route pattern is host/path, e.g. %s/*", r.Pattern, r.Pattern)
			case strings.Contains(r.Pattern, "?"):
				ps.add(rk+".pattern", "%q has a query string, which route patterns cannot match; remove it", r.Pattern)
			case misplacedWildcard(host, path) != "":
				ps.add(rk+".pattern", "%q has a * inside its %s, which Cloudflare refuses: a route pattern may have a wildcard only at the start of the hostname (*.%s/... or *%s/...) and at the end of the path (.../api/*); write %s and tell the requests apart in the worker's code",
					r.Pattern, misplacedWildcard(host, path), orExample(r.Zone), orExample(r.Zone), widened(host, path))
			case zoneOK && !inZone(strings.TrimPrefix(strings.TrimPrefix(host, "*"), "."), r.Zone):
				ps.add(rk+".pattern", "%q is outside zone %q; a route's host must be the zone or a name under it, e.g. api.%s/*", r.Pattern, r.Zone, r.Zone)
			}
			if other, taken := routes[r.Pattern]; taken {
				ps.add(rk+".pattern", "%q is already routed to worker %q; a request goes to one worker, so remove one of the two routes", r.Pattern, other)
			} else {
				routes[r.Pattern] = w.Name
			}
		}
		for i, d := range w.CustomDomains {
			dk := fmt.Sprintf("%s[%d]", c.FieldKey(w.Name, "customDomains"), i)
			zoneOK := checkZone(ps, dk, d.Zone)
			switch {
			case d.Hostname == "":
				ps.add(dk+".hostname", "is empty; give the hostname the worker serves, e.g. api.%s", orExample(d.Zone))
				continue
			case !hostName.MatchString(d.Hostname):
				ps.add(dk+".hostname", "%q is not a hostname; give a lowercase name without scheme, path or wildcard, e.g. api.%s", d.Hostname, orExample(d.Zone))
			case zoneOK && !inZone(d.Hostname, d.Zone):
				ps.add(dk+".hostname", "%q is outside zone %q; a custom domain must be the zone or a name under it, e.g. api.%s", d.Hostname, d.Zone, d.Zone)
			}
			if other, taken := domains[d.Hostname]; taken {
				ps.add(dk+".hostname", "%q is already the custom domain of worker %q; a hostname has one worker, so remove one of the two", d.Hostname, other)
			} else {
				domains[d.Hostname] = w.Name
			}
		}
	}
}

// misplacedWildcard names the part of a route pattern, split at its first
// slash, that holds a * where Cloudflare accepts none: only the hostname's
// first character and the path's last may be one.
func misplacedWildcard(host, path string) string {
	switch {
	case strings.Contains(strings.TrimPrefix(host, "*"), "*"):
		return "hostname"
	case strings.Contains(strings.TrimSuffix(path, "*"), "*"):
		return "path"
	}
	return ""
}

// widened is the nearest pattern Cloudflare accepts that still matches
// every request the refused one meant: the hostname from its last * on,
// the path up to its first.
func widened(host, path string) string {
	if i := strings.LastIndexByte(host, '*'); i > 0 {
		host = "*" + host[i+1:]
	}
	if i := strings.IndexByte(path, '*'); i >= 0 {
		path = path[:i+1]
	}
	return host + "/" + path
}

// checkZone checks a zone name and reports whether it is usable.
func checkZone(ps *Problems, k, zone string) bool {
	switch {
	case zone == "":
		ps.add(k+".zone", "is empty; name the Cloudflare zone (the domain, e.g. dome.example) the entry point belongs to")
	case !zoneName.MatchString(zone):
		ps.add(k+".zone", "%q is not a zone name; give the zone's domain in lowercase, e.g. dome.example", zone)
	default:
		return true
	}
	return false
}

func orExample(zone string) string {
	if zone == "" || !zoneName.MatchString(zone) {
		return "dome.example"
	}
	return zone
}
