// Package workersai is a deterministic local stand-in for Workers AI, for
// workers run by the local runtime: it runs no model. Embedding models
// answer vectors derived from the words of the text, so that equal texts
// get equal vectors and texts that share words are closer than texts that
// do not, which is enough to exercise a Vectorize search end to end; every
// other model that takes a prompt or chat messages answers a short text,
// labelled as the stand-in's, derived from the input.
//
// The embedding scheme: the text is lower-cased and cut into words (runs
// of letters and digits); each word adds +1 or -1 at embeddingSpread
// positions of the vector, positions and signs taken from FNV-1a hashes of
// the word; the sum is L2-normalised. A text without words is the zero
// vector. Two texts' cosine similarity then grows with the words they
// share, and texts without common words score near 0.
package workersai

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode"
)

// embeddingDims are the text embedding models the stand-in knows, with
// the dimensions of the real models' vectors.
var embeddingDims = map[string]int{
	"@cf/baai/bge-small-en-v1.5": 384,
	"@cf/baai/bge-base-en-v1.5":  768,
	"@cf/baai/bge-large-en-v1.5": 1024,
	"@cf/baai/bge-m3":            1024,
}

// embeddingSpread is how many positions each word touches: more than one,
// so that two words rarely cancel out.
const embeddingSpread = 4

// summaryWords bounds a stand-in response's summary.
const summaryWords = 24

// Embedding is an embedding model's answer, in Workers AI's shape.
type Embedding struct {
	Shape   []int       `json:"shape"` // [texts, dimensions]
	Data    [][]float64 `json:"data"`
	Pooling string      `json:"pooling"`
}

// Generation is a text generation model's answer, in Workers AI's shape.
type Generation struct {
	Response string `json:"response"`
}

// Run answers what env.AI.run(model, inputs) would: an *Embedding for the
// embedding models given {"text": string | string[]}, a *Generation for
// any other model given {"prompt": string} or {"messages": [{role,
// content}]}. Other inputs are refused with an error saying which the
// model takes.
func Run(model string, inputs json.RawMessage) (any, error) {
	if dims, isEmbedding := embeddingDims[model]; isEmbedding {
		return embed(model, dims, inputs)
	}
	return generate(model, inputs)
}

func embed(model string, dims int, inputs json.RawMessage) (*Embedding, error) {
	var in struct {
		Text json.RawMessage `json:"text"`
	}
	_ = json.Unmarshal(inputs, &in) // a shape that does not fit leaves Text empty, refused below
	var texts []string
	if err := json.Unmarshal(in.Text, &texts); err != nil {
		var one string
		if err := json.Unmarshal(in.Text, &one); err != nil {
			return nil, fmt.Errorf("workersai: %s takes inputs {\"text\": string | string[]}, not %s", model, quote(inputs))
		}
		texts = []string{one}
	}
	out := &Embedding{Shape: []int{len(texts), dims}, Data: make([][]float64, len(texts)), Pooling: "mean"}
	for i, t := range texts {
		out.Data[i] = embedText(t, dims)
	}
	return out, nil
}

// embedText is the package comment's scheme.
func embedText(text string, dims int) []float64 {
	v := make([]float64, dims)
	for _, w := range words(text) {
		for k := range embeddingSpread {
			h := fnv.New64a()
			fmt.Fprintf(h, "%d:%s", k, w)
			sum := h.Sum64()
			sign := 1.0
			if sum>>63 == 1 {
				sign = -1
			}
			v[sum%uint64(dims)] += sign
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	if norm == 0 {
		return v
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] /= norm
	}
	return v
}

func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func generate(model string, inputs json.RawMessage) (*Generation, error) {
	text, found := promptText(inputs)
	if !found {
		return nil, fmt.Errorf("workersai: the local stand-in runs %s as a text generation model, which takes inputs {\"prompt\": string} or {\"messages\": [{\"role\", \"content\"}]}; the embedding models (%s) take {\"text\": string | string[]}; got %s",
			model, strings.Join(slices.Sorted(maps.Keys(embeddingDims)), ", "), quote(inputs))
	}
	return &Generation{Response: fmt.Sprintf("[local stand-in for %s] %s", model, summary(text))}, nil
}

// promptText is what a reply answers: the prompt, or the last user
// message (the last message when none is the user's).
func promptText(inputs json.RawMessage) (string, bool) {
	var in struct {
		Prompt   *string `json:"prompt"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(inputs, &in) != nil {
		return "", false
	}
	if in.Prompt != nil {
		return *in.Prompt, true
	}
	if len(in.Messages) == 0 {
		return "", false
	}
	for i := len(in.Messages) - 1; i >= 0; i-- {
		if in.Messages[i].Role == "user" {
			return in.Messages[i].Content, true
		}
	}
	return in.Messages[len(in.Messages)-1].Content, true
}

// summary is the text's first sentence, cut to summaryWords words.
func summary(text string) string {
	if i := strings.IndexAny(text, ".!?\n"); i >= 0 {
		text = text[:i+1]
	}
	fields := strings.Fields(text)
	if len(fields) > summaryWords {
		return strings.Join(fields[:summaryWords], " ") + " …"
	}
	return strings.Join(fields, " ")
}

// quote shows the inputs in an error, cut to a readable length.
func quote(inputs json.RawMessage) string {
	const most = 200
	switch {
	case len(inputs) == 0:
		return "no inputs"
	case len(inputs) > most:
		return string(inputs[:most]) + "…"
	}
	return string(inputs)
}
