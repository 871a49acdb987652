package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/dome/infra/internal/cfapi"
)

// WorkerScript is an ES-module worker uploaded with its whole configuration.
type WorkerScript struct{}

// WorkerScriptArgs are a worker's inputs.
type WorkerScriptArgs struct {
	Name       string `pulumi:"name" provider:"replaceOnChanges"`
	MainModule string `pulumi:"mainModule,optional"`
	// ContentFile is optional to decoding only, so that state written
	// before it existed still reads; Check requires it.
	ContentFile        string               `pulumi:"contentFile,optional"`
	ContentSha256      string               `pulumi:"contentSha256"`
	CompatibilityDate  *string              `pulumi:"compatibilityDate,optional"`
	CompatibilityFlags []string             `pulumi:"compatibilityFlags,optional"`
	Bindings           []WorkerBinding      `pulumi:"bindings,optional"`
	Observability      *WorkerObservability `pulumi:"observability,optional"`
	Logpush            *bool                `pulumi:"logpush,optional"`
	Placement          *WorkerPlacement     `pulumi:"placement,optional"`
	Tags               []string             `pulumi:"tags,optional"`
	Migrations         []WorkerMigration    `pulumi:"migrations,optional"`
	SourceMapFile      *string              `pulumi:"sourceMapFile,optional"`
	SourceMapSha256    *string              `pulumi:"sourceMapSha256,optional"`
	// WorkersDev and PreviewURLs are the worker's workers.dev setting,
	// which Cloudflare keeps apart from the upload: an upload leaves it as
	// it was. Nil WorkersDev leaves it to whoever else sets it.
	WorkersDev  *bool `pulumi:"workersDev,optional"`
	PreviewURLs *bool `pulumi:"previewUrls,optional"`
	// LegacyContent and LegacySourceMap are the code and map inline, as
	// versions before contentFile took them. Check refuses them; they are
	// here so that state written then decodes and its diff names them.
	LegacyContent   *string `pulumi:"content,optional"`
	LegacySourceMap *string `pulumi:"sourceMap,optional"`
}

// WorkerBinding is one binding; which optional fields apply depends on Type
// (see bindingFields).
type WorkerBinding struct {
	Type         string  `pulumi:"type"`
	Name         string  `pulumi:"name"`
	Text         *string `pulumi:"text,optional"`
	ID           *string `pulumi:"id,optional"`
	BucketName   *string `pulumi:"bucketName,optional"`
	Jurisdiction *string `pulumi:"jurisdiction,optional"`
	QueueName    *string `pulumi:"queueName,optional"`
	Service      *string `pulumi:"service,optional"`
	Environment  *string `pulumi:"environment,optional"`
	IndexName    *string `pulumi:"indexName,optional"`
	NamespaceID  *string `pulumi:"namespaceId,optional"`
	ClassName    *string `pulumi:"className,optional"`
	ScriptName   *string `pulumi:"scriptName,optional"`
	Dataset      *string `pulumi:"dataset,optional"`
}

// WorkerObservability is the Workers Logs setting.
type WorkerObservability struct {
	Enabled          bool     `pulumi:"enabled"`
	HeadSamplingRate *float64 `pulumi:"headSamplingRate,optional"`
}

// WorkerPlacement is the placement setting; Mode "smart" is Smart Placement.
type WorkerPlacement struct {
	Mode string `pulumi:"mode"`
}

// WorkerMigration is one step of the worker's Durable Object migration
// history, named by its tag.
type WorkerMigration struct {
	Tag              string               `pulumi:"tag"`
	OldTag           *string              `pulumi:"oldTag,optional"`
	NewClasses       []string             `pulumi:"newClasses,optional"`
	NewSqliteClasses []string             `pulumi:"newSqliteClasses,optional"`
	RenamedClasses   []WorkerRenamedClass `pulumi:"renamedClasses,optional"`
	DeletedClasses   []string             `pulumi:"deletedClasses,optional"`
}

// WorkerRenamedClass renames a Durable Object class.
type WorkerRenamedClass struct {
	From string `pulumi:"from"`
	To   string `pulumi:"to"`
}

// WorkerScriptState is a worker's state: its inputs plus what Cloudflare reports.
type WorkerScriptState struct {
	WorkerScriptArgs
	MigrationTag *string `pulumi:"migrationTag,optional"`
	// URL is optional so that state written before it existed still decodes.
	URL string `pulumi:"url,optional"`
}

const defaultMainModule = "index.js"

// bindingSpec lists, per binding type, the input properties the type
// requires and the ones it also accepts.
type bindingSpec struct{ required, optional []string }

var bindingFields = map[string]bindingSpec{
	"d1":                       {required: []string{"id"}},
	"r2_bucket":                {required: []string{"bucketName"}, optional: []string{"jurisdiction"}},
	"queue":                    {required: []string{"queueName"}},
	"service":                  {required: []string{"service"}, optional: []string{"environment"}},
	"plain_text":               {required: []string{"text"}},
	"secret_text":              {required: []string{"text"}},
	"ai":                       {},
	"vectorize":                {required: []string{"indexName"}},
	"kv_namespace":             {required: []string{"namespaceId"}},
	"durable_object_namespace": {required: []string{"className"}, optional: []string{"scriptName"}},
	"analytics_engine":         {required: []string{"dataset"}},
	"hyperdrive":               {required: []string{"id"}},
}

// bindingTypes is bindingFields' keys in a stable order, for messages.
var bindingTypes = func() []string {
	ts := make([]string, 0, len(bindingFields))
	for t := range bindingFields {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}()

// Annotate documents the resource.
func (w *WorkerScript) Annotate(a infer.Annotator) {
	a.Describe(w, "An ES-module Cloudflare worker, uploaded with its whole configuration: every binding type "+
		"(AI, Vectorize and Durable Objects included), compatibility settings, observability, logpush, "+
		"placement, tags and Durable Object migrations, and its workers.dev setting. The resource id is the script name.")
}

// Annotate documents the inputs.
func (a *WorkerScriptArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "Script name; changing it replaces the worker.")
	an.Describe(&a.MainModule, "Name of the main module part.")
	an.SetDefault(&a.MainModule, defaultMainModule)
	an.Describe(&a.ContentFile, "Absolute path of the main ES module's file, read only when the script is uploaded. "+
		"State keeps the path and the hash, never the code.")
	an.Describe(&a.ContentSha256, "Hex SHA-256 of contentFile's bytes: what the diff compares, and what an upload checks the file against.")
	an.Describe(&a.CompatibilityDate, "Workers runtime compatibility date.")
	an.Describe(&a.CompatibilityFlags, "Workers runtime compatibility flags.")
	an.Describe(&a.Bindings, "The worker's bindings. An upload replaces the whole list.")
	an.Describe(&a.Observability, "Workers Logs: enabled and head sampling rate.")
	an.Describe(&a.Logpush, "Whether Logpush is on for this worker.")
	an.Describe(&a.Placement, "Placement; mode \"smart\" turns on Smart Placement.")
	an.Describe(&a.Tags, "Script tags.")
	an.Describe(&a.Migrations, "Durable Object migration history, oldest step first. Each upload sends only the steps "+
		"after the tag the script is at, which is read from Cloudflare's scripts list.")
	an.Describe(&a.SourceMapFile, "Absolute path of the main module's source map, uploaded beside it as <mainModule>.map "+
		"so Workers Logs shows stack traces in the original sources.")
	an.Describe(&a.SourceMapSha256, "Hex SHA-256 of sourceMapFile's bytes.")
	an.Describe(&a.WorkersDev, "Serve the worker on https://<name>.<account subdomain>.workers.dev. Set after each upload; "+
		"a change is one call, not an upload. Unset, the provider leaves the setting as it is (off for a script uploaded "+
		"through the API) and does not read it back; unsetting it leaves it as it was.")
	an.Describe(&a.PreviewURLs, "Give each uploaded version a public preview URL on workers.dev. Needs workersDev; "+
		"unset with workersDev set means false. Always sent with workersDev, since Cloudflare turns previews on with "+
		"workers.dev when the setting is left out.")
	an.Deprecate(&a.LegacyContent, "Inline code kept the code in state; use contentFile and contentSha256.")
	an.Deprecate(&a.LegacySourceMap, "An inline map kept it in state; use sourceMapFile and sourceMapSha256.")
}

// Annotate documents a binding.
func (b *WorkerBinding) Annotate(a infer.Annotator) {
	a.Describe(&b.Type, "Binding type: one of "+strings.Join(bindingTypes, ", ")+".")
	a.Describe(&b.Name, "Name the worker sees the binding under.")
	a.Describe(&b.Text, "Value of a plain_text or secret_text binding; a secret_text value is always kept secret.")
	a.Describe(&b.ID, "D1 database uuid (d1) or Hyperdrive config id (hyperdrive).")
	a.Describe(&b.BucketName, "R2 bucket name (r2_bucket).")
	a.Describe(&b.Jurisdiction, "R2 bucket jurisdiction (r2_bucket, optional).")
	a.Describe(&b.QueueName, "Queue name (queue producer).")
	a.Describe(&b.Service, "Target script name (service).")
	a.Describe(&b.Environment, "Target environment (service, optional).")
	a.Describe(&b.IndexName, "Vectorize index name (vectorize).")
	a.Describe(&b.NamespaceID, "KV namespace id (kv_namespace).")
	a.Describe(&b.ClassName, "Durable Object class (durable_object_namespace).")
	a.Describe(&b.ScriptName, "Script that defines the Durable Object class, if not this one (durable_object_namespace).")
	a.Describe(&b.Dataset, "Analytics Engine dataset (analytics_engine).")
}

// Annotate documents the state.
func (s *WorkerScriptState) Annotate(a infer.Annotator) {
	a.Describe(&s.MigrationTag, "Durable Object migration tag the script is at.")
	a.Describe(&s.URL, "https://<name>.<account subdomain>.workers.dev while workersDev is true, else empty.")
}

// Annotate documents a migration step.
func (m *WorkerMigration) Annotate(a infer.Annotator) {
	a.Describe(&m.Tag, "Tag of this step; unique within the history.")
	a.Describe(&m.OldTag, "First step only: the tag the script was at before this history (steps applied elsewhere).")
	a.Describe(&m.NewClasses, "Durable Object classes created with key-value storage.")
	a.Describe(&m.NewSqliteClasses, "Durable Object classes created with SQLite storage.")
	a.Describe(&m.RenamedClasses, "Classes renamed, from and to.")
	a.Describe(&m.DeletedClasses, "Classes deleted, with their objects.")
}

// Check validates the inputs, binding by binding, and marks every
// secret_text value secret even when the program passed a plain string, so
// the value is encrypted in state from the first deployment on.
func (*WorkerScript) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[WorkerScriptArgs], error) {
	inputs, failures := checkBindings(req.NewInputs)
	args, decodeFailures, err := infer.DefaultCheck[WorkerScriptArgs](ctx, inputs)
	if err != nil {
		return infer.CheckResponse[WorkerScriptArgs]{}, err
	}
	failures = append(decodeFailures, failures...)
	// A rate is a fraction of requests; Cloudflare's error for a bad one
	// would only come at deploy time.
	if o := args.Observability; o != nil && o.HeadSamplingRate != nil && (*o.HeadSamplingRate < 0 || *o.HeadSamplingRate > 1) {
		failures = append(failures, p.CheckFailure{Property: "observability.headSamplingRate",
			Reason: fmt.Sprintf("headSamplingRate is a fraction between 0 and 1, got %v", *o.HeadSamplingRate)})
	}
	failures = append(failures, checkMigrations(args.Migrations)...)
	failures = append(failures, checkCode("content", &args.ContentFile, &args.ContentSha256)...)
	for _, legacy := range []struct {
		prop string
		set  bool
	}{{"content", args.LegacyContent != nil}, {"sourceMap", args.LegacySourceMap != nil}} {
		if legacy.set {
			failures = append(failures, p.CheckFailure{Property: legacy.prop, Reason: fmt.Sprintf("%s kept the code in state and is no longer taken; "+
				"write it to a file and pass %sFile and %sSha256", legacy.prop, legacy.prop, legacy.prop)})
		}
	}
	if args.SourceMapFile != nil || args.SourceMapSha256 != nil {
		failures = append(failures, checkCode("sourceMap", args.SourceMapFile, args.SourceMapSha256)...)
	}
	switch {
	case args.PreviewURLs != nil && args.WorkersDev == nil:
		failures = append(failures, p.CheckFailure{Property: "previewUrls", Reason: "previewUrls is part of the workers.dev setting " +
			"and is sent only with it; set workersDev too (false keeps the worker off workers.dev), or leave both out"})
	case args.WorkersDev != nil && args.PreviewURLs == nil:
		// Spelled out, as it is sent: Cloudflare would turn previews on
		// with workers.dev.
		args.PreviewURLs = ptr(false)
	}
	return infer.CheckResponse[WorkerScriptArgs]{Inputs: args, Failures: failures}, nil
}

// checkCode checks a file input and its hash: the file must be named by an
// absolute path, because the provider does not run in the program's folder,
// and the hash must be a hex SHA-256. The file itself is read only when it
// is uploaded, so a preview never reads a bundle. A hash without a file is
// what an import records (the code Cloudflare runs, which is on no disk
// here); the program always passes both, and an upload without a file
// fails saying so.
func checkCode(prop string, file, sum *string) []p.CheckFailure {
	var failures []p.CheckFailure
	switch {
	case file == nil || *file == "":
	case !filepath.IsAbs(*file):
		failures = append(failures, p.CheckFailure{Property: prop + "File", Reason: fmt.Sprintf("%sFile %q is relative; the provider runs in another folder than the program, so give an absolute path", prop, *file)})
	}
	if sum == nil || !isSHA256(*sum) {
		got := "nothing"
		if sum != nil {
			got = fmt.Sprintf("%q", *sum)
		}
		failures = append(failures, p.CheckFailure{Property: prop + "Sha256", Reason: fmt.Sprintf("%sSha256 must be the file's hex SHA-256 (64 characters), got %s", prop, got)})
	}
	return failures
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && s == strings.ToLower(s)
}

// checkMigrations refuses histories Cloudflare could not follow: steps
// without a tag, a tag used twice, an oldTag past the first step.
func checkMigrations(steps []WorkerMigration) []p.CheckFailure {
	var failures []p.CheckFailure
	seen := map[string]int{}
	for i, m := range steps {
		prop := fmt.Sprintf("migrations[%d]", i)
		if prev, dup := seen[m.Tag]; dup {
			failures = append(failures, p.CheckFailure{Property: prop + ".tag", Reason: fmt.Sprintf("tag %q is also the tag of step %d; every step needs its own tag", m.Tag, prev)})
		} else if m.Tag == "" {
			failures = append(failures, p.CheckFailure{Property: prop + ".tag", Reason: "every migration step needs a tag"})
		}
		seen[m.Tag] = i
		if i > 0 && m.OldTag != nil {
			failures = append(failures, p.CheckFailure{Property: prop + ".oldTag", Reason: "only the first step may set oldTag; each later step follows the one before it"})
		}
	}
	return failures
}

// checkBindings works on the raw property map rather than the decoded
// struct because during a preview a binding's id may still be unknown, and
// decoding turns an unknown into an empty string that would look missing.
func checkBindings(inputs property.Map) (property.Map, []p.CheckFailure) {
	raw, ok := inputs.GetOk("bindings")
	if !ok || !raw.IsArray() {
		return inputs, nil
	}
	var failures []p.CheckFailure
	fail := func(i int, prop, format string, args ...any) {
		failures = append(failures, p.CheckFailure{
			Property: fmt.Sprintf("bindings[%d]%s", i, prop),
			Reason:   fmt.Sprintf(format, args...),
		})
	}
	names := map[string]int{}
	items := raw.AsArray().AsSlice()
	for i, item := range items {
		if !item.IsMap() {
			continue
		}
		b := item.AsMap()
		name := b.Get("name")
		label := fmt.Sprintf("binding %d", i)
		if name.IsString() {
			label = fmt.Sprintf("binding %q", name.AsString())
			if prev, dup := names[name.AsString()]; dup {
				fail(i, ".name", "%s: the name is already used by binding %d", label, prev)
			}
			names[name.AsString()] = i
		}
		typ := b.Get("type")
		if !typ.IsString() {
			continue
		}
		spec, known := bindingFields[typ.AsString()]
		if !known {
			fail(i, ".type", "%s: unknown type %q; expected one of %s", label, typ.AsString(), strings.Join(bindingTypes, ", "))
			continue
		}
		for _, f := range spec.required {
			v, has := b.GetOk(f)
			if !has || v.IsNull() || (v.IsString() && v.AsString() == "") {
				fail(i, "."+f, "%s (%s) needs %s", label, typ.AsString(), f)
			}
		}
		for k, v := range b.All {
			if k == "type" || k == "name" || v.IsNull() || slices.Contains(spec.required, k) || slices.Contains(spec.optional, k) {
				continue
			}
			fail(i, "."+k, "%s (%s) does not take %s", label, typ.AsString(), k)
		}
		if typ.AsString() == "secret_text" {
			if text, has := b.GetOk("text"); has && !text.Secret() {
				items[i] = property.WithGoValue(item, b.Set("text", text.WithSecret(true)))
			}
		}
	}
	return inputs.Set("bindings", property.WithGoValue(raw, property.NewArray(items))), failures
}

// Diff reports each changed property; only a new name needs a new script,
// everything else is a re-upload. Code is compared by hash: the file paths
// say where this run's bundles are, which differs by machine and says
// nothing about what runs. State that still holds the code inline shows
// content (and sourceMap) removed, so the update that follows rewrites the
// state without them.
func (*WorkerScript) Diff(_ context.Context, req infer.DiffRequest[WorkerScriptArgs, WorkerScriptState]) (infer.DiffResponse, error) {
	return diffInputs(defaultRate(stateArgs(req.State)), defaultRate(req.Inputs), workerDiff), nil
}

// workerDiff is how a worker's inputs are compared; uploadDiff is the part
// of that which the upload carries, whose change needs an upload. The
// workers.dev setting is not part of the upload: it has a call of its own.
var (
	workerDiff = diffPolicy{
		replace: map[string]bool{"name": true},
		ignore:  map[string]bool{"contentFile": true, "sourceMapFile": true},
	}
	uploadDiff = diffPolicy{
		ignore: map[string]bool{"contentFile": true, "sourceMapFile": true, "content": true, "sourceMap": true,
			"workersDev": true, "previewUrls": true},
	}
)

// stateArgs is the inputs a state stands for. State written before the
// code moved to files holds the map inline rather than its hash.
func stateArgs(s WorkerScriptState) WorkerScriptArgs {
	a := s.WorkerScriptArgs
	if a.LegacySourceMap != nil && a.SourceMapSha256 == nil {
		a.SourceMapSha256 = ptr(sha256Hex(*a.LegacySourceMap))
	}
	return a
}

// defaultRate spells out Cloudflare's default head sampling rate (1). An
// unset rate and 1 are the same setting, and Read reports the default as
// unset, so without this an imported script would differ from a program
// that writes the default out.
func defaultRate(a WorkerScriptArgs) WorkerScriptArgs {
	if o := a.Observability; o != nil && o.HeadSamplingRate == nil {
		one := 1.0
		spelled := *o
		spelled.HeadSamplingRate = &one
		a.Observability = &spelled
	}
	return a
}

// Create uploads a new script. It refuses to overwrite a script that is
// already there: an upload would silently take over a worker someone else
// deployed.
func (*WorkerScript) Create(ctx context.Context, req infer.CreateRequest[WorkerScriptArgs]) (infer.CreateResponse[WorkerScriptState], error) {
	in := req.Inputs
	state := WorkerScriptState{WorkerScriptArgs: in, MigrationTag: lastTag(in.Migrations)}
	if req.DryRun {
		return infer.CreateResponse[WorkerScriptState]{ID: in.Name, Output: state}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.CreateResponse[WorkerScriptState]{}, err
	}
	code, err := readCode(in)
	if err != nil {
		return infer.CreateResponse[WorkerScriptState]{}, err
	}
	_, err = client.GetScriptSettings(ctx, in.Name)
	switch {
	case err == nil:
		return infer.CreateResponse[WorkerScriptState]{}, alreadyExists(ctx, "WorkerScript", in.Name, in.Name, nil)
	case !cfapi.IsNotFound(err):
		return infer.CreateResponse[WorkerScriptState]{}, err
	}
	// The script does not exist yet, so it is at no migration tag.
	tag, err := upload(ctx, client, in, code, "")
	if cfapi.MayHaveApplied(err) {
		// The upload may have landed with its answer lost: if Cloudflare
		// holds exactly this script, it is the one this create made.
		if live, found, readErr := uploaded(ctx, in); readErr == nil && found {
			if live == nil {
				return infer.CreateResponse[WorkerScriptState]{}, alreadyExists(ctx, "WorkerScript", in.Name, in.Name, err)
			}
			p.GetLogger(ctx).Infof("worker %s: the upload's answer was lost, but Cloudflare holds exactly what was sent", in.Name)
			tag, err = live.MigrationTag, nil
		}
	}
	if err != nil {
		return infer.CreateResponse[WorkerScriptState]{}, err
	}
	state.MigrationTag = tag
	err = setWorkersDev(ctx, client, &state)
	return infer.CreateResponse[WorkerScriptState]{ID: in.Name, Output: state}, err
}

// uploaded reads the script named in back after an upload whose outcome is
// unknown. found says whether Cloudflare has a script by that name; the
// state is nil when what it holds differs from in (content hash, settings,
// bindings or migration tag). The workers.dev setting is neither read nor
// compared: it is set after the upload, so it cannot tell this create's
// script from someone else's.
func uploaded(ctx context.Context, in WorkerScriptArgs) (live *WorkerScriptState, found bool, err error) {
	in.WorkersDev, in.PreviewURLs = nil, nil
	read, err := (&WorkerScript{}).Read(ctx, infer.ReadRequest[WorkerScriptArgs, WorkerScriptState]{
		ID: in.Name, Inputs: in, State: WorkerScriptState{WorkerScriptArgs: in},
	})
	if err != nil || read.ID == "" {
		return nil, false, err
	}
	same := !diffInputs(defaultRate(read.Inputs), defaultRate(in), uploadDiff).HasChanges
	if want := lastTag(in.Migrations); want != nil && deref(read.State.MigrationTag) != *want {
		same = false
	}
	if !same {
		return nil, true, nil
	}
	return &read.State, true, nil
}

// Update re-uploads the script when what the upload carries changed, and
// sends the workers.dev setting when it changed or after an upload (see
// setWorkersDev): a change of the setting alone is one call, not an upload.
func (*WorkerScript) Update(ctx context.Context, req infer.UpdateRequest[WorkerScriptArgs, WorkerScriptState]) (infer.UpdateResponse[WorkerScriptState], error) {
	in := req.Inputs
	state := WorkerScriptState{WorkerScriptArgs: in, MigrationTag: req.State.MigrationTag, URL: req.State.URL}
	if !deref(in.WorkersDev) {
		state.URL = "" // off, or no longer the provider's to report
	}
	// Without a change to what the upload carries, Cloudflare holds the
	// script already: at most the state's form changed (code held inline
	// before), or where this run keeps its bundles.
	reupload := diffInputs(defaultRate(stateArgs(req.State)), defaultRate(in), uploadDiff).HasChanges
	// Sent after every upload too, though unchanged: one idempotent call
	// that keeps the two in step. An unset setting is left as it is.
	setDev := in.WorkersDev != nil && (reupload ||
		!samePtr(req.State.WorkersDev, in.WorkersDev) || !samePtr(req.State.PreviewURLs, in.PreviewURLs))
	if req.DryRun {
		if tag := lastTag(in.Migrations); reupload && tag != nil {
			state.MigrationTag = tag
		}
		return infer.UpdateResponse[WorkerScriptState]{Output: state}, nil
	}
	if !reupload && !setDev {
		return infer.UpdateResponse[WorkerScriptState]{Output: state}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.UpdateResponse[WorkerScriptState]{}, err
	}
	if reupload {
		tag, err := reuploadScript(ctx, client, req.State.Bindings, in)
		if err != nil {
			return infer.UpdateResponse[WorkerScriptState]{}, err
		}
		if tag != nil { // without migrations and an answer naming the tag, the state's stands
			state.MigrationTag = tag
		}
	}
	if setDev {
		err = setWorkersDev(ctx, client, &state)
	}
	return infer.UpdateResponse[WorkerScriptState]{Output: state}, err
}

// reuploadScript uploads an existing script's new code and settings,
// deletes the secrets it no longer binds, and returns the migration tag it
// is at when the upload says.
func reuploadScript(ctx context.Context, client *cfapi.Client, old []WorkerBinding, in WorkerScriptArgs) (*string, error) {
	code, err := readCode(in)
	if err != nil {
		return nil, err
	}
	current := ""
	if len(in.Migrations) > 0 {
		// Cloudflare, not the state, knows which steps were applied: another
		// deploy or tool may have moved the tag since.
		if current, err = migrationTag(ctx, client, in.Name); err != nil {
			return nil, err
		}
	}
	tag, err := upload(ctx, client, in, code, current)
	if err != nil {
		return nil, err
	}
	for _, name := range removedSecrets(old, in.Bindings) {
		if err := client.DeleteScriptSecret(ctx, in.Name, name); err != nil && !cfapi.IsNotFound(err) {
			return nil, fmt.Errorf("worker %s: delete secret %s, which the program no longer sets: %w", in.Name, name, err)
		}
	}
	return tag, nil
}

// setWorkersDev sends the worker's workers.dev setting, when its inputs
// have one, and records what Cloudflare answered, with the URL. It comes
// after the upload, since a new script has nothing to set it on. When it
// fails the script is uploaded all the same, so it stays in the state, as
// a resource whose initialization failed, with the setting recorded as not
// managed yet: the next deploy's diff shows the setting and sends it again.
func setWorkersDev(ctx context.Context, client *cfapi.Client, state *WorkerScriptState) error {
	if state.WorkersDev == nil {
		return nil
	}
	got, err := client.SetScriptSubdomain(ctx, state.Name, cfapi.ScriptSubdomain{Enabled: *state.WorkersDev, PreviewsEnabled: deref(state.PreviewURLs)})
	url := ""
	if err != nil {
		err = fmt.Errorf("worker %s: setting workers.dev: %w", state.Name, err)
	} else {
		url, err = workersDevURL(ctx, client, state.Name, got.Enabled)
	}
	if err != nil {
		state.WorkersDev, state.PreviewURLs, state.URL = nil, nil, ""
		return infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	state.WorkersDev, state.PreviewURLs, state.URL = ptr(got.Enabled), ptr(got.PreviewsEnabled), url
	return nil
}

// workersDevURL is the URL a script answers on while it is enabled on
// workers.dev, else empty. It costs a read of the account's subdomain, so
// it is made only then.
func workersDevURL(ctx context.Context, client *cfapi.Client, script string, enabled bool) (string, error) {
	if !enabled {
		return "", nil
	}
	sub, err := client.GetAccountSubdomain(ctx)
	if err != nil {
		return "", fmt.Errorf("worker %s: reading the account's workers.dev subdomain (register one in the dashboard's Workers overview if the account has none): %w", script, err)
	}
	return "https://" + script + "." + sub + ".workers.dev", nil
}

// removedSecrets names the secret bindings the old inputs had and the new
// ones lack. Cloudflare keeps a script's secrets across uploads, so each
// must be deleted explicitly; a name the new inputs reuse for another
// binding type is replaced by the upload itself.
func removedSecrets(old, news []WorkerBinding) []string {
	var out []string
	for _, b := range old {
		if b.Type == "secret_text" && !slices.ContainsFunc(news, func(n WorkerBinding) bool { return n.Name == b.Name }) {
			out = append(out, b.Name)
		}
	}
	return out
}

// code is what an upload sends besides the metadata.
type code struct{ content, sourceMap string }

// readCode reads the module and its map from their files, checking each
// against the hash the diff was made with: a file that changed after the
// program hashed it would upload code no preview showed.
func readCode(in WorkerScriptArgs) (code, error) {
	var c code
	var err error
	if c.content, err = readHashed(in.Name, "contentFile", in.ContentFile, in.ContentSha256); err != nil {
		return code{}, err
	}
	if in.SourceMapFile != nil {
		if c.sourceMap, err = readHashed(in.Name, "sourceMapFile", *in.SourceMapFile, deref(in.SourceMapSha256)); err != nil {
			return code{}, err
		}
	}
	return c, nil
}

func readHashed(worker, prop, path, want string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("worker %s: %s is not set: the state knows the code Cloudflare runs by its hash only (as after an import), and an upload needs the file; deploy with the program, which writes every bundle", worker, prop)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("worker %s: %s: %w; the program writes every bundle before the deploy, so run the deploy again from the project folder", worker, prop, err)
	}
	if got := sha256Hex(string(b)); got != want {
		return "", fmt.Errorf("worker %s: %s %s has SHA-256 %s, not the %s the program hashed; it changed during the deploy, so run the deploy again", worker, prop, path, got, want)
	}
	return string(b), nil
}

// upload sends the script with the migration steps after current, the tag
// the script is at, and returns the tag it is at afterwards.
func upload(ctx context.Context, client *cfapi.Client, in WorkerScriptArgs, c code, current string) (*string, error) {
	meta := cfapi.ScriptMetadata{
		MainModule:         in.MainModule,
		CompatibilityDate:  deref(in.CompatibilityDate),
		CompatibilityFlags: in.CompatibilityFlags,
		Tags:               in.Tags,
		// Sent even when unset so that removing them from the program turns
		// them off rather than leaving the previous value in place.
		Logpush:       ptr(in.Logpush != nil && *in.Logpush),
		Observability: &cfapi.Observability{},
	}
	if meta.MainModule == "" {
		meta.MainModule = defaultMainModule
	}
	for _, b := range in.Bindings {
		meta.Bindings = append(meta.Bindings, b.toAPI())
	}
	if o := in.Observability; o != nil {
		meta.Observability = &cfapi.Observability{Enabled: o.Enabled, HeadSamplingRate: o.HeadSamplingRate}
	}
	if in.Placement != nil {
		meta.Placement = &cfapi.Placement{Mode: in.Placement.Mode}
	}
	migrations, err := pendingMigrations(in.Migrations, current)
	if err != nil {
		return nil, fmt.Errorf("worker %s: %w", in.Name, err)
	}
	meta.Migrations = migrations
	p.GetLogger(ctx).Debugf("uploading worker %s: main module %s, %d bindings", in.Name, meta.MainModule, len(meta.Bindings))
	script, err := client.UploadScript(ctx, cfapi.UploadScriptParams{ScriptName: in.Name, Metadata: meta, Content: c.content, SourceMap: c.sourceMap})
	if err != nil {
		return nil, err
	}
	switch {
	case script.MigrationTag != "":
		return &script.MigrationTag, nil
	case current != "":
		return &current, nil
	}
	return lastTag(in.Migrations), nil
}

// migrationTag reads the tag a script is at from the scripts list, the one
// place Cloudflare reports it.
func migrationTag(ctx context.Context, client *cfapi.Client, name string) (string, error) {
	scripts, err := client.ListScripts(ctx)
	if err != nil {
		return "", fmt.Errorf("worker %s: read its Durable Object migration tag: %w", name, err)
	}
	for _, s := range scripts {
		if s.ID == name {
			return s.MigrationTag, nil
		}
	}
	return "", nil
}

// pendingMigrations is the part of the history after current, as one
// upload's migrations: nil when the script is at the last step already.
// Cloudflare refuses a migration whose old_tag is not the script's tag, so
// a tag the history does not contain is an error here, before the upload.
func pendingMigrations(steps []WorkerMigration, current string) (*cfapi.Migrations, error) {
	if len(steps) == 0 {
		return nil, nil
	}
	from := 0
	if i := slices.IndexFunc(steps, func(m WorkerMigration) bool { return m.Tag == current }); current != "" && i >= 0 {
		from = i + 1
	} else if current != deref(steps[0].OldTag) {
		tags := make([]string, len(steps))
		for i, m := range steps {
			tags[i] = m.Tag
		}
		start := "no tag"
		if steps[0].OldTag != nil {
			start = fmt.Sprintf("tag %q", *steps[0].OldTag)
		}
		return nil, fmt.Errorf("the script is at Durable Object migration tag %q, which its migration history (%s, starting from %s) does not contain; "+
			"list the steps that led there, or set oldTag on the first step to %q", current, strings.Join(tags, ", "), start, current)
	}
	pending := steps[from:]
	if len(pending) == 0 {
		return nil, nil
	}
	out := &cfapi.Migrations{OldTag: current, NewTag: pending[len(pending)-1].Tag}
	if len(pending) == 1 {
		out.MigrationStep = pending[0].toAPI()
		return out, nil
	}
	for _, m := range pending {
		out.Steps = append(out.Steps, m.toAPI())
	}
	return out, nil
}

func lastTag(steps []WorkerMigration) *string {
	if len(steps) == 0 {
		return nil
	}
	return &steps[len(steps)-1].Tag
}

// Read rebuilds the inputs from Cloudflare's settings and content so that
// refresh detects drift and import needs nothing but the script name.
// Cloudflare never returns a secret_text value, so the one in state is kept
// for each secret binding that still exists. The workers.dev setting is
// read where the inputs set it, and on import.
func (*WorkerScript) Read(ctx context.Context, req infer.ReadRequest[WorkerScriptArgs, WorkerScriptState]) (infer.ReadResponse[WorkerScriptArgs, WorkerScriptState], error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{}, err
	}
	settings, err := client.GetScriptSettings(ctx, req.ID)
	if cfapi.IsNotFound(err) {
		return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{}, err
	}
	content, err := client.GetScriptContent(ctx, req.ID)
	if err != nil {
		return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{}, err
	}
	prior := stateArgs(req.State)
	args := WorkerScriptArgs{
		Name:       req.ID,
		MainModule: prior.MainModule,
		// The live code is compared by its hash; the file is wherever the
		// last deploy had it (none after an import), and only an upload
		// reads it.
		ContentFile:        prior.ContentFile,
		ContentSha256:      sha256Hex(content),
		CompatibilityDate:  nonEmpty(settings.CompatibilityDate),
		CompatibilityFlags: nilIfEmpty(settings.CompatibilityFlags),
		Bindings:           bindingsFromAPI(settings.Bindings, prior.Bindings),
		Observability:      observabilityFromAPI(settings.Observability, prior.Observability),
		Logpush:            logpushFromAPI(settings.Logpush, prior.Logpush),
		Tags:               nilIfEmpty(settings.Tags),
		// Cloudflare reports only the tag a script is at, not the steps that
		// led there, so the migration input is whatever state last held;
		// likewise the content endpoint returns the main module, not its map.
		Migrations:      prior.Migrations,
		SourceMapFile:   prior.SourceMapFile,
		SourceMapSha256: prior.SourceMapSha256,
	}
	if args.MainModule == "" {
		args.MainModule = defaultMainModule
	}
	if pl := settings.Placement; pl != nil && pl.Mode != "" {
		args.Placement = &WorkerPlacement{Mode: pl.Mode}
	}
	importing := req.State.Name == ""
	url := ""
	if importing || req.State.WorkersDev != nil || req.Inputs.WorkersDev != nil {
		// Only a worker whose inputs set workers.dev has that setting to
		// drift (and an imported one may have any); the others pay no call
		// for it.
		live, err := client.GetScriptSubdomain(ctx, req.ID)
		if err != nil {
			return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{}, fmt.Errorf("worker %s: reading its workers.dev setting: %w", req.ID, err)
		}
		if url, err = workersDevURL(ctx, client, req.ID, live.Enabled); err != nil {
			return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{}, err
		}
		args.WorkersDev, args.PreviewURLs = ptr(live.Enabled), ptr(live.PreviewsEnabled)
	}
	state := WorkerScriptState{WorkerScriptArgs: args, MigrationTag: req.State.MigrationTag, URL: url}
	if importing || len(prior.Migrations) > 0 || req.State.MigrationTag != nil {
		// Only a script with Durable Objects has a tag to drift (and an
		// imported one may have any); reading it costs a list of the
		// account's scripts, since its settings do not report it.
		tag, err := migrationTag(ctx, client, req.ID)
		if err != nil {
			return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{}, err
		}
		state.MigrationTag = nonEmpty(tag)
	}
	return infer.ReadResponse[WorkerScriptArgs, WorkerScriptState]{ID: req.ID, Inputs: args, State: state}, nil
}

// Delete removes the script even if other scripts still bind to it; the
// engine deletes dependents first, and an unforced delete would fail on a
// worker that consumes a queue.
func (*WorkerScript) Delete(ctx context.Context, req infer.DeleteRequest[WorkerScriptState]) (infer.DeleteResponse, error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if err := client.DeleteScript(ctx, req.ID); err != nil && !cfapi.IsNotFound(err) {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, nil
}

func (b WorkerBinding) toAPI() cfapi.WorkerBinding {
	out := cfapi.WorkerBinding{Type: b.Type, Name: b.Name}
	switch b.Type {
	case "d1", "hyperdrive":
		out.ID = deref(b.ID)
	case "r2_bucket":
		out.BucketName, out.Jurisdiction = deref(b.BucketName), deref(b.Jurisdiction)
	case "queue":
		out.QueueName = deref(b.QueueName)
	case "service":
		out.Service, out.Environment = deref(b.Service), deref(b.Environment)
	case "plain_text", "secret_text":
		out.Text = deref(b.Text)
	case "vectorize":
		out.IndexName = deref(b.IndexName)
	case "kv_namespace":
		out.NamespaceID = deref(b.NamespaceID)
	case "durable_object_namespace":
		out.ClassName, out.ScriptName = deref(b.ClassName), deref(b.ScriptName)
	case "analytics_engine":
		out.Dataset = deref(b.Dataset)
	}
	return out
}

func bindingFromAPI(a cfapi.WorkerBinding) WorkerBinding {
	b := WorkerBinding{Type: a.Type, Name: a.Name}
	switch a.Type {
	case "d1", "hyperdrive":
		b.ID = nonEmpty(a.ID)
	case "r2_bucket":
		b.BucketName, b.Jurisdiction = nonEmpty(a.BucketName), nonEmpty(a.Jurisdiction)
	case "queue":
		b.QueueName = nonEmpty(a.QueueName)
	case "service":
		b.Service, b.Environment = nonEmpty(a.Service), nonEmpty(a.Environment)
	case "plain_text", "secret_text":
		b.Text = nonEmpty(a.Text)
	case "vectorize":
		b.IndexName = nonEmpty(a.IndexName)
	case "kv_namespace":
		b.NamespaceID = nonEmpty(a.NamespaceID)
	case "durable_object_namespace":
		b.ClassName, b.ScriptName = nonEmpty(a.ClassName), nonEmpty(a.ScriptName)
	case "analytics_engine":
		b.Dataset = nonEmpty(a.Dataset)
	}
	return b
}

// bindingsFromAPI maps live bindings back to inputs in the order state had
// them, with new ones after. infer re-applies secretness from the prior
// state by position, so a secret_text value is kept from state only where
// the binding is still at its old position; elsewhere (after drift) it is
// left out rather than risk returning it unmarked, and the next update
// sends it again.
func bindingsFromAPI(live []cfapi.WorkerBinding, prior []WorkerBinding) []WorkerBinding {
	byName := map[string]WorkerBinding{}
	var order []string
	for _, a := range live {
		byName[a.Name] = bindingFromAPI(a)
		order = append(order, a.Name)
	}
	var out []WorkerBinding
	for i, old := range prior {
		b, ok := byName[old.Name]
		if !ok {
			continue
		}
		if b.Type == "secret_text" && old.Type == "secret_text" && len(out) == i {
			b.Text = old.Text
		}
		out = append(out, b)
		delete(byName, old.Name)
	}
	for _, name := range order {
		if b, ok := byName[name]; ok {
			out = append(out, b)
		}
	}
	return out
}

// observabilityFromAPI reads a disabled setting as "not set" when the
// program did not set it, and Cloudflare's default sampling rate of 1 as
// "not set" when the program left the rate out.
func observabilityFromAPI(live *cfapi.Observability, prior *WorkerObservability) *WorkerObservability {
	if live == nil || (!live.Enabled && prior == nil) {
		return nil
	}
	o := &WorkerObservability{Enabled: live.Enabled, HeadSamplingRate: live.HeadSamplingRate}
	if (prior == nil || prior.HeadSamplingRate == nil) && o.HeadSamplingRate != nil && *o.HeadSamplingRate == 1 {
		o.HeadSamplingRate = nil
	}
	return o
}

// logpushFromAPI reads false as "not set" unless the program set it.
func logpushFromAPI(live *bool, prior *bool) *bool {
	if live == nil || (!*live && prior == nil) {
		return nil
	}
	return ptr(*live)
}

func (m WorkerMigration) toAPI() cfapi.MigrationStep {
	out := cfapi.MigrationStep{NewClasses: m.NewClasses, NewSqliteClasses: m.NewSqliteClasses, DeletedClasses: m.DeletedClasses}
	for _, r := range m.RenamedClasses {
		out.RenamedClasses = append(out.RenamedClasses, cfapi.RenamedClass{From: r.From, To: r.To})
	}
	return out
}

// nilIfEmpty reads Cloudflare's [] as "not set", which is how a program
// that leaves a list out decodes.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func deref[T any](v *T) T {
	if v == nil {
		var zero T
		return zero
	}
	return *v
}

func ptr[T any](v T) *T { return &v }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
