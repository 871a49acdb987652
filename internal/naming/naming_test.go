package naming

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPhysical(t *testing.T) {
	tests := []struct {
		env, logical, want string
	}{
		{Dev, "silo", "silo-dev"},
		{Staging, "dome-notes", "dome-notes-staging"},
		{Prod, "dome-raw", "dome-raw"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.logical, func(t *testing.T) {
			require.Equal(t, tt.want, Physical(tt.env, tt.logical))
		})
	}
}

func TestKnown(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		require.True(t, Known(env), env)
	}
	for _, env := range []string{"", "production", "Dev", "qa"} {
		require.False(t, Known(env), env)
	}
}
