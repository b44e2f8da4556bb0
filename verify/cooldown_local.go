package verify

import (
	"hash/maphash"
	"sync"
	"time"
)

// localCooldowns keeps a Service's cooldown in process memory, with the same
// token buckets and the same arithmetic as the limiter's store (GCRA: a
// bucket's state is its theoretical arrival time), so that it answers
// exactly as the shared cooldown does; only where the state lives differs.
// It is safe for concurrent use.
//
// Destinations are keyed by a 64-bit hash with a random seed, not by the
// string: no number is kept in memory. Two destinations share a cooldown
// with probability 2^-64 per pair, which could only make a wait longer.
type localCooldowns struct {
	c        *cooldown
	now      func() time.Time
	seed     maphash.Seed
	perShard int
	shards   [localShards]localShard
}

const (
	localShards = 32
	// maxLocalTracked bounds the destinations remembered (a few tens of
	// megabytes). Destinations whose buckets are all full go first when a
	// shard is full; then an arbitrary eighth of the shard, which can only
	// shorten waits that the rate limits still bound.
	maxLocalTracked = 1 << 18
)

type localShard struct {
	mu sync.Mutex
	m  map[uint64]localState
}

// localState is what a destination's cooldown holds: the buckets' TATs, in
// Unix nanoseconds. It is 128 bytes, the most a map holds in place.
type localState struct {
	tat [maxCoolBuckets]int64
}

// dead reports whether s is identical to a destination never seen.
func (s *localState) dead(now int64) bool {
	for _, t := range s.tat {
		if t > now {
			return false
		}
	}
	return true
}

func newLocalCooldowns(c *cooldown, now func() time.Time) *localCooldowns {
	l := &localCooldowns{c: c, now: now, seed: maphash.MakeSeed(), perShard: maxLocalTracked / localShards}
	for i := range l.shards {
		l.shards[i].m = make(map[uint64]localState)
	}
	return l
}

// localReservation undoes a reserve whose send did not happen.
type localReservation struct {
	h         uint64
	prev, cur localState
}

// reserve records a send to key now, if the cooldown allows it. It returns
// the wait before the next send (or, when refused, the time left), and
// whether it was allowed.
func (l *localCooldowns) reserve(key string) (localReservation, time.Duration, bool) {
	now := l.now().UnixNano()
	h := maphash.String(l.seed, key)
	sh := &l.shards[h%localShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := l.state(sh, h, now)
	r := localReservation{h: h, prev: st}
	var wait int64
	for j, b := range l.c.buckets {
		wait = max(wait, max(st.tat[j], now)-now-int64(b.slack))
	}
	if wait > 0 {
		return localReservation{}, time.Duration(wait), false
	}
	var next int64
	for j, b := range l.c.buckets {
		st.tat[j] = max(st.tat[j], now) + int64(b.cost)*int64(b.limit.Period)
		next = max(next, st.tat[j]-now-int64(b.slack))
	}
	r.cur = st
	sh.m[h] = st
	return r, time.Duration(next), true
}

// state returns the state of the destination hashed to h (the zero state if
// it has none), making room for it in a full shard. Called with sh.mu held.
func (l *localCooldowns) state(sh *localShard, h uint64, now int64) localState {
	st, ok := sh.m[h]
	if !ok && len(sh.m) >= l.perShard {
		l.evict(sh, now)
	}
	return st
}

// release undoes r, unless the destination's state changed since.
func (l *localCooldowns) release(r localReservation) {
	sh := &l.shards[r.h%localShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if st, ok := sh.m[r.h]; ok && st == r.cur {
		sh.m[r.h] = r.prev
	}
}

// reset forgets key's cooldown, after a code to it was approved.
func (l *localCooldowns) reset(key string) {
	h := maphash.String(l.seed, key)
	sh := &l.shards[h%localShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.m, h)
}

// evict makes room in a full shard: dead states go first; if there are none,
// an arbitrary eighth of the shard goes, so that a shard full of live states
// is not scanned again on every insert. Called with sh.mu held.
func (l *localCooldowns) evict(sh *localShard, now int64) {
	removed := false
	for k, st := range sh.m {
		if st.dead(now) {
			delete(sh.m, k)
			removed = true
		}
	}
	if removed {
		return
	}
	n := max(1, l.perShard/8)
	for k := range sh.m {
		delete(sh.m, k)
		if n--; n == 0 {
			return
		}
	}
}
