// Package guard is where the library meets HTTP: middleware that an app
// wraps around the endpoints that cost money (a "call me" button, a signup
// form that texts a code, an invitation by SMS) so that a script cannot
// turn them into a pumping machine.
//
// # Overview
//
// A [Guard] is built once, from a ratelimit.Limiter and options, and shared:
//
//	g, err := guard.New(limiter,
//		guard.WithRegion("US"),                  // for numbers typed without +1
//		guard.WithTrustedProxies("10.0.0.0/8"), // the load balancer
//	)
//
// Each endpoint gets a route: a name and the [Rule]s to take for each
// request. [Guard.Phone] guards an endpoint that reaches a phone number
// from the request; [Guard.Limit] one that only needs limits:
//
//	callMe := g.Phone("call-me", numbers.Voice,
//		guard.PerAddr(ratelimit.PerHour(10)),
//		guard.PerPhone(ratelimit.PerDay(3)),
//		guard.PerBlock(3, ratelimit.PerHour(20)),
//	)
//	mux.Handle("POST /call-me", callMe(http.HandlerFunc(handleCallMe)))
//
// The handler then reads the checked number with [Number]. The same checks
// exist as plain methods for code that is not a handler: [Guard.Check],
// [Guard.CheckPhone] and, before the app sends a text or places a call to
// a number a user chose, [Guard.CheckOutbound].
//
// # Phone numbers
//
// The phone middleware reads the body, at most [WithMaxBody] bytes (413
// beyond, unread when Content-Length says so), and finds the field named
// by [WithField] in a JSON, form or multipart body, or in the URL query.
// It restores the body byte for byte for the next handler. A field that a
// downstream parser could read differently from the guard is refused with
// 400: repeated (in the query and the body, twice in a form, or as
// duplicate JSON keys, compared as encoding/json matches keys), or a JSON
// value that is not a string. The number is parsed with the default region
// ([WithRegion]), checked by the number policy for the channel
// ([WithPolicy]), and only then are the rules taken: a number the policy
// refuses spends nothing.
//
// # Rules
//
// Rules key on the client address (IPv6 by /64), the phone number, its
// block (the number without its last digits), its country, the app's user
// ([WithUser], [Outbound].User), the route, or nothing. All the rules of a
// request are taken in one all-or-nothing call to the limiter, one round
// trip with a Redis store: a request refused by one rule spends nothing
// from the others.
//
// # Client address
//
// By default the client is the connection's peer. Behind reverse proxies,
// declare them ([WithTrustedProxies], or [WithProxyHops]): only a request
// whose connection comes from a trusted proxy has its proxy header read
// ([WithProxyHeader]: X-Forwarded-For, RFC 7239 Forwarded, or a
// single-address header), and its client is the rightmost address across
// all the header's lines that is not a trusted proxy's. Addresses are
// unmapped (::ffff:192.0.2.1 is 192.0.2.1) and lose their zone. A request
// without a usable address is refused ([ErrNoClientAddr]), never put in
// one bucket with every other such request. [Guard.ClientAddr] exposes the
// resolution to other code.
//
// # Probing the policy
//
// A client that feeds a form numbers it may not use is probing the
// policy. Each refusal by the policy counts against the client's address
// ([WithRefusalLimit]); once its allowance is spent, its refusals are
// answered 429 rather than 403, and its requests for numbers the policy
// allows are refused too, until the allowance comes back or the penalty
// box opens. verify.Service counts its refusals the same way.
//
// # Adaptive defense
//
// [WithMonitor] puts an adaptive pumping defense in the phone checks, such
// as guard/pumping's Monitor, which blocks the ranges, addresses and
// countries whose sends are never confirmed: its counters ride in the
// rules' one take (no round trip more with a Redis store), it judges each
// allowed send, and it hears of every refusal. Its range blocks reach the
// number policy through the numbers.PrefixSet it keeps.
//
// # Saying no
//
// A refused request is answered by the deny handler ([WithDenyHandler]),
// by default an RFC 9457 application/problem+json body from [ProblemFor]:
// 429 with Retry-After (whole seconds, rounded up from the real wait) and
// the IETF quota-exceeded problem type; 403 for a number the policy
// refuses; 422 for one that is not a number; 400, 413 or 415 for the
// request itself; 503 (temporary-reduced-capacity) when the limiter's
// store fails and the guard fails closed, or the request passes when it
// fails open ([WithFailOpen]). No answer says which limit fired or which
// rule blocked the number; [FailureReason] tells the deny handler, and
// the error's type tells code that called a check.
//
// Allowed requests carry the IETF RateLimit and RateLimit-Policy fields
// (draft-ietf-httpapi-ratelimit-headers, as ratelimit/httplimit writes
// them) for their tightest rule; [WithoutRateLimitHeaders] leaves them
// out, so that a script cannot pace itself just under the limits.
//
// [ProblemFor] is the library's one problem mapper: it knows the errors of
// numbers, ratelimit, sanitize, verify and guard, so an app that calls
// those packages itself answers with it too.
//
// # Verification
//
// [Guard.VerifyStart] and [Guard.VerifyCheck] mount a verify.Service as
// two handlers, with the guard's body reader, client address and deny
// handler.
//
// # Observability
//
// [Hooks] receive every decision (allowed, denied, refused by the policy)
// as an [Event], for metrics and adaptive defenses, without a metrics
// dependency. [WithLogger] logs each decision at Debug and store failures
// at Warn, with phone numbers masked; by default the guard logs nothing.
package guard
