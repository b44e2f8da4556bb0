package pumping

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
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
	// allows are the confirmed numbers a range block let through, packed.
	allows []uint64
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
	var entries []numbers.Entry
	if t.scope == ScopeRange && !shadow {
		// The numbers confirmed in the range stay allowed.
		b.allows = m.confirmedIn(t.key, now)
		entries = m.allowEntries(b.allows, now)
		entries = append(entries, numbers.Entry{Prefix: t.key, Note: "pumping: " + string(t.signal), Expires: time.Unix(0, b.until)})
	}
	m.mu.Unlock()
	if entries != nil {
		_ = m.set.Add(entries...)
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
				m.unsetRange(o, now)
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
	// The keys of blockKey, built without allocating: a send checked
	// while an address is blocked costs no garbage.
	var buf [3][96]byte
	var keys [3][]byte
	n := 0
	if s.ClientIP.IsValid() {
		keys[n] = appendAddr(append(buf[n][:0], byte('0'+ScopeAddress)), s.ClientIP)
		n++
	}
	if s.Network != "" {
		keys[n] = appendNetwork(append(buf[n][:0], byte('0'+ScopeNetwork)), s.Network)
		n++
	}
	keys[n] = append(append(buf[n][:0], byte('0'+ScopeCountry)), regionOf(s.Number)...)
	n++
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys[:n] {
		b, ok := m.blocks[string(k)]
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
		if lifted && !b.shadow {
			m.unsetRange(b, now)
		} else {
			m.set.Remove(k)
		}
	}
	m.mu.Unlock()
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

// confirmed remembers numbers confirmed recently, so that they pass
// address, network and country blocks, and range blocks through allow
// entries of the Blocklist. Numbers are kept packed into integers
// (packNumber), in buckets by their first bucketDigits digits, so that a
// range block finds the confirmed numbers under it without walking them
// all. It is bounded: when full, a sixteenth is forgotten.
type confirmed struct {
	seed maphash.Seed // for the hashes of pending sends, runs and refusals
	by   map[uint64]map[uint64]int64
	n    int
	max  int
}

func (c *confirmed) hash(e164 string) uint64 { return maphash.String(c.seed, e164) }

// bucketDigits is how many leading digits a bucket of confirmed numbers
// shares: the widest range of most numbers is longer (a GB or a US mobile
// without its last 6 digits keeps 6 or 5), so a range block reads one
// bucket.
const bucketDigits = 5

// bucketOf returns the bucket of a packed number (or range).
func bucketOf(k uint64) uint64 {
	v, l := k>>4, k&15
	if l > bucketDigits {
		v /= pow10[l-bucketDigits]
		l = bucketDigits
	}
	return v<<4 | l
}

// under reports whether the packed number k is under the packed prefix
// of value pv and length pl.
func under(k, pv uint64, pl int) bool {
	l := int(k & 15)
	return l >= pl && (k>>4)/pow10[l-pl] == pv
}

// packNumber packs the digits of an E.164 number ("+" and 1 to 15 digits)
// into its value times 16 plus its length, and reports whether e164 is one.
func packNumber(e164 string) (uint64, bool) {
	if len(e164) < 2 || len(e164) > 16 || e164[0] != '+' {
		return 0, false
	}
	var v uint64
	for i := 1; i < len(e164); i++ {
		c := e164[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = 10*v + uint64(c)
	}
	return v<<4 | uint64(len(e164)-1), true
}

// unpackNumber is the inverse of packNumber.
func unpackNumber(p uint64) string {
	var b [16]byte
	v, n := p>>4, int(p&15)
	for i := n; i > 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	b[0] = '+'
	return string(b[:n+1])
}

var pow10 = func() (p [16]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = 10 * p[i-1]
	}
	return p
}()

// confirmedBefore reports whether e164 was confirmed within StrikeMemory.
// m.mu must be held.
func (m *Monitor) confirmedBefore(e164 string, now int64) bool {
	k, ok := packNumber(e164)
	if !ok {
		return false
	}
	t, ok := m.conf.by[bucketOf(k)][k]
	return ok && now-t < int64(m.strikeMem)
}

// remember records a confirmation of e164. m.mu must be held.
func (m *Monitor) remember(e164 string, now int64) {
	k, ok := packNumber(e164)
	if !ok {
		return
	}
	c := &m.conf
	if c.n >= c.max {
		n := max(c.max/16, 1)
		for bk, b := range c.by {
			for k := range b {
				delete(b, k)
				c.n--
				if n--; n <= 0 {
					break
				}
			}
			if len(b) == 0 {
				delete(c.by, bk)
			}
			if n <= 0 {
				break
			}
		}
	}
	bk := bucketOf(k)
	b := c.by[bk]
	if b == nil {
		b = make(map[uint64]int64)
		c.by[bk] = b
	}
	if _, ok := b[k]; !ok {
		c.n++
	}
	b[k] = now
}

// maxAllows is the most confirmed numbers a range block lets through:
// the most recently confirmed. A range with more confirmed users than
// that converts, and is seldom blocked.
const maxAllows = 64

// confirmedIn returns the numbers under range rg confirmed within
// StrikeMemory, at most maxAllows of them, the most recent first. It reads
// the bucket of rg, or for a range shorter than a bucket, the buckets
// under it. m.mu must be held.
func (m *Monitor) confirmedIn(rg string, now int64) []uint64 {
	pr, ok := packNumber(rg)
	if !ok || m.conf.n == 0 {
		return nil
	}
	pv, pl := pr>>4, int(pr&15)
	type hit struct {
		k  uint64
		at int64
	}
	var hits []hit
	scan := func(b map[uint64]int64) {
		for k, at := range b {
			if under(k, pv, pl) && now-at < int64(m.strikeMem) {
				hits = append(hits, hit{k, at})
			}
		}
	}
	if pl >= bucketDigits {
		scan(m.conf.by[bucketOf(pr)])
	} else {
		for bk, b := range m.conf.by {
			if under(bk, pv, pl) {
				scan(b)
			}
		}
	}
	if len(hits) > maxAllows {
		slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(b.at, a.at) })
		hits = hits[:maxAllows]
	}
	out := make([]uint64, len(hits))
	for i, h := range hits {
		out[i] = h.k
	}
	return out
}

// allowEntries returns the Blocklist entries that let the numbers nums
// through the range blocks in force, each until the last of those that
// cover it ends. m.mu must be held.
func (m *Monitor) allowEntries(nums []uint64, now int64) []numbers.Entry {
	out := make([]numbers.Entry, 0, len(nums))
	for _, k := range nums {
		e164 := unpackNumber(k)
		if until := m.rangeUntil(e164, nil, now); until > 0 {
			out = append(out, numbers.Entry{Prefix: e164, Allow: true, Note: "pumping: confirmed", Expires: time.Unix(0, until)})
		}
	}
	return out
}

// rangeUntil returns when the last enforced range block in force that
// covers e164, other than skip, ends, or 0. m.mu must be held.
func (m *Monitor) rangeUntil(e164 string, skip *block, now int64) int64 {
	until := int64(0)
	for l := 2; l < len(e164); l++ {
		if o, ok := m.blocks[blockKey(ScopeRange, e164[:l])]; ok && o != skip && o.until > now && !o.shadow {
			until = max(until, o.until)
		}
	}
	return until
}

// unsetRange takes range block b, no longer held, out of the Blocklist,
// with the allow entries it made but those that another range block in
// force still needs, in one change of the set. m.mu must be held.
func (m *Monitor) unsetRange(b *block, now int64) {
	gone := time.Unix(0, 1) // expired: dropped at once
	out := []numbers.Entry{{Prefix: b.key, Expires: gone}}
	for _, k := range b.allows {
		if e164 := unpackNumber(k); m.rangeUntil(e164, b, now) == 0 {
			out = append(out, numbers.Entry{Prefix: e164, Allow: true, Expires: gone})
		}
	}
	_ = m.set.Add(out...)
}

// allowUnder lets the number of s, confirmed for a code sent at sentAt,
// through the enforced range blocks that cover it when one of them started
// since: one allow entry, until the latest of them ends. (Numbers confirmed
// before a block are let through by the block itself, confirmedIn.)
func (m *Monitor) allowUnder(s *Send, now, sentAt int64) {
	k, ok := packNumber(s.Number.E164)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.blocks) == int(m.nOther.Load()) {
		return
	}
	var last *block
	since := false // a block started after the send
	for d := 2; d <= maxDrop; d++ {
		rg, ok := rangeOf(s, d)
		if !ok {
			break
		}
		if b, ok := m.blocks[blockKey(ScopeRange, rg)]; ok && b.until > now && !b.shadow {
			if last == nil || b.until > last.until {
				last = b
			}
			since = since || b.start > sentAt
		}
	}
	if !since || slices.Contains(last.allows, k) {
		return
	}
	last.allows = append(last.allows, k)
	_ = m.set.Add(m.allowEntries([]uint64{k}, now)...)
}
