package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadFiles(t *testing.T) {
	v, err := ReadFiles("testdata", "test")
	require.NoError(t, err)
	require.Equal(t, "dome", v.Project)
	require.Equal(t, "test", v.Stack())

	tests := []struct {
		key, want string
		present   bool
	}{
		{"dome:servicesRoot", "services", true}, // long form, namespaced by the project
		{"dome:shortForm", "plain", true},       // short form
		{"aws:region", "us-east-1", true},       // another namespace, kept as written
		{"dome:declaredOnly", "", false},        // a type with no value sets nothing
		{"dome:environment", "dev", true},       // from the stack file
		{"dome:count", "3", true},               // stack keys without namespace take the project's
		{"dome:observability", `{"enabled":true,"headSamplingRate":0.5}`, true},
		{"dome:apiKey", "[secret]", true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := v.GetConfig(tt.key)
			require.Equal(t, tt.present, ok)
			require.Equal(t, tt.want, got)
		})
	}
	require.True(t, v.IsConfigSecret("dome:apiKey"))
	require.False(t, v.IsConfigSecret("dome:environment"))
	require.Equal(t, []string{"dome:apiKey"}, v.SecretKeys())

	topo, _ := v.GetConfig("dome:topology")
	require.Contains(t, topo, `"dimensions":768`, "numbers stay numbers in JSON")
}

func TestReadFilesErrors(t *testing.T) {
	_, err := ReadFiles("testdata", "missing")
	require.ErrorContains(t, err, "Pulumi.missing.yaml")
	_, err = ReadFiles("nowhere", "dev")
	require.ErrorContains(t, err, "Pulumi.yaml")
}
