package domecf

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// VectorizeIndex is a Vectorize v2 index. Only its metadata indexes can
// change in place; any other change replaces it and loses its vectors.
type VectorizeIndex struct {
	pulumi.CustomResourceState

	Name pulumi.StringOutput `pulumi:"name"`
}

// VectorizeIndexArgs sets either Dimensions and Metric, or Preset.
type VectorizeIndexArgs struct {
	Name            pulumi.StringInput
	Dimensions      int
	Metric          string
	Preset          string
	Description     string
	MetadataIndexes []MetadataIndex
}

// MetadataIndex makes a metadata property filterable.
type MetadataIndex struct {
	PropertyName string
	IndexType    string // string, number or boolean
}

// NewVectorizeIndex creates an index.
func NewVectorizeIndex(ctx *pulumi.Context, name string, args VectorizeIndexArgs, opts ...pulumi.ResourceOption) (*VectorizeIndex, error) {
	props := pulumi.Map{"name": args.Name}
	if args.Dimensions != 0 {
		props["dimensions"] = pulumi.Int(args.Dimensions)
	}
	putString(props, "metric", args.Metric)
	putString(props, "preset", args.Preset)
	putString(props, "description", args.Description)
	if len(args.MetadataIndexes) > 0 {
		mis := make(pulumi.Array, len(args.MetadataIndexes))
		for i, mi := range args.MetadataIndexes {
			mis[i] = pulumi.Map{"propertyName": pulumi.String(mi.PropertyName), "indexType": pulumi.String(mi.IndexType)}
		}
		props["metadataIndexes"] = mis
	}
	var ix VectorizeIndex
	if err := ctx.RegisterResource(TypeVectorizeIndex, name, props, &ix, opts...); err != nil {
		return nil, err
	}
	return &ix, nil
}
