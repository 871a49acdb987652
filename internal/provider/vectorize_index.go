package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/dome/infra/internal/cfapi"
)

// VectorizeIndex is a Vectorize v2 index. Cloudflare cannot change an
// index after creation except for its metadata indexes, so every other
// change replaces it (and loses its vectors).
type VectorizeIndex struct{}

// VectorizeIndexArgs are an index's inputs.
type VectorizeIndexArgs struct {
	Name            string                   `pulumi:"name" provider:"replaceOnChanges"`
	Dimensions      *int                     `pulumi:"dimensions,optional" provider:"replaceOnChanges"`
	Metric          *string                  `pulumi:"metric,optional" provider:"replaceOnChanges"`
	Preset          *string                  `pulumi:"preset,optional" provider:"replaceOnChanges"`
	Description     *string                  `pulumi:"description,optional" provider:"replaceOnChanges"`
	MetadataIndexes []VectorizeMetadataIndex `pulumi:"metadataIndexes,optional"`
}

// VectorizeMetadataIndex makes one metadata property filterable.
type VectorizeMetadataIndex struct {
	PropertyName string `pulumi:"propertyName"`
	IndexType    string `pulumi:"indexType"`
}

// VectorizeIndexState is an index's state.
type VectorizeIndexState struct {
	VectorizeIndexArgs
	CreatedOn string `pulumi:"createdOn"`
}

// Limits from Cloudflare's OpenAPI schema and Vectorize limits page.
var (
	indexNamePattern   = regexp.MustCompile(`^[a-z]+[a-z0-9_-]*[a-z0-9]+$`)
	vectorizeMetrics   = []string{"cosine", "euclidean", "dot-product"}
	metadataIndexTypes = []string{"string", "number", "boolean"}
)

// vectorizePresets are the dimensions and metric of each embedding model
// Cloudflare's API schema accepts as a preset (Vectorize's docs list the
// same). Cloudflare reports an index's dimensions and metric, never the
// preset it was created from, so Read maps them back through this table.
var vectorizePresets = map[string]cfapi.VectorizeConfig{
	"@cf/baai/bge-small-en-v1.5":     {Dimensions: 384, Metric: "cosine"},
	"@cf/baai/bge-base-en-v1.5":      {Dimensions: 768, Metric: "cosine"},
	"@cf/baai/bge-large-en-v1.5":     {Dimensions: 1024, Metric: "cosine"},
	"openai/text-embedding-ada-002":  {Dimensions: 1536, Metric: "cosine"},
	"cohere/embed-multilingual-v2.0": {Dimensions: 768, Metric: "cosine"},
}

const (
	maxIndexNameLen    = 64
	maxDimensions      = 1536
	maxMetadataIndexes = 10
)

// Annotate documents the resource.
func (v *VectorizeIndex) Annotate(a infer.Annotator) {
	a.Describe(v, "A Vectorize v2 index. Metadata indexes are updated in place; any other change replaces "+
		"the index and loses its vectors. The resource id is the index name.")
}

// Annotate documents the inputs.
func (a *VectorizeIndexArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "Index name: lower case letters, digits, - and _, at most 64 characters.")
	an.Describe(&a.Dimensions, "Vector dimensions, 1 to 1536; set with metric, or use preset.")
	an.Describe(&a.Metric, "Distance metric: cosine, euclidean or dot-product.")
	an.Describe(&a.Preset, "Embedding model preset, e.g. @cf/baai/bge-base-en-v1.5, instead of dimensions and metric.")
	an.Describe(&a.Description, "Description.")
	an.Describe(&a.MetadataIndexes, "Filterable metadata properties, at most 10.")
}

// Annotate documents a metadata index.
func (m *VectorizeMetadataIndex) Annotate(a infer.Annotator) {
	a.Describe(&m.PropertyName, "Metadata property name.")
	a.Describe(&m.IndexType, "string, number or boolean.")
}

// Annotate documents the state.
func (s *VectorizeIndexState) Annotate(a infer.Annotator) {
	a.Describe(&s.CreatedOn, "When Cloudflare created the index.")
}

// Check validates against Cloudflare's limits so a bad index fails at
// preview rather than halfway through a deployment, and sorts the metadata
// indexes so their order never shows up as a change.
func (*VectorizeIndex) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[VectorizeIndexArgs], error) {
	args, failures, err := infer.DefaultCheck[VectorizeIndexArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[VectorizeIndexArgs]{Inputs: args, Failures: failures}, err
	}
	// Unknown values (preview) decode as zero values, so limits are checked
	// only on known ones and presence is judged on the raw inputs.
	present := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		return ok && !v.IsNull()
	}
	known := func(key string) bool {
		return present(key) && !req.NewInputs.Get(key).HasComputed()
	}
	fail := func(prop, format string, a ...any) {
		failures = append(failures, p.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, a...)})
	}
	if known("name") && (len(args.Name) > maxIndexNameLen || !indexNamePattern.MatchString(args.Name)) {
		fail("name", "index name %q must match %s and be at most %d characters", args.Name, indexNamePattern, maxIndexNameLen)
	}
	switch {
	case present("preset") && (present("dimensions") || present("metric")):
		fail("preset", "set either preset or dimensions and metric, not both")
	case !present("preset") && (!present("dimensions") || !present("metric")):
		fail("dimensions", "set dimensions and metric, or a preset")
	}
	if known("dimensions") && args.Dimensions != nil && (*args.Dimensions < 1 || *args.Dimensions > maxDimensions) {
		fail("dimensions", "dimensions must be between 1 and %d, got %d", maxDimensions, *args.Dimensions)
	}
	if known("metric") && args.Metric != nil && !slices.Contains(vectorizeMetrics, *args.Metric) {
		fail("metric", "metric must be one of %s, got %q", strings.Join(vectorizeMetrics, ", "), *args.Metric)
	}
	if len(args.MetadataIndexes) > maxMetadataIndexes {
		fail("metadataIndexes", "at most %d metadata indexes, got %d", maxMetadataIndexes, len(args.MetadataIndexes))
	}
	seen := map[string]bool{}
	for i, m := range args.MetadataIndexes {
		if m.PropertyName != "" && seen[m.PropertyName] {
			fail(fmt.Sprintf("metadataIndexes[%d].propertyName", i), "property %q is indexed twice", m.PropertyName)
		}
		seen[m.PropertyName] = true
		if m.IndexType != "" && !slices.Contains(metadataIndexTypes, m.IndexType) {
			fail(fmt.Sprintf("metadataIndexes[%d].indexType", i), "indexType must be one of %s, got %q",
				strings.Join(metadataIndexTypes, ", "), m.IndexType)
		}
	}
	sortMetadataIndexes(args.MetadataIndexes)
	return infer.CheckResponse[VectorizeIndexArgs]{Inputs: args, Failures: failures}, nil
}

func sortMetadataIndexes(ms []VectorizeMetadataIndex) {
	slices.SortFunc(ms, func(a, b VectorizeMetadataIndex) int { return strings.Compare(a.PropertyName, b.PropertyName) })
}

// Diff names the changed properties. Replacing an index under the same name
// has to delete the old one first, since Cloudflare will not hold two
// indexes with one name.
func (*VectorizeIndex) Diff(_ context.Context, req infer.DiffRequest[VectorizeIndexArgs, VectorizeIndexState]) (infer.DiffResponse, error) {
	d := diffInputs(req.State.VectorizeIndexArgs, req.Inputs, diffPolicy{replace: map[string]bool{
		"name": true, "dimensions": true, "metric": true, "preset": true, "description": true,
	}})
	d.DeleteBeforeReplace = hasReplace(d) && req.State.Name == req.Inputs.Name
	return d, nil
}

// Create creates the index and its metadata indexes.
func (*VectorizeIndex) Create(ctx context.Context, req infer.CreateRequest[VectorizeIndexArgs]) (infer.CreateResponse[VectorizeIndexState], error) {
	in := req.Inputs
	state := VectorizeIndexState{VectorizeIndexArgs: in}
	if req.DryRun {
		return infer.CreateResponse[VectorizeIndexState]{ID: in.Name, Output: state}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.CreateResponse[VectorizeIndexState]{}, err
	}
	created, err := client.CreateVectorizeIndex(ctx, cfapi.CreateVectorizeIndexParams{
		Name:        in.Name,
		Description: deref(in.Description),
		Config:      cfapi.VectorizeConfig{Dimensions: deref(in.Dimensions), Metric: deref(in.Metric), Preset: deref(in.Preset)},
	})
	if cfapi.MayHaveApplied(err) {
		// The create may have landed with its answer lost: an index that
		// is exactly what was asked for is the one this create made.
		if live, readErr := client.GetVectorizeIndex(ctx, in.Name); readErr == nil {
			if !sameIndex(live, in) {
				return infer.CreateResponse[VectorizeIndexState]{}, alreadyExists(ctx, "VectorizeIndex", in.Name, in.Name, err)
			}
			p.GetLogger(ctx).Infof("Vectorize index %s: the create's answer was lost, but Cloudflare holds exactly what was sent", in.Name)
			created, err = live, nil
		}
	}
	if cfapi.AlreadyExists(err) {
		return infer.CreateResponse[VectorizeIndexState]{}, alreadyExists(ctx, "VectorizeIndex", in.Name, in.Name, err)
	}
	if err != nil {
		return infer.CreateResponse[VectorizeIndexState]{}, err
	}
	state.CreatedOn = created.CreatedOn
	if err := syncMetadataIndexes(ctx, client, in.Name, in.MetadataIndexes); err != nil {
		// The index exists now: hand its id back with the error so Pulumi
		// records it and the next run retries only the metadata indexes.
		return infer.CreateResponse[VectorizeIndexState]{ID: in.Name, Output: state},
			infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.CreateResponse[VectorizeIndexState]{ID: in.Name, Output: state}, nil
}

// sameIndex reports whether live is the index in asks for. Its
// configuration is read as Read reads it: Cloudflare answers a preset with
// the dimensions and metric it stands for, not with its name.
func sameIndex(live cfapi.VectorizeIndex, in VectorizeIndexArgs) bool {
	dimensions, metric, preset := liveConfig(live, VectorizeIndexState{VectorizeIndexArgs: in})
	return live.Name == in.Name && live.Description == deref(in.Description) &&
		samePtr(dimensions, in.Dimensions) && samePtr(metric, in.Metric) && samePtr(preset, in.Preset)
}

// samePtr reports whether a and b are both unset or both set to one value.
func samePtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// Update brings the metadata indexes in line; Diff sends every other change
// to a replacement.
func (*VectorizeIndex) Update(ctx context.Context, req infer.UpdateRequest[VectorizeIndexArgs, VectorizeIndexState]) (infer.UpdateResponse[VectorizeIndexState], error) {
	state := VectorizeIndexState{VectorizeIndexArgs: req.Inputs, CreatedOn: req.State.CreatedOn}
	if req.DryRun {
		return infer.UpdateResponse[VectorizeIndexState]{Output: state}, nil
	}
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.UpdateResponse[VectorizeIndexState]{}, err
	}
	if err := syncMetadataIndexes(ctx, client, req.ID, req.Inputs.MetadataIndexes); err != nil {
		return infer.UpdateResponse[VectorizeIndexState]{}, err
	}
	return infer.UpdateResponse[VectorizeIndexState]{Output: state}, nil
}

// syncMetadataIndexes compares with the live list rather than with state,
// so an index changed outside Pulumi is put right too. A changed type is a
// delete then a create: Cloudflare has no update.
func syncMetadataIndexes(ctx context.Context, client *cfapi.Client, index string, want []VectorizeMetadataIndex) error {
	live, err := client.ListMetadataIndexes(ctx, index)
	if err != nil {
		return err
	}
	wanted := map[string]string{}
	for _, m := range want {
		wanted[m.PropertyName] = m.IndexType
	}
	have := map[string]string{}
	for _, m := range live {
		have[m.PropertyName] = m.IndexType
		if t, ok := wanted[m.PropertyName]; !ok || t != m.IndexType {
			if err := client.DeleteMetadataIndex(ctx, index, m.PropertyName); err != nil {
				return err
			}
			delete(have, m.PropertyName)
		}
	}
	for _, m := range want {
		if _, ok := have[m.PropertyName]; ok {
			continue
		}
		if err := client.CreateMetadataIndex(ctx, index, cfapi.MetadataIndex{PropertyName: m.PropertyName, IndexType: m.IndexType}); err != nil {
			return err
		}
	}
	return nil
}

// Read fills the inputs from Cloudflare for refresh and import, so an
// index deleted and created again outside Pulumi with another
// configuration shows as drift (see liveConfig for presets).
func (*VectorizeIndex) Read(ctx context.Context, req infer.ReadRequest[VectorizeIndexArgs, VectorizeIndexState]) (infer.ReadResponse[VectorizeIndexArgs, VectorizeIndexState], error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.ReadResponse[VectorizeIndexArgs, VectorizeIndexState]{}, err
	}
	idx, err := client.GetVectorizeIndex(ctx, req.ID)
	if cfapi.IsNotFound(err) {
		return infer.ReadResponse[VectorizeIndexArgs, VectorizeIndexState]{}, nil
	}
	if err != nil {
		return infer.ReadResponse[VectorizeIndexArgs, VectorizeIndexState]{}, err
	}
	metas, err := client.ListMetadataIndexes(ctx, req.ID)
	if err != nil {
		return infer.ReadResponse[VectorizeIndexArgs, VectorizeIndexState]{}, err
	}
	args := VectorizeIndexArgs{Name: idx.Name, Description: nonEmpty(idx.Description)}
	args.Dimensions, args.Metric, args.Preset = liveConfig(idx, req.State)
	for _, m := range metas {
		args.MetadataIndexes = append(args.MetadataIndexes, VectorizeMetadataIndex{PropertyName: m.PropertyName, IndexType: m.IndexType})
	}
	sortMetadataIndexes(args.MetadataIndexes)
	state := VectorizeIndexState{VectorizeIndexArgs: args, CreatedOn: idx.CreatedOn}
	return infer.ReadResponse[VectorizeIndexArgs, VectorizeIndexState]{ID: idx.Name, Inputs: args, State: state}, nil
}

// liveConfig is the index's configuration as inputs: dimensions and
// metric, or a preset. Cloudflare answers with the dimensions and metric
// even for an index made from a preset, so the preset in state is kept only
// while Cloudflare holds what it stands for: the dimensions and metric the
// table gives it, or, for a preset the table lacks, the very index it was
// created on (the same created_on; Cloudflare never changes an index's
// configuration). Otherwise the live dimensions and metric are reported,
// and the refresh shows them against the preset.
func liveConfig(live cfapi.VectorizeIndex, prior VectorizeIndexState) (dimensions *int, metric, preset *string) {
	c := live.Config
	if c.Preset != "" {
		return nil, nil, &c.Preset
	}
	if p := prior.Preset; p != nil {
		if want, known := vectorizePresets[*p]; known {
			if c.Dimensions == want.Dimensions && c.Metric == want.Metric {
				return nil, nil, p
			}
		} else if prior.CreatedOn != "" && prior.CreatedOn == live.CreatedOn {
			return nil, nil, p
		}
	}
	return nonZero(c.Dimensions), nonEmpty(c.Metric), nil
}

// Delete deletes the index and its vectors.
func (*VectorizeIndex) Delete(ctx context.Context, req infer.DeleteRequest[VectorizeIndexState]) (infer.DeleteResponse, error) {
	client, err := clientFrom(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if err := client.DeleteVectorizeIndex(ctx, req.ID); err != nil && !cfapi.IsNotFound(err) {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, nil
}

func nonZero(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
