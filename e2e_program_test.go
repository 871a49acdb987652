package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/naming"
)

// requireCloudflarePlugin skips unless the official provider plugin the
// program pins is installed in the user's Pulumi home. It is one `pulumi
// plugin install` away on a machine with internet, and cannot be had here.
func requireCloudflarePlugin(t testing.TB) {
	t.Helper()
	out, _, _, err := pulumiCLI(t).Run(context.Background(), t.TempDir(), nil, nil, nil, nil, "plugin", "ls", "--json")
	require.NoError(t, err)
	var plugins []struct{ Name, Kind, Version string }
	require.NoError(t, json.Unmarshal([]byte(out), &plugins))
	for _, p := range plugins {
		if p.Name == "cloudflare" && p.Kind == "resource" && p.Version == "5.49.1" {
			return
		}
	}
	t.Skip("the official Cloudflare provider plugin 5.49.1 is not installed, and no download site is reachable here; " +
		"on a machine with internet, `pulumi plugin install resource cloudflare 5.49.1` enables this whole-program suite")
}

// stackConfig is a stack's configuration as the Automation API sets it.
func stackConfig(vals *config.Values) auto.ConfigMap {
	cfg := auto.ConfigMap{}
	for k, v := range vals.Config {
		cfg[k] = auto.ConfigValue{Value: v}
	}
	return cfg
}

// TestProgramOnEngine deploys the whole Dome program, for dev and prod, to
// the emulator over TLS (the official provider speaks only https).
func TestProgramOnEngine(t *testing.T) {
	requireCloudflarePlugin(t)
	for _, stackName := range []string{"dev", "prod"} {
		t.Run(stackName, func(t *testing.T) {
			emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount})
			require.NoError(t, err)
			certFile, tlsCfg, err := cfemu.GenerateCert(t.TempDir())
			require.NoError(t, err)
			srv := httptest.NewUnstartedServer(emu)
			srv.TLS = tlsCfg
			srv.StartTLS()
			defer srv.Close()
			host := must(url.Parse(srv.URL)).Host

			vals, err := config.ReadFiles(".", stackName)
			require.NoError(t, err)
			vals.Config["dome:apiHostname"] = host
			vals.Config["dome:servicesRoot"] = must(filepath.Abs("testdata/services"))
			env := map[string]string{config.EnvAccountID: e2eAccount, config.EnvAPIToken: e2eToken}

			program := func(ctx *pulumi.Context) error {
				outs, err := run(ctx, func(k string) string { return env[k] })
				if err != nil {
					return err
				}
				for k, v := range outs {
					ctx.Export(k, v)
				}
				return nil
			}
			e := newEngine(t, stackName, program, map[string]string{
				"SSL_CERT_FILE":  certFile,
				"CLOUDFLARE_RPS": "100",
				"PULUMI_HOME":    "", // the user's, where the official plugin is installed
			})
			defer e.dump()
			require.NoError(t, e.stack.SetAllConfig(context.Background(), stackConfig(vals)))

			changes := e.up()
			require.Greater(t, changes["create"], 20)

			outs := e.outputsJSON()
			require.Equal(t, stackName, outs["environment"])
			for _, k := range []string{"d1Databases", "r2Buckets", "kvNamespaces", "queues", "vectorizeIndexes", "workers", "queueConsumers"} {
				require.IsType(t, map[string]any{}, outs[k], k)
			}
			api := outs["workers"].(map[string]any)["dome-api"].(map[string]any)
			require.Equal(t, naming.Physical(stackName, "dome-api"), api["name"])
			require.Len(t, api["bundleSha256"], 64)

			state := e.stateFile()
			require.NotContains(t, state, e2eToken)

			emu.ResetLog()
			onlySame(t, e.up())
			require.Empty(t, mutations(emu), "a no-op deploy must not write to Cloudflare")
			onlySame(t, e.refresh())

			if stackName == "prod" {
				// A change that would replace a bucket fails at preview,
				// naming the bucket and showing the property.
				var topo config.Topology
				require.NoError(t, json.Unmarshal([]byte(vals.Config["dome:topology"]), &topo))
				topo.R2Buckets[1].Location = "WEUR"
				raw, err := json.Marshal(topo)
				require.NoError(t, err)
				require.NoError(t, e.stack.SetConfig(context.Background(), "dome:topology", auto.ConfigValue{Value: string(raw)}))
				_, err = e.stack.Preview(context.Background(), optpreview.Diff())
				require.ErrorContains(t, err, `unable to replace resource "urn:pulumi:prod::dome::cloudflare:index/r2Bucket:R2Bucket::silo-content"`)
				require.ErrorContains(t, err, `+ location : "WEUR"`)

				_, err = e.stack.Destroy(context.Background())
				require.ErrorContains(t, err, "protect", "prod's stateful resources refuse deletion")
				return
			}
			// What `just import` prints adopts everything into an empty
			// stack, run as printed; after it, only the two providers
			// change (they gain the token).
			proj := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(proj, "Pulumi.yaml"), must(os.ReadFile("Pulumi.yaml")), 0o644))
			// The stack's file as a developer pointing dev at the emulator would edit it.
			local := "  dome:apiHostname: " + host + "\n  dome:servicesRoot: " + vals.Config["dome:servicesRoot"] + "\n"
			require.NoError(t, os.WriteFile(filepath.Join(proj, "Pulumi.dev.yaml"), append(must(os.ReadFile("Pulumi.dev.yaml")), local...), 0o644))
			plan, err := shell(t, ".", map[string]string{"SSL_CERT_FILE": certFile, config.EnvAPIToken: e2eToken, config.EnvAccountID: e2eAccount},
				"go run ./cmd/import -dir "+proj+" dev")
			require.NoError(t, err, plan)
			require.Contains(t, plan, "existing resources match the config")
			printed := regexp.MustCompile(`(?m)^  (SSL_CERT_FILE=\S+ )?pulumi import .*$`).FindString(plan)
			require.NotEmpty(t, printed, plan)
			adopted := newEngine(t, "dev", program, map[string]string{"SSL_CERT_FILE": certFile, "CLOUDFLARE_RPS": "100", "PULUMI_HOME": "", config.EnvAPIToken: e2eToken})
			defer adopted.dump()
			require.NoError(t, adopted.stack.SetAllConfig(context.Background(), stackConfig(vals)))
			out, err := shell(t, adopted.stack.Workspace().WorkDir(), adopted.env, strings.TrimSpace(printed))
			require.NoError(t, err, out)
			require.Equal(t, map[string]int{"same": 19, "update": 2}, adopted.preview())

			e.destroy()
		})
	}
}
