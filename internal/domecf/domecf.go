// Package domecf is the program's typed view of the domecf companion
// provider (internal/provider): one constructor per resource, read like the
// official Cloudflare SDK. The property names here are the provider's schema.
package domecf

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Package is the provider's Pulumi package name, as in its plugin binary
// pulumi-resource-domecf.
const Package = "domecf"

// The provider's resource types.
const (
	TypeWorkerScript   = Package + ":index:WorkerScript"
	TypeVectorizeIndex = Package + ":index:VectorizeIndex"
	TypeQueueConsumer  = Package + ":index:QueueConsumer"

	TypeR2EventNotification = Package + ":index:R2EventNotification"
	TypeD1Migrations        = Package + ":index:D1Migrations"
)

// Retired are the types the program registered once and no longer does.
// The provider keeps them so that a stack's next deploy can drop what it
// holds of them, which changes nothing in Cloudflare: a worker's
// workers.dev setting, now a property of its WorkerScript.
var Retired = []string{Package + ":index:WorkerSubdomain"}

// Provider is an explicit instance of the companion provider.
type Provider struct {
	pulumi.ProviderResourceState
}

// ProviderArgs configures the companion provider.
type ProviderArgs struct {
	// APIToken is the Cloudflare API token; pass it as a Pulumi secret.
	APIToken pulumi.StringInput
	// AccountID is the Cloudflare account the resources live in.
	AccountID pulumi.StringInput
	// APIBaseURL points the provider at another Cloudflare API, such as the
	// local emulator; nil means Cloudflare's.
	APIBaseURL pulumi.StringInput
}

// NewProvider registers an explicit companion provider.
func NewProvider(ctx *pulumi.Context, name string, args ProviderArgs, opts ...pulumi.ResourceOption) (*Provider, error) {
	props := pulumi.Map{}
	put(props, "apiToken", args.APIToken)
	put(props, "accountId", args.AccountID)
	put(props, "apiBaseUrl", args.APIBaseURL)
	var p Provider
	if err := ctx.RegisterResource("pulumi:providers:"+Package, name, props, &p, opts...); err != nil {
		return nil, err
	}
	return &p, nil
}

// put sets key when v is set, so absent optional properties stay absent
// rather than arriving at the provider as empty strings.
func put(m pulumi.Map, key string, v pulumi.Input) {
	if v != nil {
		m[key] = v
	}
}

func putInt(m pulumi.Map, key string, v *int) {
	if v != nil {
		m[key] = pulumi.Int(*v)
	}
}

func putString(m pulumi.Map, key, v string) {
	if v != "" {
		m[key] = pulumi.String(v)
	}
}

func stringArray(values []string) pulumi.StringArray {
	out := make(pulumi.StringArray, len(values))
	for i, v := range values {
		out[i] = pulumi.String(v)
	}
	return out
}
