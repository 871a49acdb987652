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
	vecCodeNotFound      = 3000
	vecCodeInvalidName   = 3001
	vecCodeDuplicate     = 3002
	vecCodeInvalidConfig = 3003
	vecCodeMetaExists    = 40004
	vecCodeMetaNotFound  = 40005
	vecCodeMetaInvalid   = 40026
)

// vecInvalid refuses an index configuration.
func vecInvalid(format string, args ...any) reply {
	return fail(http.StatusBadRequest, vecCodeInvalidConfig, format, args...)
}

func vecNotFound(name string) reply {
	return fail(http.StatusNotFound, vecCodeNotFound, "vectorize.index.not_found: index %q does not exist", name)
}

func (e *Emulator) vecCreate(c *call) reply {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Config      struct {
			Dimensions *int   `json:"dimensions"`
			Metric     string `json:"metric"`
			Preset     string `json:"preset"`
		} `json:"config"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if len(in.Name) > vecMaxName || !vecNameRule.MatchString(in.Name) {
		return fail(http.StatusBadRequest, vecCodeInvalidName, "vectorize.index.invalid_name: %q must match %s and be at most %d bytes", in.Name, vecNameRule, vecMaxName)
	}
	var cfg vecConfig
	switch {
	case in.Config.Preset != "":
		if in.Config.Dimensions != nil || in.Config.Metric != "" {
			return vecInvalid("vectorize.index.invalid_config: config takes either a preset or dimensions and metric, not both")
		}
		p, known := vecPresets[in.Config.Preset]
		if !known {
			return vecInvalid("vectorize.index.invalid_config: unknown preset %q", in.Config.Preset)
		}
		cfg = p
	default:
		if in.Config.Dimensions == nil || *in.Config.Dimensions < 1 || *in.Config.Dimensions > vecMaxDimensions {
			return vecInvalid("vectorize.index.invalid_config: config.dimensions must be between 1 and %d", vecMaxDimensions)
		}
		if !vecMetrics[in.Config.Metric] {
			return vecInvalid("vectorize.index.invalid_config: config.metric %q must be one of cosine, euclidean, dot-product", in.Config.Metric)
		}
		cfg = vecConfig{Dimensions: *in.Config.Dimensions, Metric: in.Config.Metric}
	}
	if e.st.Indexes[in.Name] != nil {
		return fail(http.StatusConflict, vecCodeDuplicate, "vectorize.index.duplicate_name: an index named %q already exists", in.Name)
	}
	t := now()
	v := &vecIndex{Name: in.Name, Description: in.Description, Config: cfg, CreatedOn: t, ModifiedOn: t, MetadataIndexes: []metadataIndex{}}
	e.st.Indexes[v.Name] = v
	return ok(v.view())
}

func (e *Emulator) vecList(*call) reply {
	out := []vecView{}
	for _, v := range inOrder(e.st.Indexes, func(v *vecIndex) string { return v.CreatedOn }) {
		out = append(out, v.view())
	}
	return ok(out)
}

func (e *Emulator) vecGet(c *call) reply {
	v := e.st.Indexes[c.r.PathValue("index")]
	if v == nil {
		return vecNotFound(c.r.PathValue("index"))
	}
	return ok(v.view())
}

func (e *Emulator) vecDelete(c *call) reply {
	if e.st.Indexes[c.r.PathValue("index")] == nil {
		return vecNotFound(c.r.PathValue("index"))
	}
	delete(e.st.Indexes, c.r.PathValue("index"))
	return ok(nil)
}

// vecInfo reports an always-empty index: the emulator stores no vectors.
func (e *Emulator) vecInfo(c *call) reply {
	v := e.st.Indexes[c.r.PathValue("index")]
	if v == nil {
		return vecNotFound(c.r.PathValue("index"))
	}
	info := map[string]any{"dimensions": v.Config.Dimensions, "vectorCount": 0,
		"processedUpToDatetime": nil, "processedUpToMutation": nil}
	if v.Mutation != "" {
		info["processedUpToDatetime"], info["processedUpToMutation"] = v.ModifiedOn, v.Mutation
	}
	return ok(info)
}

func (e *Emulator) vecMetaCreate(c *call) reply {
	v := e.st.Indexes[c.r.PathValue("index")]
	if v == nil {
		return vecNotFound(c.r.PathValue("index"))
	}
	var in metadataIndex
	if rp, good := c.decode(&in); !good {
		return rp
	}
	if in.PropertyName == "" {
		return fail(http.StatusBadRequest, vecCodeMetaInvalid, "propertyName is required")
	}
	switch in.IndexType {
	case "string", "number", "boolean":
	default:
		return fail(http.StatusBadRequest, vecCodeMetaInvalid, "indexType %q must be one of string, number, boolean", in.IndexType)
	}
	if slices.ContainsFunc(v.MetadataIndexes, func(m metadataIndex) bool { return m.PropertyName == in.PropertyName }) {
		return fail(http.StatusConflict, vecCodeMetaExists, "a metadata index on property %q already exists", in.PropertyName)
	}
	if len(v.MetadataIndexes) >= vecMaxMetadataIndex {
		return fail(http.StatusBadRequest, vecCodeMetaInvalid, "an index takes at most %d metadata indexes", vecMaxMetadataIndex)
	}
	v.MetadataIndexes = append(v.MetadataIndexes, in)
	return ok(e.vecMutated(v))
}

func (e *Emulator) vecMetaList(c *call) reply {
	v := e.st.Indexes[c.r.PathValue("index")]
	if v == nil {
		return vecNotFound(c.r.PathValue("index"))
	}
	return ok(map[string]any{"metadataIndexes": orEmpty(v.MetadataIndexes)})
}

func (e *Emulator) vecMetaDelete(c *call) reply {
	v := e.st.Indexes[c.r.PathValue("index")]
	if v == nil {
		return vecNotFound(c.r.PathValue("index"))
	}
	var in struct {
		PropertyName string `json:"propertyName"`
	}
	if rp, good := c.decode(&in); !good {
		return rp
	}
	i := slices.IndexFunc(v.MetadataIndexes, func(m metadataIndex) bool { return m.PropertyName == in.PropertyName })
	if i < 0 {
		return fail(http.StatusNotFound, vecCodeMetaNotFound, "no metadata index on property %q", in.PropertyName)
	}
	v.MetadataIndexes = slices.Delete(v.MetadataIndexes, i, i+1)
	return ok(e.vecMutated(v))
}

// vecMutated records a metadata index change; Cloudflare answers those
// asynchronously with the id of the mutation.
func (e *Emulator) vecMutated(v *vecIndex) map[string]string {
	v.Mutation = newUUID()
	v.ModifiedOn = now()
	return map[string]string{"mutationId": v.Mutation}
}
