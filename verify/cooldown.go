package verify

import (
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// Cooldown is the wait between two codes sent to the same destination. It
// grows: after the first code the next may follow after Base, after the
// second after 2×Base, then 4×Base, and so on up to Max. A destination that
// gets no code for Reset, or whose code is approved, starts again at Base.
//
// With the defaults a user can ask for a new code after 30 s, 1 min, 2 min,
// 4 min, 8 min, then every 10 min; a script can send no more than 6 codes to
// a number in 15 minutes, before any rate limit.
//
// By default cooldowns are kept in the memory of the process. When several
// instances of an app serve the same users, set Shared so that they share
// them through the Limiter's store (ratelimit/redisstore).
type Cooldown struct {
	// Base is the first wait. Zero means 30 seconds; negative disables
	// the cooldown (rate limits still apply).
	Base time.Duration
	// Max caps the wait. Zero means 10 minutes.
	Max time.Duration
	// Reset is the quiet time after which the wait starts again at Base.
	// Zero means 1 hour. It must be at least Max.
	Reset time.Duration
	// MaxTracked bounds the number of destinations remembered. When it is
	// reached, forgotten first are those whose Reset has passed, then any.
	// Zero means 100,000 (a few megabytes).
	MaxTracked int
	// Shared keeps the cooldown in the Limiter's store instead of the
	// memory of this process, so that every instance of an app sharing
	// that store (ratelimit/redisstore) sees the same cooldown, checked in the
	// same all-or-nothing take and round trip as the limits. The waits
	// are built from token buckets: a client that asks again as soon as it
	// may gets exactly Base, 2×Base, ... Max, as in memory; one that waits
	// longer finds the wait shrinking back gradually, down to Base after
	// at most about (log2(Max/Base)+2)×Max of quiet (44.5 minutes with the
	// defaults). Reset and MaxTracked do not apply, and an approved code
	// does not reset the wait. Max may be at most 2^15 × Base.
	Shared bool
}

func (c Cooldown) withDefaults() (Cooldown, error) {
	if c.Base == 0 {
		c.Base = 30 * time.Second
	}
	if c.Max == 0 {
		c.Max = 10 * time.Minute
	}
	if c.Reset == 0 {
		c.Reset = time.Hour
	}
	if c.MaxTracked == 0 {
		c.MaxTracked = 100_000
	}
	switch {
	case c.Base < 0:
		return c, nil
	case c.Max < c.Base:
		return c, fmt.Errorf("%w: cooldown Max below Base", ErrInvalidConfig)
	case c.Reset < c.Max:
		return c, fmt.Errorf("%w: cooldown Reset below Max", ErrInvalidConfig)
	case c.MaxTracked < 0:
		return c, fmt.Errorf("%w: negative cooldown MaxTracked", ErrInvalidConfig)
	}
	return c, nil
}

// wait returns the cooldown after the n-th code (n >= 1).
func (c Cooldown) wait(n int) time.Duration {
	if c.Base < 0 {
		return 0
	}
	d := c.Base
	for i := 1; i < n && d < c.Max; i++ {
		d *= 2
	}
	return min(d, c.Max)
}

const cooldownShards = 32

// cooldowns remembers, per destination, when the last code went out and how
// many went out since the last reset. It is safe for concurrent use.
//
// Destinations are keyed by a 64-bit hash with a random seed, not by the
// string: an entry is 16 bytes plus the map's overhead, with no number kept
// in memory, and a lookup hashes the key once for the shard and the entry.
// Two destinations share a cooldown with probability 2^-64 per pair, which
// could only make a wait longer, never shorter.
type cooldowns struct {
	cfg      Cooldown
	perShard int
	seed     maphash.Seed
	shards   [cooldownShards]cooldownShard
}

type cooldownShard struct {
	mu sync.Mutex
	m  map[uint64]cooldownEntry
}

type cooldownEntry struct {
	last  int64 // Unix nanoseconds of the last send
	sends int   // sends since the last reset
}

// reservation undoes a reserve when the send does not happen.
type reservation struct {
	hash      uint64
	set       bool // whether the reserve recorded anything
	prev, cur cooldownEntry
}

func newCooldowns(cfg Cooldown) *cooldowns {
	c := &cooldowns{cfg: cfg, perShard: max(1, cfg.MaxTracked/cooldownShards), seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cooldownEntry)
	}
	return c
}

func (c *cooldowns) hash(key string) uint64 { return maphash.String(c.seed, key) }

func (c *cooldowns) shard(h uint64) *cooldownShard { return &c.shards[h%cooldownShards] }

// reserve records a send to key at now, unless key is cooling down, in
// which case it returns the time left. Only one of many concurrent reserves
// for one key can succeed within a cooldown.
func (c *cooldowns) reserve(key string, now time.Time) (reservation, time.Duration, bool) {
	if c.cfg.Base < 0 {
		return reservation{}, 0, true
	}
	t := now.UnixNano()
	h := c.hash(key)
	sh := c.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	prev, ok := sh.m[h]
	if ok && t-prev.last >= int64(c.cfg.Reset) {
		prev, ok = cooldownEntry{}, false
	}
	if ok && prev.sends > 0 {
		if left := prev.last + int64(c.cfg.wait(prev.sends)) - t; left > 0 {
			return reservation{}, time.Duration(left), false
		}
	}
	if !ok && len(sh.m) >= c.perShard {
		c.evict(sh, t)
	}
	cur := cooldownEntry{last: t, sends: prev.sends + 1}
	sh.m[h] = cur
	return reservation{hash: h, set: true, prev: prev, cur: cur}, c.cfg.wait(cur.sends), true
}

// release undoes r, unless another send has been recorded since.
func (c *cooldowns) release(r reservation) {
	if !r.set {
		return
	}
	sh := c.shard(r.hash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m[r.hash] != r.cur {
		return
	}
	if r.prev.sends == 0 {
		delete(sh.m, r.hash)
	} else {
		sh.m[r.hash] = r.prev
	}
}

// reset forgets key, after its code was approved.
func (c *cooldowns) reset(key string) {
	h := c.hash(key)
	sh := c.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.m, h)
}

// evict makes room in a full shard: entries past Reset go first; if there
// are none, an arbitrary eighth of the shard goes, so that a shard full of
// fresh entries is not scanned again on every insert. Called with sh.mu held.
func (c *cooldowns) evict(sh *cooldownShard, now int64) {
	removed := false
	for k, e := range sh.m {
		if now-e.last >= int64(c.cfg.Reset) {
			delete(sh.m, k)
			removed = true
		}
	}
	if removed {
		return
	}
	n := max(1, c.perShard/8)
	for k := range sh.m {
		delete(sh.m, k)
		if n--; n == 0 {
			return
		}
	}
}

func (c *cooldowns) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
