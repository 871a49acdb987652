package cfemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVectorizeBinding(t *testing.T) {
	h := newHarness(t)
	h.newVecIndex("notes", 2, "cosine", map[string]string{"kind": "string"})
	srv := httptest.NewServer(h.emu.Account().VectorizeBinding())
	t.Cleanup(srv.Close)

	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Equal(t, "application/json", res.Header.Get("Content-Type"))
		return res.StatusCode, string(raw)
	}
	post := func(op, body string, into any) {
		t.Helper()
		status, raw := call(http.MethodPost, "/vectorize/notes/"+op, body)
		require.Equal(t, http.StatusOK, status, raw)
		require.NoError(t, json.Unmarshal([]byte(raw), into), raw)
	}

	var mutation VectorMutation
	post("insert", `{"vectors":[{"id":"a","values":[1,0],"metadata":{"kind":"note"}},{"id":"b","values":[0,1],"namespace":"x"}]}`, &mutation)
	require.NotEmpty(t, mutation.MutationID)
	var upserted map[string]any
	post("upsert", `{"vectors":[{"id":"b","values":[0.6,0.8],"metadata":{"kind":"todo"}}]}`, &upserted)
	require.Len(t, upserted, 1, "the V2 binding answers only the mutation id")
	require.NotEmpty(t, upserted["mutationId"])

	var matches VectorMatches
	post("query", `{"vector":[1,0],"options":{"topK":1,"returnMetadata":"all","filter":{"kind":{"$in":["todo","note"]}}}}`, &matches)
	require.Equal(t, VectorMatches{Count: 1, Matches: []VectorMatch{{ID: "a", Score: 1, Metadata: map[string]any{"kind": "note"}}}}, matches)
	var defaults map[string]any
	post("query", `{"vector":[1,0]}`, &defaults)
	require.Equal(t, 2.0, defaults["count"], "options are optional")

	var got []Vector
	post("getByIds", `{"ids":["b","nope"]}`, &got)
	require.Equal(t, []Vector{{ID: "b", Values: []float64{f32(0.6), f32(0.8)}, Metadata: map[string]any{"kind": "todo"}}}, got)
	var deleted map[string]any
	post("deleteByIds", `{"ids":["a"]}`, &deleted)
	require.NotEmpty(t, deleted["mutationId"])
	var info VectorizeIndexInfo
	post("describe", ``, &info)
	require.Equal(t, 2, info.Dimensions)
	require.Equal(t, 1, info.VectorCount)
	require.Equal(t, deleted["mutationId"], *info.ProcessedUpToMutation)

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name, method, path, body string
			status                   int
			message                  string
		}{
			{"wrong dimensions", http.MethodPost, "/vectorize/notes/insert", `{"vectors":[{"id":"c","values":[1]}]}`, http.StatusBadRequest,
				`VECTOR_INSERT_ERROR (code = 40012): invalid vector for id="c", expected 2 dimensions, and got 1 dimensions`},
			{"query dimensions", http.MethodPost, "/vectorize/notes/query", `{"vector":[1,0,0]}`, http.StatusBadRequest,
				"VECTOR_QUERY_ERROR (code = 40006): invalid query vector, expected 2 dimensions, and got 3 dimensions"},
			{"boolean returnMetadata", http.MethodPost, "/vectorize/notes/query", `{"vector":[1,0],"options":{"returnMetadata":false}}`, http.StatusBadRequest,
				"VECTOR_QUERY_ERROR (code = 40026): Failed to parse the request body as JSON: "},
			{"unknown index", http.MethodPost, "/vectorize/nope/describe", ``, http.StatusNotFound, "VECTOR_DESCRIBE_ERROR (code = 3000): "},
			{"unknown method", http.MethodPost, "/vectorize/notes/queryById", `{}`, http.StatusNotFound, `unknown Vectorize binding method "queryById"`},
			{"not a POST", http.MethodGet, "/vectorize/notes/describe", ``, http.StatusNotFound, "no Vectorize binding callback for GET"},
			{"another path", http.MethodPost, "/ai/run", `{}`, http.StatusNotFound, "no Vectorize binding callback"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, raw := call(tt.method, tt.path, tt.body)
				require.Equal(t, tt.status, status, raw)
				var e struct {
					Error string `json:"error"`
				}
				require.NoError(t, json.Unmarshal([]byte(raw), &e), raw)
				require.True(t, strings.HasPrefix(e.Error, tt.message), e.Error)
			})
		}
	})
	t.Run("the REST API sees the binding's writes", func(t *testing.T) {
		var res []Vector
		mustOK(t, h.call(http.MethodPost, "/vectorize/v2/indexes/notes/get_by_ids", map[string]any{"ids": []string{"b"}})).into(t, &res)
		require.Len(t, res, 1)
	})
}
