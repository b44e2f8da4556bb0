package verify

import "time"

// Hooks are optional functions called with the outcome of every Start and
// Check, for metrics and for adaptive defenses that count conversions (codes
// sent against codes approved, per prefix and per country). They are called
// synchronously from the goroutine of the call, so they must be fast and
// safe for concurrent use. Nil fields are skipped.
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
	// (number policy, cooldown, rate limits), or the provider blocked it.
	Blocked func(Event)
}

// Event describes the outcome of a Start or a Check.
type Event struct {
	// Op is "start" or "check".
	Op string
	// Channel is the channel of a Start ("" for a Check).
	Channel Channel
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
	// Reason says why, for Failed and Blocked: the policy's reason code,
	// "invalid_number", "invalid_channel", "cooldown", "rate_limited", "fraud_guard",
	// "geo_permission", "invalid_code", "expired", "too_many_attempts",
	// "provider", "limiter_unavailable".
	Reason string
	// Scope is the limit that fired when Reason is "rate_limited" or
	// "too_many_attempts": "phone", "ip", "prefix", "country", "global",
	// or "provider".
	Scope string
	// ProviderCode is the provider's error code (Twilio's), if any.
	ProviderCode int
	// RetryAfter is the wait the caller was given, if any.
	RetryAfter time.Duration
}
