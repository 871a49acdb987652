package cfemu

import (
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Vector is one vector of an index as the Workers binding and the REST API
// exchange it.
type Vector struct {
	ID        string         `json:"id"`
	Values    []float64      `json:"values"`
	Namespace string         `json:"namespace,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// VectorMutation answers a change. Vectorize applies changes
// asynchronously and names each by a mutation id; the emulator applies
// them before it answers, so a vector is queryable at once.
type VectorMutation struct {
	MutationID string `json:"mutationId"`
}

// VectorQuery is a query's vector and options, with the binding's names.
type VectorQuery struct {
	Vector []float64 `json:"vector"`
	TopK   int       `json:"topK,omitempty"` // 0 is the default, 5
	// ReturnValues and ReturnMetadata ("none", the default, "indexed" or
	// "all") say what a match carries besides its id and score.
	ReturnValues   bool           `json:"returnValues,omitempty"`
	ReturnMetadata string         `json:"returnMetadata,omitempty"`
	Filter         map[string]any `json:"filter,omitempty"`
	Namespace      string         `json:"namespace,omitempty"`
}

// VectorMatches is a query's answer, best match first.
type VectorMatches struct {
	Count   int           `json:"count"`
	Matches []VectorMatch `json:"matches"`
}

// VectorMatch is one match: score is the metric's (see vecScore).
type VectorMatch struct {
	ID        string         `json:"id"`
	Score     float64        `json:"score"`
	Values    []float64      `json:"values,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Namespace string         `json:"namespace,omitempty"`
}

// VectorizeIndexInfo is what the REST API's info and the binding's
// describe answer: the processed-up-to pair names the last mutation,
// of the vectors or the metadata indexes, or is null before the first.
type VectorizeIndexInfo struct {
	Dimensions            int     `json:"dimensions"`
	VectorCount           int     `json:"vectorCount"`
	ProcessedUpToDatetime *string `json:"processedUpToDatetime"`
	ProcessedUpToMutation *string `json:"processedUpToMutation"`
}

// Limits from Cloudflare's Vectorize docs (limits page, client API and
// metadata filtering); the id limits are the ones its errors state.
const (
	vecMaxID          = 64 // bytes, also of a namespace
	vecMaxMetadata    = 10 << 10
	vecMaxIndexedText = 64 // bytes of a string a metadata index holds
	vecDefaultTopK    = 5
	vecMaxTopK        = 100
	vecMaxTopKFull    = 20 // with returnValues or returnMetadata "all"
	vecMaxGetIDs      = 20
	vecMaxDeleteIDs   = 100
)

// Vectorize error codes of the data calls, as Cloudflare's errors carry
// them (observed in their messages, e.g. "VECTOR_QUERY_ERROR (code = 40006)").
const (
	vecCodeQueryDimensions = 40006
	vecCodeTooManyIDs      = 40007
	vecCodeInvalidID       = 40008
	vecCodeInvalidVector   = 40012
	vecCodeUnparsable      = 40023
	vecCodeTopK            = 40025
)

// storedVector is a vector as the store keeps it. Values are float32, as
// Vectorize stores them. Indexed holds what the index's metadata indexes
// took of the metadata when the vector was written: as on Cloudflare, a
// vector written before a metadata index was created is not in it.
type storedVector struct {
	Values    []float32      `json:"values"`
	Namespace string         `json:"namespace,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Indexed   map[string]any `json:"indexed,omitempty"`
}

// vector is the stored vector as clients see it: float32 values widened
// back to float64, as Cloudflare returns them (32.4 reads 32.400001525878906).
func (s *storedVector) vector(id string) Vector {
	values := make([]float64, len(s.Values))
	for i, f := range s.Values {
		values[i] = float64(f)
	}
	return Vector{ID: id, Values: values, Namespace: s.Namespace, Metadata: s.Metadata}
}

// vecData is one index's vectors and its last vector mutation.
type vecData struct {
	Vectors   map[string]*storedVector `json:"vectors"`
	Mutation  string                   `json:"mutation,omitempty"`
	MutatedAt string                   `json:"mutated_at,omitempty"`
}

// mutated records a change of the vectors.
func (d *vecData) mutated() VectorMutation {
	d.Mutation, d.MutatedAt = newUUID(), now()
	return VectorMutation{MutationID: d.Mutation}
}

// vecStore owns the vectors of every index; an index's vectors are one
// file, written when they change.
type vecStore struct {
	files   dataFiles
	mu      sync.Mutex
	indexes map[string]*vecData // index name → its vectors
}

// data is an index's vectors, empty until the first write.
func (s *vecStore) data(index string) *vecData {
	d := s.indexes[index]
	if d == nil {
		d = &vecData{Vectors: map[string]*storedVector{}}
		s.indexes[index] = d
	}
	return d
}

func (s *vecStore) save(index string) error {
	return s.files.save(index+".json", s.indexes[index])
}

// drop forgets an index's vectors, on disk too.
func (s *vecStore) drop(index string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.indexes, index)
	return s.files.save(index+".json", nil)
}

// unindex takes a property out of every vector's indexed metadata once its
// metadata index is deleted, so that one created again starts empty.
func (s *vecStore) unindex(index, property string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range s.data(index).Vectors {
		if _, had := v.Indexed[property]; had {
			delete(v.Indexed, property)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return s.save(index)
}

// onVectors runs f on an existing index and its vectors. The account's
// read lock is held throughout, so an index being deleted cannot get
// vectors back, and so is the store's lock; when f reports a change, the
// index's vectors are saved. f must check everything before it changes
// anything.
func (a *Account) onVectors(index string, f func(v *vecIndex, d *vecData) (changed bool, err error)) error {
	return a.viewErr(func() error {
		return a.onIndex(index, func(v *vecIndex) error {
			a.vec.mu.Lock()
			defer a.vec.mu.Unlock()
			changed, err := f(v, a.vec.data(index))
			if err != nil || !changed {
				return err
			}
			if err := a.vec.save(index); err != nil {
				return refuse(http.StatusInternalServerError, 10001, "the emulator could not save the index's vectors: %v", err)
			}
			return nil
		})
	})
}

// InsertVectors adds vectors whose ids the index does not hold; as on
// Cloudflare, a vector whose id exists (or came earlier in vs) is skipped,
// not refused. A batch with an invalid vector is refused whole.
func (a *Account) InsertVectors(index string, vs []Vector) (VectorMutation, error) {
	return a.writeVectors(index, vs, false)
}

// UpsertVectors adds vectors, replacing in full any with the same id.
func (a *Account) UpsertVectors(index string, vs []Vector) (VectorMutation, error) {
	return a.writeVectors(index, vs, true)
}

func (a *Account) writeVectors(index string, vs []Vector, replace bool) (VectorMutation, error) {
	var out VectorMutation
	err := a.onVectors(index, func(v *vecIndex, d *vecData) (bool, error) {
		stored := make([]*storedVector, len(vs))
		for i, in := range vs {
			s, err := storeVector(in, v)
			if err != nil {
				return false, err
			}
			stored[i] = s
		}
		for i, in := range vs {
			if _, exists := d.Vectors[in.ID]; exists && !replace {
				continue
			}
			d.Vectors[in.ID] = stored[i]
		}
		out = d.mutated()
		return true, nil
	})
	return out, err
}

// storeVector checks a vector against the index and Cloudflare's limits
// and says how the store keeps it.
func storeVector(in Vector, v *vecIndex) (*storedVector, error) {
	if err := checkVectorID(in.ID); err != nil {
		return nil, err
	}
	if len(in.Values) != v.Config.Dimensions {
		return nil, refuse(http.StatusBadRequest, vecCodeInvalidVector, "invalid vector for id=%q, expected %d dimensions, and got %d dimensions",
			in.ID, v.Config.Dimensions, len(in.Values))
	}
	if len(in.Namespace) > vecMaxID {
		return nil, refuse(http.StatusBadRequest, vecCodeInvalidVector, "invalid vector for id=%q: namespace is %d bytes, the most is %d",
			in.ID, len(in.Namespace), vecMaxID)
	}
	for k := range in.Metadata {
		if k == "" || strings.ContainsAny(k, `."`) || strings.HasPrefix(k, "$") {
			return nil, refuse(http.StatusBadRequest, vecCodeInvalidVector, "invalid vector for id=%q: metadata key %q must not be empty, contain . or \" or start with $",
				in.ID, k)
		}
	}
	// A JSON round trip measures the metadata as Cloudflare does and gives
	// Go callers' values (ints, structs) the types a JSON client's have.
	var meta map[string]any
	if len(in.Metadata) > 0 {
		raw, err := json.Marshal(in.Metadata)
		if err != nil {
			return nil, refuse(http.StatusBadRequest, vecCodeInvalidVector, "invalid vector for id=%q: metadata is not JSON: %v", in.ID, err)
		}
		if len(raw) > vecMaxMetadata {
			return nil, refuse(http.StatusBadRequest, vecCodeInvalidVector, "invalid vector for id=%q: metadata is %d bytes, the most is %d",
				in.ID, len(raw), vecMaxMetadata)
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, err
		}
	}
	values := make([]float32, len(in.Values))
	for i, f := range in.Values {
		values[i] = float32(f)
	}
	return &storedVector{Values: values, Namespace: in.Namespace, Metadata: meta, Indexed: indexMetadata(meta, v.MetadataIndexes)}, nil
}

func checkVectorID(id string) error {
	if id == "" {
		return refuse(http.StatusBadRequest, vecCodeInvalidID, "id must not be empty")
	}
	if len(id) > vecMaxID {
		return refuse(http.StatusBadRequest, vecCodeInvalidID, "id too long; max is %d bytes, got %d bytes", vecMaxID, len(id))
	}
	return nil
}

// indexMetadata is what the metadata indexes take of a vector's metadata:
// each property whose value has the index's type (a dotted name reaches
// into nested objects), strings cut to their first 64 bytes.
func indexMetadata(meta map[string]any, indexes []metadataIndex) map[string]any {
	out := map[string]any{}
	for _, m := range indexes {
		val, found := metadataPath(meta, m.PropertyName)
		if !found {
			continue
		}
		switch x := val.(type) {
		case string:
			if m.IndexType == "string" {
				out[m.PropertyName] = truncateUTF8(x, vecMaxIndexedText)
			}
		case float64:
			if m.IndexType == "number" {
				out[m.PropertyName] = x
			}
		case bool:
			if m.IndexType == "boolean" {
				out[m.PropertyName] = x
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func metadataPath(meta map[string]any, path string) (any, bool) {
	var cur any = meta
	for part := range strings.SplitSeq(path, ".") {
		obj, isObj := cur.(map[string]any)
		if !isObj {
			return nil, false
		}
		if cur, isObj = obj[part]; !isObj {
			return nil, false
		}
	}
	return cur, true
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// QueryVectors ranks the index's vectors by the index's metric against
// q.Vector, within q.Namespace if set and among those q.Filter admits,
// and answers the best q.TopK.
func (a *Account) QueryVectors(index string, q VectorQuery) (VectorMatches, error) {
	out := VectorMatches{Matches: []VectorMatch{}}
	topK, err := q.topK()
	if err != nil {
		return out, err
	}
	conds, err := parseVecFilter(q.Filter)
	if err != nil {
		return out, err
	}
	err = a.onVectors(index, func(v *vecIndex, d *vecData) (bool, error) {
		if len(q.Vector) != v.Config.Dimensions {
			return false, refuse(http.StatusBadRequest, vecCodeQueryDimensions, "invalid query vector, expected %d dimensions, and got %d dimensions",
				v.Config.Dimensions, len(q.Vector))
		}
		for _, c := range conds {
			if !slices.ContainsFunc(v.MetadataIndexes, func(m metadataIndex) bool { return m.PropertyName == c.property }) {
				return false, nil // Cloudflare filters through metadata indexes only: no index, no match
			}
		}
		for id, s := range d.Vectors {
			if q.Namespace != "" && s.Namespace != q.Namespace || !vecAdmits(conds, s.Indexed) {
				continue
			}
			m := VectorMatch{ID: id, Score: vecScore(v.Config.Metric, q.Vector, s.Values)}
			if q.ReturnValues {
				m.Values = s.vector(id).Values
			}
			switch q.ReturnMetadata {
			case "all":
				m.Metadata = s.Metadata
			case "indexed":
				m.Metadata = currentlyIndexed(s.Indexed, v.MetadataIndexes)
			}
			m.Namespace = s.Namespace
			out.Matches = append(out.Matches, m)
		}
		better := vecBetter(v.Config.Metric)
		slices.SortFunc(out.Matches, func(x, y VectorMatch) int {
			return cmp.Or(better(x.Score, y.Score), cmp.Compare(x.ID, y.ID))
		})
		return false, nil
	})
	out.Matches = out.Matches[:min(topK, len(out.Matches))]
	out.Count = len(out.Matches)
	return out, err
}

// topK checks the options against Cloudflare's limits on a query.
func (q VectorQuery) topK() (int, error) {
	switch q.ReturnMetadata {
	case "", "none", "indexed", "all":
	default:
		return 0, refuse(http.StatusBadRequest, vecCodeInvalidRequest, "returnMetadata %q must be one of none, indexed, all", q.ReturnMetadata)
	}
	k := cmp.Or(q.TopK, vecDefaultTopK)
	limit := vecMaxTopK
	if q.ReturnValues || q.ReturnMetadata == "all" {
		limit = vecMaxTopKFull
	}
	if k < 1 || k > limit {
		return 0, refuse(http.StatusBadRequest, vecCodeTopK, "top K must be between 1 and %d (%d with returnValues=true or returnMetadata=all), but got %d",
			vecMaxTopK, vecMaxTopKFull, k)
	}
	return k, nil
}

// currentlyIndexed is a vector's indexed metadata less the properties
// whose metadata index was deleted, or nil.
func currentlyIndexed(indexed map[string]any, indexes []metadataIndex) map[string]any {
	out := map[string]any{}
	for _, m := range indexes {
		if val, found := indexed[m.PropertyName]; found {
			out[m.PropertyName] = val
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// vecScore is a match's score as Cloudflare's docs define it per metric:
// cosine similarity (1 identical, -1 opposite), Euclidean (L2) distance
// (0 identical), and for dot-product the negated dot product, so that
// lower means closer.
func vecScore(metric string, q []float64, v []float32) float64 {
	var dot, qq, vv, dist float64
	for i, x := range q {
		y := float64(v[i])
		dot += x * y
		qq += x * x
		vv += y * y
		dist += (x - y) * (x - y)
	}
	switch metric {
	case "euclidean":
		return math.Sqrt(dist)
	case "dot-product":
		return -dot
	}
	if qq == 0 || vv == 0 {
		return 0
	}
	return dot / math.Sqrt(qq*vv)
}

// vecBetter orders scores best first: cosine similarity is higher for
// closer vectors, the other metrics' scores lower.
func vecBetter(metric string) func(x, y float64) int {
	if metric == "cosine" {
		return func(x, y float64) int { return cmp.Compare(y, x) }
	}
	return cmp.Compare[float64]
}

// GetVectorsByIDs reads the vectors with those ids, in that order; ids the
// index does not hold are left out.
func (a *Account) GetVectorsByIDs(index string, ids []string) ([]Vector, error) {
	out := []Vector{}
	if err := checkVectorIDs(ids, vecMaxGetIDs); err != nil {
		return out, err
	}
	err := a.onVectors(index, func(_ *vecIndex, d *vecData) (bool, error) {
		for _, id := range ids {
			if s := d.Vectors[id]; s != nil && !slices.ContainsFunc(out, func(v Vector) bool { return v.ID == id }) {
				out = append(out, s.vector(id))
			}
		}
		return false, nil
	})
	return out, err
}

// DeleteVectorsByIDs deletes the vectors with those ids; ids the index
// does not hold are no error.
func (a *Account) DeleteVectorsByIDs(index string, ids []string) (VectorMutation, error) {
	var out VectorMutation
	if err := checkVectorIDs(ids, vecMaxDeleteIDs); err != nil {
		return out, err
	}
	err := a.onVectors(index, func(_ *vecIndex, d *vecData) (bool, error) {
		for _, id := range ids {
			delete(d.Vectors, id)
		}
		out = d.mutated()
		return true, nil
	})
	return out, err
}

// checkVectorIDs applies the limits on a get or delete by ids, which
// Cloudflare's errors state (code 40007, "too many ids in payload").
func checkVectorIDs(ids []string, limit int) error {
	if len(ids) > limit {
		return refuse(http.StatusBadRequest, vecCodeTooManyIDs, "too many ids in payload: %d, the most is %d", len(ids), limit)
	}
	for _, id := range ids {
		if err := checkVectorID(id); err != nil {
			return err
		}
	}
	return nil
}

// VectorizeInfo describes an index: its dimensions, how many vectors it
// holds and its last mutation.
func (a *Account) VectorizeInfo(index string) (VectorizeIndexInfo, error) {
	var out VectorizeIndexInfo
	err := a.onVectors(index, func(v *vecIndex, d *vecData) (bool, error) {
		out = VectorizeIndexInfo{Dimensions: v.Config.Dimensions, VectorCount: len(d.Vectors)}
		mutation, at := v.Mutation, v.ModifiedOn
		if d.Mutation != "" && (mutation == "" || d.MutatedAt > at) {
			mutation, at = d.Mutation, d.MutatedAt
		}
		if mutation != "" {
			out.ProcessedUpToMutation, out.ProcessedUpToDatetime = &mutation, &at
		}
		return false, nil
	})
	return out, err
}

// decodeVecBody parses a data call's JSON body; Cloudflare refuses one it
// cannot parse, a boolean returnMetadata included, with code 40026.
func decodeVecBody(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return refuse(http.StatusBadRequest, vecCodeInvalidRequest, "Failed to parse the request body as JSON: %v", err)
	}
	return nil
}

// vecIDs is the body of a get or delete by ids.
type vecIDs struct {
	IDs []string `json:"ids"`
}

// HTTP handlers. Each looks the index up first, so that a missing one is
// 404 whatever the body holds.

// vecWrite inserts or upserts the vectors of an NDJSON body, one vector
// a line, sent as is (application/x-ndjson) or as the "vectors" part of a
// multipart form, as wrangler sends it. With unparsable-behavior=discard
// lines that do not parse are skipped; by default they refuse the call.
func (e *Emulator) vecWrite(replace bool) func(*call) reply {
	return func(c *call) reply {
		index := c.r.PathValue("index")
		if _, err := e.acct.GetVectorizeIndex(index); err != nil {
			return failWith(err)
		}
		body := c.body
		parts, err := readMultipartBody(c.r.Header.Get("Content-Type"), body)
		if err != nil {
			return fail(http.StatusBadRequest, vecCodeUnparsable, "malformed multipart body: %v", err)
		}
		if parts != nil {
			body = parts["vectors"]
		}
		discard := c.r.URL.Query().Get("unparsable-behavior") == "discard"
		var vs []Vector
		for i, line := range strings.Split(string(body), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			var v Vector
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				if discard {
					continue
				}
				return fail(http.StatusBadRequest, vecCodeUnparsable, "failed to parse line %d of the vectors: %v (send unparsable-behavior=discard to skip such lines)", i+1, err)
			}
			vs = append(vs, v)
		}
		if replace {
			return answer(e.acct.UpsertVectors(index, vs))
		}
		return answer(e.acct.InsertVectors(index, vs))
	}
}

// onIndex answers a call whose JSON body is op's input on the index the
// path names, once the index is found.
func onIndex[In, Out any](e *Emulator, c *call, op func(index string, in In) (Out, error)) reply {
	index := c.r.PathValue("index")
	if _, err := e.acct.GetVectorizeIndex(index); err != nil {
		return failWith(err)
	}
	var in In
	if err := decodeVecBody(c.body, &in); err != nil {
		return failWith(err)
	}
	return answer(op(index, in))
}

func (e *Emulator) vecQuery(c *call) reply {
	return onIndex(e, c, e.acct.QueryVectors)
}

func (e *Emulator) vecGetByIDs(c *call) reply {
	return onIndex(e, c, func(index string, in vecIDs) ([]Vector, error) { return e.acct.GetVectorsByIDs(index, in.IDs) })
}

func (e *Emulator) vecDeleteByIDs(c *call) reply {
	return onIndex(e, c, func(index string, in vecIDs) (VectorMutation, error) { return e.acct.DeleteVectorsByIDs(index, in.IDs) })
}
