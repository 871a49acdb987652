//go:build tools

// Package tools pins the Pulumi CLI's version: `go build` of
// github.com/pulumi/pulumi/pkg/v3/cmd/pulumi in this module builds v3.274.1.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
