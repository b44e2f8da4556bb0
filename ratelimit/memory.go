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
	// live keys, the keys that matter least are forgotten to make room
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
// # Concurrency
//
// A take of one key whose state is a plain bucket (the common case) takes
// no lock: it reads the key's slot, computes, and swaps the new state in
// with one compare-and-swap, so takes on different keys never wait for
// each other and use every core. A take of several keys freezes their
// slots, always in one order, computes, and writes each new state as it
// releases the slot, which makes it all-or-nothing under any concurrency.
// Only a new key, a key with penalty-box state, or a table that must grow,
// shrink or make room takes the lock of the key's shard.
//
// # Memory
//
// The store holds at most MaxKeys keys. A key whose state has expired (its
// bucket is full again and it has no penalty to remember) is identical to a
// key never seen, so housekeeping forgets it, and the storage shrinks when
// keys go: a million idle keys leave well under a megabyte behind. A live
// key costs 21 to 32 bytes: a 16-byte slot (a hash and one timestamp) in
// an open-addressing table rebuilt half full when 3/4 full, or when under
// 1/5 full; 23 bytes a key were measured with a million keys. Keys with
// penalty-box state, which are rare, keep the rest of their state in a
// side map (about 60 more bytes each). So the store never takes much more
// than MaxKeys × 32 bytes, plus the side map.
//
// # When full
//
// When new keys find their shard full of live keys, the store forgets the
// keys that matter least, a sixteenth of the shard at once (so that a
// flood costs one rebuild per sixteenth):
//
//   - keys spent once before keys spent twice, before keys spent about 16
//     times, before keys spent about 256 times: a flood of new keys, each
//     spent once or twice, pushes out its own kind first, never a key that
//     many requests share (a prefix, a country, a global limit), nor a
//     user's key that spent its burst over several requests;
//   - among those, keys owing fewer tokens first (a forgotten key gets back
//     exactly what it owed: at most that much over-admission), and of
//     equal debt, those expiring soonest;
//   - keys in a penalty box last of all.
//
// What is traded when even that cannot hold: an attacker who spends each
// of its keys as often, and as deep, as real users spend theirs ranks with
// them, and then the users' keys owing the fewest tokens go too; when a
// shard holds nothing but penalty boxes, the boxes ending soonest go. The
// store never refuses a new key to keep an old one, except when the keys
// of one take alone fill a shard (a store far smaller than its traffic),
// where the take is denied.
//
// # Keys are hashed
//
// Keys are not stored: each is reduced to a 56-bit hash with a random seed
// chosen when the store is created ([hash/maphash]), so keys of any length
// cost the same and an attacker who does not know the seed cannot make two
// keys collide on purpose. Two distinct keys collide by chance with
// probability 2^-56 per pair: for a store holding a million keys at once,
// about one chance in 150,000 that any two of them do. Keys that collide
// share one state, which only makes their limits stricter, never looser.
//
// # Time
//
// The store keeps times as nanoseconds within 73 years either side of its
// creation: a clock (MemoryConfig.Now) outside that span gives wrong
// answers.
type MemoryStore struct {
	seed      maphash.Seed
	shards    []shard
	mask      uint64
	now       func() time.Time
	epoch     time.Time // with a monotonic reading
	epochNano int64
	base      int64 // the time a word's time field counts from
	closed    atomic.Bool
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
	m.base = m.nowNano() - 1<<61
	per, rem := maxKeys/shards, maxKeys%shards
	for i := range m.shards {
		sh := &m.shards[i]
		sh.max = per
		if i < rem {
			sh.max++
		}
		sh.minExp = math.MaxInt64
		sh.tbl.Store(emptyTable)
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

// hash returns the hash of key as stored: its metadata bits are zero, and
// it is never 0, which marks an empty slot.
func (m *MemoryStore) hash(key string) uint64 {
	h := maphash.String(m.seed, key) &^ metaMask
	if h == 0 {
		h = 1 << metaBits
	}
	return h
}

func (m *MemoryStore) shardOf(h uint64) *shard { return &m.shards[(h>>metaBits)&m.mask] }

// Take takes one request: it is TakeAll of r alone. The context is not
// used: the memory store never blocks on I/O.
func (m *MemoryStore) Take(_ context.Context, r Request) (Result, error) {
	if !r.plain() {
		return m.takeOne(&r, false)
	}
	iv, err := validateRequest(&r)
	if err != nil {
		return Result{}, err
	}
	if m.closed.Load() {
		return Result{}, errClosed
	}
	h := m.hash(r.Key)
	sh := m.shardOf(h)
	n := r.cost()
	// The clock first: reading it waits for loads in flight, so it costs
	// least before the key's slot is loaded.
	now := m.nowNano()
	// The lock-free path: a plain state, swapped in place.
	for spins := 0; ; spins++ {
		tb := sh.tbl.Load()
		j, t := tb.find(h)
		if j < 0 {
			break // a new key: the lock
		}
		s := &tb.slots[j]
		w := s.word.Load()
		if w&frozenBit != 0 {
			if tb.retiring.Load() {
				break // the table is being rebuilt: the lock waits for it
			}
			backoff(spins)
			continue
		}
		if w&extBit != 0 {
			break // the side map: the lock
		}
		var st state
		if tat := m.dec(w); tat > now {
			st.TAT, st.Expire = tat, tat
		}
		var res Result
		stepOne(now, &r.Limit, int64(iv), n, &st, &res)
		if !plainState(&st) {
			break // a penalty to count: the side map, under the lock
		}
		nw := m.enc(st.TAT)
		if nw == w {
			return res, nil // denied: nothing changes
		}
		if s.word.CompareAndSwap(w, nw) {
			touched(s, t, now)
			return res, nil
		}
	}
	return m.takeOne(&r, true)
}

// takeOne is TakeAll of r alone, with the shard's lock from the start
// when lock is set.
func (m *MemoryStore) takeOne(r *Request, lock bool) (Result, error) {
	var res [1]Result
	_, _, err := m.takeAll([]Request{*r}, res[:], lock)
	return res[0], err
}

// TakeAll takes every request atomically, writing their results into
// results[:len(reqs)] (see Store). The context is not used.
func (m *MemoryStore) TakeAll(_ context.Context, reqs []Request, results []Result) (allowed bool, binding int, err error) {
	if len(results) < len(reqs) {
		return false, 0, invalidRequest("%d results for %d requests", len(results), len(reqs))
	}
	return m.takeAll(reqs, results[:len(reqs)], false)
}

// A take's scratch space lives on the stack for up to takeAllStack requests
// (the five limits of package verify: per number, IP, block, country and
// overall), and, in a second frame that only larger takes pay to zero, for
// up to takeAllMid (verify's limits with its cooldown, a refusals peek and a
// pumping monitor's counters: 12 to 15). Larger takes allocate it.
const (
	takeAllStack = 5
	takeAllMid   = 16
)

// takeKeys is what a take computes before it looks at the store, one
// entry per request.
type takeKeys struct {
	hashes []uint64
	ivs    []int64  // the limits' Intervals
	shard  []uint32 // index of the key's shard
	owner  []int    // first request with the same hash (itself, but for collisions)
	// collide is set when two requests share a hash.
	collide bool
}

// smallTake and midTake back the scratch space of takes of up to
// takeAllStack and takeAllMid requests.
type (
	smallTake struct {
		hashes [takeAllStack]uint64
		ivs    [takeAllStack]int64
		shard  [takeAllStack]uint32
		owner  [takeAllStack]int
		tbs    [takeAllStack]*table
		idx    [takeAllStack]int
		tags   [takeAllStack]uint64
		words  [takeAllStack]uint64
		states [takeAllStack]state
		seq    [takeAllStack]int
	}
	midTake struct {
		hashes [takeAllMid]uint64
		ivs    [takeAllMid]int64
		shard  [takeAllMid]uint32
		owner  [takeAllMid]int
		tbs    [takeAllMid]*table
		idx    [takeAllMid]int
		tags   [takeAllMid]uint64
		words  [takeAllMid]uint64
		states [takeAllMid]state
		seq    [takeAllMid]int
	}
)

// takeAll is TakeAll into results, which has one entry per request; with
// lockAll, it takes the locks of all the keys' shards from the start.
func (m *MemoryStore) takeAll(reqs []Request, results []Result, lockAll bool) (allowed bool, binding int, err error) {
	n := len(reqs)
	if n == 0 {
		return false, 0, invalidRequest("a take of no requests")
	}
	if n > takeAllStack {
		return m.takeAllLarger(reqs, results, lockAll)
	}
	var a smallTake
	k := takeKeys{hashes: a.hashes[:n], ivs: a.ivs[:n], shard: a.shard[:n], owner: a.owner[:n]}
	f := takeFound{tbs: a.tbs[:n], idx: a.idx[:n], tags: a.tags[:n], words: a.words[:n], states: a.states[:n], seq: a.seq[:n]}
	return m.takeAllWith(reqs, results, lockAll, &k, &f)
}

// takeAllLarger is takeAll for more than takeAllStack requests: its own
// frame, so that smaller takes do not zero its stack space.
//
//go:noinline
func (m *MemoryStore) takeAllLarger(reqs []Request, results []Result, lockAll bool) (allowed bool, binding int, err error) {
	n := len(reqs)
	var k takeKeys
	var f takeFound
	if n <= takeAllMid {
		var a midTake
		k = takeKeys{hashes: a.hashes[:n], ivs: a.ivs[:n], shard: a.shard[:n], owner: a.owner[:n]}
		f = takeFound{tbs: a.tbs[:n], idx: a.idx[:n], tags: a.tags[:n], words: a.words[:n], states: a.states[:n], seq: a.seq[:n]}
		return m.takeAllWith(reqs, results, lockAll, &k, &f)
	}
	k = takeKeys{hashes: make([]uint64, n), ivs: make([]int64, n), shard: make([]uint32, n), owner: make([]int, n)}
	f = takeFound{tbs: make([]*table, n), idx: make([]int, n), tags: make([]uint64, n), words: make([]uint64, n), states: make([]state, n), seq: make([]int, n)}
	return m.takeAllWith(reqs, results, lockAll, &k, &f)
}

// takeAllWith is takeAll with its scratch space, one entry per request.
func (m *MemoryStore) takeAllWith(reqs []Request, results []Result, lockAll bool, k *takeKeys, f *takeFound) (allowed bool, binding int, err error) {
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
		h := m.hash(r.Key)
		k.hashes[i], k.ivs[i], k.shard[i], k.owner[i] = h, int64(iv), uint32((h>>metaBits)&m.mask), i
		for j := range i {
			if k.hashes[j] == h {
				k.owner[i], k.collide = k.owner[j], true // two keys, one hash: one state
				break
			}
		}
	}
	if m.closed.Load() {
		return false, 0, errClosed
	}
	var locks uint64 // requests whose shard's lock the take needs
	if !lockAll && !k.collide {
		done, allowed, binding, missing := m.takeFast(reqs, results, k, f)
		if done {
			return allowed, binding, nil
		}
		locks = missing
	} else {
		f.tbs[0] = nil // nothing looked up
	}
	return m.takeSlow(reqs, results, k, f, lockAll, locks)
}

// takeFound is what a take finds in the store, one entry per request.
type takeFound struct {
	tbs    []*table // table the key was looked up in
	idx    []int    // slot of the key in it, or -1
	tags   []uint64 // the slot's tag
	words  []uint64 // the slot's word when frozen (owners)
	states []state
	seq    []int // owners with a slot, in freezing order (the first nseq)
}

// takeFast is a take without any lock: every key is held, in a plain
// state, and stays plain. It reports not done, having changed nothing, when
// that is not so, with the requests (of the first 64) whose keys are new
// or have side-map state.
func (m *MemoryStore) takeFast(reqs []Request, results []Result, k *takeKeys, f *takeFound) (done, allowed bool, binding int, missing uint64) {
	tbs, idx, tags, words, states, seq := f.tbs, f.idx, f.tags, f.words, f.states, f.seq
	now := m.nowNano() // before the loads: the clock waits for loads in flight
	// Look the keys up, and order them by shard and slot.
	for i := range reqs {
		tb := m.shards[k.shard[i]].tbl.Load()
		j, t := tb.find(k.hashes[i])
		tbs[i], idx[i], tags[i] = tb, j, t
		if j < 0 || tb.slots[j].word.Load()&extBit != 0 {
			missing |= 1 << (i & 63)
			continue
		}
		if missing != 0 {
			continue
		}
		p := i
		for p > 0 {
			q := seq[p-1]
			if k.shard[q] < k.shard[i] || k.shard[q] == k.shard[i] && idx[q] < j {
				break
			}
			seq[p] = q
			p--
		}
		seq[p] = i
	}
	if missing != 0 {
		return false, false, 0, missing
	}
	// Freeze them in that order, reading their states.
	for f, i := range seq {
		w, ok := freeze(tbs[i], &tbs[i].slots[idx[i]], false)
		if ok && w&extBit == 0 {
			words[i] = w
			continue
		}
		if ok {
			tbs[i].slots[idx[i]].word.Store(w)
		}
		for _, i := range seq[:f] {
			tbs[i].slots[idx[i]].word.Store(words[i])
		}
		return false, false, 0, 0
	}
	for i := range states {
		st := &states[i]
		if t := m.dec(words[i]); t > now {
			st.TAT, st.PTAT, st.BoxUntil, st.Level, st.Expire = t, 0, 0, 0, t
		} else {
			st.TAT, st.PTAT, st.BoxUntil, st.Level, st.Expire = 0, 0, 0, 0, 0
		}
	}
	allowed, binding = step(now, reqs, k.ivs, states, results)
	for i := range states {
		if !plainState(&states[i]) {
			// A penalty to count: the side map, under the lock.
			for _, i := range seq {
				tbs[i].slots[idx[i]].word.Store(words[i])
			}
			return false, false, 0, 0
		}
	}
	for i := range states {
		s := &tbs[i].slots[idx[i]]
		nw := m.enc(states[i].TAT)
		if nw != words[i] {
			touched(s, tags[i], now)
		}
		s.word.Store(nw)
	}
	return true, allowed, binding, 0
}

// takeScratch is the working state of a take under locks, one entry per
// request unless said otherwise.
type takeScratch struct {
	takeKeys
	takeFound
	ord      []int    // position of the key's shard in order
	frozen   []bool   // the slot is frozen by this take (owners)
	homeless []bool   // a new key that found no room
	order    []uint32 // the shards involved, ascending: the locking order
	need     []bool   // per order entry: the take needs its lock
	locked   []bool   // per order entry: the take holds its lock
	nseq     int      // the length of seq
	// looked is set while the lookups of keys in shards the take has not
	// locked are those takeFast made: good until an attempt fails.
	looked bool
}

// takeSlow is a take that takes the locks it needs: for new keys, keys
// with side-map state, and tables being rebuilt; locks marks the requests
// (of the first 64) already known to need their shard's lock.
func (m *MemoryStore) takeSlow(reqs []Request, results []Result, k *takeKeys, f *takeFound, lockAll bool, locks uint64) (allowed bool, binding int, err error) {
	n := len(reqs)
	var (
		ordA    [takeAllMid]int
		frozenA [takeAllMid]bool
		homeA   [takeAllMid]bool
		orderA  [takeAllMid]uint32
		needA   [takeAllMid]bool
		lockedA [takeAllMid]bool
	)
	// Field by field: a composite literal is built aside and copied with
	// wide loads of narrow stores, which stalls on store forwarding.
	var sc takeScratch
	sc.takeKeys, sc.takeFound = *k, *f
	sc.looked = f.tbs[0] != nil
	if n <= takeAllMid { // 16 bytes a request: cheap to zero
		sc.ord, sc.frozen, sc.homeless = ordA[:n], frozenA[:n], homeA[:n]
		sc.order, sc.need, sc.locked = orderA[:n], needA[:n], lockedA[:n]
	} else {
		sc.ord, sc.frozen, sc.homeless = make([]int, n), make([]bool, n), make([]bool, n)
		sc.order, sc.need, sc.locked = make([]uint32, n), make([]bool, n), make([]bool, n)
	}
	// The shards, ascending: the locking order.
	shards := 0
	for i := range reqs {
		s := sc.shard[i]
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
	sc.order, sc.need, sc.locked = sc.order[:shards], sc.need[:shards], sc.locked[:shards]
	for i := range reqs {
		k := 0
		for sc.order[k] != sc.shard[i] {
			k++
		}
		sc.ord[i] = k
	}
	for i := range reqs {
		if lockAll || i < 64 && locks&(1<<i) != 0 {
			sc.need[sc.ord[i]] = true
		}
	}
	defer m.unlockAll(&sc)
	for {
		if m.closed.Load() {
			return false, 0, errClosed
		}
		if done, allowed, binding := m.tryTake(reqs, results, &sc); done {
			return allowed, binding, nil
		}
	}
}

func (m *MemoryStore) unlockAll(sc *takeScratch) {
	for k := len(sc.order) - 1; k >= 0; k-- {
		if sc.locked[k] {
			m.shards[sc.order[k]].mu.Unlock()
			sc.locked[k] = false
		}
	}
}

// lockNeeded takes the locks sc.need asks for, in ascending shard order:
// when it lacks one below a lock it holds, it lets all go first.
func (m *MemoryStore) lockNeeded(sc *takeScratch) {
	for k := range sc.order {
		if sc.need[k] && !sc.locked[k] {
			for j := k + 1; j < len(sc.order); j++ {
				if sc.locked[j] {
					m.unlockAll(sc)
					break
				}
			}
			break
		}
	}
	for k, s := range sc.order {
		if sc.need[k] && !sc.locked[k] {
			m.shards[s].mu.Lock()
			sc.locked[k] = true
		}
	}
}

// tryTake makes one attempt at a take. It reports done with the take's
// outcome, or not done when it learnt that it needs a lock it lacks, or
// met a table being rebuilt, having changed nothing.
func (m *MemoryStore) tryTake(reqs []Request, results []Result, sc *takeScratch) (done, allowed bool, binding int) {
	// Look the keys up; a new key, or one with side-map state, needs its
	// shard's lock, and the lookups are only good under it.
	for {
		if m.lacksLock(sc) {
			m.lockNeeded(sc)
		}
		wanted := false
		for i := range reqs {
			if sc.owner[i] != i || sc.looked && !sc.locked[sc.ord[i]] {
				continue // takeFast's lookup stands until freezing says otherwise
			}
			tb := m.shards[sc.shard[i]].tbl.Load()
			j, t := tb.find(sc.hashes[i])
			sc.tbs[i], sc.idx[i], sc.tags[i] = tb, j, t
			if k := sc.ord[i]; (j < 0 || tb.slots[j].word.Load()&extBit != 0) && !sc.need[k] {
				sc.need[k], wanted = true, true
			}
		}
		if !wanted {
			break
		}
	}
	sc.looked = false // a failed attempt looks everything up again
	now := m.nowNano()
	// Room for new keys, in the locked shards, before anything is frozen
	// (a rebuild waits for frozen slots).
	var full []uint32
	var needA [takeAllMid]int
	need := needA[:]
	if len(sc.order) > len(need) {
		need = make([]int, len(sc.order))
	}
	for i := range reqs {
		if sc.idx[i] < 0 && sc.owner[i] == i && (storesNew(&reqs[i]) || sc.collide && m.storesNewOwned(reqs, sc, i)) {
			need[sc.ord[i]]++
		}
	}
	for k, s := range sc.order {
		if !sc.locked[k] || need[k] == 0 {
			continue
		}
		sh := &m.shards[s]
		before := sh.tbl.Load()
		if !m.reserve(sh, now, need[k], sc.hashes) {
			full = append(full, s)
		}
		if tb := sh.tbl.Load(); tb != before {
			for i := range reqs {
				if sc.owner[i] == i && sc.shard[i] == s {
					sc.tbs[i] = tb
					sc.idx[i], sc.tags[i] = tb.find(sc.hashes[i])
				}
			}
		}
	}
	// Freeze the keys' slots in one global order: by shard, then slot.
	sc.nseq = 0
	for i := range reqs {
		if sc.owner[i] != i || sc.idx[i] < 0 {
			continue
		}
		k := sc.nseq
		sc.nseq++
		for k > 0 && sc.before(i, sc.seq[k-1]) {
			sc.seq[k] = sc.seq[k-1]
			k--
		}
		sc.seq[k] = i
	}
	for _, i := range sc.seq[:sc.nseq] {
		w, ok := freeze(sc.tbs[i], &sc.tbs[i].slots[sc.idx[i]], false)
		if !ok {
			m.thaw(sc)
			return false, false, 0 // a table being rebuilt: look up again
		}
		sc.words[i], sc.frozen[i] = w, true
		if k := sc.ord[i]; w&extBit != 0 && !sc.locked[k] {
			sc.need[k] = true
			m.thaw(sc)
			return false, false, 0
		}
	}
	now = max(now, m.nowNano())
	// The states, and the keys that found no room: they deny, as if in a
	// box until their shard's soonest expiry, and nothing is spent.
	for i := range reqs {
		o := sc.owner[i]
		sh := &m.shards[sc.shard[i]]
		sc.homeless[i] = false
		switch {
		case sc.idx[o] >= 0:
			m.load(sh, sc.hashes[i], sc.words[o], now, &sc.states[i])
		case storesNew(&reqs[i]) && slices.Contains(full, sc.shard[i]):
			sc.homeless[i] = true
			sc.states[i] = state{BoxUntil: now + int64(sh.fullWait(now))}
		default:
			sc.states[i] = state{}
		}
	}
	if full == nil {
		allowed, binding = step(now, reqs, sc.ivs, sc.states, results)
	} else {
		allowed, binding = stepHomeless(now, reqs, sc, results)
	}
	// A state that needs the side map needs the lock of its shard.
	for i := range reqs {
		if k := sc.ord[i]; !sc.locked[k] && !plainState(&sc.states[i]) && sc.idx[sc.owner[i]] >= 0 {
			sc.need[k] = true
			m.thaw(sc)
			return false, false, 0
		}
	}
	// Write back, thawing the slots, the last request of a hash giving its
	// state; insert the new keys of an allowed take.
	for i := range reqs {
		o := sc.owner[i]
		if sc.collide && sc.lastOf(i) != i {
			continue
		}
		sh := &m.shards[sc.shard[i]]
		st := &sc.states[i]
		switch {
		case sc.idx[o] >= 0:
			s := &sc.tbs[o].slots[sc.idx[o]]
			nw := m.word(sh, sc.hashes[o], st, sc.words[o])
			if nw != sc.words[o] {
				touched(s, sc.tags[o], now)
			}
			s.word.Store(nw)
			sc.frozen[o] = false
		case allowed && !zero(st):
			m.insert(sh, sc.hashes[o], intervalClass(sc.ivs[i]), st)
		}
	}
	if full != nil {
		for i := range reqs {
			if sc.homeless[i] {
				results[i] = fullResult(m.shards[sc.shard[i]].fullWait(now))
			}
		}
		m.reportFull()
	}
	return true, allowed, binding
}

// stepHomeless is step for a take with keys that found no room: they
// deny, even records, which otherwise never do.
func stepHomeless(now int64, reqs []Request, sc *takeScratch, results []Result) (allowed bool, binding int) {
	// A copy without the keys, which step does not read: keys then never
	// escape to the heap.
	var rqA [takeAllStack]Request
	rq := rqA[:]
	if len(reqs) > len(rqA) {
		rq = make([]Request, len(reqs))
	}
	rq = rq[:len(reqs)]
	for i := range reqs {
		r := &reqs[i]
		rq[i] = Request{Limit: r.Limit, Cost: r.Cost, Peek: r.Peek, Record: r.Record && !sc.homeless[i]}
	}
	return step(now, rq, sc.ivs, sc.states, results)
}

// lacksLock reports whether the take needs a lock it does not hold.
func (m *MemoryStore) lacksLock(sc *takeScratch) bool {
	for k := range sc.order {
		if sc.need[k] && !sc.locked[k] {
			return true
		}
	}
	return false
}

// before reports whether request i's slot comes before request j's in the
// freezing order.
func (sc *takeScratch) before(i, j int) bool {
	if sc.shard[i] != sc.shard[j] {
		return sc.shard[i] < sc.shard[j]
	}
	return sc.idx[i] < sc.idx[j]
}

// lastOf returns the last request sharing request i's hash.
func (sc *takeScratch) lastOf(i int) int {
	last := i
	for j := i + 1; j < len(sc.owner); j++ {
		if sc.owner[j] == sc.owner[i] {
			last = j
		}
	}
	return last
}

// storesNewOwned reports whether any request sharing owner o's hash
// creates state for a new key.
func (m *MemoryStore) storesNewOwned(reqs []Request, sc *takeScratch, o int) bool {
	for i := range reqs {
		if sc.owner[i] == o && storesNew(&reqs[i]) {
			return true
		}
	}
	return false
}

// thaw gives the slots the take froze their words back.
func (m *MemoryStore) thaw(sc *takeScratch) {
	for _, o := range sc.seq[:sc.nseq] {
		if sc.frozen[o] {
			sc.tbs[o].slots[sc.idx[o]].word.Store(sc.words[o])
			sc.frozen[o] = false
		}
	}
}

// storesNew reports whether r creates its key's state when the key is new:
// it spends (a peek spends nothing, a refund has nothing to give back to).
func storesNew(r *Request) bool { return !r.Peek && r.Cost >= 0 }

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
// when SweepInterval is negative. It locks one shard at a time, and
// reclaims a shard's expired keys once they are a sixteenth of its keys.
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
		sh.mu.Lock()
		if !m.closed.Load() {
			reclaimed += m.sweepShard(sh, m.nowNano())
		}
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
	m.closed.Store(true)
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
		sh.tbl.Store(emptyTable)
		sh.count, sh.minExp = 0, math.MaxInt64
		sh.ext, sh.extMax = nil, 0
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

func (m *MemoryStore) reportEvicted(n int) {
	if m.hooks.Evicted != nil {
		for range n {
			m.hooks.Evicted()
		}
	}
	m.log("ratelimit: memory store full, forgot the keys that mattered least")
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
