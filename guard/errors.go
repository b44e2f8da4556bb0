package guard

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

var (
	// ErrInvalidConfig is wrapped by every error about the configuration:
	// from New and With, from a check given an invalid rule, and in the
	// panic of a middleware builder given one.
	ErrInvalidConfig = errors.New("guard: invalid configuration")
	// ErrNoClientAddr means the client's address could not be found: the
	// connection's address is not an IP address (a Unix socket), or a
	// trusted proxy sent no usable forwarding header. The guard refuses
	// such a request rather than put every one of them in one bucket.
	ErrNoClientAddr = errors.New("guard: no usable client address")
	// ErrBadRequest is wrapped by errors about the HTTP request itself: a
	// body that is too large (those also wrap *http.MaxBytesError), not of
	// a supported media type, malformed, or with the phone field repeated
	// or of the wrong type.
	ErrBadRequest = errors.New("guard: bad request")
	// ErrRateLimited is what a *LimitError unwraps to: one of a check's
	// rules refused the request.
	ErrRateLimited = errors.New("guard: rate limited")
)

// LimitError is a denial by one of a check's rules. It unwraps to
// ErrRateLimited.
//
// Rule names the rule, for logs and metrics only: a response that told
// the client which limit fired would tell an attacker which key to
// rotate, and the problem the guard answers does not.
type LimitError struct {
	// Rule is the kind of the rule that fired: "addr", "phone", "block",
	// "country", "route", "global" or "user"; "refusals" when the client's
	// address has had too many numbers refused by the policy (see
	// WithRefusalLimit).
	Rule string
	// RetryAfter is the real wait before the same request can succeed.
	RetryAfter time.Duration
	// Penalized is true when the key is in its penalty box.
	Penalized bool
	// Err is the refusal that found the address over its refusals
	// allowance (a *numbers.BlockedError), or nil.
	Err error
}

// Error implements error.
func (e *LimitError) Error() string {
	box := ""
	if e.Penalized {
		box = " (penalty box)"
	}
	return fmt.Sprintf("guard: rate limited by rule %s%s, retry after %v", e.Rule, box, e.RetryAfter)
}

// Unwrap returns ErrRateLimited, and Err when set.
func (e *LimitError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrRateLimited}
	}
	return []error{ErrRateLimited, e.Err}
}

// requestError is a problem with the HTTP request itself, found before any
// number or limit is looked at. Its detail is written to the client, so
// it never quotes the request.
type requestError struct {
	status int
	detail string
	err    error
}

func (e *requestError) Error() string {
	if e.err != nil {
		return "guard: bad request: " + e.detail + ": " + e.err.Error()
	}
	return "guard: bad request: " + e.detail
}

// Unwrap returns ErrBadRequest and the cause, such as an
// *http.MaxBytesError.
func (e *requestError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrBadRequest}
	}
	return []error{ErrBadRequest, e.err}
}

func badRequest(detail string) error {
	return &requestError{status: http.StatusBadRequest, detail: detail}
}

func tooLarge(limit int64) error {
	return &requestError{status: http.StatusRequestEntityTooLarge, detail: "request body too large",
		err: &http.MaxBytesError{Limit: limit}}
}

func unsupportedMedia() error {
	return &requestError{status: http.StatusUnsupportedMediaType,
		detail: "send application/json, application/x-www-form-urlencoded or multipart/form-data"}
}

func configError(format string, args ...any) error {
	return fmt.Errorf("guard: "+format+": %w", append(args, ErrInvalidConfig)...)
}

// errSourceNotAllowed is the refusal of a request from an address outside
// AllowFrom's list.
var errSourceNotAllowed = errors.New("guard: client address not allowed")
