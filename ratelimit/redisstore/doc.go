// Package redisstore is a [ratelimit.Store] on Redis, for applications that run
// more than one process: every process sharing one Redis shares the limits
// exactly, so N processes never admit more than the limit between them.
//
// It is the only package of the module that imports
// github.com/redis/go-redis/v9, and it takes any
// [github.com/redis/go-redis/v9.UniversalClient]:
// a single node, Sentinel (failover), Ring or Cluster client, created with
// ContextTimeoutEnabled:
//
//	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
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
// answers. When the server does not have the script (after a restart, a
// failover or SCRIPT FLUSH) that call alone also sends EVAL. Nothing is
// cached on the client, so there is nothing to go stale.
//
// The script is built for the server's time: the take travels as one
// packed argument, a single result comes back as one integer (the rest of
// the Result follows from it), and a key's expiry is set a quarter of its
// window ahead and left alone (SET KEEPTTL) until the state outlives it,
// because setting an expiry costs Redis more than the rest of a write.
// A check of one limit costs Redis about 58,000 instructions where
// github.com/go-redis/redis_rate's script costs 69,000 (49,000 against
// 73,000 when the key's expiry can stay), and the client 24,000 where
// redis_rate's costs 36,000, with 11 allocations to its 22; three limits
// cost Redis about 2.3 times one. The README has the figures and the
// commands.
//
// # Clients, timeouts and pipelining
//
// Each call is bounded by [Config.Timeout] (100ms by default), also when
// the caller's context has no deadline. go-redis ends network I/O at a
// context's deadline only when the client has ContextTimeoutEnabled, so
// New refuses a go-redis client without it (unless Timeout is negative):
// the store never runs a call in a goroutine of its own to stop waiting.
// A client of another type must stop at its context's deadline.
//
// Concurrent checks share the client's connection pool; go-redis's
// defaults (PoolSize 10 per CPU) suit a limiter. With
// [Config.AutoPipeline], checks made at the same time go out together,
// in one write on one connection, and come back in one read: with 16 in
// flight, that halves both the time per check and the CPU time of client
// and server, while one check at a time takes 1.6 times as long (the
// hand-off to the pipeliner's goroutine).
//
// # Keys and Redis Cluster
//
// A key's state lives at [Store.KeyName]: the prefix, the hash tag in
// braces, and 128 bits of the key's SHA-256. Keys of any bytes and length
// (up to 512 bytes) give names of one short length, and Redis holds no
// phone number or address in clear. The state is a string of 16 bytes (48
// when a penalty box is involved), and each key expires when its state has
// become identical to a missing key (within a quarter of its window), so
// idle keys cost Redis nothing.
//
// A multi-limit take touches several keys in one script, which Redis
// Cluster allows only within one hash slot. By default every key gets the
// same tag ([Config].Tag, "rl"), so all the limiter's keys live in one
// slot, on one shard: any keys can be taken together, whoever built them
// (an adaptive defense's counters ride in verify's takes), and a cluster
// serves the limiter like a single node, with failover. That is usually
// plenty: by the Redis CPU time a check takes here (12µs, 6µs with
// AutoPipeline), one shard's core serves some 80,000 checks a second, or
// 160,000.
// Spreading needs a choice only the application can make: [Config.TagFunc]
// gives each key a tag, and every key that can appear in one take must get
// the same one, for example one tag per route ("verify" for every limit
// of the verification endpoint, and every counter that rides along). A
// take whose keys have different tags fails with
// [ratelimit.ErrInvalidRequest]; it is never split. A tag taken from the
// first key of each take would be wrong: the same per-phone key would then
// live under a different name for each IP it is taken with, and an
// attacker rotating IPs would get a fresh per-phone allowance each time.
//
// With TagFunc on a cluster client, each hash slot gets a circuit breaker
// of its own (see below), so that a shard that is down or stalled does not
// fail the checks of the others. (A cluster with
// cluster-require-full-coverage yes, Redis's default, refuses every slot
// while any is unserved: until a replica takes over, all checks fail.)
//
// go-redis's ClusterClient learns a new topology from a redirect, or once
// a minute: a master that died answers neither. The store asks the client
// to reload the topology whenever a call fails, so that checks reach the
// replica that took over as soon as it has (about two seconds after the
// master died, with cluster-node-timeout 1000ms, in the tests).
//
// # Failures and the circuit breaker
//
// Errors from Redis, timeouts included, wrap [ratelimit.ErrUnavailable], so
// that a [ratelimit.Limiter] applies its failure mode: fail closed (the
// default), fail open, or fall back to a local store. Bad arguments are
// rejected before any I/O with [ratelimit.ErrInvalidConfig] or
// [ratelimit.ErrInvalidRequest], also while Redis is down. Nothing panics.
//
// After [Config.BreakAfter] failures in a row (5 by default) the store's
// circuit breaker opens: checks fail at once, without a round trip and
// without allocating (in a few hundred nanoseconds, so the failure mode
// answers at once), while one check at a time, at most one every 100ms,
// probes the server. The first probe that succeeds closes the breaker:
// within about 100ms of go-redis reconnecting. (After PoolSize failed
// dials in a row a go-redis pool itself probes only once a second, so
// recovery from a restart can take up to a second more.) During an
// outage, then, only the first few checks and the probes wait for
// Config.Timeout; the rest get the failure mode at once.
//
// go-redis logs through a process-wide logger, which writes to stderr
// by default (a line for every failed dial: hundreds a second during an
// outage). New replaces it, the first time it is called in a process, with
// one that sends go-redis's lines to the [Config.Logger] of every open
// Store that has one, at most one line a second for each, with a count of
// those dropped, and drops them when none has. This applies to every
// go-redis client of the process; a program that wants go-redis's lines
// elsewhere calls redis.SetLogger after New.
//
// # Consistency during a failover
//
// Redis replicates asynchronously. When a master dies, the takes it
// acknowledged but had not yet sent to its replica are lost: after the
// replica takes over, the tokens they spent are available again, and that
// many more requests can be admitted. On a healthy replication link that
// is the last few milliseconds of takes (none were lost in the tests'
// failovers on loopback; see the README for the figures); across a slow
// link, as many as the link lagged. Nothing else is lost, and no key is
// admitted beyond its limit otherwise. The other way round, go-redis
// retries a command whose connection broke (MaxRetries): if the first
// attempt ran, its tokens are spent twice, which denies sooner but never
// admits more. While no master serves the limiter's slot, checks fail
// and the failure mode applies; a fallback to a memory store then limits
// each process on its own.
//
// # Requirements
//
// Redis 6.2 or later (SET with PXAT and KEEPTTL), or a compatible server
// with Lua scripting and its struct library, such as Valkey.
package redisstore
