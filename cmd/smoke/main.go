// Command smoke checks a deployed stack against Cloudflare: every resource
// in the stack's outputs (`pulumi stack output --json`) exists under the id
// the outputs give, and every worker runs the bundle the deploy uploaded.
// CI runs it after each deploy, with the outputs the deploy job passed on.
//
//	DOME_OUTPUTS="$(just outputs dev)" go run ./cmd/smoke [-dir DIR] STACK
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/dome/infra/internal/cfapi"
	"github.com/dome/infra/internal/config"
	"github.com/dome/infra/internal/stackcmd"
)

// EnvOutputs holds the stack outputs as JSON.
const EnvOutputs = "DOME_OUTPUTS"

func main() {
	stackcmd.New("smoke", EnvOutputs+"=<stack outputs JSON> smoke [-dir DIR] STACK").Run(func(ctx context.Context, dir, stack string) error {
		return run(ctx, os.Stdout, dir, stack, os.Getenv(EnvOutputs))
	})
}

// named is one resource in the outputs.
type named struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// outputs is the part of the stack outputs the checks read.
type outputs struct {
	D1Databases      map[string]named `json:"d1Databases"`
	R2Buckets        map[string]named `json:"r2Buckets"`
	KVNamespaces     map[string]named `json:"kvNamespaces"`
	Queues           map[string]named `json:"queues"`
	VectorizeIndexes map[string]named `json:"vectorizeIndexes"`
	Workers          map[string]struct {
		named
		BundleSHA256 string `json:"bundleSha256"`
	} `json:"workers"`
	QueueConsumers map[string]struct {
		ID     string `json:"id"`
		Worker string `json:"worker"`
	} `json:"queueConsumers"`
}

func run(ctx context.Context, w io.Writer, dir, stack, raw string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("%s is empty: set it to the stack's outputs (`just outputs %s`)", EnvOutputs, stack)
	}
	var outs outputs
	if err := json.Unmarshal([]byte(raw), &outs); err != nil {
		return fmt.Errorf("%s: not the stack outputs `pulumi stack output --json` prints: %w", EnvOutputs, err)
	}
	client, err := clientFor(dir, stack)
	if err != nil {
		return err
	}

	var failed []string
	check := func(kind, logical string, res named, err error) {
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s %s (%s): %v", kind, logical, res.Name, err))
			fmt.Fprintf(w, "FAIL %s %s (%s): %v\n", kind, logical, res.Name, err)
			return
		}
		fmt.Fprintf(w, "ok   %s %s (%s)\n", kind, logical, res.Name)
	}

	dbs, err := client.ListD1Databases(ctx)
	if err != nil {
		return fmt.Errorf("list D1 databases: %w", err)
	}
	for _, logical := range sorted(outs.D1Databases) {
		res := outs.D1Databases[logical]
		check("D1 database", logical, res, present(slices.ContainsFunc(dbs, func(d cfapi.D1Database) bool { return d.UUID == res.ID && d.Name == res.Name }), res))
	}
	buckets, err := client.ListR2Buckets(ctx)
	if err != nil {
		return fmt.Errorf("list R2 buckets: %w", err)
	}
	for _, logical := range sorted(outs.R2Buckets) {
		res := outs.R2Buckets[logical]
		check("R2 bucket", logical, res, present(slices.ContainsFunc(buckets, func(b cfapi.R2Bucket) bool { return b.Name == res.Name }), res))
	}
	namespaces, err := client.ListKVNamespaces(ctx)
	if err != nil {
		return fmt.Errorf("list KV namespaces: %w", err)
	}
	for _, logical := range sorted(outs.KVNamespaces) {
		res := outs.KVNamespaces[logical]
		check("KV namespace", logical, res, present(slices.ContainsFunc(namespaces, func(n cfapi.KVNamespace) bool { return n.ID == res.ID && n.Title == res.Name }), res))
	}
	queues, err := client.ListQueues(ctx)
	if err != nil {
		return fmt.Errorf("list queues: %w", err)
	}
	for _, logical := range sorted(outs.Queues) {
		res := outs.Queues[logical]
		check("queue", logical, res, present(slices.ContainsFunc(queues, func(q cfapi.Queue) bool { return q.QueueID == res.ID && q.QueueName == res.Name }), res))
	}
	for _, logical := range sorted(outs.VectorizeIndexes) {
		res := outs.VectorizeIndexes[logical]
		_, err := client.GetVectorizeIndex(ctx, res.Name)
		check("Vectorize index", logical, res, err)
	}
	for _, logical := range sorted(outs.Workers) {
		wk := outs.Workers[logical]
		check("worker", logical, wk.named, sameBundle(ctx, client, wk.Name, wk.BundleSHA256))
	}
	for _, queue := range sorted(outs.QueueConsumers) {
		c := outs.QueueConsumers[queue]
		script := outs.Workers[c.Worker].Name
		check("queue consumer", queue, named{Name: c.Worker, ID: c.ID}, consumes(ctx, client, c.ID, script))
	}

	if len(failed) > 0 {
		return fmt.Errorf("%d of the stack's resources do not match Cloudflare:\n  - %s", len(failed), strings.Join(failed, "\n  - "))
	}
	fmt.Fprintf(w, "stack %s: every resource in its outputs is deployed as recorded\n", stack)
	return nil
}

// clientFor builds a client from the stack's API host (Cloudflare's unless
// dome:apiHostname says otherwise) and the credentials in the environment
// or .env.<stack>.
func clientFor(dir, stack string) (*cfapi.Client, error) {
	if err := config.LoadDotEnv(dir, stack); err != nil {
		return nil, err
	}
	vals, err := config.ReadFiles(dir, stack)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, k := range []string{config.EnvAPIToken, config.EnvAccountID} {
		if os.Getenv(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s not set: export them or put them in .env.%s", strings.Join(missing, " and "), stack)
	}
	// Only what reaching the account takes: the smoke job has the stack's
	// files and credentials, not the services' code the full config checks.
	host, _ := vals.GetConfig(config.Namespace + ":" + config.KeyAPIHostname)
	cfg := &config.Config{APIHostname: host, AccountID: os.Getenv(config.EnvAccountID), APIToken: config.Secret(os.Getenv(config.EnvAPIToken))}
	return cfg.Client()
}

func present(ok bool, res named) error {
	if ok {
		return nil
	}
	return fmt.Errorf("not in the account under id %q", res.ID)
}

func sameBundle(ctx context.Context, client *cfapi.Client, script, want string) error {
	content, err := client.GetScriptContent(ctx, script)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(content))
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("runs a bundle with SHA-256 %s, not the deployed %s", got, want)
	}
	return nil
}

func consumes(ctx context.Context, client *cfapi.Client, id, script string) error {
	queueID, consumerID, ok := strings.Cut(id, "/")
	if !ok {
		return fmt.Errorf("id %q is not <queue id>/<consumer id>", id)
	}
	c, err := client.GetQueueConsumer(ctx, queueID, consumerID)
	if err != nil {
		return err
	}
	if c.ScriptOf() != script {
		return fmt.Errorf("feeds %s, not %s", c.ScriptOf(), script)
	}
	return nil
}

func sorted[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
