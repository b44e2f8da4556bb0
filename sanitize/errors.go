package sanitize

import (
	"errors"
	"strings"
)

// Sentinel errors. Use errors.Is to test for them.
var (
	// ErrCallToAction is returned by [Policy.Check] when text carries a link,
	// email address, phone number or short code that the policy refuses.
	// The error is a [*CallToActionError] that lists them.
	ErrCallToAction = errors.New("sanitize: text carries a call to action")
	// ErrInvalidConfig is wrapped by every error [NewPolicy] returns for a
	// bad option.
	ErrInvalidConfig = errors.New("sanitize: invalid configuration")
)

// CallToActionError is the error [Policy.Check] returns. It unwraps to
// [ErrCallToAction].
type CallToActionError struct {
	// Findings are the calls to action found, in order.
	Findings []Finding
}

// Error lists the kinds found, never the matched text, so that the message is
// safe to log.
func (e *CallToActionError) Error() string {
	var kinds Kind
	for _, f := range e.Findings {
		kinds |= f.Kind
	}
	return "sanitize: text carries a call to action (" + strings.ReplaceAll(kinds.String(), "|", ", ") + ")"
}

// Unwrap returns [ErrCallToAction].
func (e *CallToActionError) Unwrap() error { return ErrCallToAction }
