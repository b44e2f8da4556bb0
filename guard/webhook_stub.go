package guard

// Stand-ins for what package guard (issue 10, branch guard) provides: the
// configuration sentinel, the reason a request was refused, and the problem
// writer. At merge they give way to guard's own.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// ErrInvalidConfig is wrapped by every error of a constructor or an
// option-validating method.
var ErrInvalidConfig = errors.New("guard: invalid configuration")

// failureReasonKey is the context key of the reason a request was refused.
type failureReasonKey struct{}

func withFailureReason(r *http.Request, err error) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), failureReasonKey{}, err))
}

// FailureReason returns why a request handed to a deny handler was refused,
// or nil for a request that was not.
func FailureReason(r *http.Request) error {
	err, _ := r.Context().Value(failureReasonKey{}).(error)
	return err
}

// writeWebhookProblem answers an RFC 9457 problem with the given status and
// nothing more specific: a refused webhook learns nothing.
func writeWebhookProblem(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}{"about:blank", http.StatusText(status), status})
}
