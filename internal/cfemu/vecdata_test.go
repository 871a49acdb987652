package cfemu

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// newVecIndex creates an index and metadata indexes (property → type) through the API.
func (h *harness) newVecIndex(name string, dims int, metric string, metaIndexes map[string]string) {
	h.t.Helper()
	mustOK(h.t, h.call(http.MethodPost, "/vectorize/v2/indexes", map[string]any{
		"name": name, "config": map[string]any{"dimensions": dims, "metric": metric},
	}))
	for prop, typ := range metaIndexes {
		mustOK(h.t, h.call(http.MethodPost, "/vectorize/v2/indexes/"+name+"/metadata_index/create",
			map[string]string{"propertyName": prop, "indexType": typ}))
	}
}

// sendRaw POSTs body with the given content type.
func (h *harness) sendRaw(path, contentType string, body []byte) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url(path), bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+testToken)
	return h.do(req)
}

func ndjson(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// f32 is x as Vectorize gives it back: stored as float32, read as float64.
func f32(x float64) float64 { return float64(float32(x)) }

func TestVectorizeVectorsREST(t *testing.T) {
	h := newHarness(t)
	base := "/vectorize/v2/indexes/docs"
	h.newVecIndex("docs", 3, "cosine", map[string]string{"lang": "string"})

	ins := mustOK(t, h.sendRaw(base+"/insert", "application/x-ndjson", ndjson(
		`{"id":"a","values":[1,0,0],"metadata":{"lang":"en","title":"A"}}`,
		`{"id":"b","values":[0.8,0.6,0],"metadata":{"lang":"fr"},"namespace":"eu"}`,
		``,
		`{"id":"c","values":[0,0,1]}`,
	))).obj(t)
	mutation, _ := ins["mutationId"].(string)
	require.NotEmpty(t, mutation)
	info := mustOK(t, h.call(http.MethodGet, base+"/info", nil)).obj(t)
	require.Equal(t, 3.0, info["vectorCount"])
	require.Equal(t, mutation, info["processedUpToMutation"])
	require.NotEmpty(t, info["processedUpToDatetime"])

	getA := func() []map[string]any {
		var got []map[string]any
		mustOK(t, h.call(http.MethodPost, base+"/get_by_ids", map[string]any{"ids": []string{"a"}})).into(t, &got)
		return got
	}

	t.Run("insert skips ids that exist, upsert replaces in full", func(t *testing.T) {
		mustOK(t, h.sendRaw(base+"/insert", "application/x-ndjson", ndjson(`{"id":"a","values":[0,1,0]}`, `{"id":"d","values":[0,1,0]}`)))
		require.Equal(t, []any{1.0, 0.0, 0.0}, getA()[0]["values"])
		mustOK(t, h.sendRaw(base+"/upsert", "application/x-ndjson", ndjson(`{"id":"a","values":[1,0,0],"metadata":{"lang":"de"}}`)))
		require.Equal(t, []map[string]any{{"id": "a", "values": []any{1.0, 0.0, 0.0}, "metadata": map[string]any{"lang": "de"}}}, getA())
	})
	t.Run("multipart vectors part, as wrangler sends it", func(t *testing.T) {
		ct, body := multipartBody(t, []part{{"vectors", "application/x-ndjson", `{"id":"e","values":[0,0.6,0.8]}`}})
		mustOK(t, h.sendRaw(base+"/upsert", ct, body))
		require.Equal(t, 5.0, mustOK(t, h.call(http.MethodGet, base+"/info", nil)).obj(t)["vectorCount"])
	})
	t.Run("write refusals", func(t *testing.T) {
		tests := []struct {
			name, path   string
			body         []byte
			status, code int
		}{
			{"wrong dimensions", base + "/insert", ndjson(`{"id":"x","values":[1,0]}`), http.StatusBadRequest, 40012},
			{"id over 64 bytes", base + "/upsert", ndjson(`{"id":"` + strings.Repeat("x", 65) + `","values":[1,0,0]}`), http.StatusBadRequest, 40008},
			{"no id", base + "/upsert", ndjson(`{"values":[1,0,0]}`), http.StatusBadRequest, 40008},
			{"metadata key with a dot", base + "/upsert", ndjson(`{"id":"x","values":[1,0,0],"metadata":{"a.b":1}}`), http.StatusBadRequest, 40012},
			{"metadata over 10 KiB", base + "/upsert", ndjson(`{"id":"x","values":[1,0,0],"metadata":{"t":"` + strings.Repeat("x", 10<<10) + `"}}`), http.StatusBadRequest, 40012},
			{"unparsable line", base + "/insert", ndjson(`{"id":"x","values":[1,0,0]}`, `{nope`), http.StatusBadRequest, 40023},
			{"unknown index", "/vectorize/v2/indexes/nope/insert", ndjson(`{"id":"x","values":[1,0,0]}`), http.StatusNotFound, 3000},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustFail(t, h.sendRaw(tt.path, "application/x-ndjson", tt.body), tt.status, tt.code)
			})
		}
		require.Equal(t, 5.0, mustOK(t, h.call(http.MethodGet, base+"/info", nil)).obj(t)["vectorCount"], "a refused batch writes nothing")
		mustOK(t, h.sendRaw(base+"/insert?unparsable-behavior=discard", "application/x-ndjson", ndjson(`{nope`, `{"id":"f","values":[0,0,1]}`)))
		require.Equal(t, 6.0, mustOK(t, h.call(http.MethodGet, base+"/info", nil)).obj(t)["vectorCount"])
	})
	t.Run("query", func(t *testing.T) {
		var res VectorMatches
		mustOK(t, h.call(http.MethodPost, base+"/query", map[string]any{"vector": []float64{1, 0, 0}, "topK": 2, "returnValues": true, "returnMetadata": "all"})).into(t, &res)
		require.Equal(t, 2, res.Count)
		require.Equal(t, "a", res.Matches[0].ID)
		require.InDelta(t, 1, res.Matches[0].Score, 1e-6)
		require.Equal(t, map[string]any{"lang": "de"}, res.Matches[0].Metadata)
		require.Equal(t, VectorMatch{ID: "b", Score: res.Matches[1].Score, Values: []float64{f32(0.8), f32(0.6), 0}, Metadata: map[string]any{"lang": "fr"}, Namespace: "eu"}, res.Matches[1])
		require.InDelta(t, 0.8, res.Matches[1].Score, 1e-6)

		var filtered VectorMatches
		mustOK(t, h.call(http.MethodPost, base+"/query", map[string]any{"vector": []float64{1, 0, 0}, "filter": map[string]any{"lang": "fr"}})).into(t, &filtered)
		require.Equal(t, VectorMatches{Count: 1, Matches: []VectorMatch{{ID: "b", Score: res.Matches[1].Score, Namespace: "eu"}}}, filtered)
	})
	t.Run("query refusals", func(t *testing.T) {
		tests := []struct {
			name         string
			body         any
			status, code int
		}{
			{"wrong dimensions", map[string]any{"vector": []float64{1, 0}}, http.StatusBadRequest, 40006},
			{"topK over 100", map[string]any{"vector": []float64{1, 0, 0}, "topK": 101}, http.StatusBadRequest, 40025},
			{"topK over 20 with values", map[string]any{"vector": []float64{1, 0, 0}, "topK": 21, "returnValues": true}, http.StatusBadRequest, 40025},
			{"topK over 20 with all metadata", map[string]any{"vector": []float64{1, 0, 0}, "topK": 21, "returnMetadata": "all"}, http.StatusBadRequest, 40025},
			{"boolean returnMetadata", map[string]any{"vector": []float64{1, 0, 0}, "returnMetadata": true}, http.StatusBadRequest, 40026},
			{"unknown returnMetadata", map[string]any{"vector": []float64{1, 0, 0}, "returnMetadata": "some"}, http.StatusBadRequest, 40026},
			{"unknown operator", map[string]any{"vector": []float64{1, 0, 0}, "filter": map[string]any{"lang": map[string]any{"$like": "e"}}}, http.StatusBadRequest, 40026},
			{"malformed", "{", http.StatusBadRequest, 40026},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				mustFail(t, h.call(http.MethodPost, base+"/query", tt.body), tt.status, tt.code)
			})
		}
		mustOK(t, h.call(http.MethodPost, base+"/query", map[string]any{"vector": []float64{1, 0, 0}, "topK": 100, "returnMetadata": "indexed"}))
	})
	t.Run("get and delete by ids", func(t *testing.T) {
		var got []Vector
		mustOK(t, h.call(http.MethodPost, base+"/get_by_ids", map[string]any{"ids": []string{"c", "missing", "a"}})).into(t, &got)
		require.Equal(t, []string{"c", "a"}, []string{got[0].ID, got[1].ID}, "in the order asked, the missing left out")
		ids := make([]string, 21)
		for i := range ids {
			ids[i] = fmt.Sprint(i)
		}
		mustFail(t, h.call(http.MethodPost, base+"/get_by_ids", map[string]any{"ids": ids}), http.StatusBadRequest, 40007)

		del := mustOK(t, h.call(http.MethodPost, base+"/delete_by_ids", map[string]any{"ids": []string{"a", "missing"}})).obj(t)
		info := mustOK(t, h.call(http.MethodGet, base+"/info", nil)).obj(t)
		require.Equal(t, del["mutationId"], info["processedUpToMutation"])
		require.Equal(t, 5.0, info["vectorCount"])
		mustOK(t, h.call(http.MethodPost, base+"/get_by_ids", map[string]any{"ids": []string{"a"}})).into(t, &got)
		require.Empty(t, got)
		mustFail(t, h.call(http.MethodPost, "/vectorize/v2/indexes/nope/delete_by_ids", map[string]any{"ids": []string{"a"}}), http.StatusNotFound, 3000)
	})
	t.Run("deleting the index deletes its vectors", func(t *testing.T) {
		mustOK(t, h.call(http.MethodDelete, base, nil))
		h.newVecIndex("docs", 3, "cosine", nil)
		info := mustOK(t, h.call(http.MethodGet, base+"/info", nil)).obj(t)
		require.Equal(t, 0.0, info["vectorCount"])
		require.Nil(t, info["processedUpToMutation"])
	})
}

func TestVectorizeMetrics(t *testing.T) {
	tests := []struct {
		metric string
		ids    []string
		scores []float64
	}{
		// query [1,0]: near [1,0.1], mid [2,2], far [-1,0]
		{"cosine", []string{"near", "mid", "far"}, []float64{1 / 1.004987562, 0.707106781, -1}},
		{"euclidean", []string{"near", "mid", "far"}, []float64{0.1, 2.236067977, 2}},
		{"dot-product", []string{"mid", "near", "far"}, []float64{-2, -1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			h := newHarness(t)
			h.newVecIndex("m1", 2, tt.metric, nil)
			a := h.emu.Account()
			_, err := a.InsertVectors("m1", []Vector{{ID: "near", Values: []float64{1, 0.1}}, {ID: "mid", Values: []float64{2, 2}}, {ID: "far", Values: []float64{-1, 0}}})
			require.NoError(t, err)
			res, err := a.QueryVectors("m1", VectorQuery{Vector: []float64{1, 0}})
			require.NoError(t, err)
			byID := map[string]float64{}
			var ids []string
			for _, m := range res.Matches {
				ids = append(ids, m.ID)
				byID[m.ID] = m.Score
			}
			if tt.metric == "euclidean" {
				require.Equal(t, []string{"near", "far", "mid"}, ids, "lower distance first")
			} else {
				require.Equal(t, tt.ids, ids)
			}
			for i, id := range tt.ids {
				require.InDelta(t, tt.scores[i], byID[id], 1e-6, id)
			}
		})
	}
}

func TestVectorizeFilter(t *testing.T) {
	h := newHarness(t)
	h.newVecIndex("f1", 1, "euclidean", map[string]string{"lang": "string", "year": "number", "draft": "boolean", "author.name": "string"})
	a := h.emu.Account()
	// Values rank the vectors: a query for [0] answers a, b, c, d, e.
	_, err := a.UpsertVectors("f1", []Vector{
		{ID: "a", Values: []float64{1}, Metadata: map[string]any{"lang": "en", "year": 2020, "draft": true, "author": map[string]any{"name": "ann"}}},
		{ID: "b", Values: []float64{2}, Metadata: map[string]any{"lang": "fr", "year": 2022, "draft": false}, Namespace: "eu"},
		{ID: "c", Values: []float64{3}, Metadata: map[string]any{"lang": "en", "year": "2024", "untracked": "x"}},
		{ID: "d", Values: []float64{4}, Metadata: map[string]any{"lang": strings.Repeat("l", 70), "year": 2024}, Namespace: "eu"},
		{ID: "e", Values: []float64{5}},
	})
	require.NoError(t, err)

	tests := []struct {
		name      string
		filter    map[string]any
		namespace string
		want      []string
	}{
		{"no filter", nil, "", []string{"a", "b", "c", "d", "e"}},
		{"namespace", nil, "eu", []string{"b", "d"}},
		{"implicit $eq", map[string]any{"lang": "en"}, "", []string{"a", "c"}},
		{"$eq within a namespace", map[string]any{"lang": map[string]any{"$eq": "fr"}}, "eu", []string{"b"}},
		{"$ne reads a missing value as null", map[string]any{"lang": map[string]any{"$ne": "en"}}, "", []string{"b", "d", "e"}},
		{"$eq null finds the vectors without the property", map[string]any{"draft": nil}, "", []string{"c", "d", "e"}},
		{"$in", map[string]any{"lang": map[string]any{"$in": []any{"fr", "de"}}}, "", []string{"b"}},
		{"$nin", map[string]any{"lang": map[string]any{"$nin": []any{"en", "fr"}}}, "", []string{"d", "e"}},
		{"number range, a string year is not in a number index", map[string]any{"year": map[string]any{"$gte": 2021, "$lte": 2024}}, "", []string{"b", "d"}},
		{"$lt", map[string]any{"year": map[string]any{"$lt": 2022}}, "", []string{"a"}},
		{"$gt", map[string]any{"year": map[string]any{"$gt": 2022}}, "", []string{"d"}},
		{"string range", map[string]any{"lang": map[string]any{"$gt": "en"}}, "", []string{"b", "d"}},
		{"boolean", map[string]any{"draft": false}, "", []string{"b"}},
		{"several keys are all met", map[string]any{"lang": "en", "draft": true}, "", []string{"a"}},
		{"nested property", map[string]any{"author.name": "ann"}, "", []string{"a"}},
		{"a string is indexed by its first 64 bytes", map[string]any{"lang": strings.Repeat("l", 64)}, "", []string{"d"}},
		{"a property without a metadata index matches nothing", map[string]any{"untracked": "x"}, "", nil},
		{"even with $ne", map[string]any{"untracked": map[string]any{"$ne": "y"}}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := a.QueryVectors("f1", VectorQuery{Vector: []float64{0}, Filter: tt.filter, Namespace: tt.namespace})
			require.NoError(t, err)
			var ids []string
			for _, m := range res.Matches {
				ids = append(ids, m.ID)
			}
			require.Equal(t, tt.want, ids)
			require.Equal(t, len(tt.want), res.Count)
		})
	}
	t.Run("invalid filters", func(t *testing.T) {
		for _, f := range []map[string]any{
			{},
			{"$lang": "en"},
			{"lang": map[string]any{}},
			{"lang": map[string]any{"$in": []any{}}},
			{"lang": map[string]any{"$in": "en"}},
			{"lang": map[string]any{"$lt": nil}},
			{"lang": []any{"en"}},
			{"lang": strings.Repeat("x", 2048)},
		} {
			_, err := a.QueryVectors("f1", VectorQuery{Vector: []float64{0}, Filter: f})
			var ae *Error
			require.ErrorAs(t, err, &ae, "%v", f)
			require.Equal(t, 40026, ae.Code)
		}
	})
	t.Run("returnMetadata indexed", func(t *testing.T) {
		res, err := a.QueryVectors("f1", VectorQuery{Vector: []float64{0}, TopK: 1, ReturnMetadata: "indexed"})
		require.NoError(t, err)
		require.Equal(t, map[string]any{"lang": "en", "year": 2020.0, "draft": true, "author.name": "ann"}, res.Matches[0].Metadata)
	})
}

// As on Cloudflare, a metadata index holds the vectors written after it was created.
func TestVectorizeMetadataIndexLifecycle(t *testing.T) {
	h := newHarness(t)
	h.newVecIndex("life", 1, "cosine", nil)
	a := h.emu.Account()
	v := Vector{ID: "a", Values: []float64{1}, Metadata: map[string]any{"lang": "en"}}
	_, err := a.UpsertVectors("life", []Vector{v})
	require.NoError(t, err)
	enCount := func() int {
		t.Helper()
		res, err := a.QueryVectors("life", VectorQuery{Vector: []float64{1}, Filter: map[string]any{"lang": "en"}})
		require.NoError(t, err)
		return res.Count
	}
	meta := "/vectorize/v2/indexes/life/metadata_index"
	mustOK(t, h.call(http.MethodPost, meta+"/create", map[string]string{"propertyName": "lang", "indexType": "string"}))
	require.Zero(t, enCount(), "written before the metadata index")
	_, err = a.UpsertVectors("life", []Vector{v})
	require.NoError(t, err)
	require.Equal(t, 1, enCount(), "written again after it")
	mustOK(t, h.call(http.MethodPost, meta+"/delete", map[string]string{"propertyName": "lang"}))
	require.Zero(t, enCount())
	mustOK(t, h.call(http.MethodPost, meta+"/create", map[string]string{"propertyName": "lang", "indexType": "string"}))
	require.Zero(t, enCount(), "a metadata index created again starts empty")
}

func TestVectorsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	emu, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	h := &harness{t: t, emu: emu, srv: httptest.NewServer(emu)}
	t.Cleanup(h.srv.Close)
	h.newVecIndex("keep", 2, "cosine", map[string]string{"lang": "string"})
	h.newVecIndex("gone", 2, "cosine", nil)
	for _, index := range []string{"keep", "gone"} {
		_, err = emu.Account().UpsertVectors(index, []Vector{{ID: "a", Values: []float64{0.1, 0.2}, Metadata: map[string]any{"lang": "en"}, Namespace: "n"}})
		require.NoError(t, err)
	}
	mustOK(t, h.call(http.MethodDelete, "/vectorize/v2/indexes/gone", nil))
	require.NoError(t, emu.Close())

	again, err := New(Config{Token: testToken, AccountID: testAccount, StateFile: path})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, again.Close()) })
	got, err := again.Account().GetVectorsByIDs("keep", []string{"a"})
	require.NoError(t, err)
	require.Equal(t, []Vector{{ID: "a", Values: []float64{f32(0.1), f32(0.2)}, Metadata: map[string]any{"lang": "en"}, Namespace: "n"}}, got)
	res, err := again.Account().QueryVectors("keep", VectorQuery{Vector: []float64{1, 1}, Filter: map[string]any{"lang": "en"}})
	require.NoError(t, err)
	require.Equal(t, 1, res.Count, "the indexed metadata is kept too")
	require.NoFileExists(t, filepath.Join(dataDir(path), "vectorize", "gone.json"))
}
