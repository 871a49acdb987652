package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

func TestValidate(t *testing.T) {
	// LoadDotEnv writes the process environment; t.Setenv restores it.
	t.Setenv(config.EnvAccountID, "")
	t.Setenv(config.EnvAPIToken, "")

	t.Setenv(config.EnvBundleDir, t.TempDir())

	var out bytes.Buffer
	require.NoError(t, validate(&out, "../..", "local"), "the local stack validates on a fresh clone, with .env.local's credentials")
	sizes := regexp.MustCompile(`(?m)^    bundle         \d+\.\d\d KiB / gzip: \d+\.\d\d KiB$`)
	require.Len(t, sizes.FindAllString(out.String(), -1), 6, "every worker's bundle size, as wrangler prints it")
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	require.Equal(t, `stack local: configuration is valid (environment dev, protected: false)
  logLevel           debug
  observability      on, head sampling rate 1
  plan               paid
  account            00000000000000000000000000000001
  apiHostname        127.0.0.1:8787
  servicesRoot       ROOT/testdata/services
  d1Databases        dome-meta-dev, silo-dev
  d1 migrations      dome-meta-dev (2, last 0002_cron_runs.sql), silo-dev (3, last 0003_note_pipeline.sql)
  r2Buckets          dome-raw-dev, silo-content-dev
  kvNamespaces       -
  queues             new-content-constellation-dev, new-content-constellation-dlq-dev, new-content-ai-dev, new-content-ai-dlq-dev, silo-content-uploaded-dev
  vectorizeIndexes   dome-notes-dev
  r2 notifications   silo-content-dev -> silo-content-uploaded-dev
  workers (in order) constellation-dev, silo-dev, dome-api-dev, ai-processor-dev, dome-cron-dev, dome-notify-dev
  worker dome-api (dome-api-dev), overridden in Pulumi.local.yaml: customDomains, routes, workersDev
    bundle         (size)
    workersDev     on
    previewUrls    off
    routes         dome.example/api/* (zone dome.example)
    customDomains  api.dome.example (zone dome.example)
    crons          -
    placement      default
    logpush        off
    vars           ENVIRONMENT=dev, LOG_LEVEL=debug, VERSION=0.1.0
  worker constellation (constellation-dev)
    bundle         (size)
    workersDev     off
    previewUrls    off
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           ENVIRONMENT=dev, LOG_LEVEL=debug
  worker silo (silo-dev), overridden in Pulumi.local.yaml: workersDev
    bundle         (size)
    workersDev     on
    previewUrls    off
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           ENVIRONMENT=dev, LOG_LEVEL=debug
  worker ai-processor (ai-processor-dev)
    bundle         (size)
    workersDev     off
    previewUrls    off
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           ENVIRONMENT=dev, LOG_LEVEL=debug
  worker dome-cron (dome-cron-dev)
    bundle         (size)
    workersDev     off
    previewUrls    off
    routes         -
    customDomains  -
    crons          0 * * * *
    placement      default
    logpush        off
    vars           ENVIRONMENT=dev, LOG_LEVEL=debug
  worker dome-notify (dome-notify-dev)
    bundle         (size)
    workersDev     off
    previewUrls    off
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           ENVIRONMENT=dev, LOG_LEVEL=debug
`, strings.ReplaceAll(sizes.ReplaceAllString(out.String(), "    bundle         (size)"), root, "ROOT"))

	out.Reset()
	err = validate(&out, "../..", "nope")
	require.ErrorContains(t, err, "Pulumi.nope.yaml")
	require.Empty(t, out.String())
}

func TestValidateReportsProblems(t *testing.T) {
	t.Setenv(config.EnvAccountID, "")
	t.Setenv(config.EnvAPIToken, "")
	t.Setenv(config.EnvBundleDir, t.TempDir())
	var out bytes.Buffer
	err := validate(&out, "../..", "prod")
	require.ErrorContains(t, err, "dome:accountId: the Cloudflare account id is not set; export CLOUDFLARE_ACCOUNT_ID (or put it in .env.prod)")
	require.ErrorContains(t, err, "CLOUDFLARE_API_TOKEN: the Cloudflare API token is not set")
	require.Empty(t, out.String(), "nothing is reported valid")
}

// TestValidateBundlesEveryWorker: validate itself bundles every worker,
// offline, and reports every worker's problem at once: a syntax error at
// its file:line:col, a bundle over Cloudflare's 64 MiB. The bundles that
// were made are kept in the project's store for the program to reuse.
func TestValidateBundlesEveryWorker(t *testing.T) {
	t.Setenv(config.EnvAccountID, "0123456789abcdef0123456789abcdef")
	t.Setenv(config.EnvAPIToken, "tok-1234567890123456789012345678901234567")
	dir := t.TempDir()
	files := map[string]string{
		"Pulumi.yaml": `name: dome
config:
  servicesRoot:
    value: services
  topology:
    value:
      workers:
        - {name: good, main: good/index.ts, compatibilityDate: "2025-04-15"}
        - {name: big, main: big/index.js, compatibilityDate: "2025-04-15"}
        - {name: broken, main: broken/index.ts, compatibilityDate: "2025-04-15"}
`,
		"Pulumi.t.yaml":            "config:\n  dome:environment: dev\n",
		"services/good/index.ts":   "export default { fetch() { return new Response('ok'); } };\n",
		"services/big/index.js":    "const blob = \"" + strings.Repeat("x", 64<<20) + "\";\nexport default { fetch() { return new Response(blob); } };\n",
		"services/broken/index.ts": "export default {\n  fetch() {\n    return new Response(\"unterminated;\n  },\n};\n",
	}
	writeProject(t, dir, files)
	var out bytes.Buffer
	err := validate(&out, dir, "t")
	require.EqualError(t, err, `worker "broken": esbuild: `+filepath.Join(dir, "services/broken/index.ts")+`:3:39: Unterminated string literal
worker "big": bundle is 64.01 MiB, over Cloudflare's 64 MiB limit for a worker's code (every plan); shrink it: minify: true under the worker in Pulumi.yaml (dome:topology.workers[big].minify), lighter dependencies, static data in KV or R2 instead of the code`)
	require.Empty(t, out.String(), "nothing is reported valid")

	bundles, err := filepath.Glob(filepath.Join(dir, ".bundles", "*.js"))
	require.NoError(t, err)
	require.Len(t, bundles, 2, "the two workers that bundled are in the project's store")
}

// TestValidateShowsPreviewURLs: a stack's previewUrls override is printed
// with the worker's effective settings, beside workersDev, which it does
// not follow.
func TestValidateShowsPreviewURLs(t *testing.T) {
	t.Setenv(config.EnvAccountID, "0123456789abcdef0123456789abcdef")
	t.Setenv(config.EnvAPIToken, "tok-1234567890123456789012345678901234567")
	dir := t.TempDir()
	files := map[string]string{
		"Pulumi.yaml": `name: dome
config:
  servicesRoot:
    value: services
  topology:
    value:
      workers:
        - {name: api, main: api/index.js, compatibilityDate: "2025-04-15", workersDev: true}
        - {name: web, main: api/index.js, compatibilityDate: "2025-04-15", workersDev: true}
`,
		"Pulumi.t.yaml":         "config:\n  dome:environment: dev\n  dome:workers:\n    api:\n      previewUrls: true\n",
		"services/api/index.js": "export default { fetch() { return new Response('ok'); } };\n",
	}
	writeProject(t, dir, files)
	var out bytes.Buffer
	require.NoError(t, validate(&out, dir, "t"))
	require.Contains(t, out.String(), "  worker api (api-dev), overridden in Pulumi.t.yaml: previewUrls\n")
	_, api, _ := strings.Cut(out.String(), "worker api ")
	api, web, _ := strings.Cut(api, "worker web ")
	require.Contains(t, api, "    workersDev     on\n    previewUrls    on\n")
	require.Contains(t, web, "    workersDev     on\n    previewUrls    off\n", "previews stay off on workers.dev unless asked for")
}

// TestValidateRunsMigrations: validate applies each database's migrations
// to an empty SQLite database and reports the first statement that fails
// at its file and line, so the deploy does not find it after applying the
// files before it.
func TestValidateRunsMigrations(t *testing.T) {
	t.Setenv(config.EnvAccountID, "0123456789abcdef0123456789abcdef")
	t.Setenv(config.EnvAPIToken, "tok-1234567890123456789012345678901234567")
	tests := []struct {
		name  string
		notes string // 0002_notes.sql
		want  string // the error, with DIR for the project; "" for none
	}{
		{
			name:  "a misspelt keyword",
			notes: "-- notes, by user\nCREATE TABEL notes (\n  id TEXT PRIMARY KEY,\n  user_id TEXT NOT NULL REFERENCES users (id)\n);\n",
			want: `1 configuration problem:
  - DIR/services/notes/migrations/0002_notes.sql:2: dome:topology.d1Databases[notes].migrationsDir: near "TABEL": syntax error, running the files in order on an empty SQLite database; D1 would stop the deploy here, after applying the files before it; fix the statement`,
		},
		{
			name:  "a column the earlier file does not create",
			notes: "CREATE TABLE notes (id TEXT PRIMARY KEY, user_id TEXT);\nCREATE INDEX notes_user ON notes (user_id);\nCREATE INDEX users_email ON users (mail);\n",
			want: `1 configuration problem:
  - DIR/services/notes/migrations/0002_notes.sql:3: dome:topology.d1Databases[notes].migrationsDir: no such column: mail, running the files in order on an empty SQLite database; D1 would stop the deploy here, after applying the files before it; fix the statement`,
		},
		{
			name:  "files that apply",
			notes: "CREATE TABLE notes (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id));\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(config.EnvBundleDir, t.TempDir())
			files := map[string]string{
				"Pulumi.yaml": `name: dome
config:
  servicesRoot:
    value: services
  topology:
    value:
      d1Databases:
        - {name: notes, migrationsDir: notes/migrations}
      workers:
        - name: api
          main: api/index.ts
          compatibilityDate: "2025-04-15"
          bindings: [{type: d1, name: DB, target: notes}]
`,
				"Pulumi.t.yaml":                            "config:\n  dome:environment: dev\n",
				"services/api/index.ts":                    "export default { fetch() { return new Response('ok'); } };\n",
				"services/notes/migrations/0001_init.sql":  "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL);\n",
				"services/notes/migrations/0002_notes.sql": tt.notes,
			}
			writeProject(t, dir, files)
			var out bytes.Buffer
			err := validate(&out, dir, "t")
			if tt.want == "" {
				require.NoError(t, err)
				require.Contains(t, out.String(), "d1 migrations      notes-dev (2, last 0002_notes.sql)")
				return
			}
			require.EqualError(t, err, strings.ReplaceAll(tt.want, "DIR", dir))
			require.Empty(t, out.String(), "nothing is reported valid")
		})
	}
}

// writeProject writes a project's files, by path relative to dir.
func writeProject(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
}
