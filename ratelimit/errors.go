package ratelimit

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrInvalidLimit is wrapped by errors about a Limit that cannot be used:
	// zero or negative rate, burst below 1, a period out of range.
	ErrInvalidLimit = errors.New("ratelimit: invalid limit")
	// ErrInvalidCost is wrapped by errors about a cost that is negative or
	// larger than the limit's burst (such a request could never be allowed).
	ErrInvalidCost = errors.New("ratelimit: invalid cost")
	// ErrInvalidKey is wrapped by errors about a key that is empty or longer
	// than MaxKeyLen.
	ErrInvalidKey = errors.New("ratelimit: invalid key")
	// ErrRateLimited is what a denied Result's Err unwraps to.
	ErrRateLimited = errors.New("ratelimit: rate limited")
	// ErrUnavailable is wrapped by errors from a store that could not answer
	// (a Redis server down or slow). The Limiter's FailMode decides what
	// callers see.
	ErrUnavailable = errors.New("ratelimit: store unavailable")
	// ErrClosed is returned by a store used after Close.
	ErrClosed = errors.New("ratelimit: store closed")
)

func invalidLimit(l Limit, why string) error {
	return fmt.Errorf("%w %v: %s", ErrInvalidLimit, l, why)
}

// LimitError is the error form of a denied Result, for callers that want an
// error. It unwraps to ErrRateLimited.
type LimitError struct {
	// RetryAfter is how long to wait before the same request can succeed.
	RetryAfter time.Duration
	// Penalized is true when the key is in a penalty box.
	Penalized bool
}

// Error implements error.
func (e *LimitError) Error() string {
	if e.Penalized {
		return fmt.Sprintf("ratelimit: rate limited (penalty box), retry after %v", e.RetryAfter)
	}
	return fmt.Sprintf("ratelimit: rate limited, retry after %v", e.RetryAfter)
}

// Unwrap returns ErrRateLimited.
func (e *LimitError) Unwrap() error { return ErrRateLimited }

func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
