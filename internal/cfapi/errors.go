package cfapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a call Cloudflare answered with a failure. Status is the HTTP
// status; Code and Message are the first entry of the envelope's errors list
// (Code is 0 when the answer was not an envelope, e.g. a proxy's HTML page).
type Error struct {
	Method  string
	Path    string
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cloudflare: %s %s: HTTP %d, code %d: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// Codes Cloudflare sends for a missing object where the HTTP status alone is
// not enough (some endpoints answer 400 for an unknown id).
var notFoundCodes = map[int]bool{
	10007: true, // workers script
	3000:  true, // vectorize index not found
	3005:  true, // vectorize index deleted
	7404:  true, // D1 database
	10006: true, // R2 bucket
}

// Codes Cloudflare sends when a create names something that already exists.
var conflictCodes = map[int]bool{
	3002:  true, // vectorize duplicate name
	11004: true, // queue already has a consumer
	11009: true, // queue name taken
	7502:  true, // D1 duplicate name
	10004: true, // R2 bucket exists
}

// IsNotFound reports whether err is Cloudflare saying the object does not exist.
func IsNotFound(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == http.StatusNotFound || (e.Status >= 400 && e.Status < 500 && notFoundCodes[e.Code])
}

// AlreadyExists reports whether err is Cloudflare refusing a create because
// the name or binding is taken.
func AlreadyExists(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == http.StatusConflict || (e.Status >= 400 && e.Status < 500 && conflictCodes[e.Code])
}
