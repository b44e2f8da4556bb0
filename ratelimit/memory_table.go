package ratelimit

import (
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// A shard is an open-addressing hash table with linear probing, of compact
// entries keyed by a key's hash. Go maps never shrink, so a map would keep
// the memory of a key flood forever; this table is rebuilt smaller when
// housekeeping empties it.
//
// An entry holds the hash and one timestamp. For the common state, a plain
// GCRA bucket, that timestamp is the TAT, which is also the state's Expire.
// A state with penalty-box fields set is marked with extFlag; its entry
// holds the state's Expire and the whole state lives in the side map ext.
// Either way, an entry whose timestamp is not after now is a key as good
// as new.
type entry struct {
	tag uint64 // the key's hash, 0 for an empty slot; bit 0 is extFlag
	exp int64  // Unix ns: the TAT of a plain state, else the state's Expire
}

const extFlag = 1

const (
	minSlots = 8
	// candidates is how many soonest-expiring keys a full scan remembers,
	// so that evictions cost a scan every candidates evictions rather than
	// every one.
	candidates = 32
)

type shardState struct {
	mu     sync.Mutex
	slots  []entry
	count  int
	max    int // keys this shard may hold
	minExp int64
	ext    map[uint64]state
	extMax int // largest len(ext) since ext was last rebuilt
	cands  []entry
	closed bool
}

// shard pads shardState to a multiple of 128 bytes, so that two shards'
// locks never share a cache line (nor an adjacent-line prefetch pair).
type shard struct {
	shardState
	_ [(128 - unsafe.Sizeof(shardState{})%128) % 128]byte
}

// home is the slot where a tag's probe starts.
func home(tag uint64, n int) int {
	hi, _ := bits.Mul64(tag&^extFlag, uint64(n))
	return int(hi)
}

// find returns the slot of tag (compared without extFlag), or -1.
func (sh *shard) find(tag uint64) int {
	n := len(sh.slots)
	if n == 0 {
		return -1
	}
	i := home(tag, n)
	for {
		e := sh.slots[i].tag
		if e&^extFlag == tag {
			return i
		}
		if e == 0 {
			return -1
		}
		if i++; i == n {
			i = 0
		}
	}
}

// load sets s to the state of slot i at now. It writes s field by field (a
// composite literal would be built aside and copied with wide loads of
// narrow stores, which stalls): it is on every take's path.
func (sh *shard) load(i int, now int64, s *state) {
	e := &sh.slots[i]
	switch {
	case e.exp <= now:
		s.TAT, s.PTAT, s.BoxUntil, s.Level, s.Expire = 0, 0, 0, 0, 0
	case e.tag&extFlag == 0:
		s.TAT, s.PTAT, s.BoxUntil, s.Level, s.Expire = e.exp, 0, 0, 0, e.exp
	default:
		*s = sh.ext[e.tag&^extFlag]
	}
}

// zero reports whether s is the zero State, without a 40-byte compare.
func zero(s *state) bool { return s.TAT|s.PTAT|s.BoxUntil|s.Level|s.Expire == 0 }

// plain reports whether s is a bare GCRA state that an entry holds alone.
func plainState(s *state) bool {
	return s.PTAT == 0 && s.BoxUntil == 0 && s.Level == 0 && s.Expire == s.TAT
}

// put stores s in slot i, which holds tag. It deletes the slot when s is
// the zero State and reports whether it did (which moves other entries).
func (sh *shard) put(i int, tag uint64, s *state) (deleted bool) {
	wasExt := sh.slots[i].tag&extFlag != 0
	if zero(s) {
		sh.deleteAt(i)
		return true
	}
	if plainState(s) {
		sh.slots[i] = entry{tag: tag, exp: s.TAT}
		if wasExt {
			delete(sh.ext, tag)
		}
		return false
	}
	sh.slots[i] = entry{tag: tag | extFlag, exp: s.Expire}
	sh.setExt(tag, s)
	return false
}

func (sh *shard) setExt(tag uint64, s *state) {
	if sh.ext == nil {
		sh.ext = make(map[uint64]state)
	}
	sh.ext[tag] = *s
	sh.extMax = max(sh.extMax, len(sh.ext))
}

// insert adds tag, absent from the table, with state s, unless s is zero.
// The caller has made room with reserve.
func (sh *shard) insert(tag uint64, s *state) {
	if zero(s) {
		return
	}
	sh.grow(sh.count + 1)
	n := len(sh.slots)
	i := home(tag, n)
	for sh.slots[i].tag != 0 {
		if i++; i == n {
			i = 0
		}
	}
	e := entry{tag: tag, exp: s.TAT}
	if !plainState(s) {
		e = entry{tag: tag | extFlag, exp: s.Expire}
		sh.setExt(tag, s)
	}
	sh.slots[i] = e
	sh.count++
	sh.minExp = min(sh.minExp, e.exp)
}

// deleteAt empties slot i, shifting back the entries after it that would
// otherwise become unreachable (linear probing needs no tombstones).
func (sh *shard) deleteAt(i int) {
	if sh.slots[i].tag&extFlag != 0 {
		delete(sh.ext, sh.slots[i].tag&^extFlag)
	}
	n := len(sh.slots)
	j := i
	for {
		if j++; j == n {
			j = 0
		}
		t := sh.slots[j].tag
		if t == 0 {
			break
		}
		k := home(t, n)
		// The entry at j stays when its home is cyclically in (i, j].
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
	sh.slots[i] = entry{}
	sh.count--
}

// maxLoad is the fill at which a table grows, as a fraction num/den.
const maxLoadNum, maxLoadDen = 3, 4

// reserve makes room for need new keys, reclaiming expired keys and then
// applying the full policy when the shard holds its maximum. It reports
// whether there is room. It never evicts a key whose tag is in keep.
func (sh *shard) reserve(m *MemoryStore, now int64, need int, keep []uint64) bool {
	if sh.count+need > sh.max {
		if now >= sh.minExp {
			sh.reclaim(now, keep)
		}
		for sh.count+need > sh.max {
			if !sh.evictSoonest(now, keep) {
				return false
			}
			if m.hooks.Evicted != nil {
				m.hooks.Evicted()
			}
			m.log("ratelimit: memory store full, evicted the key expiring soonest")
		}
	}
	sh.grow(sh.count + need)
	return true
}

// grow makes the table large enough for want keys.
func (sh *shard) grow(want int) {
	if want*maxLoadDen <= len(sh.slots)*maxLoadNum {
		return
	}
	size := max(minSlots, len(sh.slots)+len(sh.slots)/2)
	for want*maxLoadDen > size*maxLoadNum {
		size += size / 2
	}
	// At most maxSlots, and always with an empty slot to end probes.
	sh.resize(max(min(size, sh.maxSlots()), want+1))
}

// maxSlots is the table size that holds the shard's maximum keys.
func (sh *shard) maxSlots() int {
	return max(minSlots, (sh.max*maxLoadDen+maxLoadNum-1)/maxLoadNum+1)
}

// resize rebuilds the table with size slots.
func (sh *shard) resize(size int) {
	old := sh.slots
	sh.slots = make([]entry, size)
	for _, e := range old {
		if e.tag == 0 {
			continue
		}
		i := home(e.tag, size)
		for sh.slots[i].tag != 0 {
			if i++; i == size {
				i = 0
			}
		}
		sh.slots[i] = e
	}
	sh.cands = sh.cands[:0]
}

// reclaim deletes every entry that has expired at now, except those whose
// tag is in keep, recomputes minExp and returns how many it deleted.
func (sh *shard) reclaim(now int64, keep []uint64) int {
	before := sh.count
	low := int64(math.MaxInt64)
	for i := 0; i < len(sh.slots); {
		e := sh.slots[i]
		if e.tag != 0 && e.exp <= now && !slices.Contains(keep, e.tag&^extFlag) {
			// deleteAt may shift a later entry into i: look again.
			sh.deleteAt(i)
			continue
		}
		if e.tag != 0 {
			low = min(low, e.exp)
		}
		i++
	}
	sh.minExp = low
	return before - sh.count
}

// shrink rebuilds storage that has become mostly empty: the table when it
// is under 1/5 full, to half full, and the side map when it has shrunk to
// a quarter of its peak.
func (sh *shard) shrink() {
	if sh.count == 0 {
		sh.slots, sh.cands = nil, nil
		sh.ext, sh.extMax = nil, 0
		sh.minExp = math.MaxInt64
		return
	}
	if len(sh.slots) > minSlots && sh.count*5 < len(sh.slots) {
		sh.resize(max(minSlots, sh.count*2))
	}
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

func (sh *shard) release() {
	sh.slots, sh.cands, sh.ext = nil, nil, nil
	sh.count, sh.extMax = 0, 0
	sh.minExp = math.MaxInt64
}

// evictSoonest deletes the entry that expires soonest, among those of the
// last scan still unchanged, and never one whose tag is in keep. It
// reports whether it deleted one.
func (sh *shard) evictSoonest(now int64, keep []uint64) bool {
	for pass := 0; pass < 2; pass++ {
		if len(sh.cands) == 0 {
			if pass > 0 {
				return false
			}
			sh.collectCandidates(keep)
		}
		for len(sh.cands) > 0 {
			c := sh.cands[0]
			sh.cands = sh.cands[1:]
			i := sh.find(c.tag)
			if i < 0 || sh.slots[i].exp != c.exp || slices.Contains(keep, c.tag) {
				continue // gone, used since the scan, or part of this take
			}
			sh.deleteAt(i)
			return true
		}
	}
	return false
}

// collectCandidates remembers the entries that expire soonest, in order.
func (sh *shard) collectCandidates(keep []uint64) {
	c := sh.cands[:0]
	if cap(c) < candidates {
		c = make([]entry, 0, candidates)
	}
	worst := 0 // index in c of the latest expiry
	for _, e := range sh.slots {
		if e.tag == 0 || slices.Contains(keep, e.tag&^extFlag) {
			continue
		}
		e.tag &^= extFlag
		switch {
		case len(c) < candidates:
			c = append(c, e)
			if e.exp > c[worst].exp {
				worst = len(c) - 1
			}
		case e.exp < c[worst].exp:
			c[worst] = e
			for k := range c {
				if c[k].exp > c[worst].exp {
					worst = k
				}
			}
		}
	}
	slices.SortFunc(c, func(a, b entry) int {
		switch {
		case a.exp < b.exp:
			return -1
		case a.exp > b.exp:
			return 1
		}
		return 0
	})
	sh.cands = c
}

// fullWait is how long until the shard's soonest expiry frees a slot.
func (sh *shard) fullWait(now int64) time.Duration {
	if sh.minExp == math.MaxInt64 || sh.minExp <= now {
		return time.Microsecond
	}
	return time.Duration(sh.minExp - now)
}
