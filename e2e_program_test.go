package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfapi"
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
	skipWithout(t, "the official Cloudflare provider plugin 5.49.1", "`just plugins` (or `pulumi plugin install resource cloudflare 5.49.1`) installs it where Pulumi's download site is reachable")
}

// wholeProgram is the program as Pulumi runs it, with its environment
// read through getenv, exporting its outputs.
func wholeProgram(getenv func(string) string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		outs, err := run(ctx, getenv)
		if err != nil {
			return err
		}
		for k, v := range outs {
			ctx.Export(k, v)
		}
		return nil
	}
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
	requireLanguageHost(t) // for the `pulumi import` that `just import` prints
	for _, stackName := range []string{"dev", "prod"} {
		t.Run(stackName, func(t *testing.T) {
			// The zone the stacks' routes and custom domains name.
			emu, err := cfemu.New(cfemu.Config{Token: e2eToken, AccountID: e2eAccount, Zones: []string{"dome.example"}})
			require.NoError(t, err)
			srv, certFile := serveTLS(t, emu, t.TempDir())
			host := must(url.Parse(srv.URL)).Host

			vals, err := config.ReadFiles(".", stackName)
			require.NoError(t, err)
			vals.Config["dome:apiHostname"] = host
			vals.Config["dome:servicesRoot"] = must(filepath.Abs("testdata/services"))
			bundles := t.TempDir()
			env := map[string]string{config.EnvAccountID: e2eAccount, config.EnvAPIToken: e2eToken, config.EnvBundleDir: bundles}

			program := wholeProgram(func(k string) string { return env[k] })
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
			// Entry points as the stack's overrides declare them.
			if stackName == "dev" {
				require.Equal(t, "https://dome-api-dev."+cfemu.DefaultSubdomain+".workers.dev", api["url"])
				require.Equal(t, []any{}, api["routes"])
				require.Equal(t, []any{}, api["domains"])
			} else {
				require.NotContains(t, api, "url")
				require.Equal(t, []any{"dome.example/api/*"}, api["routes"])
				require.Equal(t, []any{"api.dome.example"}, api["domains"])
			}

			state := e.stateFile()
			require.NotContains(t, state, e2eToken)
			// Workers are known by their bundles' files and hashes; no code
			// is carried through the checkpoint.
			require.NotContains(t, state, `"content":`)
			require.NotContains(t, state, "export {")
			require.Contains(t, state, `"contentFile":"`+bundles+string(filepath.Separator))

			// Schema before code: silo's migrations ran before the silo
			// worker was uploaded, and its tables are there.
			siloDB := outs["d1Databases"].(map[string]any)["silo"].(map[string]any)["id"].(string)
			lastQuery, upload := -1, -1
			for i, r := range emu.Requests() {
				switch {
				case r.Method == "POST" && strings.HasSuffix(r.Path, "/d1/database/"+siloDB+"/query"):
					lastQuery = i
				case r.Method == "PUT" && strings.HasSuffix(r.Path, "/workers/scripts/"+naming.Physical(stackName, "silo")) && upload < 0:
					upload = i
				}
			}
			require.Positive(t, lastQuery, "silo's migrations were applied")
			require.Less(t, lastQuery, upload, "the silo worker is uploaded after its database's migrations")
			client, err := cfapi.New(cfapi.Options{BaseURL: "https://" + host + "/client/v4", Token: e2eToken, AccountID: e2eAccount, HTTPClient: srv.Client()})
			require.NoError(t, err)
			res, err := client.QueryD1(context.Background(), siloDB, "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('notes', 'note_tags', 'd1_migrations') ORDER BY name")
			require.NoError(t, err)
			require.Equal(t, []map[string]any{{"name": "d1_migrations"}, {"name": "note_tags"}, {"name": "notes"}}, res[0].Results)

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
				require.ErrorContains(t, err, `refusing to replace R2 bucket "silo-content" (location (unset) => "WEUR")`)
				// Allowed by name, the replacement still meets prod's protection.
				env[config.EnvAllowDelete] = "silo-content"
				_, err = e.stack.Preview(context.Background(), optpreview.Diff())
				delete(env, config.EnvAllowDelete)
				require.ErrorContains(t, err, `unable to replace resource "urn:pulumi:prod::dome::cloudflare:index/r2Bucket:R2Bucket::silo-content"`)
				require.ErrorContains(t, err, `+ location : "WEUR"`)

				// Every prod resource is protected, so not one DELETE reaches
				// Cloudflare from the bare CLI (the Automation API runs
				// `pulumi destroy --yes --skip-preview` and `pulumi up --yes
				// --skip-preview`): a destroy, or an up whose topology lost
				// every worker, stops at the first resource it reaches.
				require.NoError(t, e.stack.SetConfig(context.Background(), "dome:topology", auto.ConfigValue{Value: vals.Config["dome:topology"]}))
				emu.ResetLog()
				_, err = e.stack.Destroy(context.Background())
				require.ErrorContains(t, err, "because it is protected")
				require.Empty(t, deletes(emu), "a bare destroy of prod deletes nothing")

				var bare map[string]any
				require.NoError(t, json.Unmarshal([]byte(vals.Config["dome:topology"]), &bare))
				delete(bare, "workers")
				require.NoError(t, e.stack.SetConfig(context.Background(), "dome:topology", auto.ConfigValue{Value: string(must(json.Marshal(bare)))}))
				require.NoError(t, e.stack.RemoveConfig(context.Background(), "dome:workers"))
				_, err = e.stack.Up(context.Background())
				require.ErrorContains(t, err, "because it is protected")
				require.ErrorContains(t, err, "`pulumi state unprotect", "the error says how to retire a worker on purpose")
				require.Empty(t, deletes(emu), "an up that drops every worker deletes nothing in prod")
				return
			}
			// Dropping a stateful resource fails the preview: the program
			// reads what the stack holds from its state. Named in
			// DOME_ALLOW_DELETE, the deletion goes ahead.
			var dropped config.Topology
			require.NoError(t, json.Unmarshal([]byte(vals.Config["dome:topology"]), &dropped))
			require.Equal(t, "dome-raw", dropped.R2Buckets[0].Name)
			dropped.R2Buckets = dropped.R2Buckets[1:]
			require.NoError(t, e.stack.SetConfig(context.Background(), "dome:topology", auto.ConfigValue{Value: string(must(json.Marshal(dropped)))}))
			_, err = e.stack.Preview(context.Background())
			require.ErrorContains(t, err, `refusing to delete R2 bucket "dome-raw" (no longer in the topology): its data would be lost`)
			env[config.EnvAllowDelete] = "dome-raw"
			pv, err := e.stack.Preview(context.Background())
			require.NoError(t, err)
			require.Equal(t, 1, pv.ChangeSummary["delete"], "the named bucket, and nothing else, is deleted")
			delete(env, config.EnvAllowDelete)
			require.NoError(t, e.stack.SetConfig(context.Background(), "dome:topology", auto.ConfigValue{Value: vals.Config["dome:topology"]}))

			// What `just import` prints, `just recover dev`, adopts
			// everything into a stack never deployed.
			proj := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(proj, "Pulumi.yaml"), must(os.ReadFile("Pulumi.yaml")), 0o644))
			// The stack's file as a developer pointing dev at the emulator would edit it.
			local := "  dome:apiHostname: " + host + "\n  dome:servicesRoot: " + vals.Config["dome:servicesRoot"] + "\n"
			require.NoError(t, os.WriteFile(filepath.Join(proj, "Pulumi.dev.yaml"), append(must(os.ReadFile("Pulumi.dev.yaml")), local...), 0o644))
			plan, err := shell(t, ".", map[string]string{"SSL_CERT_FILE": certFile, config.EnvAPIToken: e2eToken, config.EnvAccountID: e2eAccount},
				"go run ./cmd/import -dir "+proj+" dev")
			require.NoError(t, err, plan)
			require.Contains(t, plan, "existing resources match the config")
			require.Contains(t, plan, "\n  just recover dev\n")
			adopted := newEngine(t, "dev", program, map[string]string{"SSL_CERT_FILE": certFile, "CLOUDFLARE_RPS": "100", "PULUMI_HOME": "", config.EnvAPIToken: e2eToken})
			defer adopted.dump()
			require.NoError(t, adopted.stack.SetAllConfig(context.Background(), stackConfig(vals)))
			cfg, err := config.Load(vals, func(k string) string { return env[k] })
			require.NoError(t, err)
			rep := recoverStack(t, adopted, cfg, client)
			matched := regexp.MustCompile(`stack dev: (\d+) existing resources match`).FindStringSubmatch(plan)
			require.Len(t, matched, 2, plan)
			require.Equal(t, matched[1], strconv.Itoa(len(rep.Imported)), "recover imports what the plan matched")
			require.NotContains(t, e.log.String()+adopted.log.String(), "almost certainly a bug", "no provider warning on importing what the program deployed")
			// Every resource matches (the 19 of old, the new queue and
			// notification, silo's consumer of silo-content-uploaded), but
			// the 6 workers update: Cloudflare does not return a source map,
			// so each is uploaded again with its map (their workers.dev
			// settings, read with them, match); and the two providers gain
			// the token. The migrations resources are not imported: created
			// in the adopted stack, they find every file recorded and apply
			// none.
			require.Equal(t, map[string]int{"same": 16, "update": 8, "create": 2}, adopted.preview())

			e.destroy()
		})
	}
}

// TestEntryPointsMoveInPlace: routes and custom domains are named by their
// pattern and hostname. A stack that named them by worker keeps them under
// the new names with no replacement, and moving them to another worker is
// an update that keeps each Cloudflare object, so the hostname is never
// detached.
func TestEntryPointsMoveInPlace(t *testing.T) {
	requireCloudflarePlugin(t)
	d := newDome(t, "prod", cfemu.Config{Zones: []string{"dome.example"}}, nil, pulumiCLI(t))
	defer d.e.dump()
	ctx := context.Background()
	d.e.up()
	live := func() (cfapi.WorkerRoute, cfapi.WorkersDomain) {
		zones, err := d.env.client.ListZones(ctx)
		require.NoError(t, err)
		require.Len(t, zones, 1)
		routes, err := d.env.client.ListWorkerRoutes(ctx, zones[0].ID)
		require.NoError(t, err)
		domains, err := d.env.client.ListWorkersDomains(ctx)
		require.NoError(t, err)
		require.Len(t, routes, 1)
		require.Len(t, domains, 1)
		return routes[0], domains[0]
	}
	route, domain := live()
	require.Equal(t, "dome-api", route.Script)
	require.Equal(t, "dome-api", domain.Service)

	// The state as the former naming left it.
	dep, err := d.e.stack.Export(ctx)
	require.NoError(t, err)
	for _, name := range []string{"WorkersDomain::api.dome.example\"", "WorkersRoute::dome.example/api/*\""} {
		require.True(t, strings.Contains(string(dep.Deployment), name), "named %s", name)
	}
	former := strings.NewReplacer(
		"WorkersDomain::api.dome.example", "WorkersDomain::dome-api/api.dome.example",
		"WorkersRoute::dome.example/api/*", "WorkersRoute::dome-api/dome.example/api/*",
	).Replace(string(dep.Deployment))
	dep.Deployment = json.RawMessage(former)
	require.NoError(t, d.e.stack.Import(ctx, dep))
	onlySame(t, d.e.preview())
	onlySame(t, d.e.up())

	// Move both to dome-notify.
	d.vals.Config["dome:workers"] = `{
		"dome-api": {"placement": "smart", "logpush": true, "vars": {"CORS_ORIGIN": "https://dome.example"}},
		"dome-notify": {"customDomains": [{"hostname": "api.dome.example", "zone": "dome.example"}],
		                "routes": [{"pattern": "dome.example/api/*", "zone": "dome.example"}]}}`
	require.NoError(t, d.e.stack.SetAllConfig(ctx, stackConfig(d.vals)))
	changes := d.e.preview()
	require.Equal(t, 2, changes["update"], "the route and the domain, in place: %v", changes)
	require.Zero(t, changes["create"]+changes["delete"]+changes["replace"]+changes["create-replacement"]+changes["delete-replaced"], "%v", changes)
	d.e.up()
	movedRoute, movedDomain := live()
	require.Equal(t, "dome-notify", movedRoute.Script)
	require.Equal(t, "dome-notify", movedDomain.Service)
	require.Equal(t, route.ID, movedRoute.ID, "the same route")
	require.Equal(t, domain.ID, movedDomain.ID, "the same domain record, never detached")
}
