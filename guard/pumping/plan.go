package pumping

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
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
	bl.b = append(bl.b, keyNS...)
	bl.b = append(bl.b, kinds[k].tag...)
	bl.b = append(bl.b, ':')
}

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

// rangeKinds are the number's blocks, by digits dropped.
var rangeKinds = [...]struct {
	k    kind
	drop int
}{{kindRun, 1}, {kindRange2, 2}, {kindRange3, 3}, {kindRange4, 4}, {kindRange5, 5}, {kindRange6, 6}}

// numRanges is the number of range widths with a threshold: 2 to 6 digits.
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
	if len(s.Number.E164) > 1 {
		bl.begin(kindNumber)
		bl.b = append(bl.b, s.Number.E164...)
		bl.end(kindNumber, sendCost)
		for _, r := range rangeKinds {
			if rg, ok := rangeOf(s, r.drop); ok {
				bl.begin(r.k)
				bl.b = append(bl.b, rg...)
				bl.end(r.k, sendCost)
			}
		}
	}
	bl.begin(kindCountry)
	bl.b = append(bl.b, region...)
	bl.end(kindCountry, sendCost)
	if s.ClientIP.IsValid() {
		bl.begin(kindAddress)
		bl.b = appendAddr(bl.b, s.ClientIP)
		bl.end(kindAddress, sendCost)
	}
	if s.Network != "" {
		bl.begin(kindNetwork)
		bl.b = appendNetwork(bl.b, s.Network)
		bl.end(kindNetwork, sendCost)
	}
	for _, e := range extra {
		switch e.k {
		case kindPair:
			if !s.ClientIP.IsValid() {
				continue
			}
			bl.begin(kindPair)
			bl.b = appendAddr(bl.b, s.ClientIP)
			bl.b = append(bl.b, '|')
			bl.b = append(bl.b, region...)
		case kindSpread:
			if !s.ClientIP.IsValid() {
				continue
			}
			bl.begin(kindSpread)
			bl.b = appendAddr(bl.b, s.ClientIP)
		case kindDay:
			bl.begin(kindDay)
			bl.b = append(bl.b, region...)
			bl.b = append(bl.b, ':')
			bl.b = strconv.AppendInt(bl.b, e.day, 10)
		}
		bl.end(e.k, e.cost)
	}
	bl.finish()
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
