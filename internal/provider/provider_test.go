package provider

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"
)

func TestConfigure(t *testing.T) {
	tests := []struct {
		name string
		args map[string]property.Value
		env  map[string]string
		err  string // "" = configures and can call the API
	}{
		{
			name: "nothing set names both places for the token and the account",
			err: "domecf: missing an API token (config domecf:apiToken or env CLOUDFLARE_API_TOKEN) and " +
				"an account id (config domecf:accountId or env CLOUDFLARE_ACCOUNT_ID)",
		},
		{
			name: "account missing",
			args: map[string]property.Value{"apiToken": str(testToken).WithSecret(true)},
			err:  "domecf: missing an account id (config domecf:accountId or env CLOUDFLARE_ACCOUNT_ID)",
		},
		{
			name: "everything from the environment",
			env:  map[string]string{envToken: testToken, envAccount: testAccount, envBaseURL: "emulator"},
		},
		{
			name: "config wins over the environment",
			args: map[string]property.Value{"apiToken": str(testToken).WithSecret(true), "accountId": str(testAccount),
				"apiBaseUrl": str("emulator")},
			env: map[string]string{envToken: "stale-token", envAccount: "other", envBaseURL: "http://127.0.0.1:1"},
		},
		{
			name: "a base URL that is not a URL",
			args: map[string]property.Value{"apiToken": str(testToken), "accountId": str(testAccount), "apiBaseUrl": str("not a url")},
			err:  `domecf: cfapi: base URL "not a url" is not an absolute URL`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t) // for its emulator; the provider under test is a fresh one
			for _, k := range []string{envToken, envAccount, envBaseURL} {
				v := tc.env[k]
				if v == "emulator" {
					v = e.srv.URL + apiPrefix
				}
				t.Setenv(k, v)
			}
			args := map[string]property.Value{}
			for k, v := range tc.args {
				if v.IsString() && v.AsString() == "emulator" {
					v = str(e.srv.URL + apiPrefix)
				}
				args[k] = v
			}
			server := newServer(t)
			err := server.Configure(p.ConfigureRequest{Args: property.NewMap(args)})
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			_, err = server.Read(p.ReadRequest{ID: "dome-notes", Urn: urn("VectorizeIndex", "n")})
			require.NoError(t, err, "the configured client reaches the emulator")
		})
	}
}

// A changed token or base URL must never replace the provider: that
// would replace every worker, index and consumer it manages.
func TestDiffConfigNeverReplaces(t *testing.T) {
	server := newServer(t)
	olds := property.NewMap(map[string]property.Value{
		"apiToken": str("old-token").WithSecret(true), "accountId": str(testAccount), "version": str("0.1.0"),
	})
	news := property.NewMap(map[string]property.Value{
		"apiToken": str("new-token").WithSecret(true), "accountId": str(testAccount),
		"apiBaseUrl": str("http://127.0.0.1:8787/client/v4"), "version": str("0.2.0"),
	})
	d, err := server.DiffConfig(p.DiffRequest{Urn: "urn:pulumi:test::dome::pulumi:providers:domecf::default",
		State: olds, OldInputs: olds, Inputs: news})
	require.NoError(t, err)
	require.True(t, d.HasChanges)
	require.Equal(t, map[string]p.PropertyDiff{
		"apiToken":   {Kind: p.Update, InputDiff: true},
		"apiBaseUrl": {Kind: p.Add, InputDiff: true},
	}, d.DetailedDiff)
	require.False(t, d.DeleteBeforeReplace)

	same, err := server.DiffConfig(p.DiffRequest{State: olds, OldInputs: olds, Inputs: olds})
	require.NoError(t, err)
	require.False(t, same.HasChanges)
}

func TestSchema(t *testing.T) {
	resp, err := newServer(t).GetSchema(p.GetSchemaRequest{})
	require.NoError(t, err)
	var spec struct {
		Name   string `json:"name"`
		Config struct {
			Variables map[string]struct {
				Secret bool `json:"secret"`
			} `json:"variables"`
		} `json:"config"`
		Resources map[string]struct {
			InputProperties map[string]struct {
				ReplaceOnChanges bool `json:"replaceOnChanges"`
			} `json:"inputProperties"`
			RequiredInputs     []string `json:"requiredInputs"`
			DeprecationMessage string   `json:"deprecationMessage"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Schema), &spec))
	require.Equal(t, Name, spec.Name)
	require.True(t, spec.Config.Variables["apiToken"].Secret)
	require.ElementsMatch(t, []string{"apiToken", "accountId", "apiBaseUrl"}, slices.Collect(maps.Keys(spec.Config.Variables)))

	want := map[string]struct {
		inputs, required []string
		replace          string
		deprecated       bool
	}{
		"domecf:index:WorkerScript": {
			inputs: []string{"name", "mainModule", "contentFile", "contentSha256", "compatibilityDate", "compatibilityFlags", "bindings",
				"observability", "logpush", "placement", "tags", "migrations", "sourceMapFile", "sourceMapSha256", "workersDev", "previewUrls",
				"content", "sourceMap"},
			required: []string{"name", "contentSha256"}, replace: "name",
		},
		"domecf:index:VectorizeIndex": {
			inputs:   []string{"name", "dimensions", "metric", "preset", "description", "metadataIndexes"},
			required: []string{"name"}, replace: "name",
		},
		"domecf:index:QueueConsumer": {
			inputs: []string{"queueId", "scriptName", "deadLetterQueue", "batchSize", "maxRetries", "maxWaitTimeMs",
				"maxConcurrency", "retryDelay"},
			required: []string{"queueId", "scriptName"}, replace: "queueId",
		},
		"domecf:index:R2EventNotification": {
			inputs: []string{"bucketName", "queueId", "rules"}, required: []string{"bucketName", "queueId", "rules"}, replace: "queueId",
		},
		"domecf:index:D1Migrations": {
			inputs:   []string{"databaseId", "table", "migrations"},
			required: []string{"databaseId"}, replace: "databaseId",
		},
		"domecf:index:WorkerSubdomain": {
			// Retired, for the state of stacks deployed before; previewsEnabled
			// is optional so that state from before it existed decodes.
			inputs: []string{"scriptName", "enabled", "previewsEnabled"}, required: []string{"scriptName", "enabled"}, replace: "scriptName",
			deprecated: true,
		},
	}
	require.ElementsMatch(t, slices.Collect(maps.Keys(want)), slices.Collect(maps.Keys(spec.Resources)))
	for tok, w := range want {
		r := spec.Resources[tok]
		require.ElementsMatch(t, w.inputs, slices.Collect(maps.Keys(r.InputProperties)), tok)
		require.ElementsMatch(t, w.required, r.RequiredInputs, tok)
		require.True(t, r.InputProperties[w.replace].ReplaceOnChanges, tok)
		require.Equal(t, w.deprecated, r.DeprecationMessage != "", tok)
	}
}
