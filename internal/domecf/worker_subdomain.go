package domecf

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// WorkerSubdomain turns a worker's workers.dev route, and the public preview
// URLs of its versions, on or off.
type WorkerSubdomain struct {
	pulumi.CustomResourceState

	Enabled         pulumi.BoolOutput `pulumi:"enabled"`
	PreviewsEnabled pulumi.BoolOutput `pulumi:"previewsEnabled"`
	// URL is https://<script>.<account subdomain>.workers.dev when enabled, else empty.
	URL pulumi.StringOutput `pulumi:"url"`
}

// WorkerSubdomainArgs names the script by its physical name.
type WorkerSubdomainArgs struct {
	ScriptName pulumi.StringInput
	Enabled    bool
	// PreviewsEnabled is always sent, false included: Cloudflare turns
	// previews on with workers.dev when the setting is left out.
	PreviewsEnabled bool
}

// NewWorkerSubdomain sets a worker's workers.dev route and preview URLs.
func NewWorkerSubdomain(ctx *pulumi.Context, name string, args WorkerSubdomainArgs, opts ...pulumi.ResourceOption) (*WorkerSubdomain, error) {
	props := pulumi.Map{"scriptName": args.ScriptName, "enabled": pulumi.Bool(args.Enabled), "previewsEnabled": pulumi.Bool(args.PreviewsEnabled)}
	var s WorkerSubdomain
	if err := ctx.RegisterResource(TypeWorkerSubdomain, name, props, &s, opts...); err != nil {
		return nil, err
	}
	return &s, nil
}
