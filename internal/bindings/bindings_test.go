package bindings

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

// TestResolveRefusesMissingTargets guards the program against binding
// something that was never created (validation normally makes it impossible).
func TestResolveRefusesMissingTargets(t *testing.T) {
	cfg := &config.Config{Environment: "dev", LogLevel: "debug"}
	tests := []struct {
		binding config.Binding
		want    string
	}{
		{config.Binding{Type: config.BindD1, Name: "DB", Target: "silo"}, `worker "w": binding "DB": D1 database "silo" is not in this stack`},
		{config.Binding{Type: config.BindR2, Name: "B", Target: "raw"}, `worker "w": binding "B": R2 bucket "raw" is not in this stack`},
		{config.Binding{Type: config.BindQueue, Name: "Q", Target: "jobs"}, `worker "w": binding "Q": queue "jobs" is not in this stack`},
		{config.Binding{Type: config.BindVectorize, Name: "V", Target: "notes"}, `worker "w": binding "V": Vectorize index "notes" is not in this stack`},
		{config.Binding{Type: config.BindKV, Name: "K", Target: "cache"}, `worker "w": binding "K": KV namespace "cache" is not in this stack`},
		{config.Binding{Type: config.BindService, Name: "S", Target: "api"}, `worker "w": binding "S": worker "api" is not in this stack`},
		{config.Binding{Type: config.BindDurableObject, Name: "D", ClassName: "Room", ScriptName: "rooms"}, `worker "w": binding "D": worker "rooms" is not in this stack`},
		{config.Binding{Type: "websocket", Name: "X"}, `worker "w": binding "X": unknown binding type "websocket"`},
	}
	for _, tt := range tests {
		t.Run(tt.binding.Type, func(t *testing.T) {
			_, err := Resolve(cfg, config.Worker{Name: "w", Bindings: []config.Binding{tt.binding}}, Resources{})
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestResolveEnvironmentVarsAndOrder(t *testing.T) {
	cfg := &config.Config{Environment: "staging", LogLevel: "info"}
	w := config.Worker{
		Name:     "w",
		Bindings: []config.Binding{{Type: config.BindAI, Name: "AI"}, {Type: config.BindDurableObject, Name: "D", ClassName: "Room", ScriptName: "w"}},
		Vars:     map[string]string{"Z": "1", "A": "2"},
	}
	got, err := Resolve(cfg, w, Resources{})
	require.NoError(t, err)
	var names []string
	for _, b := range got {
		names = append(names, b.Type+":"+b.Name)
	}
	require.Equal(t, []string{"ai:AI", "durable_object_namespace:D", "plain_text:ENVIRONMENT", "plain_text:LOG_LEVEL", "plain_text:A", "plain_text:Z"}, names)
	require.Nil(t, got[1].ScriptName, "a class hosted by the worker itself names no script")
}
