package cfemu

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func newEntryHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	cfg.Token, cfg.AccountID = testToken, testAccount
	emu, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &harness{t: t, emu: emu, srv: srv}
}

func TestZones(t *testing.T) {
	h := newEntryHarness(t, Config{Zones: []string{"dome.example", "Other.Example."}})
	var all []zone
	r := mustOK(t, h.call("GET", "/client/v4/zones?account.id="+testAccount, nil))
	r.into(t, &all)
	require.Len(t, all, 2)
	require.Equal(t, float64(2), r.env.ResultInfo["total_count"])
	names := []string{all[0].Name, all[1].Name}
	require.ElementsMatch(t, []string{"dome.example", "other.example"}, names, "names are stored in lowercase without the final dot")
	require.Equal(t, zoneID("dome.example"), map[string]string{all[0].Name: all[0].ID, all[1].Name: all[1].ID}["dome.example"], "ids derive from the name, so they survive restarts")

	for _, tt := range []struct {
		query string
		want  int
	}{
		{"name=dome.example", 1},
		{"name=example", 0},
		{"name=contains:example", 2},
		{"name=ends_with:.example&account.id=" + testAccount, 2},
		{"name=dome.example&account.id=another", 0},
		{"status=pending", 0},
		{"per_page=1&page=2", 1},
	} {
		var got []zone
		mustOK(t, h.call("GET", "/client/v4/zones?"+tt.query, nil)).into(t, &got)
		require.Len(t, got, tt.want, tt.query)
	}
	mustOK(t, h.call("GET", "/client/v4/zones/"+zoneID("dome.example"), nil))
	mustFail(t, h.call("GET", "/client/v4/zones/"+zoneID("nope.example"), nil), http.StatusNotFound, 7003)
}

func TestWorkerRoutes(t *testing.T) {
	h := newEntryHarness(t, Config{Zones: []string{"dome.example"}})
	mustOK(t, h.upload("api", nil))
	base := "/client/v4/zones/" + zoneID("dome.example") + "/workers/routes"

	id := mustOK(t, h.call("POST", base, map[string]string{"pattern": "api.dome.example/*", "script": "api"})).obj(t)["id"].(string)
	require.Len(t, id, 32)
	mustFail(t, h.call("POST", base, map[string]string{"pattern": "api.dome.example/*", "script": "api"}), http.StatusConflict, 10020)
	mustFail(t, h.call("POST", base, map[string]string{"pattern": "api.other.example/*", "script": "api"}), http.StatusBadRequest, 10022)
	mustFail(t, h.call("POST", base, map[string]string{"pattern": "dome.example", "script": "api"}), http.StatusBadRequest, 10022)
	mustFail(t, h.call("POST", base, map[string]string{"pattern": "*.dome.example/x", "script": "ghost"}), http.StatusNotFound, 10007)
	mustOK(t, h.call("POST", base, map[string]string{"pattern": "*dome.example/static/*"}))

	var list []map[string]string
	mustOK(t, h.call("GET", base, nil)).into(t, &list)
	require.Equal(t, []map[string]string{
		{"id": list[0]["id"], "pattern": "*dome.example/static/*", "script": ""},
		{"id": id, "pattern": "api.dome.example/*", "script": "api"},
	}, list)

	updated := mustOK(t, h.call("PUT", base+"/"+id, map[string]string{"pattern": "api.dome.example/v2/*", "script": "api"})).obj(t)
	require.Equal(t, "api.dome.example/v2/*", updated["pattern"])
	require.Equal(t, "api.dome.example/v2/*", mustOK(t, h.call("GET", base+"/"+id, nil)).obj(t)["pattern"])
	mustOK(t, h.call("DELETE", base+"/"+id, nil))
	mustFail(t, h.call("GET", base+"/"+id, nil), http.StatusNotFound, 10005)
	mustFail(t, h.call("DELETE", base+"/"+id, nil), http.StatusNotFound, 10005)
}

func TestWorkersDomains(t *testing.T) {
	h := newEntryHarness(t, Config{Zones: []string{"dome.example"}})
	mustOK(t, h.upload("api", nil))
	mustOK(t, h.upload("web", nil))
	zid := zoneID("dome.example")

	d := mustOK(t, h.call("PUT", "/workers/domains", map[string]string{"zone_id": zid, "hostname": "api.dome.example", "service": "api", "environment": "production"})).obj(t)
	id := d["id"].(string)
	require.Equal(t, map[string]any{"id": id, "zone_id": zid, "zone_name": "dome.example", "hostname": "api.dome.example", "service": "api", "environment": "production"}, d)

	moved := mustOK(t, h.call("PUT", "/workers/domains", map[string]string{"zone_id": zid, "hostname": "api.dome.example", "service": "web", "environment": "production"})).obj(t)
	require.Equal(t, id, moved["id"], "attaching a hostname again moves it, keeping its id")
	require.Equal(t, "web", mustOK(t, h.call("GET", "/workers/domains/"+id, nil)).obj(t)["service"])

	mustFail(t, h.call("PUT", "/workers/domains", map[string]string{"zone_id": zid, "hostname": "api.other.example", "service": "api", "environment": "production"}), http.StatusBadRequest, 100102)
	mustFail(t, h.call("PUT", "/workers/domains", map[string]string{"zone_id": zoneID("x.example"), "hostname": "x.example", "service": "api", "environment": "production"}), http.StatusNotFound, 7003)
	mustFail(t, h.call("PUT", "/workers/domains", map[string]string{"zone_id": zid, "hostname": "ghost.dome.example", "service": "ghost", "environment": "production"}), http.StatusNotFound, 10007)

	var list []map[string]any
	mustOK(t, h.call("GET", "/workers/domains?service=web", nil)).into(t, &list)
	require.Len(t, list, 1)
	mustOK(t, h.call("GET", "/workers/domains?service=api", nil)).into(t, &list)
	require.Empty(t, list)

	mustOK(t, h.call("DELETE", "/workers/domains/"+id, nil))
	mustFail(t, h.call("GET", "/workers/domains/"+id, nil), http.StatusNotFound, 100100)
	mustFail(t, h.call("DELETE", "/workers/domains/"+id, nil), http.StatusNotFound, 100100)
}

func TestWorkersSubdomain(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	h := newEntryHarness(t, Config{Subdomain: "dome-team", StateFile: state})
	require.Equal(t, "dome-team", mustOK(t, h.call("GET", "/workers/subdomain", nil)).obj(t)["subdomain"])

	mustOK(t, h.upload("api", nil))
	path := "/workers/scripts/api/subdomain"
	require.Equal(t, map[string]any{"enabled": false, "previews_enabled": false}, mustOK(t, h.call("GET", path, nil)).obj(t), "an API upload leaves workers.dev off")
	// Each POST sets both: previews_enabled left out follows enabled, as
	// Cloudflare documents, so wrangler sends it to keep previews off.
	for _, tc := range []struct {
		body map[string]bool
		want map[string]any
	}{
		{map[string]bool{"enabled": true}, map[string]any{"enabled": true, "previews_enabled": true}},
		{map[string]bool{"enabled": false}, map[string]any{"enabled": false, "previews_enabled": false}},
		{map[string]bool{"enabled": false, "previews_enabled": true}, map[string]any{"enabled": false, "previews_enabled": true}},
		{map[string]bool{"enabled": true, "previews_enabled": false}, map[string]any{"enabled": true, "previews_enabled": false}},
	} {
		require.Equal(t, tc.want, mustOK(t, h.call("POST", path, tc.body)).obj(t), "POST %v", tc.body)
		require.Equal(t, tc.want, mustOK(t, h.call("GET", path, nil)).obj(t), "GET after POST %v", tc.body)
	}
	mustOK(t, h.upload("api", nil))
	require.Equal(t, map[string]any{"enabled": true, "previews_enabled": false}, mustOK(t, h.call("GET", path, nil)).obj(t), "a re-upload keeps the setting")
	mustFail(t, h.call("POST", path, map[string]any{}), http.StatusBadRequest, 10021)
	mustFail(t, h.call("GET", "/workers/scripts/ghost/subdomain", nil), http.StatusNotFound, 10007)

	reloaded := newEntryHarness(t, Config{StateFile: state})
	require.Equal(t, map[string]any{"enabled": true, "previews_enabled": false}, mustOK(t, reloaded.call("GET", path, nil)).obj(t), "the state file keeps it")
	require.Equal(t, DefaultSubdomain, mustOK(t, reloaded.call("GET", "/workers/subdomain", nil)).obj(t)["subdomain"])

	mustOK(t, h.call("DELETE", "/workers/scripts/api?force=true", nil))
	mustOK(t, h.upload("api", nil))
	require.Equal(t, map[string]any{"enabled": false, "previews_enabled": false}, mustOK(t, h.call("GET", path, nil)).obj(t), "a script uploaded anew starts with workers.dev and previews off")
}
