package cfapi_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/cfemu"
)

func TestEntryPoints(t *testing.T) {
	zones := []string{"dome.example"}
	for i := range 59 {
		zones = append(zones, fmt.Sprintf("z%02d.example", i))
	}
	emu, err := cfemu.New(cfemu.Config{Token: testToken, AccountID: testAccount, Zones: zones, Subdomain: "dome-team"})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := cfapi.New(cfapi.Options{BaseURL: srv.URL + "/client/v4", Token: testToken, AccountID: testAccount})
	require.NoError(t, err)
	ctx := t.Context()

	got, err := client.ListZones(ctx)
	require.NoError(t, err)
	require.Len(t, got, 60, "two pages of 50")
	var dome cfapi.Zone
	for _, z := range got {
		if z.Name == "dome.example" {
			dome = z
		}
	}
	require.Equal(t, "active", dome.Status)
	require.Len(t, dome.ID, 32)

	sub, err := client.GetAccountSubdomain(ctx)
	require.NoError(t, err)
	require.Equal(t, "dome-team", sub)

	_, err = client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "dome-api",
		Metadata: cfapi.ScriptMetadata{MainModule: "index.js"}, Content: "export default {}"})
	require.NoError(t, err)
	s, err := client.GetScriptSubdomain(ctx, "dome-api")
	require.NoError(t, err)
	require.False(t, s.Enabled)
	for _, want := range []cfapi.ScriptSubdomain{{Enabled: true}, {Enabled: true, PreviewsEnabled: true}, {PreviewsEnabled: true}, {}} {
		s, err = client.SetScriptSubdomain(ctx, "dome-api", want)
		require.NoError(t, err)
		require.Equal(t, want, s)
		// Both are sent, false included: a missing previews_enabled follows enabled.
		last := emu.Requests()[len(emu.Requests())-1]
		require.JSONEq(t, fmt.Sprintf(`{"enabled":%t,"previews_enabled":%t}`, want.Enabled, want.PreviewsEnabled), string(last.Body))
		s, err = client.GetScriptSubdomain(ctx, "dome-api")
		require.NoError(t, err)
		require.Equal(t, want, s)
	}
	_, err = client.GetScriptSubdomain(ctx, "ghost")
	require.True(t, cfapi.IsNotFound(err))

	routes, err := client.ListWorkerRoutes(ctx, dome.ID)
	require.NoError(t, err)
	require.Empty(t, routes)
	domains, err := client.ListWorkersDomains(ctx)
	require.NoError(t, err)
	require.Empty(t, domains)
	last := emu.Requests()[len(emu.Requests())-1]
	require.Equal(t, "/client/v4/accounts/acc/workers/domains", last.Path)
}
