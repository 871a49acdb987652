package cfapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
)

// An upload of new code alone keeps the live bindings of the types it
// lists in keep_bindings; Cloudflare keeps secrets across every upload.
func TestUploadKeepBindings(t *testing.T) {
	tests := []struct {
		name string
		keep []string
		want []string // binding names after the second upload
	}{
		{name: "none kept: the upload's own bindings, and the secret", want: []string{"API_KEY"}},
		{name: "plain_text kept", keep: []string{"plain_text"}, want: []string{"ENVIRONMENT", "API_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEmuEnv(t, testToken)
			ctx := t.Context()
			_, err := env.client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "dome-api", Content: "export default {}",
				Metadata: cfapi.ScriptMetadata{MainModule: "index.js", Bindings: []cfapi.WorkerBinding{
					{Type: "plain_text", Name: "ENVIRONMENT", Text: "dev"},
					{Type: "secret_text", Name: "API_KEY", Text: "s3cret"},
				}}})
			require.NoError(t, err)

			_, err = env.client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: "dome-api", Content: "export default {fetch() {}}",
				Metadata: cfapi.ScriptMetadata{MainModule: "index.js", KeepBindings: tt.keep}})
			require.NoError(t, err)
			settings, err := env.client.GetScriptSettings(ctx, "dome-api")
			require.NoError(t, err)
			var names []string
			for _, b := range settings.Bindings {
				names = append(names, b.Name)
			}
			require.Equal(t, tt.want, names)
		})
	}
}
