// Package verify sends and checks one-time codes (2FA, phone verification)
// with Twilio Verify, so that the "send me a code" form cannot be turned into
// an SMS or voice pumping machine.
//
// # Senders
//
// A [Sender] sends a code and checks it. [TwilioSender] uses Twilio Verify
// through twilio-go's Verify v2 package, without importing the root twilio
// package (which pulls every Twilio API into the build); [UnsafeLocalSender]
// prints codes, for development and examples only.
//
// # Errors
//
// Every error wraps one sentinel ([ErrInvalidNumber], [ErrBlocked],
// [ErrRateLimited], [ErrCooldown], [ErrInvalidCode], [ErrTooManyAttempts],
// [ErrExpired], [ErrProvider]); typed errors ([BlockedError],
// [RateLimitError], [CooldownError], [AttemptsError], [ProviderError]) carry
// the details. [ProblemFor] turns any of them into an RFC 9457 problem.
package verify
