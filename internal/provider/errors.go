package provider

import (
	"context"
	"errors"
	"fmt"

	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// programProvider is the name the program gives its explicit domecf
// provider; an import must name that provider, or Pulumi would use a
// default one that ignores the stack's API settings.
const programProvider = Name

// urnKey carries the URN of the resource a call is about, which infer's
// requests leave out and an import hint needs.
type urnKey struct{}

func withURN(ctx context.Context, urn presource.URN) context.Context {
	return context.WithValue(ctx, urnKey{}, urn)
}

// alreadyExists is the error for a create whose name is taken. The usual
// cause is an earlier deploy of the same stack that was cut short, so it
// points at `just recover`; it also prints the import that adopts the one
// object with the stack's own provider. cause is Cloudflare's refusal, if it
// was Cloudflare that refused.
func alreadyExists(ctx context.Context, kind, what, importID string, cause error) error {
	msg := fmt.Sprintf("%s %q already exists in the Cloudflare account but not in this stack's state", kind, what)
	if urn, ok := ctx.Value(urnKey{}).(presource.URN); ok && urn.IsValid() {
		stack, project := urn.Stack(), urn.Project()
		provider := presource.NewURN(stack, project, "", "pulumi:providers:"+Name, programProvider)
		msg += fmt.Sprintf(". If an interrupted or failed deploy of this stack created it, run: just recover %s"+
			" (it imports what the stack lacks). To adopt this one object by hand: "+
			"pulumi import --stack %s domecf:index:%s %s %s --provider %s=%s --generate-code=false --yes",
			stack, stack, kind, urn.Name(), importID, programProvider, provider)
	} else {
		msg += fmt.Sprintf("; to manage it with Pulumi, run `just recover <stack>`, or import it with the stack's provider: "+
			"pulumi import domecf:index:%s <logical-name> %s --provider %s=<provider urn> --generate-code=false", kind, importID, programProvider)
	}
	if cause == nil {
		return errors.New(msg)
	}
	return fmt.Errorf("%s (%w)", msg, cause)
}
