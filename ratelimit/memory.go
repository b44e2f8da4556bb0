package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of MemoryConfig fields left zero.
const (
	defaultMaxKeys       = 1 << 20
	defaultSweepInterval = time.Minute
	defaultShards        = 64
)

// MemoryConfig configures a MemoryStore. The zero MemoryConfig is a good
// default.
type MemoryConfig struct {
	// Shards is the number of independently locked parts of the store,
	// rounded up to a power of two, at most 65536. Zero means 64, or one
	// shard per 16384 keys of MaxKeys when that is more, up to 4096. It is
	// reduced when MaxKeys is small so that each shard holds at least 64
	// keys (or MaxKeys, when smaller).
	Shards int
	// MaxKeys is a hard bound on the number of keys held. Zero means
	// 1,048,576. Each shard holds its share of it (MaxKeys/Shards), so a
	// store may be full a little before it holds MaxKeys keys in all. Keys
	// whose state has expired are reclaimed first; when a shard is full of
	// live keys, the key that expires soonest is forgotten to make room
	// (see MemoryStore).
	MaxKeys int
	// SweepInterval is how often background housekeeping reclaims keys
	// whose state has expired and shrinks the storage they used. Zero means
	// one minute; a negative value disables the background goroutine (call
	// Sweep yourself). Expired keys are also reclaimed whenever a shard
	// runs out of room.
	SweepInterval time.Duration
	// Now returns the current time. Nil means time.Now. Tests inject a
	// fake clock here so that they never sleep.
	Now func() time.Time
	// Logger receives a warning (at most once a second, with a count of
	// those not logged) when live keys are forgotten, or a new key denied,
	// for lack of room. Keys are never logged. Nil means silent.
	Logger *slog.Logger
	// Hooks are optional functions called on store events, for metrics.
	Hooks MemoryHooks
}

// MemoryHooks are optional functions a MemoryStore calls on events, for
// metrics. They may be called with a shard locked: they must be fast and
// must not call the store. Nil functions are skipped.
type MemoryHooks struct {
	// Full is called when a take is denied because a new key found no room
	// and nothing could be forgotten to make some.
	Full func()
	// Evicted is called when a live key is forgotten to make room.
	Evicted func()
	// Swept is called after each housekeeping pass over the whole store
	// with the number of expired keys reclaimed and of keys left.
	Swept func(reclaimed, live int)
}

// MemoryStore is a Store that keeps state in the memory of one process.
// It is safe for concurrent use. Create one with NewMemoryStore and Close
// it to stop its housekeeping goroutine.
//
// # Memory
//
// The store holds at most MaxKeys keys. A key whose state has expired (its
// bucket is full again and it has no penalty to remember) is identical to a
// key never seen, so housekeeping forgets it, and the storage shrinks when
// keys go: a million idle keys leave well under a megabyte behind. A live
// key costs 21 to 32 bytes: a 16-byte entry (a 64-bit hash and one
// timestamp) in an open-addressing table that grows by half when 3/4 full
// and is rebuilt half full when under 1/5 full; 24 bytes a key were
// measured with a million keys. Keys with penalty-box state, which are
// rare, keep the rest of their state in a side map (about 60 more bytes
// each). So the store never takes much more than MaxKeys × 32 bytes, plus
// the side map.
//
// # When full
//
// When a new key finds its shard full of live keys, the store forgets the
// key whose state expires soonest (among the shard's keys at its last
// scan) to make room. A forgotten key gets back at most what it would have
// got anyway by its expiry, and it is the key with the least to get back,
// so a flood of new keys can only push out keys that are nearly as good as
// new; a key that has just spent its burst, or sits in a penalty box, has
// a far expiry and goes last. Only a take whose own keys fill a shard is
// denied for lack of room.
//
// # Keys are hashed
//
// Keys are not stored: each is reduced to a 63-bit hash with a random seed
// chosen when the store is created ([hash/maphash]), so keys of any length
// cost the same and an attacker who does not know the seed cannot make two
// keys collide on purpose. Two distinct keys collide by chance with
// probability 2^-63 per pair: about 5 in 100 million for a store holding a
// million keys at once. Keys that collide share one state, which only
// makes their limits stricter, never looser.
//
// # Atomic takes
//
// TakeAll locks the shards of all its keys in ascending order (so that
// concurrent takes cannot deadlock) and holds them while it checks and
// spends, so a take is all-or-nothing even under concurrency.
type MemoryStore struct {
	seed      maphash.Seed
	shards    []shard
	mask      uint64
	now       func() time.Time
	epoch     time.Time // with a monotonic reading
	epochNano int64
	logger    *slog.Logger
	hooks     MemoryHooks

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}

	lastLog atomic.Int64
	dropped atomic.Int64
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns a MemoryStore configured by cfg. It returns an
// error wrapping ErrInvalidConfig for a negative Shards or MaxKeys, or more
// than 65536 shards.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	switch {
	case cfg.Shards < 0 || cfg.Shards > 1<<16:
		return nil, fmt.Errorf("ratelimit: MemoryConfig.Shards %d not in 0..65536: %w", cfg.Shards, ErrInvalidConfig)
	case cfg.MaxKeys < 0:
		return nil, fmt.Errorf("ratelimit: MemoryConfig.MaxKeys %d is negative: %w", cfg.MaxKeys, ErrInvalidConfig)
	}
	maxKeys := cfg.MaxKeys
	if maxKeys == 0 {
		maxKeys = defaultMaxKeys
	}
	n := cfg.Shards
	if n == 0 {
		n = max(defaultShards, min(maxKeys/16384, 4096))
	}
	shards := 1
	for shards < n {
		shards *= 2
	}
	for shards > 1 && maxKeys/shards < 64 {
		shards /= 2
	}
	m := &MemoryStore{
		seed:   maphash.MakeSeed(),
		shards: make([]shard, shards),
		mask:   uint64(shards - 1),
		now:    cfg.Now,
		epoch:  time.Now(),
		logger: cfg.Logger,
		hooks:  cfg.Hooks,
	}
	m.epochNano = m.epoch.UnixNano()
	per, rem := maxKeys/shards, maxKeys%shards
	for i := range m.shards {
		sh := &m.shards[i]
		sh.max = per
		if i < rem {
			sh.max++
		}
		sh.minExp = math.MaxInt64
	}
	interval := cfg.SweepInterval
	if interval == 0 {
		interval = defaultSweepInterval
	}
	if interval > 0 {
		m.stop = make(chan struct{})
		m.done = make(chan struct{})
		go m.housekeep(interval)
	}
	return m, nil
}

// nowNano reads the clock. The default clock is the wall time at creation
// plus the monotonic time since: reading only the monotonic clock costs
// half of time.Now, and a limiter is better off not following wall-clock
// jumps.
func (m *MemoryStore) nowNano() int64 {
	if m.now != nil {
		return m.now().UnixNano()
	}
	return m.epochNano + int64(time.Since(m.epoch))
}

// tag returns the hash of key as stored: bit 0 is left free for extFlag
// and the result is never 0, which marks an empty slot.
func (m *MemoryStore) tag(key string) uint64 {
	t := maphash.String(m.seed, key) &^ extFlag
	if t == 0 {
		t = 2
	}
	return t
}

func (m *MemoryStore) shardOf(tag uint64) *shard { return &m.shards[(tag>>1)&m.mask] }

// Take takes one request: it is TakeAll of r alone. The context is not
// used: the memory store never blocks on I/O.
func (m *MemoryStore) Take(_ context.Context, r Request) (Result, error) {
	if !r.plain() {
		var res [1]Result
		_, _, err := m.takeAll([]Request{r}, res[:])
		return res[0], err
	}
	iv, err := validateRequest(&r)
	if err != nil {
		return Result{}, err
	}
	n := r.cost()
	t := m.tag(r.Key)
	sh := m.shardOf(t)
	now := m.nowNano()
	var st state
	var res Result
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return Result{}, errClosed
	}
	i := sh.find(t)
	if i >= 0 {
		sh.load(i, now, &st)
	} else if !sh.reserve(m, now, 1, nil) {
		wait := sh.fullWait(now)
		sh.mu.Unlock()
		m.reportFull()
		return fullResult(wait), nil
	}
	stepOne(now, &r.Limit, int64(iv), n, &st, &res)
	switch {
	case i >= 0 && sh.slots[i].tag == t && plainState(&st) && st.TAT != 0:
		sh.slots[i].exp = st.TAT // the common case, inline
	case i >= 0:
		sh.put(i, t, &st)
	default:
		sh.insert(t, &st)
	}
	sh.mu.Unlock()
	return res, nil
}

// takeAllStack is how many requests TakeAll handles without allocating
// scratch space: the five limits of package verify (per number, IP, block,
// country and overall) and a few more. Each more costs every take the
// zeroing of its stack space.
const takeAllStack = 5

// takeScratch is TakeAll's working state, one entry per request.
type takeScratch struct {
	tags   []uint64
	ivs    []int64  // the limits' Intervals
	shard  []uint32 // index of the key's shard
	idx    []int    // slot of the key in its shard, or -1
	states []state
	order  []uint32 // the shards involved, ascending: the locking order
}

// TakeAll takes every request atomically, writing their results into
// results[:len(reqs)] (see Store). The context is not used.
func (m *MemoryStore) TakeAll(_ context.Context, reqs []Request, results []Result) (allowed bool, binding int, err error) {
	if len(results) < len(reqs) {
		return false, 0, invalidRequest("%d results for %d requests", len(results), len(reqs))
	}
	return m.takeAll(reqs, results[:len(reqs)])
}

// takeAll is TakeAll into results, which has one entry per request.
func (m *MemoryStore) takeAll(reqs []Request, results []Result) (allowed bool, binding int, err error) {
	n := len(reqs)
	if n == 0 {
		return false, 0, invalidRequest("a take of no requests")
	}
	var (
		tagsA   [takeAllStack]uint64
		ivsA    [takeAllStack]int64
		shardA  [takeAllStack]uint32
		idxA    [takeAllStack]int
		statesA [takeAllStack]state
		orderA  [takeAllStack]uint32
	)
	// Field by field: a composite literal is built aside and copied with
	// wide loads of narrow stores, which stalls on store forwarding.
	var sc takeScratch
	if n <= takeAllStack {
		sc.tags, sc.ivs, sc.shard, sc.idx = tagsA[:n], ivsA[:n], shardA[:n], idxA[:n]
		sc.states, sc.order = statesA[:n], orderA[:n]
	} else {
		sc.tags, sc.ivs, sc.shard, sc.idx = make([]uint64, n), make([]int64, n), make([]uint32, n), make([]int, n)
		sc.states, sc.order = make([]state, n), make([]uint32, n)
	}
	shards := 0
	for i := range reqs {
		r := &reqs[i]
		iv, err := validateRequest(r)
		if err != nil {
			return false, 0, err
		}
		for j := range i {
			if reqs[j].Key == r.Key {
				return false, 0, invalidRequest("key %q appears twice in one take", truncKey(r.Key))
			}
		}
		t := m.tag(r.Key)
		s := uint32((t >> 1) & m.mask)
		sc.tags[i], sc.ivs[i], sc.shard[i] = t, int64(iv), s
		// Insert s into the sorted set order[:shards].
		k := shards
		for k > 0 && sc.order[k-1] > s {
			k--
		}
		if k > 0 && sc.order[k-1] == s {
			continue
		}
		for j := shards; j > k; j-- {
			sc.order[j] = sc.order[j-1]
		}
		sc.order[k] = s
		shards++
	}
	sc.order = sc.order[:shards]
	now := m.nowNano()
	for _, s := range sc.order {
		m.shards[s].mu.Lock()
	}
	allowed, binding, err = m.takeAllLocked(now, reqs, &sc, results)
	for k := len(sc.order) - 1; k >= 0; k-- {
		m.shards[sc.order[k]].mu.Unlock()
	}
	return allowed, binding, err
}

// storesNew reports whether r creates its key's state when the key is new:
// it spends (a peek spends nothing, a refund has nothing to give back to).
func storesNew(r *Request) bool { return !r.Peek && r.Cost >= 0 }

// takeAllLocked is TakeAll once the shards in sc.order are locked.
func (m *MemoryStore) takeAllLocked(now int64, reqs []Request, sc *takeScratch, results []Result) (bool, int, error) {
	if m.shards[sc.order[0]].closed {
		return false, 0, errClosed
	}
	newKeys := false
	for i, t := range sc.tags {
		sh := &m.shards[sc.shard[i]]
		if sc.idx[i] = sh.find(t); sc.idx[i] >= 0 {
			sh.load(sc.idx[i], now, &sc.states[i])
		} else if storesNew(&reqs[i]) {
			newKeys = true
		}
	}
	if newKeys {
		if full := m.makeRoom(now, reqs, sc); full != nil {
			b := m.denyFull(now, reqs, sc, results, full)
			return false, b, nil
		}
	}
	allowed, b := step(now, reqs, sc.ivs, sc.states, results)
	m.writeBack(sc, allowed)
	return allowed, b, nil
}

// makeRoom reserves room for the take's new keys before anything is spent,
// so that a take is never allowed for a key that cannot then be stored. It
// returns the shards that have no room, and finds the keys' slots again
// (reclaiming and growing move them).
func (m *MemoryStore) makeRoom(now int64, reqs []Request, sc *takeScratch) (full []uint32) {
	for _, s := range sc.order {
		need := 0
		for i := range reqs {
			if sc.shard[i] == s && sc.idx[i] < 0 && storesNew(&reqs[i]) {
				need++
			}
		}
		if need > 0 && !m.shards[s].reserve(m, now, need, sc.tags) {
			full = append(full, s)
		}
	}
	for i, t := range sc.tags {
		sc.idx[i] = m.shards[sc.shard[i]].find(t)
	}
	return full
}

// writeBack stores states after step; sc.idx holds the keys' slots, or -1.
func (m *MemoryStore) writeBack(sc *takeScratch, inserted bool) {
	stale := false
	for i, t := range sc.tags {
		sh := &m.shards[sc.shard[i]]
		st := &sc.states[i]
		j := sc.idx[i]
		if stale {
			j = sh.find(t)
		}
		if j >= 0 && sh.slots[j].tag == t && plainState(st) && st.TAT != 0 {
			sh.slots[j].exp = st.TAT // the common case, inline
			continue
		}
		if j < 0 && !zero(st) {
			// A new key (a denied take creates none). Look again in case
			// two keys of the take share a hash.
			j = sh.find(t)
		}
		switch {
		case j >= 0:
			if sh.put(j, t, st) {
				stale = true
			}
		case inserted && !zero(st):
			sh.insert(t, st)
		}
	}
}

// denyFull answers a take that needs room for a new key in a full shard:
// the keys that could not be stored deny the take, as if in a box until
// the shard's soonest expiry, and nothing is spent. When a limit denies the
// take on its own as well, that denial is counted for the penalty box
// exactly as step would. It returns the binding index.
func (m *MemoryStore) denyFull(now int64, reqs []Request, sc *takeScratch, results []Result, full []uint32) int {
	rq := slices.Clone(reqs)
	var homeless []int
	for i := range rq {
		if sc.idx[i] < 0 && storesNew(&rq[i]) && slices.Contains(full, sc.shard[i]) {
			homeless = append(homeless, i)
			rq[i].Record = false // it denies, like any key without room
			sc.states[i] = state{BoxUntil: now + int64(m.shards[sc.shard[i]].fullWait(now))}
		}
	}
	_, b := step(now, rq, sc.ivs, sc.states, results)
	for _, i := range homeless {
		sc.states[i] = state{}
		results[i] = fullResult(m.shards[sc.shard[i]].fullWait(now))
	}
	m.writeBack(sc, false)
	m.reportFull()
	return b
}

// fullResult is the denial of a new key that found no room.
func fullResult(wait time.Duration) Result {
	return Result{RetryAfter: wait, ResetAfter: wait}
}

// keyCount returns the number of keys held, including expired keys not yet
// reclaimed.
func (m *MemoryStore) keyCount() int {
	total := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		total += sh.count
		sh.mu.Unlock()
	}
	return total
}

// Sweep reclaims the keys whose state has expired, shrinks storage that
// has become mostly empty, and returns how many keys it reclaimed. The
// background housekeeping calls it every SweepInterval; call it yourself
// when SweepInterval is negative. It locks one shard at a time.
func (m *MemoryStore) Sweep() int {
	reclaimed, _ := m.sweep(nil)
	return reclaimed
}

func (m *MemoryStore) sweep(stop <-chan struct{}) (reclaimed, live int) {
	for i := range m.shards {
		select {
		case <-stop:
			return reclaimed, live
		default:
		}
		sh := &m.shards[i]
		now := m.nowNano()
		sh.mu.Lock()
		if now >= sh.minExp {
			reclaimed += sh.reclaim(now, nil)
		}
		sh.shrink()
		live += sh.count
		sh.mu.Unlock()
	}
	if m.hooks.Swept != nil {
		m.hooks.Swept(reclaimed, live)
	}
	return reclaimed, live
}

func (m *MemoryStore) housekeep(interval time.Duration) {
	defer close(m.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
			m.sweep(m.stop)
		}
	}
}

// Close stops the housekeeping goroutine, waiting for it to return or for
// ctx to be done, and releases the store's memory. Takes after Close fail
// with an error wrapping ErrUnavailable. Close may be called more than
// once.
func (m *MemoryStore) Close(ctx context.Context) error {
	m.closeOnce.Do(func() {
		if m.stop != nil {
			close(m.stop)
		}
	})
	if m.done != nil {
		select {
		case <-m.done:
		case <-ctx.Done():
			return fmt.Errorf("ratelimit: closing memory store: %w", ctx.Err())
		}
	}
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		sh.release()
		sh.closed = true
		sh.mu.Unlock()
	}
	return nil
}

func (m *MemoryStore) reportFull() {
	if m.hooks.Full != nil {
		m.hooks.Full()
	}
	m.log("ratelimit: memory store full, denied a new key")
}

// log warns through the logger, at most once a second.
func (m *MemoryStore) log(msg string) {
	if m.logger == nil {
		return
	}
	now := time.Now().UnixNano()
	last := m.lastLog.Load()
	if now-last < int64(time.Second) || !m.lastLog.CompareAndSwap(last, now) {
		m.dropped.Add(1)
		return
	}
	m.logger.Warn(msg, "not_logged", m.dropped.Swap(0))
}
