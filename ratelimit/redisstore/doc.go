// Package redisstore is a [ratelimit.Store] on Redis, for applications that run
// more than one process: every process sharing one Redis shares the limits
// exactly, so N processes never admit more than the limit between them.
//
// It is the only package of the module that imports
// github.com/redis/go-redis/v9, and it takes any
// [github.com/redis/go-redis/v9.UniversalClient]:
// a single node, Sentinel (failover), Ring or Cluster client.
//
//	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(client, redisstore.Config{})
//	...
//	limiter, err := ratelimit.New(store) // fails closed when Redis cannot answer
//
// # Semantics
//
// The answers are those of [gcra.Step], the definition every store
// follows: the same Result, field for field, as the memory store would give
// at the same instant, for plain requests, peeks, records and refunds
// alike. A Lua script computes them on the server with the server's clock
// (Redis TIME), so application servers whose clocks differ still agree.
// Times are whole microseconds (Lua numbers are doubles, exact to 2^53 µs),
// which is the resolution of every store ([gcra.Resolution]).
//
// # One round trip
//
// Every Take and TakeAll, with one limit or several, is one EVALSHA: the
// script reads every key, decides all-or-nothing, writes what changed and
// answers. When the server does not have the script (after a restart or
// SCRIPT FLUSH) that call alone also sends EVAL. Nothing is cached on the
// client, so there is nothing to go stale.
//
// The script costs the server about 5µs, and the client about as much as
// any command with a short reply. Over loopback, where a PING takes under
// 10µs, a check takes about twice as long as a PING; over a network hop
// the round trip dominates and a check costs about what a PING does.
//
// # Keys and Redis Cluster
//
// A key's state lives at [Store.KeyName]: the prefix, the hash tag in
// braces, and 128 bits of the key's SHA-256. Keys of any bytes and length
// (up to 512 bytes) give names of one short length, and Redis holds no
// phone number or address in clear. The state is a string of 8
// bytes (40 when a penalty box is involved), and each key written expires
// when its state becomes identical to a missing key (PXAT, from
// [gcra.State] Expire), so idle keys cost Redis nothing.
//
// A multi-limit take touches several keys in one script, which Redis
// Cluster allows only within one hash slot. By default every key gets the
// same tag ([Config].Tag, "rl"), so all the limiter's keys live in one
// slot, on one shard: any keys can be taken together, and a cluster serves
// the limiter like a single node (plus failover). That is usually plenty
// (a check costs the server about 5µs, so one shard serves on the order of
// 100,000 checks a second); spreading needs a choice only the application
// can make: [Config.TagFunc] gives each key a tag,
// and the keys of one take must share it, for example one tag per route
// ("verify" for every limit of the verification endpoint). A tag taken from
// the first key of each take would be wrong: the same per-phone key would
// then live under a different name for each IP it is taken with, and an
// attacker rotating IPs would get a fresh per-phone allowance each time.
//
// # Failures and timeouts
//
// Errors from Redis, timeouts included, wrap [ratelimit.ErrUnavailable], so
// that a [ratelimit.Limiter] applies its failure mode: fail closed (the
// default), fail open, or fall back to a local store. Bad arguments are
// rejected before any I/O with [ratelimit.ErrInvalidConfig] or
// [ratelimit.ErrInvalidRequest]. Nothing panics.
//
// Each call is bounded by [Config.Timeout] (100ms by default), also when
// the caller's context has no deadline. go-redis honours context deadlines
// for network I/O only when the client has ContextTimeoutEnabled. For a
// client without it, the store runs each call in a goroutine and stops
// waiting at the deadline, and the abandoned call ends in the background
// at the client's ReadTimeout. That costs a goroutine hand-off per call
// (a few µs, more on a busy machine): create the client with
// ContextTimeoutEnabled to avoid it.
//
// Four properties of go-redis and Redis worth knowing. While Redis is
// down, go-redis retries dials (DialerRetries) and commands (MaxRetries)
// with back-off, so a check can take the whole Timeout before the failure
// mode answers; lower those on the client for a faster answer. After
// PoolSize failed dials in a row a go-redis pool stops dialling and probes
// once a second, so checks can keep failing for up to a second after Redis
// is back. go-redis retries a command whose connection broke (MaxRetries); if
// the first attempt had run, tokens are spent twice, which can deny but
// never over-admit. And Redis replicates asynchronously: after a failover
// the last takes before it may be lost, and admitted again.
//
// # Requirements
//
// Redis 6.2 or later (SET with PXAT), or a compatible server with Lua
// scripting and its struct library, such as Valkey.
package redisstore
