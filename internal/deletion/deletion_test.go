package deletion

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

func TestCheck(t *testing.T) {
	deployed := Deployed(map[string]any{
		"d1Databases":      map[string]any{"silo": map[string]any{"id": "1"}, "dome-meta": map[string]any{"id": "2"}},
		"r2Buckets":        map[string]any{"dome-raw": map[string]any{}},
		"queues":           map[string]any{"jobs": map[string]any{}},
		"vectorizeIndexes": "not a map", // a malformed output holds nothing
		"workers":          map[string]any{"api": map[string]any{}},
	})
	require.Equal(t, Inventory{"d1Databases": {"dome-meta", "silo"}, "r2Buckets": {"dome-raw"}, "queues": {"jobs"}}, deployed)

	topo := config.Topology{
		D1Databases: []config.Database{{Name: "dome-meta"}},
		Queues:      []config.Queue{{Name: "jobs"}, {Name: "new"}},
		Workers:     []config.Worker{{Name: "api"}},
	}
	tests := []struct {
		name, allow, want string
	}{
		{"dropped resources are listed with the variable that allows them", "",
			`refusing to delete D1 database "silo", R2 bucket "dome-raw": no longer in the topology, they would be deleted with their data; put back what should stay in Pulumi.yaml, or, to delete on purpose, name what may go: DOME_ALLOW_DELETE="silo dome-raw"`},
		{"only what is named is allowed", "dome-raw",
			`refusing to delete D1 database "silo": no longer in the topology, it would be deleted with its data; put back what should stay in Pulumi.yaml, or, to delete on purpose, name what may go: DOME_ALLOW_DELETE="silo"`},
		{"named by spaces or commas", "silo,dome-raw", ""},
		{"a name means every kind of that name", " dome-raw  silo ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(deployed, Declared(topo), tt.allow)
			if tt.want == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, tt.want)
			}
		})
	}
	require.NoError(t, Check(Inventory{}, Declared(topo), ""), "a first deploy deletes nothing")
}
