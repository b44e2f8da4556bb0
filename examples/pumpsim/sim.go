package main

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// epoch is when every simulation starts: a Monday, 00:00 UTC.
var epoch = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// clock is the simulated clock.
type clock struct{ ns int64 }

func (c *clock) Now() time.Time { return time.Unix(0, c.ns).UTC() }

// event is something that happens at a simulated time.
type event struct {
	at  int64
	seq uint64
	fn  func()
}

type queue []event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// sim is one run of one defense against one traffic mix.
type sim struct {
	p        *params
	rng      *rand.Rand
	clock    *clock
	q        queue
	seq      uint64
	w        *world
	def      defense
	ctx      context.Context
	attacked map[string]bool // blocks of 10,000 numbers an attacker used
	start    int64           // end of the warm-up: what happens before is not scored
	end      int64
	res      *result
}

// result is what a run measured, after the warm-up.
type result struct {
	defense      string
	attack       map[string]*attackStats
	ranges       map[string]*rangeStats // by attacker and range
	legitUsers   int
	legitRefused int
	reasons      map[string]int // of the legit refusals
	why          map[string]int // which block refused legit users, and where
	legitSends   int
	legitCost    float64
	shadowAttack int // attack sends the shadow monitor would have refused
	shadowLegit  int // legit users it would have refused at least once
	decisions    int
}

type attackStats struct {
	tried, sent int
	cost        float64
}

type rangeStats struct {
	beforeBlock int // sends that went out before the first refusal
	blocked     bool
}

func (s *sim) at(t int64, fn func()) {
	s.seq++
	heap.Push(&s.q, event{at: t, seq: s.seq, fn: fn})
}

func (s *sim) now() int64 { return s.clock.ns }

func (s *sim) run() {
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(event)
		if e.at >= s.end {
			break
		}
		s.clock.ns = max(s.clock.ns, e.at)
		e.fn()
	}
}

// scored reports whether the present is after the warm-up.
func (s *sim) scored() bool { return s.now() >= s.start }

// --- legit traffic ---

// diurnal is the daily curve of sign-ups, mean 1, lowest at 4 in the
// morning and highest at 4 in the afternoon.
func diurnal(localHour float64) float64 {
	return 1 + 0.7*math.Sin(2*math.Pi*(localHour-10)/24)
}

// legitHour schedules the sign-ups of the hour starting at t, and the next
// hour.
func (s *sim) legitHour(t int64) {
	if t >= s.end {
		return
	}
	hour := float64(t-epoch.UnixNano()) / float64(time.Hour)
	for _, c := range s.w.countries {
		local := math.Mod(hour+c.tz+48, 24)
		n := poisson(s.rng, float64(s.p.legit)*c.share/24*diurnal(local))
		for range n {
			c := c
			s.at(t+s.rng.Int64N(int64(time.Hour)), func() { s.user(c) })
		}
	}
	s.at(t+int64(time.Hour), func() { s.legitHour(t + int64(time.Hour)) })
}

// user is one legit user asking for a code: a new sign-up or a returning
// user logging in, maybe asking twice, confirming most of the time.
func (s *sim) user(c *country) {
	var num numbers.Number
	returning := len(c.users) > 0 && s.rng.Float64() < s.p.returning
	if returning {
		n, err := numbers.Parse(c.users[s.rng.IntN(len(c.users))], "")
		if err != nil {
			panic(err)
		}
		num = n
	} else {
		var ok bool
		num, ok = c.number(s.rng, c.blocks[s.rng.IntN(len(c.blocks))], s.w.policy)
		if !ok {
			return
		}
	}
	r := request{num: num, ip: s.legitIP(c)}
	scored := s.scored()
	u := &legitUser{scored: scored}
	if scored {
		s.res.legitUsers++
	}
	s.legitStart(c, r, u, 0)
}

type legitUser struct {
	scored  bool
	refused bool
	would   bool
	sent    bool
	done    bool
}

// legitStart is one "send me a code" of a legit user (try counts the
// attempts so far).
func (s *sim) legitStart(c *country, r request, u *legitUser, try int) {
	o := s.def.start(s.ctx, r)
	if u.scored {
		if o.would && !u.would {
			u.would = true
			s.res.shadowLegit++
		}
		if !o.sent {
			s.res.reasons[o.reason]++
			if o.why != "" {
				where := "clean range"
				if s.attacked[r.num.E164[:len(r.num.E164)-4]] {
					where = "attacked range"
				}
				s.res.why[o.why+" in "+where]++
			}
			if !u.refused {
				u.refused = true
				s.res.legitRefused++
			}
		} else {
			s.res.legitSends++
			s.res.legitCost += c.price
		}
	}
	if !o.sent {
		// A refused user tries once more a minute or two later.
		if try == 0 && !u.sent {
			s.at(s.now()+int64(60+s.rng.IntN(60))*int64(time.Second), func() { s.legitStart(c, r, u, 1) })
		}
		return
	}
	first := !u.sent
	u.sent = true
	if first && s.rng.Float64() < s.p.twice {
		// The code is slow to come: ask again after the cooldown.
		s.at(s.now()+int64(35+s.rng.IntN(150))*int64(time.Second), func() {
			if !u.done {
				s.legitStart(c, r, u, 2)
			}
		})
	}
	if first && s.rng.Float64() < c.conv {
		delay := math.Exp(math.Log(40)+0.6*s.rng.NormFloat64()) + 5
		delay = min(delay, 500)
		s.at(s.now()+int64(delay*float64(time.Second)), func() {
			u.done = true
			ok, why := s.def.confirm(s.ctx, r)
			if ok {
				c.users = append(c.users, r.num.E164)
			} else if u.scored {
				s.res.reasons[why]++
				if !u.refused {
					u.refused = true
					s.res.legitRefused++
				}
			}
		})
	}
}

// legitIP returns the address a legit user of c asks from.
func (s *sim) legitIP(c *country) netip.Addr {
	x := s.rng.Float64()
	switch {
	case x < s.p.nat:
		return c.nat[s.rng.IntN(len(c.nat))]
	case x < s.p.nat+s.p.v6:
		return inPrefix(s.rng, netip.PrefixFrom(inPrefix(s.rng, c.v6), 56).Masked())
	}
	return randomV4(s.rng)
}

// poisson draws from a Poisson distribution of mean l.
func poisson(rng *rand.Rand, l float64) int {
	if l > 50 {
		return max(0, int(math.Round(l+math.Sqrt(l)*rng.NormFloat64())))
	}
	n, p, e := 0, 1.0, math.Exp(-l)
	for {
		p *= rng.Float64()
		if p <= e {
			return n
		}
		n++
	}
}

// --- attack bookkeeping ---

// attackSend runs one attack request, scores it, and returns its outcome.
func (s *sim) attackSend(name, rangeKey string, r request) outcome {
	s.attacked[r.num.E164[:len(r.num.E164)-4]] = true
	o := s.def.start(s.ctx, r)
	if !s.scored() {
		return o
	}
	a := s.res.attack[name]
	if a == nil {
		a = &attackStats{}
		s.res.attack[name] = a
	}
	a.tried++
	if o.would {
		s.res.shadowAttack++
	}
	rk := name + " " + rangeKey
	rs := s.res.ranges[rk]
	if rs == nil {
		rs = &rangeStats{}
		s.res.ranges[rk] = rs
	}
	if o.sent {
		a.sent++
		a.cost += s.w.byRegion[r.num.Region].price
		if !rs.blocked {
			rs.beforeBlock++
		}
	} else {
		rs.blocked = true
	}
	return o
}

// summary of a result.
type summary struct {
	tried, sent   int
	cost          float64
	blockedPct    float64
	legitPct      float64
	rangeMedian   int
	rangeP95      int
	rangeMax      int
	rangesNever   int
	rangesTotal   int
	shadowAttPct  float64
	shadowLegitPc float64
}

func (r *result) summary() summary {
	var sm summary
	for _, a := range r.attack {
		sm.tried += a.tried
		sm.sent += a.sent
		sm.cost += a.cost
	}
	if sm.tried > 0 {
		sm.blockedPct = 100 * float64(sm.tried-sm.sent) / float64(sm.tried)
		sm.shadowAttPct = 100 * float64(r.shadowAttack) / float64(sm.tried)
	}
	if r.legitUsers > 0 {
		sm.legitPct = 100 * float64(r.legitRefused) / float64(r.legitUsers)
		sm.shadowLegitPc = 100 * float64(r.shadowLegit) / float64(r.legitUsers)
	}
	var before []int
	for _, rs := range r.ranges {
		before = append(before, rs.beforeBlock)
		if !rs.blocked {
			sm.rangesNever++
		}
	}
	sort.Ints(before)
	sm.rangesTotal = len(before)
	if len(before) > 0 {
		sm.rangeMedian = before[len(before)/2]
		sm.rangeP95 = before[min(len(before)-1, len(before)*95/100)]
		sm.rangeMax = slices.Max(before)
	}
	return sm
}
