package guard

import (
	"net/netip"

	"github.com/antifraud-go/antifraud/numbers"
)

// Hooks are functions the guard calls with every decision, for metrics and
// for adaptive defenses, without a metrics library in the guard. Each
// decision calls exactly one of them. They are called synchronously, from
// the goroutine of the request, so they must be fast and safe for
// concurrent use. Nil fields are skipped.
type Hooks struct {
	// Allowed is called when a check let a request through. Event.Err is
	// nil, or wraps ratelimit.ErrUnavailable when the store failed and the
	// guard fails open.
	Allowed func(Event)
	// Denied is called when a check refused a request for any reason but
	// the number policy. Event.Err is the reason, as FailureReason
	// returns it.
	Denied func(Event)
	// Refused is called when the number policy refused the number.
	// Event.Err wraps numbers.ErrBlocked: a *numbers.BlockedError, or a
	// *LimitError of rule "refusals" when the address has spent its
	// allowance of refusals (see WithRefusalLimit). An address refused
	// again and again is probing the policy: a signal for adaptive
	// defenses, as verify.Hooks.Refused is.
	Refused func(Event)
}

// Event describes one decision.
type Event struct {
	// Route is the route name given to the middleware or check.
	Route string
	// Addr is the client's address, when the check looked for it and
	// found it.
	Addr netip.Addr
	// User is the user of the app, when known (WithUser, Outbound.User).
	User string
	// Number is the phone number, when the check parsed one. Its String
	// and LogValue mask it, so it is safe to log as it is.
	Number numbers.Number
	// Channel is the channel the number was checked for.
	Channel numbers.Channel
	// Err is the reason of a refusal (nil when allowed, except on a
	// fail-open pass).
	Err error
}
