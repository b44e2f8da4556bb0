package pumping

import (
	"context"
	"fmt"
	"hash/maphash"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// block is a block in force.
type block struct {
	scope  Scope
	key    string
	signal Signal
	strike int
	start  int64
	until  int64
	region string // the region of a range or country block
	shadow bool   // decided in shadow mode: recorded, not enforced
	// refusals counts distinct numbers refused while the block held;
	// lastRefused is the hash of the last one.
	refusals    int
	lastRefused uint64
}

func (b *block) public() Block {
	return Block{Scope: b.scope, Key: b.key, Signal: b.signal, Strike: b.strike, Until: time.Unix(0, b.until).UTC(), Shadow: b.shadow}
}

// strike is what the monitor remembers of a key's last block, for
// escalation and for the probation after it.
type strike struct {
	n     int
	last  int64 // when the last block started
	level int32 // the level it tripped at, in sends
	leak  int64 // ns for one send to drain from that counter
	// pardon, when set, is the end of a pardon given by Unblock: the key
	// is not blocked again until then.
	pardon int64
	// hit is true when the last block was hit while it held: the pumper
	// was still at it.
	hit bool
}

// blockKey is the key of a block in m.blocks and m.strikes.
func blockKey(s Scope, key string) string {
	return string(rune('0'+s)) + key
}

// step returns the strike number and duration of a new block of bk.
// m.mu must be held.
func (m *Monitor) step(bk string, now int64, scope Scope) (int, time.Duration) {
	n := 1
	if st, ok := m.strikes[bk]; ok && now-st.last < int64(m.strikeMem) {
		n = st.n + 1
	}
	ds := m.durations
	if scope == ScopeCountry {
		ds = m.brakes
	}
	return n, ds[min(n, len(ds))-1]
}

// probation returns the level a key blocked before must reach to be
// blocked again: the level of its last block, drained since, plus two (a
// legitimate user of the range gets a code; a second unconfirmed send
// blocks the range again), or any level when that block was hit while it
// held. It returns 0 for a
// key without a recent block, and -1 for a pardoned key. m.mu must be
// held.
func (m *Monitor) probation(bk string, now int64) int32 {
	st, ok := m.strikes[bk]
	if !ok {
		return 0
	}
	if st.pardon > now {
		return -1
	}
	if now-st.last >= int64(m.strikeMem) || st.hit {
		return 0
	}
	left := m.left(bk, now)
	if left <= 0 {
		return 0
	}
	return left + 2
}

// trip is a signal that tripped.
type trip struct {
	scope     Scope
	key       string
	signal    Signal
	level     int32
	threshold int32
	leak      time.Duration
	base      Baseline
	region    string
}

// decide blocks t.key unless it is blocked already, pardoned, or on
// probation with a level too low. It returns the block that holds.
func (m *Monitor) decide(now int64, s *Send, t trip) (*block, bool) {
	bk := blockKey(t.scope, t.key)
	m.mu.Lock()
	if b, ok := m.blocks[bk]; ok && b.until > now {
		m.mu.Unlock()
		return b, false
	}
	if p := m.probation(bk, now); p < 0 || (t.signal != SignalRefused && t.level < p) {
		m.mu.Unlock()
		return nil, false
	}
	n, d := m.step(bk, now, t.scope)
	// The sends this block accounts for that the last one of the key did
	// not, for the wider ranges.
	newly := t.level - m.left(bk, now)
	shadow := m.shadow.Load()
	b := &block{scope: t.scope, key: t.key, signal: t.signal, strike: n, start: now, until: now + int64(d), region: t.region, shadow: shadow}
	m.putBlock(bk, b, now)
	m.strikes[bk] = strike{n: n, last: now, level: t.level, leak: int64(t.leak)}
	m.boundStrikes(now)
	m.mu.Unlock()
	if t.scope == ScopeRange && !shadow {
		_ = m.set.Add(numbers.Entry{Prefix: t.key, Note: "pumping: " + string(t.signal), Expires: time.Unix(0, now+int64(d))})
	}
	m.record(Decision{
		Time: time.Unix(0, now).UTC(), Scope: t.scope, Key: t.key, Signal: t.signal,
		Level: int(t.level), Threshold: int(t.threshold), Baseline: t.base, Strike: n,
		For: d, Until: time.Unix(0, now+int64(d)).UTC(), Shadow: shadow,
		Region: t.region, Masked: s.Number.String(),
	})
	if t.scope == ScopeRange && t.signal != SignalRefused {
		m.widen(now, s, t, n == 1, newly)
	}
	return b, true
}

// left returns the level of a key's last block, drained since. m.mu must
// be held.
func (m *Monitor) left(bk string, now int64) int32 {
	st, ok := m.strikes[bk]
	if !ok || st.pardon > now {
		return 0
	}
	return int32(max(int64(st.level)-(now-st.last)/max(st.leak, 1), 0))
}

// widenAfter is how many ranges blocked inside a wider range within
// WidenWithin block the wider range.
const widenAfter = 3

// maxDrop is the widest range the monitor blocks: the number without its
// last 6 digits (a million numbers, a carrier's allocation).
const maxDrop = 6

// widen accounts for a block of range t.key (of the number of s) in each
// of its wider ranges, up to maxDrop digits: the sends it explains are not
// counted again against them, and, for a first block (first), it counts
// one more blocked range in each and blocks the narrowest wider range that
// holds widenAfter recently blocked ranges. It also counts a first block
// for the region, which brakes a region whose ranges fall one after the
// other.
func (m *Monitor) widen(now int64, s *Send, t trip, first bool, explained int32) {
	drop := len(s.Number.E164) - len(t.key)
	var parent trip
	m.mu.Lock()
	for d := drop + 1; d <= maxDrop; d++ {
		rg, ok := rangeOf(s, d)
		if !ok {
			break
		}
		f := m.family[rg]
		if f.until <= now {
			f.n = 0
		}
		f.explained = f.explainedAt(now) + float64(max(explained, 0))
		f.at = now
		if first {
			f.n++
			f.until = now + int64(m.widenWithin)
		}
		f.until = max(f.until, now+int64(f.explained*float64(kinds[kindRange6].leak)))
		m.family[rg] = f
		if f.n >= widenAfter && parent.key == "" && first {
			parent = trip{scope: ScopeRange, key: rg, signal: SignalNeighbours, level: int32(f.n), threshold: widenAfter,
				leak: kinds[kindRange6].leak, base: t.base, region: t.region}
		}
	}
	m.boundFamily(now)
	m.nFamily.Store(int32(len(m.family)))
	m.mu.Unlock()
	if parent.key != "" {
		m.decide(now, s, parent)
	}
	if first {
		m.hops(now, s, t)
	}
}

// family is what the monitor knows of the blocked ranges inside a wider
// range: how many were blocked lately, and how many unconfirmed sends
// they explain.
type family struct {
	n         int
	until     int64 // when the entry may be forgotten
	explained float64
	at        int64 // when explained was last drained
}

// explainedAt returns f.explained drained to now, at a range's leak.
func (f family) explainedAt(now int64) float64 {
	return max(f.explained-float64(now-f.at)/float64(kinds[kindRange6].leak), 0)
}

// explainedIn returns the unconfirmed sends of range rg, now at level lv,
// that its blocked narrower ranges explain: never more than lv, since
// confirmations may have taken some of them off the counter since.
func (m *Monitor) explainedIn(rg string, lv int32, now int64) int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.family[rg]
	if !ok {
		return 0
	}
	e := f.explainedAt(now)
	if e > float64(lv) {
		f.explained, f.at = float64(lv), now
		m.family[rg] = f
		e = float64(lv)
	}
	return int32(e)
}

// explainMore counts one more send explained in the wider ranges of s
// around a block of drop digits: in shadow mode, a send to a range whose
// block is not enforced.
func (m *Monitor) explainMore(s *Send, drop int, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := drop + 1; d <= maxDrop; d++ {
		rg, ok := rangeOf(s, d)
		if !ok {
			break
		}
		if f, ok := m.family[rg]; ok {
			f.explained, f.at = f.explainedAt(now)+1, now
			m.family[rg] = f
		}
	}
}

// pardoned reports whether a range of s is pardoned by Unblock.
func (m *Monitor) pardoned(s *Send, now int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := 1; d <= maxDrop; d++ {
		rg, ok := rangeOf(s, d)
		if !ok {
			break
		}
		if st, ok := m.strikes[blockKey(ScopeRange, rg)]; ok && st.pardon > now {
			return true
		}
	}
	return false
}

// boundFamily keeps the family counts within MaxTracked. m.mu must be held.
func (m *Monitor) boundFamily(now int64) {
	if len(m.family) <= m.maxStrike {
		return
	}
	for k, f := range m.family {
		if f.until <= now || len(m.family) > m.maxStrike {
			delete(m.family, k)
		}
	}
}

// putBlock adds b, lifting expired blocks, or the one that ends soonest,
// when MaxBlocks is reached. m.mu must be held.
func (m *Monitor) putBlock(bk string, b *block, now int64) {
	if len(m.blocks) >= m.maxBlocks {
		var soonest string
		for k, o := range m.blocks {
			if o.until <= now {
				m.dropBlock(k, o)
				continue
			}
			if soonest == "" || o.until < m.blocks[soonest].until {
				soonest = k
			}
		}
		if len(m.blocks) >= m.maxBlocks && soonest != "" {
			o := m.blocks[soonest]
			m.dropBlock(soonest, o)
			if o.scope == ScopeRange && !o.shadow {
				m.set.Remove(o.key)
			}
		}
	}
	if old, ok := m.blocks[bk]; ok {
		m.dropBlock(bk, old)
	}
	m.blocks[bk] = b
	if b.scope != ScopeRange {
		m.nOther.Add(1)
	}
}

func (m *Monitor) dropBlock(bk string, b *block) {
	delete(m.blocks, bk)
	if b.scope != ScopeRange {
		m.nOther.Add(-1)
	}
}

// boundStrikes keeps the strikes within MaxTracked: forgotten first are
// those older than StrikeMemory, then the oldest. m.mu must be held.
func (m *Monitor) boundStrikes(now int64) {
	if len(m.strikes) <= m.maxStrike {
		return
	}
	oldest, at := "", int64(0)
	for k, st := range m.strikes {
		if now-st.last >= int64(m.strikeMem) && st.pardon <= now {
			delete(m.strikes, k)
			continue
		}
		if oldest == "" || st.last < at {
			oldest, at = k, st.last
		}
	}
	if len(m.strikes) > m.maxStrike {
		delete(m.strikes, oldest)
	}
}

// Check returns a *BlockedError when a send to s must be refused because
// its client address, its network or its destination region is blocked;
// numbers confirmed within StrikeMemory pass these blocks. (Range blocks
// are the number policy's, through the Blocklist.) Check reads only this
// process's memory and costs next to nothing while no such block is in
// force. Blocks decided in shadow mode refuse nothing.
func (m *Monitor) Check(s Send) error {
	if m.nOther.Load() == 0 {
		return nil
	}
	if b, ok := m.blockedOther(s, m.now().UnixNano(), true); ok {
		return &BlockedError{Block: b}
	}
	return nil
}

// blockedOther finds a block of s's address, network or region; with
// enforced, only a block in force, which a number confirmed recently
// passes.
func (m *Monitor) blockedOther(s Send, now int64, enforced bool) (Block, bool) {
	var keys [3]string
	n := 0
	if s.ClientIP.IsValid() {
		keys[n] = blockKey(ScopeAddress, addrKey(s.ClientIP))
		n++
	}
	if s.Network != "" {
		keys[n] = blockKey(ScopeNetwork, string(appendNetwork(nil, s.Network)))
		n++
	}
	keys[n] = blockKey(ScopeCountry, regionOf(s.Number))
	n++
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys[:n] {
		b, ok := m.blocks[k]
		if !ok || b.until <= now || (enforced && b.shadow) {
			continue
		}
		if enforced && m.confirmedBefore(s.Number.E164, now) {
			return Block{}, false
		}
		return b.public(), true
	}
	return Block{}, false
}

// Blocked returns the block, in force or (in shadow mode) recorded, that
// covers a send to s: a block of one of its ranges, of its address, network
// or region. It reports blocks that Check would let a confirmed number
// through.
func (m *Monitor) Blocked(s Send) (Block, bool) {
	now := m.now().UnixNano()
	m.mu.Lock()
	for d := 1; d <= maxDrop; d++ {
		rg, ok := rangeOf(&s, d)
		if !ok {
			break
		}
		if b, ok := m.blocks[blockKey(ScopeRange, rg)]; ok && b.until > now {
			m.mu.Unlock()
			return b.public(), true
		}
	}
	m.mu.Unlock()
	return m.blockedOther(s, now, false)
}

// coveredRange returns the digits dropped by the narrowest range block,
// enforced or not, that covers s, or 0.
func (m *Monitor) coveredRange(s *Send, now int64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := 2; d <= maxDrop; d++ {
		rg, ok := rangeOf(s, d)
		if !ok {
			break
		}
		if b, ok := m.blocks[blockKey(ScopeRange, rg)]; ok && b.until > now {
			return d
		}
	}
	return 0
}

// Unblock lifts the block of key in scope, forgets its strikes, and
// pardons it for Config.StrikeMemory: it cannot be blocked again until
// then, and for a range, sends to it block no range around it either. It
// also empties the key's counter in the store. key is written as in
// Decision (a range "+44 7700 9001", an address "203.0.113.7" or any
// address of an IPv6 /64, a network, a region "GB"); it reports whether a
// block was lifted.
func (m *Monitor) Unblock(ctx context.Context, scope Scope, key string) (bool, error) {
	k, err := normalizeKey(scope, key)
	if err != nil {
		return false, err
	}
	now := m.now().UnixNano()
	bk := blockKey(scope, k)
	m.mu.Lock()
	b, lifted := m.blocks[bk]
	if lifted {
		m.dropBlock(bk, b)
		lifted = b.until > now
	}
	m.strikes[bk] = strike{pardon: now + int64(m.strikeMem)}
	m.boundStrikes(now)
	if scope == ScopeRange {
		m.nPardon.Add(1)
	}
	m.mu.Unlock()
	if scope == ScopeRange {
		m.set.Remove(k)
	}
	return lifted, m.reset(ctx, now, scope, k)
}

// reset empties the counter of a scope key.
func (m *Monitor) reset(ctx context.Context, now int64, scope Scope, k string) error {
	var kd kind
	switch scope {
	case ScopeRange:
		// The counter of the key's width: the range is the number
		// without its last 2, 3 or 4 digits, unknown here, so empty
		// all three.
		ops := make([]counterOp, 0, 3)
		for _, r := range rangeKinds {
			ops = append(ops, counterOp{key: keyNS + kinds[r.k].tag + ":" + k, kind: r.k, cost: -maxLevel * unit})
		}
		return m.store.apply(ctx, ops, make([]int32, len(ops)))
	case ScopeAddress:
		kd = kindAddress
	case ScopeNetwork:
		kd = kindNetwork
	case ScopeCountry:
		kd = kindCountry
	}
	ops := []counterOp{{key: keyNS + kinds[kd].tag + ":" + k, kind: kd, cost: -maxLevel * unit}}
	return m.store.apply(ctx, ops, make([]int32, 1))
}

// normalizeKey turns what a user typed for Unblock into the key of a
// block.
func normalizeKey(scope Scope, key string) (string, error) {
	key = strings.TrimSpace(key)
	switch scope {
	case ScopeRange:
		d := strings.TrimPrefix(key, "+")
		var b strings.Builder
		b.WriteByte('+')
		for i := 0; i < len(d); i++ {
			switch c := d[i]; {
			case c >= '0' && c <= '9':
				b.WriteByte(c)
			case c == ' ' || c == '-' || c == '.':
			default:
				return "", fmt.Errorf("pumping: range %q: want \"+\" and digits", key)
			}
		}
		if b.Len() < 2 || b.Len() > 16 || b.String()[1] == '0' {
			return "", fmt.Errorf("pumping: range %q: want 1 to 15 digits, not starting with 0", key)
		}
		return b.String(), nil
	case ScopeAddress:
		if p, err := netip.ParsePrefix(key); err == nil {
			return addrKey(p.Addr()), nil
		}
		a, err := netip.ParseAddr(key)
		if err != nil {
			return "", fmt.Errorf("pumping: address %q: %w", key, err)
		}
		return addrKey(a), nil
	case ScopeNetwork:
		if key == "" {
			return "", fmt.Errorf("pumping: empty network")
		}
		return string(appendNetwork(nil, key)), nil
	case ScopeCountry:
		if cc, ok := strings.CutPrefix(key, "+"); ok {
			n, err := strconv.Atoi(cc)
			if err != nil || n < 1 || n > 999 || cc[0] == '0' {
				return "", fmt.Errorf("pumping: calling code %q", key)
			}
			return "+" + strconv.Itoa(n), nil
		}
		if len(key) != 2 || !isLetter(key[0]) || !isLetter(key[1]) {
			return "", fmt.Errorf("pumping: region %q: want an ISO 3166 code or \"+\" and a calling code", key)
		}
		return strings.ToUpper(key), nil
	}
	return "", fmt.Errorf("pumping: unknown scope %d", scope)
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// confirmed remembers numbers confirmed recently, as hashes, so that they
// pass address, network and country blocks. It is bounded: when full, a
// random sixteenth is forgotten.
type confirmed struct {
	seed maphash.Seed
	at   map[uint64]int64
	max  int
}

func (c *confirmed) hash(e164 string) uint64 { return maphash.String(c.seed, e164) }

// confirmedBefore reports whether e164 was confirmed within StrikeMemory.
// m.mu must be held.
func (m *Monitor) confirmedBefore(e164 string, now int64) bool {
	t, ok := m.conf.at[m.conf.hash(e164)]
	return ok && now-t < int64(m.strikeMem)
}

// remember records a confirmation of e164. m.mu must be held.
func (m *Monitor) remember(e164 string, now int64) {
	if len(m.conf.at) >= m.conf.max {
		n := m.conf.max / 16
		for k := range m.conf.at {
			delete(m.conf.at, k)
			if n--; n <= 0 {
				break
			}
		}
	}
	m.conf.at[m.conf.hash(e164)] = now
}
