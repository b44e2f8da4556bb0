// Package httplimit writes the HTTP response headers that tell a client
// about a rate limit: Retry-After on a denial, and, when asked, the IETF
// RateLimit and RateLimit-Policy fields and the legacy X-RateLimit-*
// headers.
//
// It only writes headers: the middleware that limits requests comes with
// the guard package. The root ratelimit package stays free of net/http.
//
// # Retry-After
//
// [SetRetryAfter] writes the real wait in whole seconds, rounded up, so a
// client that waits as told is never denied again for the same reason; a
// denial never says 0 (a wait of 0.3 s is "1"). It never writes a date and
// never the length of a whole window.
//
// # IETF RateLimit fields
//
// With [Options].IETF, [SetHeaders] and [SetDecisionHeaders] write the
// fields of draft-ietf-httpapi-ratelimit-headers-11 (May 2026), whose
// values are Structured Field lists of items named by a quoted policy
// name:
//
//	RateLimit-Policy: "default";q=100;w=60
//	RateLimit: "default";r=42;t=17
//
// q and w are the limit's Rate and Period (in whole seconds); a limit whose
// Burst differs from its Rate adds the vendor parameter antifraud-burst.
// r is the exact number of tokens left. t is the draft's effective window:
// the seconds until the next token comes back, during which the client can
// use no more than r; it is omitted when the bucket is full. On a denial t
// is never later than Retry-After, as the draft requires.
//
// # Legacy headers
//
// With [Options].Legacy, X-RateLimit-Limit (the burst),
// X-RateLimit-Remaining and X-RateLimit-Reset (seconds until the bucket is
// full again, as a delay rather than a Unix time) are written too.
package httplimit
