package main

import (
	"fmt"
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
func (s *sim) pickRanges(cs []*country, perCountry int) []attackRange {
	var out []attackRange
	for _, c := range cs {
		for _, i := range s.rng.Perm(len(c.blocks))[:min(perCountry, len(c.blocks))] {
			out = append(out, attackRange{c: c, block: c.blocks[i]})
		}
	}
	return out
}

// randomIn returns a random valid number of r.
func (s *sim) randomIn(r attackRange) (numbers.Number, bool) {
	if r.width == 0 {
		return r.c.number(s.rng, r.block, s.w.policy)
	}
	return r.c.numberIn(s.rng, r.block, r.width, s.w.policy)
}

// widen turns ranges of 10,000 numbers into ranges of 10^width numbers
// around them.
func (s *sim) widen(rs []attackRange, width int) {
	for i := range rs {
		r := &rs[i]
		switch {
		case width > 4:
			r.block = r.block[:len(r.block)-(width-4)]
		case width < 4:
			for range 4 - width {
				r.block += string(rune('0' + s.rng.IntN(10)))
			}
		}
		r.width = width
	}
}

// every schedules fn every interval (with ±50% jitter) from the end of the
// warm-up to the end.
func (s *sim) every(interval time.Duration, fn func()) {
	if interval <= 0 {
		return
	}
	var tick func()
	tick = func() {
		fn()
		j := int64(interval)/2 + s.rng.Int64N(int64(interval)+1)
		s.at(s.now()+j, tick)
	}
	s.at(s.start+s.rng.Int64N(int64(interval)+1), tick)
}

func perHour(rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Hour) / rate)
}

// proxyIP is a residential proxy's address: IPv4, or a fresh IPv6 /64.
func (s *sim) proxyIP() netip.Addr {
	if s.rng.IntN(2) == 0 {
		return randomV4(s.rng)
	}
	return randomV6(s.rng)
}

// startAttacks schedules every attacker of the mix.
func (s *sim) startAttacks() {
	p := s.p
	// The slow drip: random numbers in dripRanges ranges of the
	// dripCountries most expensive countries, from rotating proxies, under
	// every static limit.
	if p.dripRate > 0 {
		rs := s.pickRanges(s.targets(p.dripCountries), max(1, p.dripRanges/max(1, p.dripCountries)))
		s.widen(rs, p.dripWidth)
		s.every(perHour(p.dripRate*p.scale), func() {
			r := rs[s.rng.IntN(len(rs))]
			if n, ok := s.randomIn(r); ok {
				s.attackSend("drip", r.block, request{num: n, ip: s.proxyIP()})
			}
		})
	}
	// A spray of random numbers over whole countries: no range stands out.
	if p.sprayRate > 0 {
		cs := s.targets(p.dripCountries)
		s.every(perHour(p.sprayRate*p.scale), func() {
			c := cs[s.rng.IntN(len(cs))]
			r := attackRange{c: c, block: c.blocks[s.rng.IntN(len(c.blocks))]}
			if n, ok := s.randomIn(r); ok {
				s.attackSend("spray", r.block, request{num: n, ip: s.proxyIP()})
			}
		})
	}
	// Bursts over sequential numbers.
	if p.burstEvery > 0 && p.burstLen > 0 {
		s.every(time.Duration(float64(p.burstEvery)/p.scale), func() { s.burst() })
	}
	// A script rotating addresses inside one IPv6 /64.
	if p.v6Rate > 0 {
		net := netip.PrefixFrom(randomV6(s.rng), 64).Masked()
		rs := s.pickRanges(s.targets(3), 2)
		s.every(perHour(p.v6Rate*p.scale), func() {
			r := rs[s.rng.IntN(len(rs))]
			if n, ok := s.randomIn(r); ok {
				s.attackSend("v6-64", r.block, request{num: n, ip: inPrefix(s.rng, net)})
			}
		})
	}
	// A pumper that owns some numbers and confirms a few percent of its
	// codes, to look like traffic that converts.
	if p.confRate > 0 {
		rs := s.pickRanges(s.targets(5), 2)
		s.every(perHour(p.confRate*p.scale), func() {
			r := rs[s.rng.IntN(len(rs))]
			n, ok := s.randomIn(r)
			if !ok {
				return
			}
			req := request{num: n, ip: s.proxyIP()}
			if o := s.attackSend("confirmer", r.block, req); o.sent && s.rng.Float64() < p.confFrac {
				s.at(s.now()+int64(20+s.rng.IntN(60))*int64(time.Second), func() { s.def.confirm(s.ctx, req) })
			}
		})
	}
	// A pumper that moves to a fresh range whenever its range is refused:
	// to another block of 10,000 of its carrier's allocation (the same
	// number without its last 6 digits), or anywhere in the country.
	if p.hopRate > 0 {
		cs := s.targets(p.dripCountries)
		cur := s.pickRanges(cs[s.rng.IntN(len(cs)):][:1], 1)[0]
		carrier := cur.block[:len(cur.block)-2]
		hops := 0
		s.every(perHour(p.hopRate*p.scale), func() {
			n, ok := s.randomIn(cur)
			if !ok {
				return
			}
			o := s.attackSend("hopper", cur.block+"#"+strconv.Itoa(hops), request{num: n, ip: s.proxyIP()})
			if !o.sent && o.ranged {
				hops++
				cur = s.hop(cur, carrier)
			}
		})
	}
}

// hop returns the hopper's next range.
func (s *sim) hop(cur attackRange, carrier string) attackRange {
	if s.p.hopScope == "carrier" {
		for range 50 {
			r := attackRange{c: cur.c, block: carrier + fmt.Sprintf("%02d", s.rng.IntN(100))}
			if _, ok := s.randomIn(r); ok && r.block != cur.block {
				return r
			}
		}
	}
	return attackRange{c: cur.c, block: cur.c.blocks[s.rng.IntN(len(cur.c.blocks))]}
}

// burst walks sequential numbers of a random range from rotating proxies,
// one request every burstGap.
func (s *sim) burst() {
	cs := s.targets(s.p.dripCountries)
	r := s.pickRanges(cs[s.rng.IntN(len(cs)):][:1], 1)[0]
	first := s.rng.IntN(10000 - min(s.p.burstLen, 9999))
	key := fmt.Sprintf("%s@%d", r.block, s.now()/int64(time.Minute))
	for i := range s.p.burstLen {
		t := s.now() + int64(i)*int64(s.p.burstGap)
		num := r.block + fmt.Sprintf("%04d", (first+i*s.p.burstStep)%10000)
		s.at(t, func() {
			n, err := numbers.Parse(num, "")
			if err != nil || !n.Valid() {
				return
			}
			s.attackSend("burst", key, request{num: n, ip: randomV4(s.rng)})
		})
	}
}
