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
	users    uint64          // legit users so far, for their random streams
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
			s.users++
			id := s.users
			s.at(t+s.rng.Int64N(int64(time.Hour)), func() { s.user(c, id) })
		}
	}
	s.at(t+int64(time.Hour), func() { s.legitHour(t + int64(time.Hour)) })
}

// legitUser is one legit user. Everything the user will do is drawn when
// the user arrives, from a random stream of the user's own, so that every
// defense sees the same users doing the same things (only a returning
// user's number depends on who could confirm before).
type legitUser struct {
	c              *country
	r              request
	scored         bool
	retryAfter     time.Duration // after a refusal
	twice          bool          // asks for a second code
	twiceAfter     time.Duration
	confirms       bool
	confirmAfter   time.Duration
	refused, would bool
	sent, done     bool
}

// user is one legit user asking for a code: a new sign-up or a returning
// user logging in, maybe asking twice, confirming most of the time.
func (s *sim) user(c *country, id uint64) {
	rng := rand.New(rand.NewPCG(s.p.seed, id))
	u := &legitUser{c: c, scored: s.scored()}
	returning := rng.Float64() < s.p.returning
	pick := rng.IntN(1 << 30)
	var num numbers.Number
	if returning && len(c.users) > 0 {
		n, err := numbers.Parse(c.users[pick%len(c.users)], "")
		if err != nil {
			panic(err)
		}
		num = n
	} else {
		var ok bool
		if num, ok = c.number(rng, c.blocks[pick%len(c.blocks)], s.w.policy); !ok {
			return
		}
	}
	u.r = request{num: num, ip: s.legitIP(rng, c)}
	u.retryAfter = time.Duration(60+rng.IntN(60)) * time.Second
	u.twice = rng.Float64() < s.p.twice
	u.twiceAfter = time.Duration(35+rng.IntN(150)) * time.Second
	u.confirms = rng.Float64() < c.conv
	delay := min(math.Exp(math.Log(40)+0.6*rng.NormFloat64())+5, 500)
	u.confirmAfter = time.Duration(delay * float64(time.Second))
	if u.scored {
		s.res.legitUsers++
	}
	s.legitStart(u, 0)
}

// legitStart is one "send me a code" of a legit user (try counts the
// attempts so far).
func (s *sim) legitStart(u *legitUser, try int) {
	c, r := u.c, u.r
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
			s.at(s.now()+int64(u.retryAfter), func() { s.legitStart(u, 1) })
		}
		return
	}
	first := !u.sent
	u.sent = true
	if first && u.twice {
		// The code is slow to come: ask again after the cooldown.
		s.at(s.now()+int64(u.twiceAfter), func() {
			if !u.done {
				s.legitStart(u, 2)
			}
		})
	}
	if first && u.confirms {
		s.at(s.now()+int64(u.confirmAfter), func() {
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
func (s *sim) legitIP(rng *rand.Rand, c *country) netip.Addr {
	x := rng.Float64()
	switch {
	case x < s.p.nat:
		return c.nat[rng.IntN(len(c.nat))]
	case x < s.p.nat+s.p.v6:
		return inPrefix(rng, netip.PrefixFrom(inPrefix(rng, c.v6), 56).Masked())
	}
	return randomV4(rng)
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
	rangeMedian   int // sends before the first block, of the ranges that leaked
	rangeP95      int
	rangeMax      int
	rangesNever   int // ranges never refused
	rangesTotal   int // ranges tried
	rangesLeaked  int // ranges that got a send out
	shadowAttPct  float64
	shadowLegitPc float64
}

func (r *result) summary() summary {
	var sm summary
	// In a fixed order: a sum of floats depends on it.
	for _, k := range sortedKeys(r.attack) {
		a := r.attack[k]
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
	// Ranges an attacker tried, and of them those that got at least one
	// send out: a hopper tries many ranges that a wider block covers
	// before their first send, which says nothing of how fast ranges
	// are blocked.
	var before []int
	for _, rs := range r.ranges {
		sm.rangesTotal++
		if !rs.blocked {
			sm.rangesNever++
		}
		if rs.beforeBlock > 0 {
			before = append(before, rs.beforeBlock)
		}
	}
	sort.Ints(before)
	sm.rangesLeaked = len(before)
	if len(before) > 0 {
		sm.rangeMedian = before[len(before)/2]
		sm.rangeP95 = before[min(len(before)-1, len(before)*95/100)]
		sm.rangeMax = slices.Max(before)
	}
	return sm
}
