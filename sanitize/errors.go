package sanitize

import (
	"errors"
	"strings"
)

// Sentinel errors. Use errors.Is to test for them; the typed errors below
// carry the details and unwrap to them.
var (
	// ErrCallToAction is returned by [Policy.Check] when text carries a link,
	// email address, phone number or short code that the policy refuses.
	ErrCallToAction = errors.New("sanitize: text carries a call to action")
	// ErrInvalidPolicy is returned by [NewPolicy] for a bad option.
	ErrInvalidPolicy = errors.New("sanitize: invalid policy")
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

// PolicyError is the error [NewPolicy] returns for a bad option. It unwraps
// to [ErrInvalidPolicy].
type PolicyError struct {
	// Option names the option ("WithRegion", "WithReplacement" ...).
	Option string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns "sanitize: invalid policy: Option: Reason".
func (e *PolicyError) Error() string {
	return "sanitize: invalid policy: " + e.Option + ": " + e.Reason
}

// Unwrap returns [ErrInvalidPolicy].
func (e *PolicyError) Unwrap() error { return ErrInvalidPolicy }
