package verify

import (
	"net/netip"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// Hooks are optional functions called with the outcome of every Start and
// Check, for metrics and for adaptive defenses that count conversions (codes
// sent against codes approved, per prefix, per country, per client address)
// and refusals. They are called synchronously from the goroutine of the
// call, so they must be fast and safe for concurrent use. Nil fields are
// skipped. Each outcome calls exactly one hook.
//
// An [Event] never carries a whole number, an email address or a code.
type Hooks struct {
	// Started is called after a code was sent.
	Started func(Event)
	// Approved is called after a correct code was checked.
	Approved func(Event)
	// Failed is called when a check failed (wrong or expired code, too
	// many attempts) or the provider failed.
	Failed func(Event)
	// Blocked is called when a Start was refused before anything was sent
	// for any reason but the number policy: an unusable number, channel
	// or locale, the cooldown, a rate limit (including an address boxed
	// for its refusals).
	Blocked func(Event)
	// Refused is called when the number policy refused the number of a
	// Start, or the provider blocked it (Fraud Guard, geo permissions).
	// Every refusal is counted against the client address
	// ([Limits.Refusals]): a client that is refused again and again is
	// probing the policy, a signal for adaptive defenses. Reason is the
	// policy's reason; Scope is "refusals" and RetryAfter set when the
	// address has spent its allowance and was answered with a
	// [LimitError] instead of a [BlockedError].
	Refused func(Event)
}

// Event describes the outcome of a Start or a Check.
type Event struct {
	// Op is "start" or "check".
	Op string
	// Channel is the channel of a Start. A Check does not know the
	// channel of the code: its Channel is numbers.Email for an email
	// address, numbers.SMS otherwise.
	Channel numbers.Channel
	// Masked is the destination masked for logs: +44******0123, or
	// a****@example.com.
	Masked string
	// Prefix is the leading digits of the number, "+" included, short
	// enough that Prefix and Masked together still hide at least two
	// digits: the number without its last six digits. Empty for email.
	Prefix string
	// Region is the number's region (ISO 3166, such as "GB"), if known.
	Region string
	// CallingCode is the number's country calling code, such as 44.
	CallingCode int
	// ClientIP is the address of the client, as the request gave it.
	ClientIP netip.Addr
	// Reason says why, for Failed, Blocked and Refused: the policy's
	// reason code (Refused), "fraud_guard", "geo_permission" (Refused, by
	// the provider), "invalid_number", "invalid_channel", "invalid_locale",
	// "cooldown", "rate_limited", "invalid_code", "expired",
	// "too_many_attempts", "provider", "limiter_unavailable".
	Reason string
	// Scope is the limit that fired, as in [LimitError.Scope], when
	// Reason is "cooldown", "rate_limited" or "too_many_attempts", and
	// "refusals" on a Refused event whose address is over its allowance.
	Scope string
	// ProviderCode is the provider's error code (Twilio's), if any.
	ProviderCode int
	// RetryAfter is the wait the caller was given, if any.
	RetryAfter time.Duration
}
