package cfemu_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/cloudflare/cloudflare-go"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
)

// TestCloudflareGoEntryPoints drives zones, routes and custom domains with
// cloudflare-go, the client under the official provider's WorkersRoute,
// WorkersDomain and getZone(s), making the same calls it makes.
func TestCloudflareGoEntryPoints(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: "test-token", AccountID: "acc", Zones: []string{"dome.example", "dome.test"}})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	api, err := cloudflare.NewWithAPIToken("test-token", cloudflare.BaseURL(srv.URL+"/client/v4"))
	require.NoError(t, err)
	ctx := context.Background()
	acc := cloudflare.AccountIdentifier("acc")

	// getZone by name, and getZones by account.
	zones, err := api.ListZonesContext(ctx, cloudflare.WithZoneFilters("dome.example", "acc", ""))
	require.NoError(t, err)
	require.Equal(t, 1, zones.Total)
	zone := zones.Result[0]
	require.Equal(t, "dome.example", zone.Name)
	require.Equal(t, "acc", zone.Account.ID)
	require.Equal(t, "active", zone.Status)
	require.False(t, zone.CreatedOn.IsZero())
	zones, err = api.ListZonesContext(ctx, cloudflare.WithZoneFilters("", "acc", ""))
	require.NoError(t, err)
	require.Len(t, zones.Result, 2)
	got, err := api.ZoneDetails(ctx, zone.ID)
	require.NoError(t, err)
	require.Equal(t, zone.ID, got.ID)

	_, err = api.UploadWorker(ctx, acc, cloudflare.CreateWorkerParams{ScriptName: "api", Module: true, Script: "export default {}"})
	require.NoError(t, err)

	zc := cloudflare.ZoneIdentifier(zone.ID)
	route, err := api.CreateWorkerRoute(ctx, zc, cloudflare.CreateWorkerRouteParams{Pattern: "api.dome.example/*", Script: "api"})
	require.NoError(t, err)
	require.NotEmpty(t, route.ID)
	_, err = api.UpdateWorkerRoute(ctx, zc, cloudflare.UpdateWorkerRouteParams{ID: route.ID, Pattern: "api.dome.example/v1/*", Script: "api"})
	require.NoError(t, err)
	routes, err := api.ListWorkerRoutes(ctx, zc, cloudflare.ListWorkerRoutesParams{})
	require.NoError(t, err)
	require.Equal(t, []cloudflare.WorkerRoute{{ID: route.ID, Pattern: "api.dome.example/v1/*", ScriptName: "api"}}, routes.Routes)
	_, err = api.DeleteWorkerRoute(ctx, zc, route.ID)
	require.NoError(t, err)

	domain, err := api.AttachWorkersDomain(ctx, acc, cloudflare.AttachWorkersDomainParams{ZoneID: zone.ID, Hostname: "api.dome.example", Service: "api", Environment: "production"})
	require.NoError(t, err)
	require.Equal(t, "dome.example", domain.ZoneName)
	read, err := api.GetWorkersDomain(ctx, acc, domain.ID)
	require.NoError(t, err)
	require.Equal(t, domain, read)
	list, err := api.ListWorkersDomains(ctx, acc, cloudflare.ListWorkersDomainParams{Hostname: "api.dome.example"})
	require.NoError(t, err)
	require.Equal(t, []cloudflare.WorkersDomain{domain}, list)
	require.NoError(t, api.DetachWorkersDomain(ctx, acc, domain.ID))
}
