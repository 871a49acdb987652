package cfemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// vecBindingOps are the Vectorize binding's methods the local runtime
// forwards, with the label Cloudflare's binding puts before a refusal's
// code ("VECTOR_QUERY_ERROR (code = 40006): ...").
var vecBindingOps = map[string]string{
	"insert":      "VECTOR_INSERT_ERROR",
	"upsert":      "VECTOR_UPSERT_ERROR",
	"query":       "VECTOR_QUERY_ERROR",
	"getByIds":    "VECTOR_GET_ERROR",
	"deleteByIds": "VECTOR_DELETE_ERROR",
	"describe":    "VECTOR_DESCRIBE_ERROR",
}

// VectorizeBinding serves the local Workers runtime's Vectorize bindings
// from the account's vectors, the ones the REST API serves:
// POST /vectorize/<index>/<op>, op one of insert, upsert, query, getByIds,
// deleteByIds and describe, with the method's arguments as the JSON body
// ({"vectors":[…]}, {"vector":[…],"options":{…}}, {"ids":[…]}, none for
// describe). It answers the method's return value as JSON, as the V2
// binding returns it: {"mutationId"} for a change, {count, matches} for a
// query, the vectors for getByIds and the index info for describe. A
// refusal is a non-2xx answer {"error":"<message>"}, whose message reads
// like the binding's error.
func (a *Account) VectorizeBinding() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /vectorize/{index}/{op}", a.serveVectorizeOp)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeBindingError(w, http.StatusNotFound, "no Vectorize binding callback for %s %s: the runtime POSTs /vectorize/<index>/<op>", r.Method, r.URL.Path)
	})
	return mux
}

func (a *Account) serveVectorizeOp(w http.ResponseWriter, r *http.Request) {
	index, op := r.PathValue("index"), r.PathValue("op")
	label, known := vecBindingOps[op]
	if !known {
		writeBindingError(w, http.StatusNotFound, "unknown Vectorize binding method %q: use insert, upsert, query, getByIds, deleteByIds or describe", op)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		writeBindingError(w, http.StatusBadRequest, "could not read the request body: %v", err)
		return
	}
	result, err := a.vectorizeOp(index, op, body)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			writeBindingError(w, ae.Status, "%s (code = %d): %s", label, ae.Code, ae.Message)
			return
		}
		writeBindingError(w, http.StatusInternalServerError, "%s: %v", label, err)
		return
	}
	data, err := json.Marshal(result)
	if err != nil {
		writeBindingError(w, http.StatusInternalServerError, "could not encode the answer: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

// vectorizeOp runs one binding method on the body that carries its arguments.
func (a *Account) vectorizeOp(index, op string, body []byte) (any, error) {
	switch op {
	case "insert", "upsert":
		var in struct {
			Vectors []Vector `json:"vectors"`
		}
		if err := decodeVecBody(body, &in); err != nil {
			return nil, err
		}
		if op == "upsert" {
			return a.UpsertVectors(index, in.Vectors)
		}
		return a.InsertVectors(index, in.Vectors)
	case "query":
		var in struct {
			Vector  []float64   `json:"vector"`
			Options VectorQuery `json:"options"`
		}
		if err := decodeVecBody(body, &in); err != nil {
			return nil, err
		}
		q := in.Options
		q.Vector = in.Vector
		return a.QueryVectors(index, q)
	case "getByIds", "deleteByIds":
		var in vecIDs
		if err := decodeVecBody(body, &in); err != nil {
			return nil, err
		}
		if op == "deleteByIds" {
			return a.DeleteVectorsByIDs(index, in.IDs)
		}
		return a.GetVectorsByIDs(index, in.IDs)
	default: // describe
		return a.VectorizeInfo(index)
	}
}

func writeBindingError(w http.ResponseWriter, status int, format string, args ...any) {
	data, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, args...)}) // a string map always encodes
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
