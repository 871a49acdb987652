package cfemu

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVectorizeIndexes(t *testing.T) {
	h := newHarness(t)
	base := "/vectorize/v2/indexes"
	created := mustOK(t, h.call(http.MethodPost, base, map[string]any{
		"name": "docs", "description": "doc chunks", "config": map[string]any{"dimensions": 768, "metric": "cosine"},
	})).obj(t)
	require.Equal(t, "docs", created["name"])
	require.Equal(t, "doc chunks", created["description"])
	require.Equal(t, map[string]any{"dimensions": 768.0, "metric": "cosine"}, created["config"])
	require.NotEmpty(t, created["created_on"])
	require.NotEmpty(t, created["modified_on"])

	t.Run("presets", func(t *testing.T) {
		tests := []struct {
			preset string
			dims   float64
		}{
			{"@cf/baai/bge-small-en-v1.5", 384},
			{"@cf/baai/bge-base-en-v1.5", 768},
			{"@cf/baai/bge-large-en-v1.5", 1024},
			{"openai/text-embedding-ada-002", 1536},
			{"cohere/embed-multilingual-v2.0", 768},
		}
		for i, tt := range tests {
			t.Run(tt.preset, func(t *testing.T) {
				got := mustOK(t, h.call(http.MethodPost, base, map[string]any{
					"name": fmt.Sprintf("preset%d", i), "config": map[string]any{"preset": tt.preset},
				})).obj(t)
				require.Equal(t, map[string]any{"dimensions": tt.dims, "metric": "cosine"}, got["config"])
			})
		}
	})
	t.Run("create refusals", func(t *testing.T) {
		cfg := map[string]any{"dimensions": 3, "metric": "euclidean"}
		tests := []struct {
			name         string
			body         any
			status, code int
		}{
			{"duplicate", map[string]any{"name": "docs", "config": cfg}, http.StatusConflict, 3002},
			{"upper case name", map[string]any{"name": "Docs", "config": cfg}, http.StatusBadRequest, 3001},
			{"name starting with a digit", map[string]any{"name": "1docs", "config": cfg}, http.StatusBadRequest, 3001},
			{"name ending with a hyphen", map[string]any{"name": "docs-", "config": cfg}, http.StatusBadRequest, 3001},
			{"one-letter name", map[string]any{"name": "d", "config": cfg}, http.StatusBadRequest, 3001},
			{"name over 64 bytes", map[string]any{"name": strings.Repeat("d", 65), "config": cfg}, http.StatusBadRequest, 3001},
			{"zero dimensions", map[string]any{"name": "x1", "config": map[string]any{"dimensions": 0, "metric": "cosine"}}, http.StatusBadRequest, 3003},
			{"too many dimensions", map[string]any{"name": "x1", "config": map[string]any{"dimensions": 1537, "metric": "cosine"}}, http.StatusBadRequest, 3003},
			{"no dimensions", map[string]any{"name": "x1", "config": map[string]any{"metric": "cosine"}}, http.StatusBadRequest, 3003},
			{"unknown metric", map[string]any{"name": "x1", "config": map[string]any{"dimensions": 3, "metric": "manhattan"}}, http.StatusBadRequest, 3003},
			{"unknown preset", map[string]any{"name": "x1", "config": map[string]any{"preset": "@cf/nope"}}, http.StatusBadRequest, 3003},
			{"preset and dimensions", map[string]any{"name": "x1", "config": map[string]any{"preset": "@cf/baai/bge-base-en-v1.5", "dimensions": 3}}, http.StatusBadRequest, 3003},
			{"malformed", `{"name":1}`, http.StatusBadRequest, 6007},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustFail(t, h.call(http.MethodPost, base, tt.body), tt.status, tt.code)
			})
		}
		for _, name := range []string{strings.Repeat("d", 64), "a_b-c9", "ab"} {
			mustOK(t, h.call(http.MethodPost, base, map[string]any{"name": name, "config": map[string]any{"dimensions": 1, "metric": "dot-product"}}))
		}
		mustOK(t, h.call(http.MethodPost, base, map[string]any{"name": "widest", "config": map[string]any{"dimensions": 1536, "metric": "euclidean"}}))
	})
	t.Run("get, list, info", func(t *testing.T) {
		require.Equal(t, created, mustOK(t, h.call(http.MethodGet, base+"/docs", nil)).obj(t))
		mustFail(t, h.call(http.MethodGet, base+"/nope", nil), http.StatusNotFound, 3000)
		var all []map[string]any
		mustOK(t, h.call(http.MethodGet, base, nil)).into(t, &all)
		require.Len(t, all, 10)
		require.Equal(t, "docs", all[0]["name"])
		info := mustOK(t, h.call(http.MethodGet, base+"/docs/info", nil)).obj(t)
		require.Equal(t, map[string]any{"dimensions": 768.0, "vectorCount": 0.0, "processedUpToDatetime": nil, "processedUpToMutation": nil}, info)
		mustFail(t, h.call(http.MethodGet, base+"/nope/info", nil), http.StatusNotFound, 3000)
	})
	t.Run("delete", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, base+"/widest", nil))
		mustFail(t, h.call(http.MethodDelete, base+"/widest", nil), http.StatusNotFound, 3000)
		mustFail(t, h.call(http.MethodGet, base+"/widest", nil), http.StatusNotFound, 3000)
	})
}

func TestVectorizeMetadataIndexes(t *testing.T) {
	h := newHarness(t)
	base := "/vectorize/v2/indexes/docs/metadata_index"
	mustOK(t, h.call(http.MethodPost, "/vectorize/v2/indexes", map[string]any{"name": "docs", "config": map[string]any{"dimensions": 3, "metric": "cosine"}}))

	list := func() []any {
		var res struct {
			MetadataIndexes []any `json:"metadataIndexes"`
		}
		mustOK(t, h.call(http.MethodGet, base+"/list", nil)).into(t, &res)
		require.NotNil(t, res.MetadataIndexes)
		return res.MetadataIndexes
	}
	require.Empty(t, list())

	r := mustOK(t, h.call(http.MethodPost, base+"/create", map[string]string{"propertyName": "lang", "indexType": "string"})).obj(t)
	mutation := r["mutationId"].(string)
	require.NotEmpty(t, mutation)
	require.Equal(t, []any{map[string]any{"propertyName": "lang", "indexType": "string"}}, list())
	info := mustOK(t, h.call(http.MethodGet, "/vectorize/v2/indexes/docs/info", nil)).obj(t)
	require.Equal(t, mutation, info["processedUpToMutation"])
	require.NotEmpty(t, info["processedUpToDatetime"])

	tests := []struct {
		name         string
		body         any
		status, code int
	}{
		{"duplicate", map[string]string{"propertyName": "lang", "indexType": "number"}, http.StatusConflict, 40004},
		{"bad type", map[string]string{"propertyName": "x", "indexType": "date"}, http.StatusBadRequest, 40026},
		{"no property", map[string]string{"indexType": "number"}, http.StatusBadRequest, 40026},
		{"malformed", "{", http.StatusBadRequest, 6007},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustFail(t, h.call(http.MethodPost, base+"/create", tt.body), tt.status, tt.code)
		})
	}
	t.Run("at most ten", func(t *testing.T) {
		for i := range 9 {
			mustOK(t, h.call(http.MethodPost, base+"/create", map[string]string{"propertyName": fmt.Sprintf("p%d", i), "indexType": []string{"string", "number", "boolean"}[i%3]}))
		}
		mustFail(t, h.call(http.MethodPost, base+"/create", map[string]string{"propertyName": "p10", "indexType": "string"}), http.StatusBadRequest, 40026)
	})
	t.Run("delete", func(t *testing.T) {
		require.NotEmpty(t, mustOK(t, h.call(http.MethodPost, base+"/delete", map[string]string{"propertyName": "lang"})).obj(t)["mutationId"])
		require.Len(t, list(), 9)
		mustFail(t, h.call(http.MethodPost, base+"/delete", map[string]string{"propertyName": "lang"}), http.StatusNotFound, 40005)
		mustFail(t, h.call(http.MethodPost, base+"/delete", "{"), http.StatusBadRequest, 6007)
	})
	t.Run("unknown index", func(t *testing.T) {
		other := "/vectorize/v2/indexes/nope/metadata_index"
		mustFail(t, h.call(http.MethodPost, other+"/create", map[string]string{"propertyName": "a", "indexType": "string"}), http.StatusNotFound, 3000)
		mustFail(t, h.call(http.MethodGet, other+"/list", nil), http.StatusNotFound, 3000)
		mustFail(t, h.call(http.MethodPost, other+"/delete", map[string]string{"propertyName": "a"}), http.StatusNotFound, 3000)
	})
}
