package main

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/vectorize"
)

// TestGuardReadsState runs the deletion guard on the real engine. It reads
// what the stack's state holds through the engine, not through a resource
// of its own: a deploy that changes the stack's outputs leaves nothing for
// `just drift` to report and nothing for a preview to print, and a stateful
// resource that no output names (the program here exports nothing, as
// after an import) is guarded all the same, against deletion and
// replacement.
func TestGuardReadsState(t *testing.T) {
	env := newEmulated(t, cfemu.Config{}, nil)

	var topo atomic.Pointer[config.Topology]
	var allow atomic.Value
	allow.Store("")
	program := func(ctx *pulumi.Context) error {
		cfg := &config.Config{Environment: "dev", Topology: *topo.Load()}
		if err := guardDeletions(ctx, cfg, func(k string) string {
			if k == config.EnvAllowDelete {
				return allow.Load().(string)
			}
			return ""
		}); err != nil {
			return err
		}
		use, err := e2eProvider(ctx, env.api.URL+"/client/v4")
		if err != nil {
			return err
		}
		ixs, err := vectorize.Create(ctx, cfg, use)
		if err != nil {
			return err
		}
		// An output that changes with the topology, as Dome's do.
		ctx.Export("indexes", pulumi.Int(len(ixs)))
		return nil
	}
	notes := config.Index{Name: "notes", Dimensions: 32, Metric: "cosine"}
	more := config.Index{Name: "more", Dimensions: 16, Metric: "cosine"}
	topo.Store(&config.Topology{VectorizeIndexes: []config.Index{notes}})
	e := newEngine(t, "dev", program, nil)
	defer e.dump()
	require.Equal(t, map[string]int{"create": 3}, e.up(), "stack, provider, index")

	// A deploy that changes the outputs, then the drift check and a preview.
	topo.Store(&config.Topology{VectorizeIndexes: []config.Index{notes, more}})
	require.Equal(t, map[string]int{"create": 1, "same": 3}, e.up())
	p := recipesOn(t, e.env)
	creds := []string{"CLOUDFLARE_API_TOKEN=" + e2eToken, "CLOUDFLARE_ACCOUNT_ID=" + e2eAccount}
	out, err := p.just(creds, "drift", "dev")
	require.NoError(t, err, "right after a deploy nothing has drifted:\n%s", out)
	require.NotContains(t, out, "drifted")
	onlySame(t, e.preview())
	require.NotContains(t, e.log.String(), "StackReference", "a preview prints nothing of the stack's own outputs")

	tests := []struct {
		name    string
		indexes []config.Index
		want    string
	}{
		{"dropped", []config.Index{more},
			`refusing to delete Vectorize index "notes" (no longer in the topology): its data would be lost`},
		{"reshaped", []config.Index{{Name: "notes", Dimensions: 64, Metric: "cosine"}, more},
			`refusing to replace Vectorize index "notes" (dimensions 32 => 64): its data would be lost`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo.Store(&config.Topology{VectorizeIndexes: tt.indexes})
			env.emu.ResetLog()
			require.ErrorContains(t, e.upErr(), tt.want)
			require.Empty(t, mutations(env.emu), "refused before anything changed")
		})
	}

	// Named, the deletion goes ahead.
	topo.Store(&config.Topology{VectorizeIndexes: []config.Index{more}})
	allow.Store("notes")
	require.Equal(t, map[string]int{"delete": 1, "same": 3}, e.up())
	indexes, err := env.client.ListVectorizeIndexes(context.Background())
	require.NoError(t, err)
	require.Len(t, indexes, 1)
	require.Equal(t, "more-dev", indexes[0].Name)
}
