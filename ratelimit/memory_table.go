package ratelimit

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// A shard is an open-addressing hash table with linear probing, of 16-byte
// slots keyed by a key's hash. Go maps never shrink, so a map would keep the
// memory of a key flood forever; this table is rebuilt smaller when
// housekeeping empties it.
//
// # Slots
//
// A slot holds a tag and a state word. The tag is the key's hash with its
// low metaBits bits replaced by metadata for eviction (the class of the
// key's limit interval and how often the key has been spent); 0 marks an
// empty slot. The word holds one time and two flags:
//
//   - For the common state, a plain GCRA bucket, the time is the TAT, which
//     is also the state's Expire.
//   - A state with penalty-box fields set has extBit; the time is its
//     Expire, and the whole state lives in the side map ext, which only
//     the shard's lock holder touches.
//   - frozenBit makes the slot the property of whoever set it: a take of
//     several keys that must change them all at once, or a rebuild.
//
// A word whose time is not after now is a key as good as new.
//
// # Who changes what
//
// The words of plain states change without the lock: a take of one key
// reads the word, runs step and swaps in the new word (compare-and-swap),
// so takes on different keys never contend, and takes on one key contend
// on its cache line only. A take of several keys freezes their slots, in
// one global order so that such takes cannot deadlock, and writes each new
// word as it unfreezes it: all-or-nothing, like a lock per key. A word with
// extBit, a new key, or a state that needs the side map, takes the shard's
// lock first (before freezing anything) and freezes under it.
//
// The structure changes only under the lock: an insert fills an empty
// slot (word first, then tag), and nothing is ever deleted in place.
// Reclaiming, evicting and resizing rebuild the table: the rebuild marks
// the old table retiring, freezes every occupied slot (waiting for takes
// that hold one), copies what stays into a new table and publishes it.
// The old table stays frozen for good, so a take still holding it sees a
// frozen slot of a retiring table and starts again on the new one. A slot
// of a live table therefore never changes key, and a compare-and-swap on a
// word can only ever land on the key it was read for.
type slot struct {
	tag  atomic.Uint64
	word atomic.Uint64
}

const (
	frozenBit = 1 << 63
	extBit    = 1 << 62
	timeMask  = extBit - 1

	metaBits   = 8
	metaMask   = 1<<metaBits - 1
	classMask  = 63 // bits 0-5: bits.Len64 of the limit's interval in ns
	levelShift = 6  // bits 6-7: spent once, twice, ~16 times, ~256 times
	levelMask  = 3 << levelShift
)

// table is a shard's slots. len(slots) is 0 or at least minSlots, and a
// table always has an empty slot, which ends every probe.
type table struct {
	slots    []slot
	retiring atomic.Bool // being rebuilt: its frozen slots never thaw
}

// emptyTable is the table of an empty shard; it is never rebuilt.
var emptyTable = &table{}

const minSlots = 8

type shardState struct {
	mu     sync.Mutex
	tbl    atomic.Pointer[table]
	count  int // occupied slots of tbl, live or expired
	max    int // keys this shard may hold
	minExp int64
	ext    map[uint64]state
	extMax int // largest len(ext) since ext was last rebuilt
}

// shard pads shardState to a multiple of 128 bytes, so that two shards'
// locks never share a cache line (nor an adjacent-line prefetch pair).
type shard struct {
	shardState
	_ [(128 - unsafe.Sizeof(shardState{})%128) % 128]byte
}

// home is the slot where a hash's probe starts.
func home(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// find returns the index of the slot of hash h (its metadata bits zero)
// and its tag, or -1.
func (tb *table) find(h uint64) (int, uint64) {
	n := len(tb.slots)
	if n == 0 {
		return -1, 0
	}
	i := home(h, n)
	for {
		t := tb.slots[i].tag.Load()
		if t&^metaMask == h {
			return i, t
		}
		if t == 0 {
			return -1, 0
		}
		if i++; i == n {
			i = 0
		}
	}
}

// freeze sets frozenBit on s and returns the word it held, waiting while
// someone else holds it. Unless wait is set, it reports false, without
// freezing, when the table is retiring: its frozen slots will not thaw.
// A rebuild, which retires the table, waits.
func freeze(tb *table, s *slot, wait bool) (uint64, bool) {
	for spins := 0; ; spins++ {
		w := s.word.Load()
		if w&frozenBit != 0 {
			if !wait && tb.retiring.Load() {
				return 0, false
			}
			backoff(spins)
			continue
		}
		if s.word.CompareAndSwap(w, w|frozenBit) {
			return w, true
		}
	}
}

// backoff waits a little for a frozen slot: the holder is a take of a few
// keys, which never blocks while it holds one.
func backoff(spins int) {
	if spins > 8 {
		runtime.Gosched()
	}
}

// touched records on tag t of slot s that its key was spent again: the
// first time always, then about one time in 16 and one in 256, so the
// level approximates log16 of the spends. now supplies the randomness.
func touched(s *slot, t uint64, now int64) {
	switch lvl := t & levelMask >> levelShift; {
	case lvl == 0,
		lvl == 1 && now&(15<<4) == 0,
		lvl == 2 && now&(255<<4) == 0:
		s.tag.CompareAndSwap(t, t+1<<levelShift)
	}
}

// intervalClass is the metadata of a key spent under a limit of interval iv.
func intervalClass(iv int64) uint64 { return uint64(bits.Len64(uint64(iv))) & classMask }

// zero reports whether s is the zero state, without a 40-byte compare.
func zero(s *state) bool { return s.TAT|s.PTAT|s.BoxUntil|s.Level|s.Expire == 0 }

// plainState reports whether s is a bare GCRA state that a word holds alone.
func plainState(s *state) bool {
	return s.PTAT == 0 && s.BoxUntil == 0 && s.Level == 0 && s.Expire == s.TAT
}

// enc is the time field of a word for t: nanoseconds after the store's
// base, saturated at the field's ends (146 years apart).
func (m *MemoryStore) enc(t int64) uint64 {
	r := t - m.base
	switch {
	case r <= 0:
		return 0
	case r > timeMask:
		return timeMask
	}
	return uint64(r)
}

// dec is the time of word w.
func (m *MemoryStore) dec(w uint64) int64 { return int64(w&timeMask) + m.base }

// load sets s to the state of a slot of hash h whose word (not frozen) is
// w, at now. A word with extBit needs the shard's lock. It writes s field
// by field (a composite literal would be built aside and copied with wide
// loads of narrow stores, which stalls): it is on every take's path.
func (m *MemoryStore) load(sh *shard, h, w uint64, now int64, s *state) {
	t := m.dec(w)
	switch {
	case t <= now:
		s.TAT, s.PTAT, s.BoxUntil, s.Level, s.Expire = 0, 0, 0, 0, 0
	case w&extBit == 0:
		s.TAT, s.PTAT, s.BoxUntil, s.Level, s.Expire = t, 0, 0, 0, t
	default:
		*s = sh.ext[h]
	}
}

// word returns the word for state s of hash h, recording s in the side
// map when it needs it, and dropping it from there when not: the caller
// holds the lock when s or the slot's old word needs the map.
func (m *MemoryStore) word(sh *shard, h uint64, s *state, old uint64) uint64 {
	if plainState(s) {
		if old&extBit != 0 {
			delete(sh.ext, h)
		}
		return m.enc(s.TAT)
	}
	if sh.ext == nil {
		sh.ext = make(map[uint64]state)
	}
	sh.ext[h] = *s
	sh.extMax = max(sh.extMax, len(sh.ext))
	return extBit | m.enc(s.Expire)
}

// insert adds hash h, absent from the table, with state s and metadata
// class, unless s is zero. The caller holds the lock and has made room
// with reserve.
func (m *MemoryStore) insert(sh *shard, h, class uint64, s *state) {
	if zero(s) {
		return
	}
	tb := sh.tbl.Load()
	n := len(tb.slots)
	i := home(h, n)
	for tb.slots[i].tag.Load() != 0 {
		if i++; i == n {
			i = 0
		}
	}
	w := m.word(sh, h, s, 0)
	tb.slots[i].word.Store(w)
	tb.slots[i].tag.Store(h | class)
	sh.count++
	sh.minExp = min(sh.minExp, m.dec(w))
}

// maxLoad is the fill at which a table is rebuilt larger, as num/den.
const maxLoadNum, maxLoadDen = 3, 4

// reserve makes room for need new keys: when the table is too full, or the
// shard holds its maximum, it rebuilds the table without the keys whose
// state has expired and, if that is not enough, without the keys that
// matter least (see rank). It never drops a key whose hash is in keep. It
// reports whether there is room. The caller holds the lock.
func (m *MemoryStore) reserve(sh *shard, now int64, need int, keep []uint64) bool {
	tb := sh.tbl.Load()
	if sh.count+need <= sh.max {
		if (sh.count+need)*maxLoadDen > len(tb.slots)*maxLoadNum {
			// Only grow: keys that expired stay until housekeeping, so
			// that one coming back finds its slot (and no lock).
			m.rebuild(sh, now, need, keep, false)
		}
		return true
	}
	_, ok := m.rebuild(sh, now, need, keep, true)
	return ok
}

// maxSlots is the table size that holds the shard's maximum keys.
func (sh *shard) maxSlots() int {
	return max(minSlots, (sh.max*maxLoadDen+maxLoadNum-1)/maxLoadNum+1)
}

// evictBatch is how many keys beyond what it needs a full shard forgets at
// once, so that a flood of new keys costs one rebuild per evictBatch keys.
func (sh *shard) evictBatch() int { return max(1, sh.max/16) }

// Eviction ranks: lower goes first. Keys spent more often rank above keys
// spent less often, whatever their debt; within a level, keys owing fewer
// tokens rank lower; keys in a penalty box rank above all others, those
// whose box ends later higher.
const (
	debtBuckets = 48
	rankBoxed   = 4 * debtBuckets
	numRanks    = rankBoxed + 64
)

// rank is the eviction rank of a live key of tag t whose word (not frozen)
// is w, at now. The caller holds the lock.
func (m *MemoryStore) rank(sh *shard, t, w uint64, now int64) int {
	tat := m.dec(w)
	if w&extBit != 0 {
		s := sh.ext[t&^metaMask]
		if s.BoxUntil > now {
			return rankBoxed + min(63, bits.Len64(uint64(s.BoxUntil-now)>>30))
		}
		tat = s.TAT
	}
	// The debt in tokens, to within a factor of two: the class is the bit
	// length of the interval.
	var debt uint64
	if tat > now {
		debt = uint64(tat-now) >> (t & classMask)
	}
	return int(t&levelMask>>levelShift)*debtBuckets + min(debtBuckets-1, bits.Len64(debt))
}

// rebuild replaces the table with one holding the shard's keys but for
// those whose state has expired, when reclaim is set, and any it must
// forget to make room for need new keys (never those in keep), sized for
// them and need more at half load. It returns how many expired keys it
// dropped, and whether there is room for need. The caller holds the lock.
func (m *MemoryStore) rebuild(sh *shard, now int64, need int, keep []uint64, reclaim bool) (reclaimed int, ok bool) {
	old := sh.tbl.Load()
	if len(old.slots) > 0 {
		old.retiring.Store(true)
	}
	// Pass 1: freeze every key, count what stays, rank what may go.
	var hist [numRanks]int
	live, kept := 0, 0
	for i := range old.slots {
		s := &old.slots[i]
		t := s.tag.Load()
		if t == 0 {
			continue
		}
		w, _ := freeze(old, s, true)
		switch {
		case !reclaim:
			// Growing: every key stays, none is ranked.
			live++
		case slices.Contains(keep, t&^metaMask):
			kept++
		case m.dec(w) <= now:
			reclaimed++
		default:
			live++
			hist[m.rank(sh, t, w, now)]++
		}
	}
	ok = true
	evict := live + kept + need - sh.max
	switch {
	case evict > live:
		// Even forgetting every key but the take's own leaves no room:
		// forget nothing, and the take is denied.
		ok, evict, need = false, 0, 0
	case evict > 0:
		evict = min(live, evict+sh.evictBatch())
	default:
		evict = 0
	}
	// The cut: every key below rank cut goes, and the take soonest
	// expiring of rank cut.
	cut, take := numRanks, 0
	if evict > 0 {
		below := 0
		for r := range hist {
			if below+hist[r] >= evict {
				cut, take = r, evict-below
				break
			}
			below += hist[r]
		}
	}
	// When only some keys of rank cut go, they are the take soonest to
	// expire: those expiring by last.
	last := int64(math.MaxInt64)
	if take > 0 && take < hist[cut] {
		soon := make([]int64, 0, hist[cut])
		for i := range old.slots {
			s := &old.slots[i]
			t := s.tag.Load()
			if t == 0 || slices.Contains(keep, t&^metaMask) {
				continue
			}
			w := s.word.Load() &^ frozenBit
			if (m.dec(w) > now || !reclaim) && m.rank(sh, t, w, now) == cut {
				soon = append(soon, m.expiry(sh, t, w))
			}
		}
		slices.Sort(soon)
		last = soon[take-1]
	}
	// Pass 2: copy what stays.
	stay := live + kept - evict
	size := 0
	if stay+need > 0 {
		size = max(minSlots, 2*(stay+need))
		size = max(min(size, sh.maxSlots()), (stay+need)*maxLoadDen/maxLoadNum+1)
	}
	tb := emptyTable
	if size > 0 {
		tb = &table{slots: make([]slot, size)}
	}
	minExp := int64(math.MaxInt64)
	evicted := 0
	for i := range old.slots {
		s := &old.slots[i]
		t := s.tag.Load()
		if t == 0 {
			continue
		}
		h := t &^ metaMask
		w := s.word.Load() &^ frozenBit
		if reclaim && !slices.Contains(keep, h) {
			drop := m.dec(w) <= now
			if !drop && evict > 0 {
				switch r := m.rank(sh, t, w, now); {
				case r < cut:
					drop = true
				case r == cut && take > 0 && m.expiry(sh, t, w) <= last:
					drop, take = true, take-1
				}
				if drop {
					evicted++
				}
			}
			if drop {
				if w&extBit != 0 {
					delete(sh.ext, h)
				}
				continue
			}
		}
		n := len(tb.slots)
		j := home(h, n)
		for tb.slots[j].tag.Load() != 0 {
			if j++; j == n {
				j = 0
			}
		}
		tb.slots[j].word.Store(w)
		tb.slots[j].tag.Store(t)
		minExp = min(minExp, m.dec(w))
	}
	sh.tbl.Store(tb)
	sh.count = stay
	sh.minExp = minExp
	sh.shrinkExt()
	if evicted > 0 {
		m.reportEvicted(evicted)
	}
	return reclaimed, ok
}

// expiry is the time the state of a key of tag t with word w expires.
func (m *MemoryStore) expiry(sh *shard, t, w uint64) int64 {
	if w&extBit != 0 {
		return sh.ext[t&^metaMask].Expire
	}
	return m.dec(w)
}

// shrinkExt rebuilds the side map when it has shrunk to a quarter of its
// peak: Go maps never give back their buckets.
func (sh *shard) shrinkExt() {
	if sh.extMax >= 64 && len(sh.ext)*4 <= sh.extMax {
		ext := make(map[uint64]state, len(sh.ext))
		for k, v := range sh.ext {
			ext[k] = v
		}
		sh.ext, sh.extMax = ext, len(ext)
	}
	if len(sh.ext) == 0 {
		sh.ext, sh.extMax = nil, 0
	}
}

// sweep reclaims the keys whose state has expired, when there are enough
// of them to be worth a rebuild (a sixteenth of the keys, or all of them),
// or when the table is under a fifth full. It returns how many it
// reclaimed. The caller holds the lock.
func (m *MemoryStore) sweepShard(sh *shard, now int64) int {
	tb := sh.tbl.Load()
	if sh.count == 0 || now < sh.minExp && sh.count*5 >= len(tb.slots) {
		if sh.count == 0 && tb != emptyTable {
			sh.tbl.Store(emptyTable)
			sh.ext, sh.extMax = nil, 0
			sh.minExp = math.MaxInt64
		}
		return 0
	}
	expired := 0
	minExp := int64(math.MaxInt64)
	for i := range tb.slots {
		s := &tb.slots[i]
		if s.tag.Load() == 0 {
			continue
		}
		if t := m.dec(s.word.Load()); t <= now {
			expired++
		} else {
			minExp = min(minExp, t)
		}
	}
	if expired*16 < sh.count && expired < sh.count && sh.count*5 >= len(tb.slots) {
		// Not worth a rebuild yet; but the scan knows when it will be.
		sh.minExp = minExp
		return 0
	}
	reclaimed, _ := m.rebuild(sh, now, 0, nil, true)
	return reclaimed
}

// fullWait is how long until the shard's soonest expiry frees a slot.
func (sh *shard) fullWait(now int64) time.Duration {
	if sh.minExp == math.MaxInt64 || sh.minExp <= now {
		return time.Microsecond
	}
	return time.Duration(sh.minExp - now)
}
