package provider

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/dome/infra/internal/cfapi"
)

// WorkerSubdomain is whether a worker is served on workers.dev, and whether
// its versions get public preview URLs there. It is a resource of its own,
// beside the script, because Cloudflare keeps the setting apart from the
// upload: an upload through the API leaves it as it was (off for a new
// script), while wrangler turns it on unless told not to.
type WorkerSubdomain struct{}

// WorkerSubdomainArgs are the setting's inputs.
type WorkerSubdomainArgs struct {
	ScriptName string `pulumi:"scriptName" provider:"replaceOnChanges"`
	Enabled    bool   `pulumi:"enabled"`
	// PreviewsEnabled is optional so that state written before it existed
	// still decodes; unset means off (see previewsSpelled).
	PreviewsEnabled *bool `pulumi:"previewsEnabled,optional"`
}

// WorkerSubdomainState adds the URL the worker answers on.
type WorkerSubdomainState struct {
	WorkerSubdomainArgs
	URL string `pulumi:"url"`
}

// Annotate documents the resource.
func (w *WorkerSubdomain) Annotate(a infer.Annotator) {
	a.Describe(w, "Whether a worker is served on https://<script>.<account subdomain>.workers.dev, and whether its versions get public preview URLs there. "+
		"Deleting the resource turns both off. The resource id, also the import id, is the script name.")
}

// Annotate documents the inputs.
func (a *WorkerSubdomainArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.ScriptName, "The worker's script name; changing it replaces the resource.")
	an.Describe(&a.Enabled, "Serve the worker on workers.dev. Cloudflare's default for a script uploaded through the API is false.")
	an.Describe(&a.PreviewsEnabled, "Give each uploaded version a public preview URL on workers.dev. Default false; always sent, "+
		"since Cloudflare turns previews on with workers.dev when the setting is left out.")
}

// Annotate documents the state.
func (s *WorkerSubdomainState) Annotate(a infer.Annotator) {
	a.Describe(&s.URL, "https://<script>.<account subdomain>.workers.dev when enabled, else empty.")
}

// Diff names the changed properties; only another script needs a new resource.
// Unset previews in the inputs are spelled out as off, but not in state:
// state written before previewsEnabled existed never sent it, so Cloudflare
// may have turned previews on with workers.dev, and the one update that
// follows sends it.
func (*WorkerSubdomain) Diff(_ context.Context, req infer.DiffRequest[WorkerSubdomainArgs, WorkerSubdomainState]) (infer.DiffResponse, error) {
	return diffInputs(req.State.WorkerSubdomainArgs, previewsSpelled(req.Inputs), diffPolicy{replace: map[string]bool{"scriptName": true}}), nil
}

// previewsSpelled makes unset previews explicitly off, which is what
// Create and Update send for them.
func previewsSpelled(a WorkerSubdomainArgs) WorkerSubdomainArgs {
	if a.PreviewsEnabled == nil {
		a.PreviewsEnabled = ptr(false)
	}
	return a
}

// Create sets the script's workers.dev route and previews.
func (*WorkerSubdomain) Create(ctx context.Context, req infer.CreateRequest[WorkerSubdomainArgs]) (infer.CreateResponse[WorkerSubdomainState], error) {
	in := previewsSpelled(req.Inputs)
	if req.DryRun {
		return infer.CreateResponse[WorkerSubdomainState]{ID: in.ScriptName, Output: WorkerSubdomainState{WorkerSubdomainArgs: in}}, nil
	}
	state, err := setSubdomain(ctx, in)
	if err != nil {
		return infer.CreateResponse[WorkerSubdomainState]{}, err
	}
	return infer.CreateResponse[WorkerSubdomainState]{ID: in.ScriptName, Output: state}, nil
}

// Update turns the route and previews on or off.
func (*WorkerSubdomain) Update(ctx context.Context, req infer.UpdateRequest[WorkerSubdomainArgs, WorkerSubdomainState]) (infer.UpdateResponse[WorkerSubdomainState], error) {
	in := previewsSpelled(req.Inputs)
	if req.DryRun {
		return infer.UpdateResponse[WorkerSubdomainState]{Output: WorkerSubdomainState{WorkerSubdomainArgs: in}}, nil
	}
	state, err := setSubdomain(ctx, in)
	if err != nil {
		return infer.UpdateResponse[WorkerSubdomainState]{}, err
	}
	return infer.UpdateResponse[WorkerSubdomainState]{Output: state}, nil
}

func setSubdomain(ctx context.Context, in WorkerSubdomainArgs) (WorkerSubdomainState, error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return WorkerSubdomainState{}, err
	}
	got, err := client.SetScriptSubdomain(ctx, in.ScriptName, cfapi.ScriptSubdomain{Enabled: in.Enabled, PreviewsEnabled: deref(in.PreviewsEnabled)})
	if err != nil {
		return WorkerSubdomainState{}, fmt.Errorf("worker %q: workers.dev: %w", in.ScriptName, err)
	}
	return subdomainState(ctx, client, in.ScriptName, got)
}

// subdomainState records what Cloudflare answered, with the URL when enabled.
func subdomainState(ctx context.Context, client *cfapi.Client, script string, got cfapi.ScriptSubdomain) (WorkerSubdomainState, error) {
	s := WorkerSubdomainState{WorkerSubdomainArgs: WorkerSubdomainArgs{ScriptName: script, Enabled: got.Enabled, PreviewsEnabled: ptr(got.PreviewsEnabled)}}
	url, err := workersDevURL(ctx, client, script, got.Enabled)
	s.URL = url
	return s, err
}

// Read reports the live settings, previews included, so that previews
// turned on outside Pulumi show as drift; the id is the script name.
func (*WorkerSubdomain) Read(ctx context.Context, req infer.ReadRequest[WorkerSubdomainArgs, WorkerSubdomainState]) (infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState], error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState]{}, err
	}
	got, err := client.GetScriptSubdomain(ctx, req.ID)
	if cfapi.IsNotFound(err) {
		return infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState]{}, err
	}
	state, err := subdomainState(ctx, client, req.ID, got)
	if err != nil {
		return infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState]{}, err
	}
	return infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState]{ID: req.ID, Inputs: state.WorkerSubdomainArgs, State: state}, nil
}

// Delete turns workers.dev and previews off; a script already gone has nothing to turn off.
func (*WorkerSubdomain) Delete(ctx context.Context, req infer.DeleteRequest[WorkerSubdomainState]) (infer.DeleteResponse, error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if _, err := client.SetScriptSubdomain(ctx, req.State.ScriptName, cfapi.ScriptSubdomain{}); err != nil && !cfapi.IsNotFound(err) {
		return infer.DeleteResponse{}, fmt.Errorf("worker %q: turning workers.dev off: %w", req.State.ScriptName, err)
	}
	return infer.DeleteResponse{}, nil
}
