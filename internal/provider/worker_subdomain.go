package provider

import (
	"context"
	"errors"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/dome/infra/internal/cfapi"
)

// WorkerSubdomain was a worker's workers.dev setting as a resource of its
// own. The setting is now part of the WorkerScript (workersDev,
// previewUrls), which halves the resources per worker. The resource stays
// registered for the stacks deployed before, whose state still holds one per
// worker: refresh reads it, and the next deploy, whose program no longer
// registers it, deletes it.
type WorkerSubdomain struct{}

// WorkerSubdomainArgs are the setting's inputs, as state written before
// holds them.
type WorkerSubdomainArgs struct {
	ScriptName string `pulumi:"scriptName" provider:"replaceOnChanges"`
	Enabled    bool   `pulumi:"enabled"`
	// PreviewsEnabled is optional so that state written before it existed
	// still decodes.
	PreviewsEnabled *bool `pulumi:"previewsEnabled,optional"`
}

// WorkerSubdomainState adds the URL the worker answers on.
type WorkerSubdomainState struct {
	WorkerSubdomainArgs
	URL string `pulumi:"url"`
}

// errSubdomainRetired is what creating the retired resource answers.
var errSubdomainRetired = errors.New("domecf:index:WorkerSubdomain is retired: the workers.dev setting is part of the worker now; " +
	"set workersDev and previewUrls on its domecf:index:WorkerScript instead")

// Annotate documents the resource.
func (w *WorkerSubdomain) Annotate(a infer.Annotator) {
	a.Describe(w, "Retired: whether a worker was served on https://<script>.<account subdomain>.workers.dev, and whether its versions got public preview URLs there. "+
		"Kept so that stacks deployed before can refresh and delete theirs; it can no longer be created. "+
		"Deleting it makes no API call and leaves the setting as it is, because the setting belongs to the WorkerScript now, "+
		"whose update in the same deploy sets it. The resource id is the script name.")
	a.Deprecate(w, "The workers.dev setting is part of the WorkerScript: set workersDev and previewUrls there.")
}

// Annotate documents the inputs.
func (a *WorkerSubdomainArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.ScriptName, "The worker's script name.")
	an.Describe(&a.Enabled, "Whether the worker is served on workers.dev.")
	an.Describe(&a.PreviewsEnabled, "Whether each uploaded version gets a public preview URL on workers.dev.")
}

// Annotate documents the state.
func (s *WorkerSubdomainState) Annotate(a infer.Annotator) {
	a.Describe(&s.URL, "https://<script>.<account subdomain>.workers.dev when enabled, else empty.")
}

// Create refuses: the setting is set on the WorkerScript.
func (*WorkerSubdomain) Create(context.Context, infer.CreateRequest[WorkerSubdomainArgs]) (infer.CreateResponse[WorkerSubdomainState], error) {
	return infer.CreateResponse[WorkerSubdomainState]{}, errSubdomainRetired
}

// Read reports the live setting, so that a refresh of old state still
// works; the id is the script name.
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
	url, err := workersDevURL(ctx, client, req.ID, got.Enabled)
	if err != nil {
		return infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState]{}, err
	}
	args := WorkerSubdomainArgs{ScriptName: req.ID, Enabled: got.Enabled, PreviewsEnabled: ptr(got.PreviewsEnabled)}
	return infer.ReadResponse[WorkerSubdomainArgs, WorkerSubdomainState]{ID: req.ID, Inputs: args,
		State: WorkerSubdomainState{WorkerSubdomainArgs: args, URL: url}}, nil
}

// Delete makes no call and leaves the setting as it is: it belongs to the
// WorkerScript now, whose update in the deploy that deletes this resource
// set it. Turning it off here, as this resource once did, would undo that.
func (*WorkerSubdomain) Delete(context.Context, infer.DeleteRequest[WorkerSubdomainState]) (infer.DeleteResponse, error) {
	return infer.DeleteResponse{}, nil
}
