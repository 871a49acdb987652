// Package naming maps Dome's logical resource names to the physical names
// Cloudflare sees in each environment.
//
// Logical names (and so Pulumi URNs) are the same in every stack; only the
// physical names differ, which keeps the three environments in one account
// without collisions while production keeps its bare, historical names.
package naming

import "slices"

// The environments Dome deploys to.
const (
	Dev     = "dev"
	Staging = "staging"
	Prod    = "prod"
)

// Environments lists every environment, in promotion order.
var Environments = []string{Dev, Staging, Prod}

// Known reports whether env is one of Environments.
func Known(env string) bool { return slices.Contains(Environments, env) }

// Physical returns the Cloudflare name of the resource called logical in env:
// "<logical>-<env>", or the bare logical name in prod.
func Physical(env, logical string) string {
	if env == Prod {
		return logical
	}
	return logical + "-" + env
}
