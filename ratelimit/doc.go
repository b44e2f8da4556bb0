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
// not a window) and when the bucket is full again. A [Penalty] boxes keys
// that keep being denied, for longer each time.
//
// A [Limiter] checks limits against a [Store]:
//
//	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
//	...
//	limiter, err := ratelimit.New(store)
//	...
//	res, err := limiter.Allow(ctx, ratelimit.KeyPhone(e164), ratelimit.PerHour(3))
//
// [Limiter.AllowN] spends several tokens; with 0 it spends nothing and
// reports the key's state, and with a negative count it gives tokens back.
//
// # Several limits at once
//
// A verification request should pass a per-IP, a per-phone, a per-prefix and
// a global limit. [Limiter.AllowAll] checks them atomically: when one denies,
// none spends, so a script that trips the per-IP limit does not use up a real
// user's per-phone allowance. It writes the results into a buffer the caller
// may reuse, so that a server takes without allocating.
//
// A [Request] can also count without denying (Record), look without
// spending (Peek), or give tokens back (a negative Cost), in the same
// all-or-nothing take: counters of an adaptive defense ride along with the
// limits, in one round trip to a shared store.
//
// # Stores
//
// A [Store] keeps the state: [MemoryStore] for one process, and
// ratelimit/redisstore for several processes sharing one Redis. Every store
// gives the same answers, defined once by package ratelimit/gcra, which is
// for those who write a store.
//
// A [MemoryStore] holds at most [MemoryConfig].MaxKeys keys, hashed with a
// random seed, in 21 to 32 bytes each. Keys as good as new (their state has
// expired) are reclaimed by housekeeping and the storage shrinks with them;
// when a shard is full of live keys, the key expiring soonest is
// forgotten, so a flood of new keys is served while the keys that spent
// their burst, or sit in a penalty box, are kept.
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
// Errors wrap [ErrUnavailable]; bad arguments wrap [ErrInvalidConfig] or
// [ErrInvalidRequest] and are never treated as failures.
//
// # Keys
//
// Key helpers such as [KeyIP] (IPv6 grouped by /64), [KeyPhone] and
// [KeyPrefix] build bounded keys with a kind prefix. A key is 1 to 512
// bytes.
package ratelimit
