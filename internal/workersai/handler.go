package workersai

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxBodyBytes bounds a request body: embedding batches are text, far smaller.
const maxBodyBytes = 16 << 20

// Handler serves the local runtime's AI binding callback: POST /ai/run
// with body {"model": "…", "inputs": {…}} answers Run's result as JSON,
// and a request Run refuses answers 400 {"error": "…"}.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ai/run", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			writeError(w, http.StatusBadRequest, "could not read the request body: %v", err)
			return
		}
		var in struct {
			Model  string          `json:"model"`
			Inputs json.RawMessage `json:"inputs"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Model == "" {
			writeError(w, http.StatusBadRequest, `the body must be {"model": "<model name>", "inputs": {…}}, got %s`, quote(body))
			return
		}
		result, err := Run(in.Model, in.Inputs)
		if err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		data, err := json.Marshal(result)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "could not encode the answer: %v", err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no Workers AI callback for %s %s: the runtime POSTs /ai/run", r.Method, r.URL.Path)
	})
	return mux
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	data, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, args...)}) // a string map always encodes
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
