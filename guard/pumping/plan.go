package pumping

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// keyNS prefixes every key of the monitor in the store.
const keyNS = "pump:"

// maxOps is the most counter operations one event makes.
const maxOps = 13

// plan is the counter operations of one event, with their keys in one
// string.
type plan struct {
	ops [maxOps]counterOp
	lv  [maxOps]int32
	n   int
	at  [numKinds]int8 // index in ops of each kind, or -1
	buf [512]byte
}

// dropKeys lets go of the keys, so that a plan in the pool keeps none alive.
func (p *plan) dropKeys() {
	for i := range p.n {
		p.ops[i].key = ""
	}
}

func (p *plan) reset() {
	p.n = 0
	for i := range p.at {
		p.at[i] = -1
	}
}

// levels returns the levels the operations left, by kind.
func (p *plan) levels() levels {
	var l levels
	for k, i := range p.at {
		l.has[k] = i >= 0
		if i >= 0 {
			l.tok[k] = p.lv[i]
		}
	}
	return l
}

// levels are the levels of the counters of one event, by kind, in tokens.
type levels struct {
	tok [numKinds]int32
	has [numKinds]bool
}

// level returns the level of kind k in sends, rounded up, and whether the
// event had such a counter.
func (l *levels) level(k kind) (int32, bool) {
	return (l.tok[k] + unit - 1) / unit, l.has[k]
}

// builder appends keys to one buffer, then cuts them from one string.
type builder struct {
	p    *plan
	b    []byte
	ends [maxOps]int
	kind [maxOps]kind
	cost [maxOps]int
}

func (bl *builder) begin(k kind) {
	bl.b = append(bl.b, keyPrefix[k]...)
}

// keyPrefix is the beginning of the keys of each kind: "pump:p2:".
var keyPrefix = func() (p [numKinds]string) {
	for k := range p {
		p[k] = keyNS + kinds[k].tag + ":"
	}
	return p
}()

func (bl *builder) end(k kind, cost int) {
	i := bl.p.n
	bl.ends[i], bl.kind[i], bl.cost[i] = len(bl.b), k, cost
	bl.p.n++
}

func (bl *builder) finish() {
	p := bl.p
	keys := string(bl.b)
	start := 0
	for i := 0; i < p.n; i++ {
		p.ops[i] = counterOp{key: keys[start:bl.ends[i]], kind: bl.kind[i], cost: bl.cost[i]}
		p.at[bl.kind[i]] = int8(i)
		start = bl.ends[i]
	}
}

// rangeKinds are the number's blocks with a counter, by digits dropped.
var rangeKinds = [numRanges]struct {
	k    kind
	drop int
}{{kindRange2, 2}, {kindRange3, 3}, {kindRange4, 4}, {kindRange5, 5}, {kindRange6, 6}}

// numRanges is the number of range widths with a counter and a threshold:
// 100 to 1,000,000 numbers.
const numRanges = 5

// minRangeDigits is how many national digits a range must keep: a block
// of a whole country is the country signal's business.
const minRangeDigits = 2

// ccLen returns the number of digits of a calling code.
func ccLen(cc int) int {
	n := 1
	for ; cc >= 10; cc /= 10 {
		n++
	}
	return n
}

// rangeOf returns the number without its last drop digits, or reports
// that the range would be too wide.
func rangeOf(s *Send, drop int) (string, bool) {
	e := s.Number.E164
	keep := len(e) - 1 - drop
	if keep < ccLen(s.Number.CallingCode)+minRangeDigits {
		return "", false
	}
	return e[:1+keep], true
}

// build plans the operations of an event on s: sendCost on the number,
// ranges, country, address and network counters (give-back when negative),
// and the extra kinds.
func (bl *builder) build(s *Send, region string, sendCost int, extra ...kindCost) {
	p := bl.p
	p.reset()
	bl.b = p.buf[:0]
	if e := s.Number.E164; len(e) > 1 {
		bl.begin(kindNumber)
		bl.b = append(bl.b, e...)
		bl.end(kindNumber, sendCost)
		least := 1 + ccLen(s.Number.CallingCode) + minRangeDigits
		for _, r := range rangeKinds {
			if n := len(e) - r.drop; n >= least {
				bl.begin(r.k)
				bl.b = append(bl.b, e[:n]...)
				bl.end(r.k, sendCost)
			}
		}
	}
	bl.begin(kindCountry)
	bl.b = append(bl.b, region...)
	bl.end(kindCountry, sendCost)
	// The address once, for its counter, its pair and its spread.
	var ab [48]byte
	var a []byte
	if s.ClientIP.IsValid() {
		a = appendAddr(ab[:0], s.ClientIP)
		bl.begin(kindAddress)
		bl.b = append(bl.b, a...)
		bl.end(kindAddress, sendCost)
	}
	if s.Network != "" {
		bl.begin(kindNetwork)
		bl.b = appendNetwork(bl.b, s.Network)
		bl.end(kindNetwork, sendCost)
	}
	for _, x := range extra {
		switch x.k {
		case kindPair:
			if a == nil {
				continue
			}
			bl.begin(kindPair)
			bl.b = append(bl.b, a...)
			bl.b = append(bl.b, '|')
			bl.b = append(bl.b, region...)
		case kindSpread:
			if a == nil {
				continue
			}
			bl.begin(kindSpread)
			bl.b = append(bl.b, a...)
		case kindDay:
			bl.begin(kindDay)
			bl.b = append(bl.b, region...)
			bl.b = append(bl.b, ':')
			bl.b = strconv.AppendInt(bl.b, x.day, 10)
		}
		bl.end(x.k, x.cost)
	}
	bl.finish()
}

// layout returns where build puts each kind for a send to s (with its
// pair), and how many operations there are, without building keys.
func layout(s *Send) (at [numKinds]int8, n int) {
	for i := range at {
		at[i] = -1
	}
	put := func(k kind) {
		at[k] = int8(n)
		n++
	}
	if len(s.Number.E164) > 1 {
		put(kindNumber)
		for _, r := range rangeKinds {
			if _, ok := rangeOf(s, r.drop); ok {
				put(r.k)
			}
		}
	}
	put(kindCountry)
	if s.ClientIP.IsValid() {
		put(kindAddress)
	}
	if s.Network != "" {
		put(kindNetwork)
	}
	if s.ClientIP.IsValid() {
		put(kindPair)
	}
	return at, n
}

// kindCost is an extra operation of a plan.
type kindCost struct {
	k    kind
	cost int
	day  int64 // for kindDay
}

// appendAddr appends the address key: IPv4 whole, IPv6 by its /64.
func appendAddr(b []byte, a netip.Addr) []byte {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.AppendTo(b)
	}
	p, _ := a.Prefix(64)
	return p.AppendTo(b)
}

// addrKey returns the key part of an address, as appendAddr.
func addrKey(a netip.Addr) string {
	var b [64]byte
	return string(appendAddr(b[:0], a))
}

// maxNetwork bounds the bytes of a network name used in keys; longer names
// are hashed.
const maxNetwork = 64

func appendNetwork(b []byte, n string) []byte {
	if len(n) <= maxNetwork {
		return append(b, n...)
	}
	sum := sha256.Sum256([]byte(n))
	b = append(b, "sha256:"...)
	return hex.AppendEncode(b, sum[:16])
}

// runWindow is how long the numbers of one block of ten are remembered
// for a run: a script walks adjacent numbers within seconds or minutes.
const runWindow = 10 * time.Minute

// run is what the monitor remembers of one block of ten numbers: which of
// its numbers were sent a code since start.
type run struct {
	mask  uint16
	start int64
}

// runs spots sequential runs in the memory of the process: a store
// counter per block of ten numbers would cost a new key for nearly every
// send. With several instances, each sees its share of a run, and the
// blocks of 100 and 1,000 numbers, shared, see all of it.
type runs struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64]run
	max  int
}

// add records a send to e164 and returns how many distinct numbers of its
// block of ten were sent a code within runWindow, this one included.
func (r *runs) add(e164 string, now int64) int32 {
	if len(e164) < 3 {
		return 0
	}
	d := e164[len(e164)-1] - '0'
	if d > 9 {
		return 0
	}
	h := maphash.String(r.seed, e164[:len(e164)-1])
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.m[h]
	if !ok && len(r.m) >= r.max {
		n := max(r.max/16, 1)
		for k, o := range r.m {
			if now-o.start >= int64(runWindow) || n > 0 {
				delete(r.m, k)
				n--
			}
		}
	}
	if now-x.start >= int64(runWindow) {
		x = run{start: now}
	}
	x.mask |= 1 << d
	r.m[h] = x
	return int32(bits.OnesCount16(x.mask))
}
