package provider

import (
	"os"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

// TestConfigureSharesTheBudget: the provider keeps the budget the
// environment gives in the ledger that the commands beside it share.
func TestConfigureSharesTheBudget(t *testing.T) {
	e := newEnv(t) // for its emulator; the provider under test is a fresh one
	dir := t.TempDir()
	t.Setenv(cfapi.EnvLedgerDir, dir)
	t.Setenv(cfapi.EnvBudget, "1000/1s")
	server, err := integration.NewServer(t.Context(), Name, semver.MustParse(Version), integration.WithProvider(New()))
	require.NoError(t, err)
	require.NoError(t, server.Configure(p.ConfigureRequest{Args: property.NewMap(map[string]property.Value{
		"apiToken":   property.New(testToken).WithSecret(true),
		"accountId":  property.New(testAccount),
		"apiBaseUrl": property.New(e.srv.URL + apiPrefix),
	})}))
	_, err = server.Read(p.ReadRequest{ID: "dome-notes", Urn: urn("VectorizeIndex", "n")})
	require.NoError(t, err)

	ledgers, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ledgers, 1)
}
