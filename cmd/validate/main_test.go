package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/config"
)

func TestValidate(t *testing.T) {
	// LoadDotEnv writes the process environment; t.Setenv restores it.
	t.Setenv(config.EnvAccountID, "")
	t.Setenv(config.EnvAPIToken, "")

	var out bytes.Buffer
	require.NoError(t, validate(&out, "../..", "local"), "the local stack validates on a fresh clone, with .env.local's credentials")
	require.Equal(t, `stack local: configuration is valid (environment dev, protected: false)
  d1Databases        dome-meta-dev, silo-dev
  d1 migrations      dome-meta-dev (1, last 0001_init.sql), silo-dev (2, last 0002_add_tags.sql)
  r2Buckets          dome-raw-dev, silo-content-dev
  kvNamespaces       -
  queues             new-content-constellation-dev, new-content-constellation-dlq-dev, new-content-ai-dev, new-content-ai-dlq-dev
  vectorizeIndexes   dome-notes-dev
  workers (in order) constellation-dev, silo-dev, dome-api-dev, ai-processor-dev, dome-cron-dev, dome-notify-dev
  worker dome-api (dome-api-dev), overridden in Pulumi.local.yaml: customDomains, routes, workersDev
    workersDev     on
    routes         dome.example/api/* (zone dome.example)
    customDomains  api.dome.example (zone dome.example)
    crons          -
    placement      default
    logpush        off
    vars           VERSION=0.1.0
  worker constellation (constellation-dev)
    workersDev     off
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           -
  worker silo (silo-dev), overridden in Pulumi.local.yaml: workersDev
    workersDev     on
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           -
  worker ai-processor (ai-processor-dev)
    workersDev     off
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           -
  worker dome-cron (dome-cron-dev)
    workersDev     off
    routes         -
    customDomains  -
    crons          0 * * * *
    placement      default
    logpush        off
    vars           -
  worker dome-notify (dome-notify-dev)
    workersDev     off
    routes         -
    customDomains  -
    crons          -
    placement      default
    logpush        off
    vars           -
`, out.String())

	out.Reset()
	err := validate(&out, "../..", "nope")
	require.ErrorContains(t, err, "Pulumi.nope.yaml")
	require.Empty(t, out.String())
}

func TestValidateReportsProblems(t *testing.T) {
	t.Setenv(config.EnvAccountID, "")
	t.Setenv(config.EnvAPIToken, "")
	var out bytes.Buffer
	err := validate(&out, "../..", "prod")
	require.ErrorContains(t, err, "dome:accountId: the Cloudflare account id is not set; export CLOUDFLARE_ACCOUNT_ID (or put it in .env.prod)")
	require.ErrorContains(t, err, "CLOUDFLARE_API_TOKEN: the Cloudflare API token is not set")
	require.Empty(t, out.String(), "nothing is reported valid")
}
