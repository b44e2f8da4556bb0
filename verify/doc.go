// Package verify sends and checks one-time codes (phone verification, 2FA)
// with Twilio Verify, so that the "send me a code" form cannot be turned into
// an SMS or voice pumping machine.
//
// Pumping works like SQL injection: a script feeds premium-rate or
// attacker-owned numbers into the form, and the app pays for every message.
// A [Service] therefore sends nothing until every guard agrees:
//
//  1. the channel is enabled (SMS only unless [Config].Channels says
//     otherwise; channels are numbers.Channel values) and the locale, if
//     any, is one of Twilio Verify's language tags ([ErrInvalidLocale]);
//  2. the number parses, and the numbers policy allows it for the channel
//     (premium-rate, high-risk prefixes and countries are refused). Every
//     refusal is counted against the client address ([Limits].Refusals): an
//     address that keeps feeding the form numbers it may not use is probing
//     the policy, and is soon answered 429 for every number;
//  3. the destination is out of its resend cooldown, which grows with
//     every code (30 s, 1 min, 2 min, ... up to 10 min) and shrinks back
//     over quiet time; an approved code resets it (see [Service]);
//  4. one all-or-nothing rate-limit take passes for the number, the client
//     address (and its record of refusals), the block of numbers, the
//     country and the whole service ([Limits]), so a request refused per
//     IP spends none of the number's allowance.
//
// Checks pass attempt limits per number and per client address before the
// code goes to the provider. [Hooks] report every outcome (started,
// approved, failed, blocked, refused, with a reason and the client address)
// with masked numbers only, for metrics and for defenses that watch
// conversion per prefix, country and address.
//
// The limits live in the ratelimit.Limiter's store, so instances that share
// a store (Redis) share them, one round trip per Start. The cooldown lives in
// process memory, or in the store as well with [Config].SharedCooldown; it
// answers the same in both places. A [Monitor] (an adaptive defense, such
// as guard's pumping monitor) counts in the same take.
//
// # Senders
//
// A [Sender] sends a code and checks it. [TwilioSender] uses Twilio Verify
// through twilio-go's Verify v2 package. It accepts the *openapi.ApiService a
// *twilio.RestClient holds as VerifyV2 (or openapi.NewApiServiceWithClient
// over a twilio-go client.BaseClient), and never imports the root twilio
// package, which pulls every Twilio API into the build. twilio-go takes no
// context; TwilioSender binds each call to its context through the client's
// transport, so deadlines and cancellation end it.
//
// [UnsafeLocalSender] makes and prints codes itself, for development and
// examples. It refuses to start when the ANTIFRAUD_ENV environment variable
// is "production".
//
// # Errors
//
// Constructors' errors wrap [ErrInvalidConfig]. Every other error wraps one
// sentinel: [ErrInvalidNumber], [ErrInvalidChannel], [ErrInvalidLocale],
// [ErrBlocked], [ErrRateLimited], [ErrCooldown], [ErrInvalidCode],
// [ErrTooManyAttempts], [ErrExpired] or [ErrProvider]. Typed errors carry
// the details: [BlockedError] (the policy's reason and rule, or the
// provider's block), [LimitError] (the wait, and which limit: a rate limit,
// the cooldown or an attempt limit), [ProviderError] (Twilio's error code).
// Twilio's errors are mapped onto them; see [TwilioSender].
//
// # HTTP
//
// The package has no HTTP of its own. Package guard mounts a Service as
// two handlers (guard.Guard.VerifyStart and VerifyCheck) that read JSON,
// form or multipart bodies with a size bound, find the client's address
// behind trusted proxies, and answer errors with the library's one problem
// mapper (guard.ProblemFor): 429 with Retry-After for limits and
// cooldowns, 403 for a blocked number, 422 for an unusable number or a
// wrong code, 502 or 503 for provider trouble. No answer says which limit
// fired or whether a verification exists for a number.
//
// # Testing
//
// Package verify/verifytest is a fake of the Twilio Verify API that hands
// out twilio-go clients wired to it, for offline tests of code that uses
// either this package or twilio-go directly.
package verify
