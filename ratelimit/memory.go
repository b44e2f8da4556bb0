package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInvalidConfig is wrapped by errors about a store configuration that
// cannot be used, such as a negative MaxKeys.
var ErrInvalidConfig = errors.New("ratelimit: invalid configuration")

// Defaults of MemoryConfig fields left zero.
const (
	DefaultMaxKeys       = 1 << 20
	DefaultSweepInterval = time.Minute
	DefaultShards        = 64
)

// FullPolicy says what a MemoryStore does with a new key when the key's
// shard already holds its share of MaxKeys and none of them has expired.
type FullPolicy int

const (
	// FullDenyNew denies requests for new keys until a held key expires:
	// the store fails closed. It is the default. A flood of new keys can
	// then deny other new keys for a while (never longer than the time
	// until the soonest held key expires, which the denial's RetryAfter
	// says), but it can never reset a key the store holds.
	FullDenyNew FullPolicy = iota
	// FullEvictSoonest evicts the held key whose state expires soonest
	// (among the keys of the shard at its last scan) to make room. A key
	// that is evicted gets back at most what it would have got anyway by
	// its expiry, and it is the key with the least to get back, so a
	// flood can only evict keys that are nearly as good as new; a key
	// that has just spent its burst, or sits in a penalty box, has a far
	// expiry and is evicted last. Choose it when refusing new keys is
	// worse for you than letting the soonest-expiring ones go early.
	FullEvictSoonest
)

// String returns "deny-new" or "evict-soonest".
func (p FullPolicy) String() string {
	switch p {
	case FullDenyNew:
		return "deny-new"
	case FullEvictSoonest:
		return "evict-soonest"
	}
	return "FullPolicy(" + fmt.Sprint(int(p)) + ")"
}

// MemoryConfig configures a MemoryStore. The zero MemoryConfig is a good
// default.
type MemoryConfig struct {
	// Shards is the number of independently locked parts of the store,
	// rounded up to a power of two. Zero means DefaultShards (64), or one
	// shard per 16384 keys of MaxKeys when that is more, up to 4096. It is
	// reduced when MaxKeys is small so that each shard holds at least 64
	// keys (or MaxKeys, when smaller).
	Shards int
	// MaxKeys is a hard bound on the number of keys held. Zero means
	// DefaultMaxKeys (1,048,576). Each shard holds its share of it
	// (MaxKeys/Shards), so a store may start applying WhenFull a little
	// before it holds MaxKeys keys in all. Keys whose state has expired
	// are reclaimed first; what happens when a shard is full of live keys
	// is set by WhenFull.
	MaxKeys int
	// WhenFull says what happens to a new key when its shard is full of
	// live keys. The zero value is FullDenyNew.
	WhenFull FullPolicy
	// SweepInterval is how often background housekeeping reclaims keys
	// whose state has expired and shrinks the storage they used. Zero means
	// DefaultSweepInterval (one minute); a negative value disables the
	// background goroutine (call Sweep yourself). Expired keys are also
	// reclaimed whenever a shard runs out of room.
	SweepInterval time.Duration
	// Now returns the current time. Nil means time.Now. Tests inject a
	// fake clock here so that they never sleep.
	Now func() time.Time
	// Logger receives a warning (at most once a second, with a count of
	// those not logged) when new keys are denied or live keys evicted for
	// lack of room. Keys are never logged. Nil means silent.
	Logger *slog.Logger
	// Hooks are optional functions called on store events, for metrics.
	Hooks MemoryHooks
}

// MemoryHooks are optional functions a MemoryStore calls on events, for
// metrics. They may be called with a shard locked: they must be fast and
// must not call the store. Nil functions are skipped.
type MemoryHooks struct {
	// Full is called when a request for a new key is denied because its
	// shard is full of live keys (WhenFull is FullDenyNew).
	Full func()
	// Evicted is called when a live key is evicted to make room (WhenFull
	// is FullEvictSoonest).
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
// keys go: a million idle keys leave well under a megabyte behind. A key
// costs 21 to 32 bytes while the store grows (a 16-byte entry of a 64-bit
// hash and one timestamp in an open-addressing table grown by half when 3/4
// full, rebuilt half full when under 1/5 full); keys with penalty-box
// state, which are rare, keep the rest of their state in a side map (about
// 60 more bytes each). So the store never takes more than about
// MaxKeys × 32 bytes, plus the side map.
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
// # Atomic multi-limit takes
//
// TakeAll locks the shards of all its keys in ascending order (so that
// concurrent takes cannot deadlock) and holds them while it checks and
// spends, so a multi-limit take is all-or-nothing even under concurrency.
type MemoryStore struct {
	seed      maphash.Seed
	shards    []shard
	mask      uint64
	now       func() time.Time
	epoch     time.Time // with a monotonic reading
	epochNano int64
	whenFull  FullPolicy
	logger    *slog.Logger
	hooks     MemoryHooks

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}

	lastLog atomic.Int64
	dropped atomic.Int64
}

// NewMemoryStore returns a MemoryStore configured by cfg. It returns an
// error wrapping ErrInvalidConfig for a negative Shards or MaxKeys, more
// than 65536 shards, or an unknown WhenFull.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	switch {
	case cfg.Shards < 0 || cfg.Shards > 1<<16:
		return nil, errorf(ErrInvalidConfig, "Shards %d not in 0..65536", cfg.Shards)
	case cfg.MaxKeys < 0:
		return nil, errorf(ErrInvalidConfig, "MaxKeys %d is negative", cfg.MaxKeys)
	case cfg.WhenFull != FullDenyNew && cfg.WhenFull != FullEvictSoonest:
		return nil, errorf(ErrInvalidConfig, "unknown WhenFull %v", cfg.WhenFull)
	}
	maxKeys := cfg.MaxKeys
	if maxKeys == 0 {
		maxKeys = DefaultMaxKeys
	}
	n := cfg.Shards
	if n == 0 {
		n = max(DefaultShards, min(maxKeys/16384, 4096))
	}
	shards := 1
	for shards < n {
		shards *= 2
	}
	for shards > 1 && maxKeys/shards < 64 {
		shards /= 2
	}
	m := &MemoryStore{
		seed:     maphash.MakeSeed(),
		shards:   make([]shard, shards),
		mask:     uint64(shards - 1),
		now:      cfg.Now,
		epoch:    time.Now(),
		whenFull: cfg.WhenFull,
		logger:   cfg.Logger,
		hooks:    cfg.Hooks,
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
		interval = DefaultSweepInterval
	}
	if interval > 0 {
		m.stop = make(chan struct{})
		m.done = make(chan struct{})
		go m.housekeep(interval)
	}
	return m, nil
}

// MustNewMemoryStore is like NewMemoryStore but panics on a bad
// configuration.
func MustNewMemoryStore(cfg MemoryConfig) *MemoryStore {
	m, err := NewMemoryStore(cfg)
	if err != nil {
		panic(err)
	}
	return m
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

// Take spends n tokens of l for key (n == 0 means 1). The context is not
// used: the memory store never blocks on I/O.
func (m *MemoryStore) Take(_ context.Context, key string, l Limit, n int) (Result, error) {
	iv, err := validateTake(key, &l, n)
	if err != nil {
		return Result{Limit: l}, err
	}
	if n == 0 {
		n = 1
	}
	t := m.tag(key)
	sh := m.shardOf(t)
	now := m.nowNano()
	var st State
	var res Result
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return Result{Limit: l}, ErrClosed
	}
	i := sh.find(t)
	if i >= 0 {
		sh.load(i, now, &st)
	} else if !sh.reserve(m, now, 1, nil) {
		wait := sh.fullWait(now)
		sh.mu.Unlock()
		m.reportFull()
		return fullResult(l, wait), nil
	}
	stepOne(now, &l, int64(iv), n, false, &st, &res)
	switch {
	case i >= 0 && sh.slots[i].tag == t && plain(&st) && st.TAT != 0:
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
// scratch space: the five of package verify (per number, IP, block,
// country and overall). Each more costs every take the zeroing of its
// stack space.
const takeAllStack = 5

// takeScratch is TakeAll's working state, one entry per request.
type takeScratch struct {
	tags   []uint64
	ivs    []int64  // the limits' Intervals
	shard  []uint32 // index of the key's shard
	idx    []int    // slot of the key in its shard, or -1
	states []State
	order  []uint32 // the shards involved, ascending: the locking order
}

// TakeAll takes every request atomically: all are spent, or none is. Keys
// must be distinct. The context is not used. The Decision's Results are
// the caller's to keep; to reuse a buffer instead, use TakeAllInto.
func (m *MemoryStore) TakeAll(_ context.Context, reqs []Request) (Decision, error) {
	var d Decision
	err := m.takeAll(reqs, nil, &d)
	return d, err
}

// TakeAllInto is TakeAll writing the results into results, which it uses
// as the Decision's Results (results[:len(reqs)]), so that a caller that
// reuses a buffer takes without allocating. When results is shorter than
// reqs, a new slice is allocated instead. The store keeps neither reqs nor
// results after it returns. The context is not used.
func (m *MemoryStore) TakeAllInto(_ context.Context, reqs []Request, results []Result) (Decision, error) {
	if len(results) < len(reqs) {
		results = make([]Result, len(reqs))
	}
	var d Decision
	err := m.takeAll(reqs, results[:len(reqs)], &d)
	return d, err
}

// takeAll is TakeAll into results, or into a slab when results is nil. It
// sets *d only when it returns nil. The Decision goes through a pointer
// because it is large: copying it on every return costs more than a step.
func (m *MemoryStore) takeAll(reqs []Request, results []Result, d *Decision) error {
	n := len(reqs)
	if n == 0 {
		return errorf(ErrInvalidKey, "TakeAll with no requests")
	}
	var (
		tagsA   [takeAllStack]uint64
		ivsA    [takeAllStack]int64
		shardA  [takeAllStack]uint32
		idxA    [takeAllStack]int
		statesA [takeAllStack]State
		orderA  [takeAllStack]uint32
	)
	// Field by field: a composite literal is built aside and copied with
	// wide loads of narrow stores, which stalls (see setLimit).
	var sc takeScratch
	if n <= takeAllStack {
		sc.tags, sc.ivs, sc.shard, sc.idx = tagsA[:n], ivsA[:n], shardA[:n], idxA[:n]
		sc.states, sc.order = statesA[:n], orderA[:n]
	} else {
		sc.tags, sc.ivs, sc.shard, sc.idx = make([]uint64, n), make([]int64, n), make([]uint32, n), make([]int, n)
		sc.states, sc.order = make([]State, n), make([]uint32, n)
	}
	shards := 0
	for i := range reqs {
		r := &reqs[i]
		iv, err := validateTake(r.Key, &r.Limit, r.Cost)
		if err != nil {
			return err
		}
		for j := range i {
			if reqs[j].Key == r.Key {
				return errorf(ErrInvalidKey, "key %q appears twice in one take", truncKey(r.Key))
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
	err := m.takeAllLocked(now, reqs, &sc, results, d)
	for k := len(sc.order) - 1; k >= 0; k-- {
		m.shards[sc.order[k]].mu.Unlock()
	}
	return err
}

// takeAllLocked is TakeAll once the shards in sc.order are locked. It
// writes into results, or into the first shard's slab when results is nil.
func (m *MemoryStore) takeAllLocked(now int64, reqs []Request, sc *takeScratch, results []Result, d *Decision) error {
	first := &m.shards[sc.order[0]]
	if first.closed {
		return ErrClosed
	}
	if results == nil {
		results = first.results(len(reqs))
	}
	newKeys := false
	for i, t := range sc.tags {
		sh := &m.shards[sc.shard[i]]
		if sc.idx[i] = sh.find(t); sc.idx[i] >= 0 {
			sh.load(sc.idx[i], now, &sc.states[i])
		} else if !reqs[i].Peek {
			newKeys = true
		}
	}
	if newKeys {
		if full := m.makeRoom(now, reqs, sc); full != nil {
			m.denyFull(now, reqs, sc, results, full, d)
			return nil
		}
	}
	allowed, b := step(now, reqs, sc.ivs, sc.states, results)
	m.writeBack(sc, allowed)
	setDecision(d, results, b)
	return nil
}

// setDecision sets d to the decision bound by results[b], copying the
// Result field by field (see setLimit): results[b] has just been written.
func setDecision(d *Decision, results []Result, b int) {
	r, src := &d.Result, &results[b]
	r.Allowed, r.Remaining, r.RetryAfter, r.ResetAfter, r.Penalized = src.Allowed, src.Remaining, src.RetryAfter, src.ResetAfter, src.Penalized
	setLimit(&r.Limit, &src.Limit)
	d.Index, d.Results = b, results
}

// makeRoom reserves room for the take's new keys before anything is spent,
// so that a take is never allowed for a key that cannot then be stored. It
// returns the shards that have no room, and finds the keys' slots again
// (reclaiming and growing move them).
func (m *MemoryStore) makeRoom(now int64, reqs []Request, sc *takeScratch) (full []uint32) {
	for _, s := range sc.order {
		need := 0
		for i := range reqs {
			if sc.shard[i] == s && sc.idx[i] < 0 && !reqs[i].Peek {
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

// writeBack stores states after Step; sc.idx holds the keys' slots, or -1.
func (m *MemoryStore) writeBack(sc *takeScratch, inserted bool) {
	stale := false
	for i, t := range sc.tags {
		sh := &m.shards[sc.shard[i]]
		st := &sc.states[i]
		j := sc.idx[i]
		if stale {
			j = sh.find(t)
		}
		if j >= 0 && sh.slots[j].tag == t && plain(st) && st.TAT != 0 {
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
// the keys that could not be stored are denied, and nothing is spent. When
// a limit denies the take on its own as well, that denial is counted for
// the penalty box exactly as Step would.
func (m *MemoryStore) denyFull(now int64, reqs []Request, sc *takeScratch, results []Result, full []uint32, d *Decision) {
	peek := make([]Request, len(reqs))
	copy(peek, reqs)
	for i := range peek {
		peek[i].Peek = true
	}
	pstates := append([]State(nil), sc.states...)
	Step(now, peek, pstates, results)
	for i := range results {
		if !results[i].Allowed {
			// A limit denies too: run the real step, which spends nothing
			// but counts denials for penalty boxes.
			Step(now, reqs, sc.states, results)
			m.writeBack(sc, false)
			break
		}
	}
	b := -1
	for i := range reqs {
		if sc.idx[i] < 0 && !reqs[i].Peek && slices.Contains(full, sc.shard[i]) {
			results[i] = fullResult(reqs[i].Limit, m.shards[sc.shard[i]].fullWait(now))
		}
		if !results[i].Allowed && (b < 0 || results[i].RetryAfter > results[b].RetryAfter) {
			b = i
		}
	}
	m.reportFull()
	setDecision(d, results, b)
}

// fullResult is the denial of a new key that found no room.
func fullResult(l Limit, wait time.Duration) Result {
	return Result{Limit: l, RetryAfter: wait, ResetAfter: wait}
}

// Len returns the number of keys held, including expired keys not yet
// reclaimed.
func (m *MemoryStore) Len() int {
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
// ctx to be done, and releases the store's memory. Takes after Close return
// ErrClosed. Close may be called more than once.
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
	m.logger.Warn(msg, "when_full", m.whenFull.String(), "not_logged", m.dropped.Swap(0))
}
