package guard

import (
	"context"
	"net/http"

	"github.com/antifraud-go/antifraud/numbers"
)

// state is what the guard hands to the handlers after it: the parsed
// number, or why it refused. It is a context.Context itself, so that a
// request's state costs one allocation.
type state struct {
	context.Context
	num    numbers.Number
	hasNum bool
	err    error
	body   replay
	kb     keyBuf    // the keys and headers of the request's take
	buf    [512]byte // the body, when it fits
}

type stateKey struct{}

// Value returns the state for stateKey and asks the parent otherwise.
func (s *state) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return s
	}
	return s.Context.Value(key)
}

func stateOf(ctx context.Context) *state {
	s, _ := ctx.Value(stateKey{}).(*state)
	return s
}

// Number returns the phone number that the guard's phone middleware parsed
// and checked for r. A handler behind the middleware uses it instead of
// parsing the field again: it is the number the policy and the limits
// saw.
func Number(r *http.Request) (numbers.Number, bool) {
	if s := stateOf(r.Context()); s != nil && s.hasNum {
		return s.num, true
	}
	return numbers.Number{}, false
}

// FailureReason returns why the guard refused r, for a deny handler (see
// WithDenyHandler): an error to match with errors.Is and errors.As, such
// as numbers.ErrBlocked, numbers.ErrInvalid, ErrRateLimited (a
// *LimitError), ratelimit.ErrUnavailable, ErrNoClientAddr or
// ErrBadRequest. It returns nil for a request the guard did not refuse.
func FailureReason(r *http.Request) error {
	if s := stateOf(r.Context()); s != nil {
		return s.err
	}
	err, _ := r.Context().Value(failureKey{}).(error)
	return err
}

// failureKey holds the reason for refusals outside a guarded route (a
// Webhook's), which have no state of their own.
type failureKey struct{}

func withFailureReason(r *http.Request, err error) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), failureKey{}, err))
}
