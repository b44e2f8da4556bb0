package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// attackRange is a block of numbers a pumper works: one of the legit
// number blocks of a country (pumpers use real mobile ranges, and real
// users live in them too), or a wider or narrower range around one.
type attackRange struct {
	c     *country
	block string // the numbers' common prefix
	width int    // how many digits follow it; 0 means 4
}

// attacker is one pumper. Each draws from a random stream of its own, so
// that what one does after a refusal changes nothing of the others.
type attacker struct {
	s    *sim
	name string
	rng  *rand.Rand
}

func (s *sim) attacker(name string, i uint64) *attacker {
	return &attacker{s: s, name: name, rng: rand.New(rand.NewPCG(s.p.seed, 1<<40+i))}
}

// targets returns the n most expensive countries of the world: where a
// pumper's revenue share is best.
func (s *sim) targets(n int) []*country {
	cs := slices.Clone(s.w.countries)
	slices.SortStableFunc(cs, func(a, b *country) int {
		switch {
		case a.price > b.price:
			return -1
		case a.price < b.price:
			return 1
		}
		return 0
	})
	return cs[:min(n, len(cs))]
}

// pickRanges picks perCountry random legit blocks in each of cs.
func (a *attacker) pickRanges(cs []*country, perCountry int) []attackRange {
	var out []attackRange
	for _, c := range cs {
		for _, i := range a.rng.Perm(len(c.blocks))[:min(perCountry, len(c.blocks))] {
			out = append(out, attackRange{c: c, block: c.blocks[i]})
		}
	}
	return out
}

// pickRange picks one random legit block of one of cs.
func (a *attacker) pickRange(cs []*country) attackRange {
	c := cs[a.rng.IntN(len(cs))]
	return attackRange{c: c, block: c.blocks[a.rng.IntN(len(c.blocks))]}
}

// randomIn returns a random valid number of r.
func (a *attacker) randomIn(r attackRange) (numbers.Number, bool) {
	if r.width == 0 {
		return r.c.number(a.rng, r.block, a.s.w.policy)
	}
	return r.c.numberIn(a.rng, r.block, r.width, a.s.w.policy)
}

// widen turns ranges of 10,000 numbers into ranges of 10^width numbers
// around them.
func (a *attacker) widen(rs []attackRange, width int) {
	for i := range rs {
		r := &rs[i]
		switch {
		case width > 4:
			r.block = r.block[:len(r.block)-(width-4)]
		case width < 4:
			for range 4 - width {
				r.block += string(rune('0' + a.rng.IntN(10)))
			}
		}
		r.width = width
	}
}

// every schedules fn every interval (with ±50% jitter) from the end of the
// warm-up to the end.
func (a *attacker) every(interval time.Duration, fn func()) {
	if interval <= 0 {
		return
	}
	s := a.s
	var tick func()
	tick = func() {
		fn()
		j := int64(interval)/2 + a.rng.Int64N(int64(interval)+1)
		s.at(s.now()+j, tick)
	}
	s.at(s.start+a.rng.Int64N(int64(interval)+1), tick)
}

func perHour(rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Hour) / rate)
}

// proxyIP is a residential proxy's address: IPv4, or a fresh IPv6 /64.
func (a *attacker) proxyIP() netip.Addr {
	if a.rng.IntN(2) == 0 {
		return randomV4(a.rng)
	}
	return randomV6(a.rng)
}

// send runs one attack request against range key.
func (a *attacker) send(key string, r request) outcome { return a.s.attackSend(a.name, key, r) }

// startAttacks schedules every attacker of the mix.
func (s *sim) startAttacks() {
	p := s.p
	// The slow drip: random numbers in dripRanges ranges of the
	// dripCountries most expensive countries, from rotating proxies, under
	// every static limit.
	if p.dripRate > 0 {
		a := s.attacker("drip", 1)
		rs := a.pickRanges(s.targets(p.dripCountries), max(1, p.dripRanges/max(1, p.dripCountries)))
		a.widen(rs, p.dripWidth)
		a.every(perHour(p.dripRate*p.scale), func() {
			r := rs[a.rng.IntN(len(rs))]
			if n, ok := a.randomIn(r); ok {
				a.send(r.block, request{num: n, ip: a.proxyIP()})
			}
		})
	}
	// A spray of random numbers over whole countries: no range stands out.
	if p.sprayRate > 0 {
		a := s.attacker("spray", 2)
		cs := s.targets(p.dripCountries)
		a.every(perHour(p.sprayRate*p.scale), func() {
			r := a.pickRange(cs)
			if n, ok := a.randomIn(r); ok {
				a.send(r.block, request{num: n, ip: a.proxyIP()})
			}
		})
	}
	// Bursts over sequential numbers.
	if p.burstEvery > 0 && p.burstLen > 0 {
		a := s.attacker("burst", 3)
		a.every(time.Duration(float64(p.burstEvery)/p.scale), func() { a.burst() })
	}
	// A script rotating addresses inside one IPv6 /64.
	if p.v6Rate > 0 {
		a := s.attacker("v6-64", 4)
		net := netip.PrefixFrom(randomV6(a.rng), 64).Masked()
		rs := a.pickRanges(s.targets(3), 2)
		a.every(perHour(p.v6Rate*p.scale), func() {
			r := rs[a.rng.IntN(len(rs))]
			if n, ok := a.randomIn(r); ok {
				a.send(r.block, request{num: n, ip: inPrefix(a.rng, net)})
			}
		})
	}
	// A pumper that owns some numbers and confirms a few percent of its
	// codes, to look like traffic that converts.
	if p.confRate > 0 {
		a := s.attacker("confirmer", 5)
		rs := a.pickRanges(s.targets(5), 2)
		a.every(perHour(p.confRate*p.scale), func() {
			r := rs[a.rng.IntN(len(rs))]
			n, ok := a.randomIn(r)
			if !ok {
				return
			}
			req := request{num: n, ip: a.proxyIP()}
			if o := a.send(r.block, req); o.sent && a.rng.Float64() < p.confFrac {
				s.at(s.now()+int64(20+a.rng.IntN(60))*int64(time.Second), func() { s.def.confirm(s.ctx, req) })
			}
		})
	}
	// A pumper that moves to a fresh range whenever its range is refused:
	// to another block of 10,000 of its carrier's allocation (the same
	// number without its last 6 digits), or anywhere in the country.
	if p.hopRate > 0 {
		a := s.attacker("hopper", 6)
		cur := a.pickRange(s.targets(p.dripCountries))
		carrier := cur.block[:len(cur.block)-2]
		hops := 0
		a.every(perHour(p.hopRate*p.scale), func() {
			n, ok := a.randomIn(cur)
			if !ok {
				return
			}
			o := a.send(cur.block+"#"+strconv.Itoa(hops), request{num: n, ip: a.proxyIP()})
			if !o.sent && o.ranged {
				hops++
				cur = a.hop(cur, carrier)
			}
		})
	}
}

// hop returns the hopper's next range.
func (a *attacker) hop(cur attackRange, carrier string) attackRange {
	if a.s.p.hopScope == "carrier" {
		for range 50 {
			r := attackRange{c: cur.c, block: carrier + fmt.Sprintf("%02d", a.rng.IntN(100))}
			if _, ok := a.randomIn(r); ok && r.block != cur.block {
				return r
			}
		}
	}
	return attackRange{c: cur.c, block: cur.c.blocks[a.rng.IntN(len(cur.c.blocks))]}
}

// burst walks sequential numbers (every burstStep-th) of a random range
// from rotating proxies, one request every burstGap.
func (a *attacker) burst() {
	s := a.s
	r := a.pickRange(s.targets(s.p.dripCountries))
	first := a.rng.IntN(10000 - min(s.p.burstLen, 9999))
	key := fmt.Sprintf("%s@%d", r.block, s.now()/int64(time.Minute))
	for i := range s.p.burstLen {
		t := s.now() + int64(i)*int64(s.p.burstGap)
		num := r.block + fmt.Sprintf("%04d", (first+i*s.p.burstStep)%10000)
		ip := randomV4(a.rng)
		s.at(t, func() {
			n, err := numbers.Parse(num, "")
			if err != nil || n.Type() == numbers.UnknownType {
				return
			}
			a.send(key, request{num: n, ip: ip})
		})
	}
}
