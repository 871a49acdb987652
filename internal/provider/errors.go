package provider

import (
	"errors"
	"fmt"
)

// alreadyExists is the error for a create whose name is taken: adopting the
// existing object is usually what the user wants, so it says how. cause is
// Cloudflare's refusal, if it was Cloudflare that refused.
func alreadyExists(kind, what, importID string, cause error) error {
	msg := fmt.Sprintf("%s %q already exists in the Cloudflare account; to manage it with Pulumi, import it: "+
		"pulumi import domecf:index:%s <logical-name> %s", kind, what, kind, importID)
	if cause == nil {
		return errors.New(msg)
	}
	return fmt.Errorf("%s (%w)", msg, cause)
}
