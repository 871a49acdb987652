package domecf

import (
	"context"
	"strings"
	"sync"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/provider"
)

type captured struct {
	mu     sync.Mutex
	inputs map[string]resource.PropertyMap
}

func (c *captured) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inputs[args.TypeToken] = args.Inputs
	return args.Name + "-id", args.Inputs, nil
}

func (c *captured) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return args.Args, nil
}

func ptr(i int) *int { return &i }

// TestWrappersMatchTheProviderSchema registers every wrapper with every
// field set and checks each property it sends, nested ones included,
// against the schema the provider publishes: a renamed property on either
// side fails here, not in a deploy.
func TestWrappersMatchTheProviderSchema(t *testing.T) {
	spec, err := p.GetSchema(context.Background(), provider.Name, provider.Version, provider.New())
	require.NoError(t, err)

	c := &captured{inputs: map[string]resource.PropertyMap{}}
	s := func(v string) pulumi.StringInput { return pulumi.String(v) }
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		if _, err := NewProvider(ctx, "p", ProviderArgs{APIToken: s("t"), AccountID: s("a"), APIBaseURL: s("http://127.0.0.1:1")}); err != nil {
			return err
		}
		if _, err := NewVectorizeIndex(ctx, "ix", VectorizeIndexArgs{
			Name: s("ix"), Dimensions: 3, Metric: "cosine", Preset: "@cf/baai/bge-small-en-v1.5", Description: "d",
			MetadataIndexes: []MetadataIndex{{PropertyName: "kind", IndexType: "string"}},
		}); err != nil {
			return err
		}
		if _, err := NewR2EventNotification(ctx, "n", R2EventNotificationArgs{
			BucketName: s("b"), QueueID: s("q"),
			Rules: []R2NotificationRule{{Actions: []string{"PutObject"}, Prefix: "p/", Suffix: ".s", Description: "d"}},
		}); err != nil {
			return err
		}
		if _, err := NewQueueConsumer(ctx, "q", QueueConsumerArgs{
			QueueID: s("q"), ScriptName: s("w"), DeadLetterQueue: s("dlq"),
			BatchSize: ptr(1), MaxRetries: ptr(1), MaxWaitTimeMs: ptr(1), MaxConcurrency: ptr(1), RetryDelay: ptr(1),
		}); err != nil {
			return err
		}
		if _, err := NewWorkerSubdomain(ctx, "sd", WorkerSubdomainArgs{ScriptName: s("w"), Enabled: true, PreviewsEnabled: true}); err != nil {
			return err
		}
		_, err := NewWorkerScript(ctx, "w", WorkerScriptArgs{
			Name: s("w"), MainModule: "index.js", Content: Code{File: "/b/0.js", SHA256: strings.Repeat("0", 64)}, CompatibilityDate: "2025-04-15",
			CompatibilityFlags: []string{"nodejs_als"},
			Bindings: []Binding{{
				Type: "d1", Name: "ALL", Text: s("x"), ID: s("x"), BucketName: s("x"), Jurisdiction: s("x"), QueueName: s("x"),
				Service: s("x"), Environment: s("x"), IndexName: s("x"), NamespaceID: s("x"), ClassName: s("x"), ScriptName: s("x"), Dataset: s("x"),
			}},
			Observability: &Observability{Enabled: true, HeadSamplingRate: 1},
			Logpush:       true,
			Placement:     "smart",
			Tags:          []string{"t"},
			Migrations: []Migration{{
				Tag: "v2", OldTag: "v1", NewClasses: []string{"A"}, NewSqliteClasses: []string{"B"},
				RenamedClasses: []RenamedClass{{From: "C", To: "D"}}, DeletedClasses: []string{"E"},
			}},
			SourceMap:  &Code{File: "/b/0.js.map", SHA256: strings.Repeat("1", 64)},
			WorkersDev: &WorkersDev{Enabled: true, Previews: true},
		})
		return err
	}, pulumi.WithMocks("dome", "test", c))
	require.NoError(t, err)

	check := func(token string, props map[string]schema.PropertySpec) {
		inputs, ok := c.inputs[token]
		require.True(t, ok, "%s was not registered", token)
		checkObject(t, spec, token, props, resource.NewObjectProperty(inputs))
	}
	check("pulumi:providers:domecf", spec.Config.Variables)
	for _, token := range []string{TypeWorkerScript, TypeVectorizeIndex, TypeQueueConsumer, TypeR2EventNotification, TypeWorkerSubdomain} {
		res, ok := spec.Resources[token]
		require.True(t, ok, "the provider has no resource %s", token)
		check(token, res.InputProperties)
	}
}

// checkObject requires every key of v to be a property in props, and
// recurses into nested objects and arrays through the schema's types.
func checkObject(t *testing.T, spec schema.PackageSpec, path string, props map[string]schema.PropertySpec, v resource.PropertyValue) {
	t.Helper()
	for k, val := range v.ObjectValue() {
		prop, ok := props[string(k)]
		require.True(t, ok, "%s.%s is sent by the wrapper but not in the provider's schema", path, k)
		checkValue(t, spec, path+"."+string(k), prop.TypeSpec, val)
	}
}

func checkValue(t *testing.T, spec schema.PackageSpec, path string, ts schema.TypeSpec, v resource.PropertyValue) {
	t.Helper()
	switch {
	case v.IsSecret():
		checkValue(t, spec, path, ts, v.SecretValue().Element)
	case ts.Ref != "" && v.IsObject():
		typ, ok := spec.Types[strings.TrimPrefix(ts.Ref, "#/types/")]
		require.True(t, ok, "%s: unknown type %s", path, ts.Ref)
		checkObject(t, spec, path, typ.Properties, v)
	case ts.Items != nil && v.IsArray():
		for _, e := range v.ArrayValue() {
			checkValue(t, spec, path+"[]", *ts.Items, e)
		}
	}
}
