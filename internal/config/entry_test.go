package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func problems(t *testing.T, err error) []string {
	t.Helper()
	var ps Problems
	require.True(t, errors.As(err, &ps), "want Problems, got %v", err)
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.Key + ": " + p.Message
	}
	return got
}

func TestEntryPoints(t *testing.T) {
	v := fixture(t)
	editTopology(t, v, func(tp *Topology) {
		a := worker(tp, "api")
		a.WorkersDev = true
		a.Routes = []Route{{Pattern: "api.dome.example/*", Zone: "dome.example"}, {Pattern: "*dome.example/v1/*", Zone: "dome.example"}}
		a.CustomDomains = []CustomDomain{{Hostname: "dome.example", Zone: "dome.example"}}
	})
	c, err := Load(v, goodEnv)
	require.NoError(t, err)
	api := c.Topology.Workers[0]
	require.True(t, api.WorkersDev)
	require.Len(t, api.Routes, 2)
	require.True(t, c.Topology.HasEntryPoints())
	require.Equal(t, []string{"dome.example"}, c.Topology.Zones())
	require.False(t, c.Topology.Workers[1].WorkersDev, "workers.dev is off unless asked for, as Cloudflare's API defaults")
	require.False(t, api.PreviewURLs, "preview URLs are off unless asked for, even on workers.dev")
}

func TestEntryPointValidation(t *testing.T) {
	tests := []struct {
		name string
		topo func(*Topology)
		want []string
	}{
		{
			name: "outside the zone",
			topo: func(tp *Topology) {
				a := worker(tp, "api")
				a.Routes = []Route{{Pattern: "api.dome.other/*", Zone: "dome.example"}, {Pattern: "notdome.example/*", Zone: "dome.example"}}
				a.CustomDomains = []CustomDomain{{Hostname: "api.dome.other", Zone: "dome.example"}}
			},
			want: []string{
				`dome:topology.workers[api].routes[0].pattern: "api.dome.other/*" is outside zone "dome.example"; a route's host must be the zone or a name under it, e.g. api.dome.example/*`,
				`dome:topology.workers[api].routes[1].pattern: "notdome.example/*" is outside zone "dome.example"; a route's host must be the zone or a name under it, e.g. api.dome.example/*`,
				`dome:topology.workers[api].customDomains[0].hostname: "api.dome.other" is outside zone "dome.example"; a custom domain must be the zone or a name under it, e.g. api.dome.example`,
			},
		},
		{
			name: "malformed patterns, hostnames and zones",
			topo: func(tp *Topology) {
				a := worker(tp, "api")
				a.Routes = []Route{
					{Pattern: "https://api.dome.example/*", Zone: "dome.example"},
					{Pattern: "api.dome.example", Zone: "dome.example"},
					{Pattern: "api.dome.example/*?x=1", Zone: "dome.example"},
					{Pattern: "", Zone: "Dome.Example"},
				}
				a.CustomDomains = []CustomDomain{{Hostname: "*.dome.example", Zone: "dome.example"}, {Hostname: "api.dome.example"}}
			},
			want: []string{
				`dome:topology.workers[api].routes[0].pattern: "https://api.dome.example/*" has a scheme; Cloudflare route patterns match both http and https, so write it without one, e.g. api.dome.example/*`,
				`dome:topology.workers[api].routes[1].pattern: "api.dome.example" has no path; a route pattern is host/path, e.g. api.dome.example/*`,
				`dome:topology.workers[api].routes[2].pattern: "api.dome.example/*?x=1" has a query string, which route patterns cannot match; remove it`,
				`dome:topology.workers[api].routes[3].zone: "Dome.Example" is not a zone name; give the zone's domain in lowercase, e.g. dome.example`,
				`dome:topology.workers[api].routes[3].pattern: is empty; give the route pattern, e.g. api.dome.example/*`,
				`dome:topology.workers[api].customDomains[0].hostname: "*.dome.example" is not a hostname; give a lowercase name without scheme, path or wildcard, e.g. api.dome.example`,
				`dome:topology.workers[api].customDomains[1].zone: is empty; name the Cloudflare zone (the domain, e.g. dome.example) the entry point belongs to`,
			},
		},
		{
			name: "wildcards where Cloudflare accepts none",
			topo: func(tp *Topology) {
				worker(tp, "api").Routes = []Route{
					{Pattern: "dome.example/*/api", Zone: "dome.example"},
					{Pattern: "api.*.dome.example/v1/*", Zone: "dome.example"},
					{Pattern: "dome.example/img/*.jpg", Zone: "dome.example"},
					{Pattern: "**dome.example/*", Zone: "dome.example"},
					{Pattern: "*.dome.example/api*", Zone: "dome.example"}, // both wildcards where they belong
					{Pattern: "*dome.example/*", Zone: "dome.example"},
				}
			},
			want: []string{
				`dome:topology.workers[api].routes[0].pattern: "dome.example/*/api" has a * inside its path, which Cloudflare refuses: a route pattern may have a wildcard only at the start of the hostname (*.dome.example/... or *dome.example/...) and at the end of the path (.../api/*); write dome.example/* and tell the requests apart in the worker's code`,
				`dome:topology.workers[api].routes[1].pattern: "api.*.dome.example/v1/*" has a * inside its hostname, which Cloudflare refuses: a route pattern may have a wildcard only at the start of the hostname (*.dome.example/... or *dome.example/...) and at the end of the path (.../api/*); write *.dome.example/v1/* and tell the requests apart in the worker's code`,
				`dome:topology.workers[api].routes[2].pattern: "dome.example/img/*.jpg" has a * inside its path, which Cloudflare refuses: a route pattern may have a wildcard only at the start of the hostname (*.dome.example/... or *dome.example/...) and at the end of the path (.../api/*); write dome.example/img/* and tell the requests apart in the worker's code`,
				`dome:topology.workers[api].routes[3].pattern: "**dome.example/*" has a * inside its hostname, which Cloudflare refuses: a route pattern may have a wildcard only at the start of the hostname (*.dome.example/... or *dome.example/...) and at the end of the path (.../api/*); write *dome.example/* and tell the requests apart in the worker's code`,
			},
		},
		{
			name: "two workers on one route or hostname",
			topo: func(tp *Topology) {
				worker(tp, "api").Routes = []Route{{Pattern: "dome.example/*", Zone: "dome.example"}}
				worker(tp, "api").CustomDomains = []CustomDomain{{Hostname: "api.dome.example", Zone: "dome.example"}}
				worker(tp, "store").Routes = []Route{{Pattern: "dome.example/*", Zone: "dome.example"}}
				worker(tp, "store").CustomDomains = []CustomDomain{{Hostname: "api.dome.example", Zone: "dome.example"}}
			},
			want: []string{
				`dome:topology.workers[store].routes[0].pattern: "dome.example/*" is already routed to worker "api"; a request goes to one worker, so remove one of the two routes`,
				`dome:topology.workers[store].customDomains[0].hostname: "api.dome.example" is already the custom domain of worker "api"; a hostname has one worker, so remove one of the two`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := fixture(t)
			editTopology(t, v, tt.topo)
			c, err := Load(v, goodEnv)
			require.Nil(t, c)
			require.Equal(t, tt.want, problems(t, err))
		})
	}
}

func TestOverrides(t *testing.T) {
	v := fixture(t)
	v.Config["dome:workers"] = `{
		"api": {"workersDev": true, "previewUrls": true, "vars": {"MODE": "stack"}, "routes": [{"pattern": "api.dome.example/*", "zone": "dome.example"}],
		        "customDomains": [{"hostname": "app.dome.example", "zone": "dome.example"}], "placement": "smart", "logpush": true, "crons": ["0 1 * * *"]},
		"store": {"crons": []}
	}`
	editTopology(t, v, func(tp *Topology) {
		worker(tp, "api").Vars = map[string]string{"VERSION": "1", "MODE": "base"}
		worker(tp, "store").Crons = []string{"*/5 * * * *"}
	})
	c, err := Load(v, goodEnv)
	require.NoError(t, err)
	api, store := c.Topology.Workers[0], c.Topology.Workers[1]
	require.True(t, api.WorkersDev)
	require.True(t, api.PreviewURLs)
	require.False(t, store.PreviewURLs)
	require.Equal(t, map[string]string{"VERSION": "1", "MODE": "stack"}, api.Vars, "vars merge key by key")
	require.Equal(t, []Route{{Pattern: "api.dome.example/*", Zone: "dome.example"}}, api.Routes)
	require.Equal(t, []CustomDomain{{Hostname: "app.dome.example", Zone: "dome.example"}}, api.CustomDomains)
	require.Equal(t, "smart", api.Placement)
	require.True(t, api.Logpush)
	require.Equal(t, []string{"0 1 * * *"}, api.Crons)
	require.Empty(t, store.Crons, "an empty list clears the topology's")
	require.Equal(t, []string{"crons", "customDomains", "logpush", "placement", "previewUrls", "routes", "vars", "workersDev"}, c.Overridden("api"))
	require.Empty(t, c.Overridden("worker"))
}

func TestOverrideValidation(t *testing.T) {
	tests := []struct {
		name, overrides string
		topology        func(string) string // edits the topology's JSON
		want            []string
	}{
		{
			name:      "unknown worker and field",
			overrides: `{"dome-api": {"workersDev": true}, "api": {"bindings": [], "workerDev": true}}`,
			want: []string{
				`dome:workers.api.bindings: "bindings" cannot be overridden per stack; a stack may override only crons, customDomains, logpush, placement, previewUrls, routes, vars, workersDev (everything else is declared once in Pulumi.yaml)`,
				`dome:workers.api.workerDev: "workerDev" cannot be overridden per stack; a stack may override only crons, customDomains, logpush, placement, previewUrls, routes, vars, workersDev (everything else is declared once in Pulumi.yaml)`,
				`dome:workers.dome-api: worker "dome-api" is not declared in Pulumi.yaml; override one of api, store, worker, by its logical name`,
			},
		},
		{
			name:      "wrong shapes",
			overrides: `{"api": {"workersDev": "yes", "previewUrls": "off", "routes": {"pattern": "x"}}}`,
			want: []string{
				`dome:workers.api.previewUrls: must be true or false, not the text "off"; write true or false without quotes; for example false`,
				`dome:workers.api.routes: must be a list, not a mapping; write it as [a, b] or as lines starting with "- "; for example [{pattern: api.dome.example/*, zone: dome.example}]`,
				`dome:workers.api.workersDev: must be true or false, not the text "yes"; write true or false without quotes; for example true`,
			},
		},
		{
			name:      "a misspelt field inside a route, and a worker that is not a mapping",
			overrides: `{"api": {"routes": [{"patern": "api.dome.example/*", "zone": "dome.example"}]}, "store": true}`,
			want: []string{
				`dome:workers.store: must be a mapping of fields to their values, not the boolean true; write it as {<worker>: {<field>: value}}, e.g. {dome-api: {workersDev: true}}`,
				`dome:workers.api.routes[0].patern: unknown field "patern"; did you mean "pattern"?; for example [{pattern: api.dome.example/*, zone: dome.example}]`,
			},
		},
		{
			name:      "not an object",
			overrides: `["api"]`,
			want: []string{
				`dome:workers: must be a mapping of workers to their overridden fields, not a list; write it as {<worker>: {<field>: value}}, e.g. {dome-api: {workersDev: true}}`,
			},
		},
		{
			name:      "a mistyped topology field does not hide the overrides' problems",
			overrides: `{"api": {"crons": ["every hour"]}}`,
			topology: func(topo string) string {
				return strings.Replace(topo, `"compatibilityDate":"2025-04-15"`, `"compatibilityDate":20250415`, 1)
			},
			want: []string{
				`dome:topology.workers[api].compatibilityDate: must be text, not the number 20250415; quote it: "20250415"`,
				`dome:workers.api.crons[0]: "every hour" is not a cron expression; use five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"`,
			},
		},
		{
			name:      "problems in overridden values are reported under the override",
			overrides: `{"api": {"routes": [{"pattern": "api.other.example/*", "zone": "dome.example"}], "placement": "fast", "crons": ["every hour"], "vars": {"ENVIRONMENT": "x"}}}`,
			want: []string{
				`dome:workers.api.placement: "fast" is not a placement mode; use "smart" or leave it out`,
				`dome:workers.api.vars.ENVIRONMENT: binding name "ENVIRONMENT" is reserved: the program sets it in every worker from dome:environment; remove it here`,
				`dome:workers.api.crons[0]: "every hour" is not a cron expression; use five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"`,
				`dome:workers.api.routes[0].pattern: "api.other.example/*" is outside zone "dome.example"; a route's host must be the zone or a name under it, e.g. api.dome.example/*`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := fixture(t)
			v.Config["dome:workers"] = tt.overrides
			if tt.topology != nil {
				edited := tt.topology(v.Config["dome:topology"])
				require.NotEqual(t, v.Config["dome:topology"], edited)
				v.Config["dome:topology"] = edited
			}
			c, err := Load(v, goodEnv)
			require.Nil(t, c)
			require.Equal(t, tt.want, problems(t, err))
		})
	}
}
