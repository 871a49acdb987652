package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

// TestEntryPointsPerStack checks that each stack's workers differ exactly as
// its Pulumi.<stack>.yaml overrides say, and that the outputs carry the URLs,
// routes and domains.
func TestEntryPointsPerStack(t *testing.T) {
	workers := []string{"dome-api", "constellation", "silo", "ai-processor", "dome-cron", "dome-notify"}
	type route struct{ pattern, zoneID string }
	for _, tt := range []struct {
		stack, suffix string
		workersDev    []string          // workers with workers.dev on
		domains       map[string]string // resource name -> hostname
		routes        map[string]route  // resource name -> route
		apiVars       string            // dome-api's CORS_ORIGIN
		apiPlacement  string
		apiLogpush    bool
		zoneReads     int
	}{
		{stack: "dev", suffix: "-dev", workersDev: []string{"dome-api", "silo"}, apiVars: "*"},
		{stack: "staging", suffix: "-staging", apiVars: "https://staging.dome.example", zoneReads: 1,
			domains: map[string]string{"staging-api.dome.example": "staging-api.dome.example"}},
		{stack: "prod", apiVars: "https://dome.example", apiPlacement: "smart", apiLogpush: true, zoneReads: 1,
			domains: map[string]string{"api.dome.example": "api.dome.example"},
			routes:  map[string]route{"dome.example/api/*": {"dome.example/api/*", "zone-dome-example"}}},
	} {
		t.Run(tt.stack, func(t *testing.T) {
			d, err := deploy(t, tt.stack, testEnv, nil)
			require.NoError(t, err)
			m := d.mocks
			require.Equal(t, tt.zoneReads, m.zoneReads, "zones are read once, and only by a stack with routes or domains")
			wo := d.outputs["workers"].(map[string]any)

			for _, w := range workers {
				script := m.find(t, tWorker, w)
				on := w == "dome-api" && len(tt.workersDev) > 0 || w == "silo" && len(tt.workersDev) > 1
				require.True(t, script.Inputs["workersDev"].IsBool(), "%s: workers.dev is always sent, off included", w)
				require.Equal(t, on, script.Inputs["workersDev"].BoolValue(), "%s workers.dev", w)
				require.False(t, script.Inputs["previewUrls"].BoolValue(), "%s preview URLs stay off, on workers.dev too", w)
				require.True(t, script.Inputs["previewUrls"].IsBool(), "%s: previews are always sent", w)
				out := wo[w].(map[string]any)
				if on {
					require.Equal(t, "https://"+w+tt.suffix+".dome-team.workers.dev", out["url"])
				} else {
					require.NotContains(t, out, "url", "%s is not on workers.dev", w)
				}
			}

			var domains []string
			for _, r := range m.seen {
				switch r.Type {
				case tDomain:
					host, ok := tt.domains[r.Name]
					require.True(t, ok, "unexpected custom domain %s", r.Name)
					require.Equal(t, host, str(t, r.Inputs, "hostname"))
					require.Equal(t, "zone-dome-example", str(t, r.Inputs, "zoneId"))
					require.Equal(t, "dome-api"+tt.suffix, str(t, r.Inputs, "service"))
					require.Equal(t, testAccount, str(t, r.Inputs, "accountId"))
					domains = append(domains, host)
				case tRoute:
					want, ok := tt.routes[r.Name]
					require.True(t, ok, "unexpected route %s", r.Name)
					require.Equal(t, want.pattern, str(t, r.Inputs, "pattern"))
					require.Equal(t, want.zoneID, str(t, r.Inputs, "zoneId"))
					require.Equal(t, "dome-api"+tt.suffix, str(t, r.Inputs, "scriptName"))
				}
			}
			require.Len(t, domains, len(tt.domains))
			apiOut := wo["dome-api"].(map[string]any)
			require.ElementsMatch(t, domains, apiOut["domains"])
			var patterns []any
			for _, r := range tt.routes {
				patterns = append(patterns, r.pattern)
			}
			require.ElementsMatch(t, patterns, apiOut["routes"])
			for _, w := range workers[1:] {
				require.Empty(t, wo[w].(map[string]any)["routes"])
				require.Empty(t, wo[w].(map[string]any)["domains"])
			}

			api := m.find(t, tWorker, "dome-api")
			require.Equal(t, tt.apiVars, str(t, bindingsOf(t, api)["CORS_ORIGIN"], "text"))
			if tt.apiPlacement == "" {
				require.NotContains(t, api.Inputs, "placement")
			} else {
				require.Equal(t, tt.apiPlacement, str(t, api.Inputs["placement"].ObjectValue(), "mode"))
			}
			logpush := func(r *registered) bool { v, ok := r.Inputs["logpush"]; return ok && v.BoolValue() }
			require.Equal(t, tt.apiLogpush, logpush(api))
			for _, w := range workers[1:] {
				r := m.find(t, tWorker, w)
				require.NotContains(t, r.Inputs, "placement", "%s keeps the default placement", w)
				require.False(t, logpush(r), w)
			}
		})
	}
}

func TestZoneNotInAccount(t *testing.T) {
	d, err := deploy(t, "prod", testEnv, func(v *config.Values) {
		v.Config["dome:workers"] = `{"dome-api": {"customDomains": [{"hostname": "api.dome.io", "zone": "dome.io"}]},
			"silo": {"routes": [{"pattern": "files.dome.example/*", "zone": "dome.example"}, {"pattern": "dome.dev/files/*", "zone": "dome.dev"}]}}`
	})
	require.Error(t, err)
	require.ErrorContains(t, err, `dome:workers.dome-api.customDomains[0].zone: zone "dome.io" is not in Cloudflare account `+testAccount+
		` (the account has dome.example, dome.test); add the domain to the account, or name one of its zones`)
	require.ErrorContains(t, err, `dome:workers.silo.routes[1].zone: zone "dome.dev" is not in Cloudflare account`)
	require.NotContains(t, err.Error(), `routes[0]`)
	var registered []string
	for _, r := range d.mocks.seen {
		registered = append(registered, r.Type)
	}
	require.ElementsMatch(t, []string{"pulumi:providers:cloudflare", "pulumi:providers:domecf"}, registered, "nothing but the providers exists when the zone check fails")
}
