// Package ratelimit limits how often a key may do something that costs
// money: send a verification code, place a call, text a number.
//
// An attacker pumping SMS or calls controls the key space, rotating phone
// numbers and IP addresses, and a script can send thousands of requests in
// minutes. So the limits here are exact (GCRA, no window edges), bounded in
// memory under key flooding, checked several at once all-or-nothing, and
// they put persistent offenders in a penalty box.
//
// # Limits
//
// A [Limit] is a token bucket: [PerHour](3) allows 3 at once and then one
// every 20 minutes. A [Result] says whether a request was allowed, how many
// tokens remain (exactly), how long to wait before retrying (the real wait,
// not a window) and when the bucket is full again.
//
// # Several limits at once
//
// A verification request should pass a per-IP, a per-phone, a per-prefix and
// a global limit. [Limiter.AllowAll] checks them atomically: when one denies,
// none spends, so a script that trips the per-IP limit does not use up a real
// user's per-phone allowance. [Limiter.AllowAllInto] does the same into a
// results buffer the caller reuses, without allocating.
//
// # Stores
//
// A [Store] keeps the state: [MemoryStore] for one process, and
// ratelimit/redis for several processes sharing one Redis. Both implement the
// same semantics, defined once by [Step].
//
// A [MemoryStore] holds at most [MemoryConfig].MaxKeys keys, hashed with a
// random seed, in about 16 to 32 bytes each. Keys as good as new (their
// state has expired) are reclaimed by housekeeping and the storage shrinks
// with them; when a shard is full of live keys, new keys are denied (or, if
// configured, the key expiring soonest is evicted), so a flood of keys can
// never reset a live limit.
//
// # HTTP
//
// The ratelimit/httplimit package writes Retry-After and the IETF RateLimit
// and RateLimit-Policy headers for a [Result] or a [Decision].
//
// # Failure
//
// When a store cannot answer, a [Limiter] fails closed (the default), fails
// open, or falls back to a local store, as configured with [WithFailOpen] or
// [WithFallback], and reports the failure to [WithOnError] and [WithLogger].
//
// # Keys
//
// Key helpers such as [KeyIP] (IPv6 grouped by /64), [KeyPhone] and
// [KeyPrefix] build bounded keys with a kind prefix.
package ratelimit
