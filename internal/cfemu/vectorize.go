package cfemu

import (
	"net/http"
	"regexp"
	"slices"
)

type vecConfig struct {
	Dimensions int    `json:"dimensions"`
	Metric     string `json:"metric"`
}

type metadataIndex struct {
	PropertyName string `json:"propertyName"`
	IndexType    string `json:"indexType"`
}

type vecIndex struct {
	Name            string          `json:"name"`
	Description     string          `json:"description"`
	Config          vecConfig       `json:"config"`
	CreatedOn       string          `json:"created_on"`
	ModifiedOn      string          `json:"modified_on"`
	MetadataIndexes []metadataIndex `json:"metadata_indexes"`
	Mutation        string          `json:"last_mutation,omitempty"` // id of the last metadata index change
}

type vecView struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Config      vecConfig `json:"config"`
	CreatedOn   string    `json:"created_on"`
	ModifiedOn  string    `json:"modified_on"`
}

func (v *vecIndex) view() vecView {
	return vecView{Name: v.Name, Description: v.Description, Config: v.Config, CreatedOn: v.CreatedOn, ModifiedOn: v.ModifiedOn}
}

// Limits from Cloudflare's Vectorize OpenAPI schema and limits page.
var vecNameRule = regexp.MustCompile(`^[a-z]+[a-z0-9_-]*[a-z0-9]+$`)

const (
	vecMaxName          = 64
	vecMaxDimensions    = 1536
	vecMaxMetadataIndex = 10
)

var vecMetrics = map[string]bool{"cosine": true, "euclidean": true, "dot-product": true}

// vecPresets are the embedding models Cloudflare's API schema accepts as a
// preset, with the dimensions and metric each implies.
var vecPresets = map[string]vecConfig{
	"@cf/baai/bge-small-en-v1.5":     {384, "cosine"},
	"@cf/baai/bge-base-en-v1.5":      {768, "cosine"},
	"@cf/baai/bge-large-en-v1.5":     {1024, "cosine"},
	"openai/text-embedding-ada-002":  {1536, "cosine"},
	"cohere/embed-multilingual-v2.0": {768, "cosine"},
}

// Vectorize error codes as clients of the real API match them.
const (
	vecCodeNotFound       = 3000
	vecCodeInvalidName    = 3001
	vecCodeDuplicate      = 3002
	vecCodeInvalidConfig  = 3003
	vecCodeMetaExists     = 40004
	vecCodeMetaNotFound   = 40005
	vecCodeInvalidRequest = 40026 // also a data call's body that does not parse
)

// vecInvalid refuses an index configuration.
func vecInvalid(format string, args ...any) error {
	return refuse(http.StatusBadRequest, vecCodeInvalidConfig, format, args...)
}

func vecNotFound(name string) error {
	return refuse(http.StatusNotFound, vecCodeNotFound, "vectorize.index.not_found: index %q does not exist", name)
}

// VectorizeConfig is an index's configuration as a client sends it: a
// preset, or dimensions and a metric.
type VectorizeConfig struct {
	Dimensions *int   `json:"dimensions"`
	Metric     string `json:"metric"`
	Preset     string `json:"preset"`
}

// resolve checks the configuration and says what it amounts to.
func (in VectorizeConfig) resolve() (vecConfig, error) {
	if in.Preset != "" {
		if in.Dimensions != nil || in.Metric != "" {
			return vecConfig{}, vecInvalid("vectorize.index.invalid_config: config takes either a preset or dimensions and metric, not both")
		}
		p, known := vecPresets[in.Preset]
		if !known {
			return vecConfig{}, vecInvalid("vectorize.index.invalid_config: unknown preset %q", in.Preset)
		}
		return p, nil
	}
	if in.Dimensions == nil || *in.Dimensions < 1 || *in.Dimensions > vecMaxDimensions {
		return vecConfig{}, vecInvalid("vectorize.index.invalid_config: config.dimensions must be between 1 and %d", vecMaxDimensions)
	}
	if !vecMetrics[in.Metric] {
		return vecConfig{}, vecInvalid("vectorize.index.invalid_config: config.metric %q must be one of cosine, euclidean, dot-product", in.Metric)
	}
	return vecConfig{Dimensions: *in.Dimensions, Metric: in.Metric}, nil
}

// CreateVectorizeIndex creates an empty index; names are unique in the account.
func (a *Account) CreateVectorizeIndex(name, description string, config VectorizeConfig) (vecView, error) {
	var out vecView
	err := a.update(func() error {
		if len(name) > vecMaxName || !vecNameRule.MatchString(name) {
			return refuse(http.StatusBadRequest, vecCodeInvalidName, "vectorize.index.invalid_name: %q must match %s and be at most %d bytes", name, vecNameRule, vecMaxName)
		}
		cfg, err := config.resolve()
		if err != nil {
			return err
		}
		if a.st.Indexes[name] != nil {
			return refuse(http.StatusConflict, vecCodeDuplicate, "vectorize.index.duplicate_name: an index named %q already exists", name)
		}
		t := now()
		v := &vecIndex{Name: name, Description: description, Config: cfg, CreatedOn: t, ModifiedOn: t, MetadataIndexes: []metadataIndex{}}
		a.st.Indexes[v.Name] = v
		out = v.view()
		return nil
	})
	return out, err
}

// ListVectorizeIndexes lists the indexes, oldest first.
func (a *Account) ListVectorizeIndexes() []vecView {
	out := []vecView{}
	a.view(func() {
		for _, v := range inOrder(a.st.Indexes, func(v *vecIndex) string { return v.CreatedOn }) {
			out = append(out, v.view())
		}
	})
	return out
}

// onIndex runs f on an existing index, under the lock the caller holds.
func (a *Account) onIndex(name string, f func(*vecIndex) error) error {
	v := a.st.Indexes[name]
	if v == nil {
		return vecNotFound(name)
	}
	return f(v)
}

// GetVectorizeIndex reads one index.
func (a *Account) GetVectorizeIndex(name string) (vecView, error) {
	var out vecView
	err := a.viewErr(func() error {
		return a.onIndex(name, func(v *vecIndex) error { out = v.view(); return nil })
	})
	return out, err
}

// DeleteVectorizeIndex deletes an index and its vectors.
func (a *Account) DeleteVectorizeIndex(name string) error {
	return a.update(func() error {
		return a.onIndex(name, func(*vecIndex) error {
			if err := a.vec.drop(name); err != nil {
				return refuse(http.StatusInternalServerError, 10001, "could not delete the index's vectors: %v", err)
			}
			delete(a.st.Indexes, name)
			return nil
		})
	})
}

// CreateMetadataIndex indexes a metadata property of an index's vectors.
func (a *Account) CreateMetadataIndex(name string, in metadataIndex) (map[string]string, error) {
	var out map[string]string
	err := a.update(func() error {
		return a.onIndex(name, func(v *vecIndex) error {
			if in.PropertyName == "" {
				return refuse(http.StatusBadRequest, vecCodeInvalidRequest, "propertyName is required")
			}
			switch in.IndexType {
			case "string", "number", "boolean":
			default:
				return refuse(http.StatusBadRequest, vecCodeInvalidRequest, "indexType %q must be one of string, number, boolean", in.IndexType)
			}
			if slices.ContainsFunc(v.MetadataIndexes, func(m metadataIndex) bool { return m.PropertyName == in.PropertyName }) {
				return refuse(http.StatusConflict, vecCodeMetaExists, "a metadata index on property %q already exists", in.PropertyName)
			}
			if len(v.MetadataIndexes) >= vecMaxMetadataIndex {
				return refuse(http.StatusBadRequest, vecCodeInvalidRequest, "an index takes at most %d metadata indexes", vecMaxMetadataIndex)
			}
			v.MetadataIndexes = append(slices.Clone(v.MetadataIndexes), in)
			out = vecMutated(v)
			return nil
		})
	})
	return out, err
}

// MetadataIndexes lists an index's metadata indexes.
func (a *Account) MetadataIndexes(name string) ([]metadataIndex, error) {
	var out []metadataIndex
	err := a.viewErr(func() error {
		return a.onIndex(name, func(v *vecIndex) error { out = slices.Clone(orEmpty(v.MetadataIndexes)); return nil })
	})
	return out, err
}

// DeleteMetadataIndex stops indexing a metadata property.
func (a *Account) DeleteMetadataIndex(name, property string) (map[string]string, error) {
	var out map[string]string
	err := a.update(func() error {
		return a.onIndex(name, func(v *vecIndex) error {
			i := slices.IndexFunc(v.MetadataIndexes, func(m metadataIndex) bool { return m.PropertyName == property })
			if i < 0 {
				return refuse(http.StatusNotFound, vecCodeMetaNotFound, "no metadata index on property %q", property)
			}
			if err := a.vec.unindex(name, property); err != nil {
				return refuse(http.StatusInternalServerError, 10001, "could not take property %q out of the index's vectors: %v", property, err)
			}
			v.MetadataIndexes = slices.Delete(slices.Clone(v.MetadataIndexes), i, i+1)
			out = vecMutated(v)
			return nil
		})
	})
	return out, err
}

// vecMutated records a metadata index change; Cloudflare answers those
// asynchronously with the id of the mutation.
func vecMutated(v *vecIndex) map[string]string {
	v.Mutation = newUUID()
	v.ModifiedOn = now()
	return map[string]string{"mutationId": v.Mutation}
}

// HTTP handlers. Those that read a body look the index up first, so that a
// missing one is 404 whatever the body holds.

func (e *Emulator) vecCreate(c *call) reply {
	var in struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Config      VectorizeConfig `json:"config"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.CreateVectorizeIndex(in.Name, in.Description, in.Config))
}

func (e *Emulator) vecList(*call) reply {
	return ok(e.acct.ListVectorizeIndexes())
}

func (e *Emulator) vecGet(c *call) reply {
	return answer(e.acct.GetVectorizeIndex(c.r.PathValue("index")))
}

func (e *Emulator) vecDelete(c *call) reply {
	return done(e.acct.DeleteVectorizeIndex(c.r.PathValue("index")))
}

func (e *Emulator) vecInfo(c *call) reply {
	return answer(e.acct.VectorizeInfo(c.r.PathValue("index")))
}

func (e *Emulator) vecMetaCreate(c *call) reply {
	if _, err := e.acct.GetVectorizeIndex(c.r.PathValue("index")); err != nil {
		return failWith(err)
	}
	var in metadataIndex
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.CreateMetadataIndex(c.r.PathValue("index"), in))
}

func (e *Emulator) vecMetaList(c *call) reply {
	list, err := e.acct.MetadataIndexes(c.r.PathValue("index"))
	if err != nil {
		return failWith(err)
	}
	return ok(map[string]any{"metadataIndexes": list})
}

func (e *Emulator) vecMetaDelete(c *call) reply {
	if _, err := e.acct.GetVectorizeIndex(c.r.PathValue("index")); err != nil {
		return failWith(err)
	}
	var in struct {
		PropertyName string `json:"propertyName"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	return answer(e.acct.DeleteMetadataIndex(c.r.PathValue("index"), in.PropertyName))
}
