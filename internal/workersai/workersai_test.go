package workersai

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func embedOne(t *testing.T, model, text string) []float64 {
	t.Helper()
	inputs, err := json.Marshal(map[string]string{"text": text})
	require.NoError(t, err)
	out, err := Run(model, inputs)
	require.NoError(t, err)
	return out.(*Embedding).Data[0]
}

func cosine(a, b []float64) float64 {
	var dot, aa, bb float64
	for i := range a {
		dot += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return dot / math.Sqrt(aa*bb)
}

func TestEmbeddingDimensions(t *testing.T) {
	tests := []struct {
		model string
		dims  int
	}{
		{"@cf/baai/bge-small-en-v1.5", 384},
		{"@cf/baai/bge-base-en-v1.5", 768},
		{"@cf/baai/bge-large-en-v1.5", 1024},
		{"@cf/baai/bge-m3", 1024},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			out, err := Run(tt.model, json.RawMessage(`{"text":["a cat","a dog","a bird"]}`))
			require.NoError(t, err)
			e := out.(*Embedding)
			require.Equal(t, []int{3, tt.dims}, e.Shape)
			require.Equal(t, "mean", e.Pooling)
			require.Len(t, e.Data, 3)
			for _, v := range e.Data {
				require.Len(t, v, tt.dims)
				require.InDelta(t, 1, cosine(v, v), 1e-9)
			}
		})
	}
}

func TestEmbeddingSimilarity(t *testing.T) {
	const model = "@cf/baai/bge-base-en-v1.5"
	query := embedOne(t, model, "How do I deploy a worker to Cloudflare?")
	require.Equal(t, query, embedOne(t, model, "How do I deploy a worker to Cloudflare?"), "equal texts, equal vectors")
	require.Equal(t, query, embedOne(t, model, "how do i DEPLOY a worker to cloudflare"), "case and punctuation do not count")

	tests := []struct {
		closer, further string
	}{
		{"deploy a worker to Cloudflare", "bake sourdough bread at home"},
		{"Cloudflare worker deploy guide", "a worker deploys nothing"},
		{"How do I deploy a worker?", "deploy"},
	}
	for _, tt := range tests {
		t.Run(tt.closer, func(t *testing.T) {
			require.Greater(t, cosine(query, embedOne(t, model, tt.closer)), cosine(query, embedOne(t, model, tt.further)))
		})
	}
	require.InDelta(t, 0, cosine(query, embedOne(t, model, "bake sourdough bread at home")), 0.3, "unrelated texts are near orthogonal")
	require.Equal(t, make([]float64, 768), embedOne(t, model, "?!"), "a text without words is the zero vector")
}

func TestGeneration(t *testing.T) {
	const model = "@cf/meta/llama-3.1-8b-instruct"
	long := strings.Repeat("word ", 40)
	tests := []struct {
		name, inputs, want string
	}{
		{"prompt: its first sentence", `{"prompt":"Summarise the notes. Then list them."}`, "Summarise the notes."},
		{"messages: the last user message", `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is Dome?"},{"role":"assistant","content":"A tool."}]}`, "What is Dome?"},
		{"messages without a user message: the last", `{"messages":[{"role":"system","content":"Be brief"}]}`, "Be brief"},
		{"long: cut", `{"prompt":"` + long + `"}`, strings.TrimSpace(strings.Repeat("word ", summaryWords)) + " …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Run(model, json.RawMessage(tt.inputs))
			require.NoError(t, err)
			require.Equal(t, &Generation{Response: "[local stand-in for " + model + "] " + tt.want}, out)
			again, err := Run(model, json.RawMessage(tt.inputs))
			require.NoError(t, err)
			require.Equal(t, out, again, "deterministic")
		})
	}
}

func TestRunRefusals(t *testing.T) {
	tests := []struct {
		name, model, inputs, want string
	}{
		{"embedding without text", "@cf/baai/bge-small-en-v1.5", `{"prompt":"hi"}`, `@cf/baai/bge-small-en-v1.5 takes inputs {"text": string | string[]}`},
		{"embedding with a number", "@cf/baai/bge-m3", `{"text":3}`, `@cf/baai/bge-m3 takes inputs {"text"`},
		{"generation without prompt", "@cf/meta/llama-3.1-8b-instruct", `{"text":"hi"}`, `runs @cf/meta/llama-3.1-8b-instruct as a text generation model, which takes inputs {"prompt": string}`},
		{"no inputs", "@cf/openai/whisper", ``, "got no inputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(tt.model, json.RawMessage(tt.inputs))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	tests := []struct {
		name, method, path, body string
		status                   int
		check                    func(t *testing.T, body map[string]any)
	}{
		{"embedding", http.MethodPost, "/ai/run", `{"model":"@cf/baai/bge-small-en-v1.5","inputs":{"text":"hello"}}`, http.StatusOK,
			func(t *testing.T, body map[string]any) { require.Equal(t, []any{1.0, 384.0}, body["shape"]) }},
		{"generation", http.MethodPost, "/ai/run", `{"model":"@cf/meta/llama-3.1-8b-instruct","inputs":{"prompt":"Hi there."}}`, http.StatusOK,
			func(t *testing.T, body map[string]any) {
				require.Equal(t, "[local stand-in for @cf/meta/llama-3.1-8b-instruct] Hi there.", body["response"])
			}},
		{"bad inputs", http.MethodPost, "/ai/run", `{"model":"@cf/baai/bge-small-en-v1.5","inputs":{}}`, http.StatusBadRequest,
			func(t *testing.T, body map[string]any) { require.Contains(t, body["error"], `takes inputs {"text"`) }},
		{"no model", http.MethodPost, "/ai/run", `{"inputs":{}}`, http.StatusBadRequest,
			func(t *testing.T, body map[string]any) {
				require.Contains(t, body["error"], `{"model": "<model name>"`)
			}},
		{"malformed", http.MethodPost, "/ai/run", `{`, http.StatusBadRequest,
			func(t *testing.T, body map[string]any) { require.Contains(t, body["error"], "got {") }},
		{"not a POST", http.MethodGet, "/ai/run", ``, http.StatusNotFound,
			func(t *testing.T, body map[string]any) { require.Contains(t, body["error"], "POSTs /ai/run") }},
		{"another path", http.MethodPost, "/vectorize/x/query", `{}`, http.StatusNotFound,
			func(t *testing.T, body map[string]any) { require.Contains(t, body["error"], "no Workers AI callback") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			res, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			raw, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, res.StatusCode, string(raw))
			require.Equal(t, "application/json", res.Header.Get("Content-Type"))
			var body map[string]any
			require.NoError(t, json.Unmarshal(raw, &body), string(raw))
			tt.check(t, body)
		})
	}
}
