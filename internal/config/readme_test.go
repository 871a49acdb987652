package config

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// readmeYAML returns the first YAML block of a docs page after heading.
func readmeYAML(t *testing.T, page, heading string) string {
	t.Helper()
	data, err := os.ReadFile("../../docs/" + page)
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(data), heading)
	require.True(t, ok, "docs/%s has no %q", page, heading)
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	require.True(t, ok)
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	return block
}

func toJSON(t *testing.T, block string) string {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal([]byte(block), &v))
	b, err := json.Marshal(jsonable(v))
	require.NoError(t, err)
	return string(b)
}

// The configuration reference's topology shows real fields (every one,
// entry points included), and its override example is one a stack can use.
func TestReadmeExamples(t *testing.T) {
	var topo Topology
	require.NoError(t, decodeStrict(toJSON(t, readmeYAML(t, "configuration.md", "## Changing the topology")), &topo))
	silo := topo.Workers[0]
	require.Equal(t, []Route{{Pattern: "dome.example/api/*", Zone: "dome.example"}}, silo.Routes)
	require.Equal(t, []CustomDomain{{Hostname: "api.dome.example", Zone: "dome.example"}}, silo.CustomDomains)

	var stack struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(readmeYAML(t, "overrides.md", "# Per-stack overrides")), &stack))
	b, err := json.Marshal(jsonable(stack.Config["dome:workers"]))
	require.NoError(t, err)
	v := fixture(t)
	v.Config["dome:workers"] = strings.ReplaceAll(string(b), "dome-api", "api")
	c, err := Load(v, goodEnv)
	require.NoError(t, err)
	require.Equal(t, []string{"customDomains", "placement", "routes", "vars"}, c.Overridden("api"))
}
