package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeStack copies testdata's Pulumi.yaml and Pulumi.test.yaml into a
// scratch folder with edits applied to their text, so problems are reported
// against real files, with their lines and columns.
func writeStack(t *testing.T, edits map[string][][2]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.test.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		text := string(data)
		for _, e := range edits[f] {
			require.Contains(t, text, e[0], "edit of %s", f)
			text = strings.Replace(text, e[0], e[1], 1)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644))
	}
	return dir
}

// loadStack reads and loads a scratch stack as `validate` does, with the
// example services and a decrypted secret.
func loadStack(t *testing.T, dir string, getenv func(string) string) error {
	t.Helper()
	v, err := readStack(t, dir, mustAbs(t, "testdata/services"))
	if err != nil {
		return err
	}
	_, err = Load(v, getenv)
	return err
}

// readStack reads a scratch stack with its services in servicesRoot and
// its secret decrypted.
func readStack(t *testing.T, dir, servicesRoot string) (*Values, error) {
	t.Helper()
	v, err := ReadFiles(dir, "test")
	if err != nil {
		return nil, err
	}
	v.Config["dome:servicesRoot"] = servicesRoot
	v.Config["dome:apiKey"] = "decrypted"
	delete(v.Config, "dome:shortForm")
	delete(v.Config, "dome:count")
	return v, nil
}

// TestValidationHoles has one case per kind of mistake that used to get
// through, or to get a message naming no place and no fix.
func TestValidationHoles(t *testing.T) {
	defer func(orig func() time.Time) { now = orig }(now)
	now = func() time.Time { return time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC) }

	tests := []struct {
		name  string
		edits map[string][][2]string
		env   func(string) string
		want  []string // problems, or the one error of a file that cannot be read
	}{
		{
			name:  "unknown stack key, with the nearest known key",
			edits: map[string][][2]string{"Pulumi.test.yaml": {{"  count: 3", "  dome:protet: true"}}},
			want:  []string{`Pulumi.test.yaml:8:3: dome:protet: is not a setting this program reads; did you mean "dome:protect"?`},
		},
		{
			name:  "unknown Workers plan",
			edits: map[string][][2]string{"Pulumi.test.yaml": {{"  count: 3", "  dome:plan: pro"}}},
			want:  []string{`Pulumi.test.yaml:8:3: dome:plan: "pro" is not a Workers plan; use one of free, paid (the account's plan, under Workers & Pages > Plans in the dashboard)`},
		},
		{
			name:  "misspelt field",
			edits: map[string][][2]string{"Pulumi.yaml": {{"          bindings:\n            - {type: r2_bucket", "          bindngs:\n            - {type: r2_bucket"}}},
			want: []string{
				`Pulumi.yaml:43:11: dome:topology.workers[store].bindngs: unknown field "bindngs"; did you mean "bindings"?`,
			},
		},
		{
			name:  "text where a list is expected",
			edits: map[string][][2]string{"Pulumi.yaml": {{"newSqliteClasses: [Counter]", "newSqliteClasses: Counter"}}},
			want: []string{
				`Pulumi.yaml:49:13: dome:topology.workers[store].migrations.newSqliteClasses: must be a list, not the text "Counter"; write it as [a, b] or as lines starting with "- "`,
				`Pulumi.yaml:46:63: dome:topology.workers[store].bindings[COUNTER].className: Durable Object class "Counter" is not created by any step of worker "store"'s migrations; add it to a step's newSqliteClasses (or newClasses)`,
			},
		},
		{
			name:  "a number as a name",
			edits: map[string][][2]string{"Pulumi.yaml": {{"- name: jobs-dlq", "- name: 404"}}},
			want: []string{
				`Pulumi.yaml:22:11: dome:topology.queues[1].name: must be text, not the number 404; quote it: "404"`,
				`Pulumi.yaml:59:29: dome:topology.workers[worker].consumers[0].deadLetterQueue: Queue 'jobs-dlq' not found; declare the dead-letter queue under queues (declared: jobs)`,
			},
		},
		{
			name:  "quoted dimensions and a fractional batch size, each reported, the rest still checked",
			edits: map[string][][2]string{"Pulumi.yaml": {{"dimensions: 768", `dimensions: "768"`}, {"batchSize: 10", "batchSize: 2.5"}, {"target: cache}", "target: nope}"}}},
			want: []string{
				`Pulumi.yaml:25:11: dome:topology.vectorizeIndexes[notes].dimensions: must be a whole number, not the text "768"; write 768 without quotes`,
				`Pulumi.yaml:59:56: dome:topology.workers[worker].consumers[0].batchSize: 2.5 is not a whole number; use an integer such as 2`,
				`Pulumi.yaml:36:49: dome:topology.workers[api].bindings[CACHE].target: KV namespace 'nope' not found; declared: cache`,
			},
		},
		{
			name:  "a tab in the indentation",
			edits: map[string][][2]string{"Pulumi.test.yaml": {{"  dome:environment: dev", "\tdome:environment: dev"}}},
			want:  []string{"Pulumi.test.yaml:2:1: a tab indents this line; YAML indents with spaces only: replace the tab with spaces"},
		},
		{
			name: "a key written twice, in a stack's overrides",
			edits: map[string][][2]string{"Pulumi.test.yaml": {{"  count: 3", `  dome:workers:
    api:
      routes:
        - {pattern: dome.example/api/*, zone: dome.example}
      routes:
        - {pattern: dome.example/v2/*, zone: dome.example}`}}},
			want: []string{`Pulumi.test.yaml:12:7: dome:workers.api.routes: "routes" is written twice in the same mapping, which YAML does not allow; remove one of the two; the first is at line 10`},
		},
		{
			name: "keys written twice in both files, every one reported",
			edits: map[string][][2]string{
				"Pulumi.yaml":      {{"          main: store/index.ts\n", "          main: store/index.ts\n          main: store/main.ts\n"}},
				"Pulumi.test.yaml": {{"  count: 3", "  environment: staging\n  dome:observability:\n    enabled: false"}},
			},
			want: []string{
				`Pulumi.yaml:42:11: dome:topology.workers[store].main: "main" is written twice in the same mapping, which YAML does not allow; remove one of the two; the first is at line 41`,
				`Pulumi.test.yaml:8:3: dome:environment: "dome:environment" is written twice in the same mapping, which YAML does not allow; remove one of the two; the first is at line 2`,
				`Pulumi.test.yaml:9:3: dome:observability: "dome:observability" is written twice in the same mapping, which YAML does not allow; remove one of the two; the first is at line 5`,
			},
		},
		{
			name:  "a top-level key written twice",
			edits: map[string][][2]string{"Pulumi.test.yaml": {{"  count: 3", "  count: 3\nconfig:\n  dome:logLevel: info"}}},
			want:  []string{`Pulumi.test.yaml:9:1: "config" is written twice in the same mapping, which YAML does not allow; remove one of the two; the first is at line 1`},
		},
		{
			name:  "empty topology",
			edits: map[string][][2]string{"Pulumi.test.yaml": {{"  count: 3", "  dome:topology: {}"}}},
			want:  []string{"Pulumi.test.yaml:8:3: dome:topology: declares nothing; an empty topology would delete every resource of the stack, data included; declare Dome's resources under config.topology.value in Pulumi.yaml (to tear a stack down on purpose, use pulumi destroy)"},
		},
		{
			name:  "compatibility date after today",
			edits: map[string][][2]string{"Pulumi.yaml": {{`compatibilityDate: "2025-04-15"`, `compatibilityDate: "2026-11-29"`}}},
			want:  []string{`Pulumi.yaml:32:11: dome:topology.workers[api].compatibilityDate: "2026-11-29" is after today (2026-11-28 UTC); Cloudflare refuses a future compatibility date at upload (code 10021); use today's date or an earlier one`},
		},
		{
			name:  "cron fields out of range",
			edits: map[string][][2]string{"Pulumi.yaml": {{`crons: ["*/5 * * * *"]`, `crons: ["99 25 * * *", "0 0 L * 5#6", "*/0 * 0 FOO SUN-SAT"]`}}},
			want: []string{
				`Pulumi.yaml:60:19: dome:topology.workers[worker].crons[0]: "99 25 * * *" would be refused by Cloudflare: minute 99 is outside 0-59, hour 25 is outside 0-23; minute is 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is Sunday)`,
				`Pulumi.yaml:60:34: dome:topology.workers[worker].crons[1]: "0 0 L * 5#6" would be refused by Cloudflare: day-of-week "5#6": the week after # must be 1-5; minute is 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is Sunday)`,
				`Pulumi.yaml:60:49: dome:topology.workers[worker].crons[2]: "*/0 * 0 FOO SUN-SAT" would be refused by Cloudflare: minute step "0" is not a number in 1-59, day-of-month 0 is outside 1-31, month "FOO" is not a value; minute is 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is Sunday)`,
			},
		},
		{
			name: "token pasted with its Bearer prefix",
			env:  env(map[string]string{EnvAccountID: testAccount, EnvAPIToken: "Bearer " + testToken}),
			want: []string{`CLOUDFLARE_API_TOKEN: starts with "Bearer ": that is the Authorization header, not the token; set CLOUDFLARE_API_TOKEN to the token alone, without the "Bearer " prefix`},
		},
		{
			name:  "binding to a name of the wrong kind",
			edits: map[string][][2]string{"Pulumi.yaml": {{"{type: kv_namespace, name: CACHE, target: cache}", "{type: kv_namespace, name: CACHE, target: meta}"}}},
			want:  []string{`Pulumi.yaml:36:49: dome:topology.workers[api].bindings[CACHE].target: 'meta' is a D1 database, not a KV namespace; bind it with type d1, or declare a KV namespace named meta under kvNamespaces`},
		},
		{
			name:  "a kind with nothing declared",
			edits: map[string][][2]string{"Pulumi.yaml": {{"      kvNamespaces:\n        - name: cache\n", ""}}},
			want:  []string{`Pulumi.yaml:34:49: dome:topology.workers[api].bindings[CACHE].target: KV namespace 'cache' not found; none are declared: declare one under config.topology.value.kvNamespaces in Pulumi.yaml`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.env
			if e == nil {
				e = goodEnv
			}
			err := loadStack(t, writeStack(t, tt.edits), e)
			require.Error(t, err)
			var ps Problems
			if !errors.As(err, &ps) {
				require.Equal(t, tt.want, []string{err.Error()})
				return
			}
			got := make([]string, len(ps))
			for i, p := range ps {
				got[i] = p.String()
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// FuzzStackFiles feeds arbitrary YAML as Pulumi.yaml and Pulumi.<stack>.yaml:
// whatever a user writes, the answer is an error naming the file, a config,
// or a list of problems, never a panic.
func FuzzStackFiles(f *testing.F) {
	project, err := os.ReadFile("testdata/Pulumi.yaml")
	if err != nil {
		f.Fatal(err)
	}
	stack, err := os.ReadFile("testdata/Pulumi.test.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(project), string(stack))
	f.Add("name: dome\nconfig:\n  topology:\n    value:\n      workers:\n        - name: 1\n          bindings: x\n", "config:\n\tdome:environment: dev\n")
	f.Add("name: dome\nconfig:\n  topology:\n    value: [1, {a: b}]\n", "config:\n  dome:protet: [true]\n  dome:observability: 3\n")
	f.Add("config: [", "config:\n  dome:topology:\n    workers: {name: {}}\n")
	f.Fuzz(func(t *testing.T, project, stack string) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(project), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.fuzz.yaml"), []byte(stack), 0o644))
		v, err := ReadFiles(dir, "fuzz")
		if err != nil {
			require.Contains(t, err.Error(), "Pulumi.")
			return
		}
		c, err := Load(v, goodEnv)
		require.True(t, (c == nil) != (err == nil), "Load returned config %v and error %v", c, err)
	})
}
