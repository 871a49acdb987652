package graph

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOrder(t *testing.T) {
	tests := []struct {
		name  string
		nodes []string
		edges map[string][]string
		want  []string
		cycle string
	}{
		{
			name:  "independent nodes keep their order",
			nodes: []string{"b", "a", "c"},
			want:  []string{"b", "a", "c"},
		},
		{
			name:  "targets come first",
			nodes: []string{"dome-api", "constellation", "silo"},
			edges: map[string][]string{"dome-api": {"constellation", "silo"}, "constellation": {"silo"}},
			want:  []string{"silo", "constellation", "dome-api"},
		},
		{
			name:  "unknown targets are ignored",
			nodes: []string{"a"},
			edges: map[string][]string{"a": {"ghost"}},
			want:  []string{"a"},
		},
		{
			name:  "cycle through three workers",
			nodes: []string{"dome-api", "constellation", "silo"},
			edges: map[string][]string{"dome-api": {"constellation"}, "constellation": {"silo"}, "silo": {"dome-api"}},
			cycle: "Circular dependency detected: dome-api -> constellation -> silo -> dome-api",
		},
		{
			name:  "cycle not through the first node",
			nodes: []string{"a", "b", "c"},
			edges: map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"b"}},
			cycle: "Circular dependency detected: b -> c -> b",
		},
		{
			name:  "self binding",
			nodes: []string{"a"},
			edges: map[string][]string{"a": {"a"}},
			cycle: "Circular dependency detected: a -> a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Order(tt.nodes, tt.edges)
			if tt.cycle != "" {
				var ce *CycleError
				require.ErrorAs(t, err, &ce)
				require.EqualError(t, err, tt.cycle)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestOrderLongChain(t *testing.T) {
	// A deep chain must not be a problem for the recursive walk.
	const n = 5000
	nodes := make([]string, n)
	edges := map[string][]string{}
	for i := range nodes {
		nodes[i] = fmt.Sprint(i)
		if i+1 < n {
			edges[nodes[i]] = []string{fmt.Sprint(i + 1)}
		}
	}
	got, err := Order(nodes, edges)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(n-1), got[0])
	require.Equal(t, "0", got[n-1])
}
