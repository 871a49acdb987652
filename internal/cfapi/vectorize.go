package cfapi

import (
	"context"
	"net/http"
)

// VectorizeConfig is an index's vector space: Dimensions and Metric, or a
// Preset naming an embedding model whose dimensions and metric Cloudflare
// fills in.
type VectorizeConfig struct {
	Dimensions int    `json:"dimensions,omitempty"`
	Metric     string `json:"metric,omitempty"`
	Preset     string `json:"preset,omitempty"`
}

// CreateVectorizeIndexParams is the body of a Vectorize v2 create.
type CreateVectorizeIndexParams struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Config      VectorizeConfig `json:"config"`
}

// VectorizeIndex is an index as Cloudflare describes it.
type VectorizeIndex struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Config      VectorizeConfig `json:"config"`
	CreatedOn   string          `json:"created_on"`
	ModifiedOn  string          `json:"modified_on"`
}

// VectorizeIndexInfo is the index's live statistics.
type VectorizeIndexInfo struct {
	Dimensions            int    `json:"dimensions"`
	VectorCount           int    `json:"vectorCount"`
	ProcessedUpToDatetime string `json:"processedUpToDatetime,omitempty"`
	ProcessedUpToMutation string `json:"processedUpToMutation,omitempty"`
}

// MetadataIndex makes one metadata property filterable.
type MetadataIndex struct {
	PropertyName string `json:"propertyName"`
	IndexType    string `json:"indexType"`
}

func (c *Client) vectorizePath(segs ...string) string {
	return c.accountPath(append([]string{"vectorize", "v2", "indexes"}, segs...)...)
}

// CreateVectorizeIndex creates an index; a taken name fails with code 3002.
func (c *Client) CreateVectorizeIndex(ctx context.Context, p CreateVectorizeIndexParams) (VectorizeIndex, error) {
	return call[VectorizeIndex](ctx, c, http.MethodPost, c.vectorizePath(), p)
}

// GetVectorizeIndex reads one index by name.
func (c *Client) GetVectorizeIndex(ctx context.Context, name string) (VectorizeIndex, error) {
	return call[VectorizeIndex](ctx, c, http.MethodGet, c.vectorizePath(name), nil)
}

// ListVectorizeIndexes lists the account's indexes.
func (c *Client) ListVectorizeIndexes(ctx context.Context) ([]VectorizeIndex, error) {
	return listAll[VectorizeIndex](ctx, c, c.vectorizePath(), 0)
}

// DeleteVectorizeIndex deletes an index and its vectors.
func (c *Client) DeleteVectorizeIndex(ctx context.Context, name string) error {
	_, err := call[struct{}](ctx, c, http.MethodDelete, c.vectorizePath(name), nil)
	return err
}

// GetVectorizeIndexInfo reads an index's statistics.
func (c *Client) GetVectorizeIndexInfo(ctx context.Context, name string) (VectorizeIndexInfo, error) {
	return call[VectorizeIndexInfo](ctx, c, http.MethodGet, c.vectorizePath(name, "info"), nil)
}

// CreateMetadataIndex makes a metadata property filterable. Vectors
// inserted before it existed are not indexed by Cloudflare.
func (c *Client) CreateMetadataIndex(ctx context.Context, indexName string, m MetadataIndex) error {
	_, err := call[struct{}](ctx, c, http.MethodPost, c.vectorizePath(indexName, "metadata_index", "create"), m)
	return err
}

// ListMetadataIndexes lists an index's metadata indexes.
func (c *Client) ListMetadataIndexes(ctx context.Context, indexName string) ([]MetadataIndex, error) {
	out, err := call[struct {
		MetadataIndexes []MetadataIndex `json:"metadataIndexes"`
	}](ctx, c, http.MethodGet, c.vectorizePath(indexName, "metadata_index", "list"), nil)
	return out.MetadataIndexes, err
}

// DeleteMetadataIndex removes a metadata index by property name.
func (c *Client) DeleteMetadataIndex(ctx context.Context, indexName, propertyName string) error {
	_, err := call[struct{}](ctx, c, http.MethodPost, c.vectorizePath(indexName, "metadata_index", "delete"),
		map[string]string{"propertyName": propertyName})
	return err
}
