package verify

import (
	"fmt"
	"hash/maphash"
	"math/bits"
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
// string: no number is kept in memory, and a lookup hashes the key once
// for the shard and the entry. Two destinations share a cooldown with
// probability 2^-64 per pair, which could only make a wait longer, never
// shorter. Each shard is an open-addressing table of 24-byte entries: a
// lookup touches the shard and one slot, where a Go map chases several
// pointers, each a cache miss when the server has been busy elsewhere.
type cooldowns struct {
	cfg      Cooldown
	perShard int
	seed     maphash.Seed
	shards   [cooldownShards]cooldownShard
}

// cooldownShard is a table with linear probing; a slot whose hash is 0 is
// empty. It is padded to 64 bytes, so that neighbouring shards rarely
// share a cache line.
type cooldownShard struct {
	mu    sync.Mutex
	slots []cooldownSlot
	count int
	next  int // where the next arbitrary eviction starts
	_     [64 - 8 - 24 - 8 - 8]byte
}

type cooldownSlot struct {
	hash uint64
	cooldownEntry
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
	return &cooldowns{cfg: cfg, perShard: max(1, cfg.MaxTracked/cooldownShards), seed: maphash.MakeSeed()}
}

// hash returns key's hash, never 0.
func (c *cooldowns) hash(key string) uint64 { return max(1, maphash.String(c.seed, key)) }

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
	i := sh.find(h)
	var prev cooldownEntry
	if i >= 0 && t-sh.slots[i].last < int64(c.cfg.Reset) {
		prev = sh.slots[i].cooldownEntry
	}
	if prev.sends > 0 {
		if left := prev.last + int64(c.cfg.wait(prev.sends)) - t; left > 0 {
			return reservation{}, time.Duration(left), false
		}
	}
	cur := cooldownEntry{last: t, sends: prev.sends + 1}
	if i >= 0 {
		sh.slots[i].cooldownEntry = cur
	} else {
		if sh.count >= c.perShard {
			c.evict(sh, t)
		}
		sh.insert(h, cur)
	}
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
	i := sh.find(r.hash)
	if i < 0 || sh.slots[i].cooldownEntry != r.cur {
		return
	}
	if r.prev.sends == 0 {
		sh.deleteAt(i)
	} else {
		sh.slots[i].cooldownEntry = r.prev
	}
}

// reset forgets key, after its code was approved.
func (c *cooldowns) reset(key string) {
	h := c.hash(key)
	sh := c.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := sh.find(h); i >= 0 {
		sh.deleteAt(i)
	}
}

// evict makes room in a full shard: entries past Reset go first; if there
// are none, an arbitrary eighth of the shard goes, so that a shard full of
// fresh entries is not scanned again on every insert. Called with sh.mu held.
func (c *cooldowns) evict(sh *cooldownShard, now int64) {
	removed := false
	for i := 0; i < len(sh.slots); {
		if e := &sh.slots[i]; e.hash != 0 && now-e.last >= int64(c.cfg.Reset) {
			sh.deleteAt(i) // may move a later entry into i: look again
			removed = true
			continue
		}
		i++
	}
	if removed {
		return
	}
	i := sh.next
	for n := max(1, c.perShard/8); n > 0 && sh.count > 0; {
		if i >= len(sh.slots) {
			i = 0
		}
		if sh.slots[i].hash != 0 {
			sh.deleteAt(i)
			n--
			continue
		}
		i++
	}
	sh.next = i
}

func (c *cooldowns) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += sh.count
		sh.mu.Unlock()
	}
	return n
}

// home is the slot where the probe for h starts in a table of n slots.
func home(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// find returns the slot of h, or -1.
func (sh *cooldownShard) find(h uint64) int {
	n := len(sh.slots)
	if n == 0 {
		return -1
	}
	for i := home(h, n); ; {
		switch sh.slots[i].hash {
		case h:
			return i
		case 0:
			return -1
		}
		if i++; i == n {
			i = 0
		}
	}
}

// insert adds h, absent from the table, growing the table at 3/4 full so
// that a probe always ends at an empty slot.
func (sh *cooldownShard) insert(h uint64, e cooldownEntry) {
	if (sh.count+1)*4 > len(sh.slots)*3 {
		sh.resize(max(16, 2*len(sh.slots)))
	}
	sh.put(cooldownSlot{h, e})
	sh.count++
}

// put stores s in the first free slot of its probe.
func (sh *cooldownShard) put(s cooldownSlot) {
	n := len(sh.slots)
	i := home(s.hash, n)
	for sh.slots[i].hash != 0 {
		if i++; i == n {
			i = 0
		}
	}
	sh.slots[i] = s
}

func (sh *cooldownShard) resize(size int) {
	old := sh.slots
	sh.slots = make([]cooldownSlot, size)
	for _, s := range old {
		if s.hash != 0 {
			sh.put(s)
		}
	}
}

// deleteAt empties slot i, shifting back the entries after it that would
// otherwise become unreachable (linear probing needs no tombstones).
func (sh *cooldownShard) deleteAt(i int) {
	n := len(sh.slots)
	for j := i; ; {
		if j++; j == n {
			j = 0
		}
		h := sh.slots[j].hash
		if h == 0 {
			break
		}
		// The entry at j stays when its home is cyclically in (i, j].
		k := home(h, n)
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		sh.slots[i] = sh.slots[j]
		i = j
	}
	sh.slots[i] = cooldownSlot{}
	sh.count--
}
