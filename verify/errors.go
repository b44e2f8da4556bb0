package verify

import (
	"errors"
	"strconv"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// Sentinel errors. Errors about a number, a code, a limit or the provider
// wrap one of them, so a caller can switch on errors.Is; the typed errors
// below carry the details. The other errors a Service returns are the
// context's (a call made with a done context) and the limiter's (wrapping
// ratelimit.ErrUnavailable when it fails closed).
var (
	// ErrInvalidNumber means the phone number (or email address) cannot be
	// used: it does not parse, or the provider refused it as a parameter
	// (Twilio 60200 on a send).
	ErrInvalidNumber = errors.New("verify: invalid number")
	// ErrInvalidChannel means the channel is unknown or not enabled on
	// the Service.
	ErrInvalidChannel = errors.New("verify: channel not available")
	// ErrInvalidLocale means the locale is not a well-formed BCP 47 tag of
	// a language Twilio Verify supports (see [StartRequest.Locale]).
	ErrInvalidLocale = errors.New("verify: invalid locale")
	// ErrBlocked means the number policy, or the provider's own fraud
	// defenses (Twilio 60410 Fraud Guard, 60605 geo permissions), refuse to
	// send to this number. See [BlockedError].
	ErrBlocked = errors.New("verify: number blocked")
	// ErrRateLimited means a limit was reached: one of the Service's
	// [Limits], or the provider's (Twilio 60203 max send attempts, 60212
	// concurrent requests, 20429 too many requests). See [LimitError].
	ErrRateLimited = errors.New("verify: rate limited")
	// ErrCooldown means a code was sent to this destination recently and
	// the next one may only be sent later. See [LimitError] and
	// [Config.Cooldown].
	ErrCooldown = errors.New("verify: resend cooldown")
	// ErrInvalidCode means the code is wrong (Twilio answers a wrong code
	// with status "pending"), or malformed (Twilio 60200 on a check).
	ErrInvalidCode = errors.New("verify: invalid code")
	// ErrTooManyAttempts means too many codes were checked for this number
	// or from this client (Twilio 60202). See [LimitError].
	ErrTooManyAttempts = errors.New("verify: too many attempts")
	// ErrExpired means there is no pending verification to check: it
	// expired, was already approved, or was never started (Twilio 20404 on a
	// check).
	ErrExpired = errors.New("verify: verification expired or not found")
	// ErrProvider means the provider failed in a way that is not the user's
	// doing: a network error, a timeout, a 5xx, bad credentials, an unknown
	// error code. See [ProviderError].
	ErrProvider = errors.New("verify: provider error")
	// ErrInvalidConfig is wrapped by every error of [New],
	// [NewTwilioSender] and [NewUnsafeLocalSender], including the local
	// sender's refusal to run in production.
	ErrInvalidConfig = errors.New("verify: invalid configuration")
)

// ProviderError describes an answer from the provider (Twilio), or a failure
// on the way to it. It unwraps to the sentinel the failure maps to (for
// example [ErrRateLimited] for Twilio 20429, [ErrProvider] for codes with no
// mapping) and to its cause, so errors.Is(err, context.DeadlineExceeded)
// works for a call cut short by its context, and errors.As reaches the
// twilio-go *client.TwilioRestError.
//
// Message is the provider's message. Twilio's messages name parameters, not
// values, but treat it as outside text all the same.
type ProviderError struct {
	// Op is "send" or "check".
	Op string
	// Code is the provider's error code (Twilio's, such as 60203), or 0
	// when there was no answer (network failure, timeout, cancellation).
	Code int
	// Status is the provider's HTTP status, or 0 when there was no answer.
	// Zero or a 5xx means the provider is unavailable (an HTTP answer of
	// 503 rather than 502).
	Status int
	// Message is the provider's error message, if any.
	Message string
	// Err is the cause.
	Err error

	kind error
}

// Error implements error.
func (e *ProviderError) Error() string {
	var b []byte
	b = append(b, "verify: provider "...)
	b = append(b, e.Op...)
	b = append(b, " failed"...)
	if e.Code != 0 {
		b = append(b, ": twilio error "...)
		b = strconv.AppendInt(b, int64(e.Code), 10)
	}
	if e.Status != 0 {
		b = append(b, " (HTTP "...)
		b = strconv.AppendInt(b, int64(e.Status), 10)
		b = append(b, ')')
	}
	if e.Message != "" {
		b = append(b, ": "...)
		b = append(b, e.Message...)
	} else if e.Err != nil {
		b = append(b, ": "...)
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

// Unwrap returns the sentinel the error maps to and the cause.
func (e *ProviderError) Unwrap() []error {
	kind := e.kind
	if kind == nil {
		kind = ErrProvider
	}
	if e.Err == nil {
		return []error{kind}
	}
	return []error{kind, e.Err}
}

// BlockedError is returned when a number may not be sent a code. It unwraps
// to [ErrBlocked] and to its cause: the policy's *numbers.BlockedError (so
// errors.Is(err, numbers.ErrBlocked) holds too), or the provider's
// [*ProviderError].
type BlockedError struct {
	// Reason is a stable, machine-readable reason: the numbers policy's
	// reason (such as "high_risk_destination") when the policy blocked it,
	// "fraud_guard" for Twilio 60410, "geo_permission" for Twilio 60605.
	Reason string
	// Rule is the policy rule that fired, when the policy blocked it.
	Rule string
	// Decision is the policy's decision, when the policy blocked it.
	Decision numbers.Decision
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *BlockedError) Error() string {
	if e.Reason == "" {
		return "verify: number blocked"
	}
	return "verify: number blocked: " + e.Reason
}

// Unwrap returns [ErrBlocked] and the cause.
func (e *BlockedError) Unwrap() []error { return unwrap(ErrBlocked, e.Err) }

// LimitError is returned when a limit says "not now": one of the
// Service's [Limits], the resend cooldown, or the provider's own limits. It
// unwraps, by Scope, to [ErrCooldown] ("cooldown"), [ErrTooManyAttempts]
// (too many checks: "check_phone", "check_ip", "attempts") or
// [ErrRateLimited] (every other scope), and to its cause.
type LimitError struct {
	// RetryAfter is how long to wait before trying again, rounded up to a
	// whole second (at least one second). It is zero only when a wait
	// would not help: the provider's attempts on one code are spent, and
	// only a new code will do.
	RetryAfter time.Duration
	// Scope names the limit, for logs and metrics: a [Limits] field in
	// snake case ("phone", "ip", "prefix", "country", "global",
	// "refusals", "check_phone", "check_ip"); "cooldown"; "provider" for
	// the provider's limits on sends (Twilio 60203, 60212, 20429); or
	// "attempts" for its limit on checks of one code (Twilio 60202). Do
	// not show it to the user: it tells an attacker which key to rotate.
	Scope string
	// Err is the cause: the provider's error, or nil.
	Err error
}

// sentinel returns the sentinel of e's scope.
func (e *LimitError) sentinel() error {
	switch e.Scope {
	case "cooldown":
		return ErrCooldown
	case "check_phone", "check_ip", "attempts":
		return ErrTooManyAttempts
	}
	return ErrRateLimited
}

// Error implements error.
func (e *LimitError) Error() string {
	var b []byte
	b = append(b, e.sentinel().Error()...)
	if e.Scope != "" && e.Scope != "cooldown" && e.Scope != "attempts" {
		b = append(b, " ("...)
		b = append(b, e.Scope...)
		b = append(b, ')')
	}
	if e.RetryAfter > 0 {
		b = append(b, ", retry after "...)
		b = append(b, e.RetryAfter.String()...)
	}
	return string(b)
}

// Unwrap returns the sentinel ([ErrRateLimited], [ErrCooldown] or
// [ErrTooManyAttempts]) and the cause.
func (e *LimitError) Unwrap() []error { return unwrap(e.sentinel(), e.Err) }

func unwrap(sentinel, cause error) []error {
	if cause == nil {
		return []error{sentinel}
	}
	return []error{sentinel, cause}
}

// roundUpSecond rounds d up to a whole second, at least one: Retry-After is
// whole seconds and a client told "0" retries at once.
func roundUpSecond(d time.Duration) time.Duration {
	if d <= time.Second {
		return time.Second
	}
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return d
}
