package ratelimit

import (
	"time"

	"github.com/antifraud-go/antifraud/ratelimit/internal/core"
)

// This file is the definition of what every store answers: step runs one
// take on the keys' states. Package ratelimit/gcra publishes it, with the
// State type, for store implementers (see gcra.Step for the contract).

// state is one key's state; see gcra.State.
type state = core.State

func init() {
	core.Step = func(now int64, reqs []Request, states []state, results []Result) (bool, int) {
		return step(now, reqs, nil, states, results)
	}
	core.Validate = validate
}

// step runs one take at now (Unix nanoseconds) on states, which hold the
// current state of reqs' keys in the same order. It writes one result per
// request into results, updates states in place, and reports whether the
// take was allowed and the index of the binding result. ivs holds the
// requests' Intervals when the caller has computed them (nil otherwise).
// The caller has validated reqs.
func step(now int64, reqs []Request, ivs []int64, states []state, results []Result) (allowed bool, binding int) {
	if len(reqs) == 1 && reqs[0].plain() {
		r := &reqs[0]
		return stepOne(now, &r.Limit, interval(reqs, ivs, 0), r.cost(), &states[0], &results[0]), 0
	}
	allowed = true
	for i := range reqs {
		r := &reqs[i]
		if r.Cost < 0 {
			continue // a refund never denies: its result comes after
		}
		check(now, &r.Limit, interval(reqs, ivs, i), r.cost(), r.Peek, &states[i], &results[i])
		if !results[i].Allowed && !r.Record {
			allowed = false
		}
	}
	binding = -1
	if allowed {
		for i := range reqs {
			r := &reqs[i]
			switch {
			case r.Cost < 0:
				refund(now, &r.Limit, interval(reqs, ivs, i), -r.Cost, true, &states[i], &results[i])
				continue
			case r.Record && !results[i].Allowed:
				saturate(now, &r.Limit, interval(reqs, ivs, i), r.cost(), &states[i], &results[i])
				continue
			case !r.Peek:
				commit(now, &states[i], &results[i])
			}
			if r.Record {
				continue
			}
			if binding < 0 || results[i].Remaining < results[binding].Remaining {
				binding = i
			}
		}
		if binding < 0 {
			binding = tightest(results)
		}
		return true, binding
	}
	for i := range reqs {
		r := &reqs[i]
		if r.Cost < 0 {
			refund(now, &r.Limit, interval(reqs, ivs, i), -r.Cost, false, &states[i], &results[i])
			continue
		}
		if results[i].Allowed {
			// Allowed on its own, but nothing was spent: report what the
			// key holds now.
			if !r.Peek {
				c := int64(r.cost())
				results[i].Remaining += int(c)
				results[i].ResetAfter -= time.Duration(c * interval(reqs, ivs, i))
			}
			continue
		}
		if r.Record {
			continue // over its limit, but a record never denies
		}
		if !results[i].Penalized && r.Limit.Penalty.enabled() && !r.Peek {
			penalize(now, &r.Limit.Penalty, &states[i], &results[i])
		}
		if binding < 0 || results[i].RetryAfter > results[binding].RetryAfter {
			binding = i
		}
	}
	return false, binding
}

func interval(reqs []Request, ivs []int64, i int) int64 {
	if ivs != nil {
		return ivs[i]
	}
	return int64(reqs[i].Limit.Interval())
}

// validate checks reqs for step: at least one, valid limits, costs, flags
// and keys, no key twice.
func validate(reqs []Request) error {
	if len(reqs) == 0 {
		return invalidRequest("a take of no requests")
	}
	for i := range reqs {
		if _, err := validateRequest(&reqs[i]); err != nil {
			return err
		}
		for j := 0; j < i; j++ {
			if reqs[j].Key == reqs[i].Key {
				return invalidRequest("key %q appears twice in one take", truncKey(reqs[i].Key))
			}
		}
	}
	return nil
}

// validateRequest validates r and returns its limit's Interval.
func validateRequest(r *Request) (time.Duration, error) {
	if len(r.Key) == 0 || len(r.Key) > core.MaxKeyLen {
		return 0, invalidRequest("key length %d not in 1..%d", len(r.Key), core.MaxKeyLen)
	}
	iv, err := r.Limit.validate()
	if err != nil {
		return 0, err
	}
	if r.Cost < -r.Limit.Burst || r.Cost > r.Limit.Burst {
		return 0, invalidRequest("cost %d not in -%d..%d (the burst of %v)", r.Cost, r.Limit.Burst, r.Limit.Burst, r.Limit)
	}
	if r.Peek && (r.Record || r.Cost < 0) {
		return 0, invalidRequest("a peek that records or gives back")
	}
	return iv, nil
}

func truncKey(k string) string {
	if len(k) > 32 {
		return k[:32] + "..."
	}
	return k
}

// stepOne is step for a single plain request of cost (at least 1) on l,
// whose Interval is iv, for stores that take one key at a time without
// building slices.
func stepOne(now int64, l *Limit, iv int64, cost int, s *state, res *Result) bool {
	check(now, l, iv, cost, false, s, res)
	if res.Allowed {
		commit(now, s, res)
		return true
	}
	if !res.Penalized && l.Penalty.enabled() {
		penalize(now, &l.Penalty, s, res)
	}
	return false
}

// check computes the result of a request of cost (at least 1) on l, whose
// Interval is iv, against s into res without changing s. It works through
// pointers: it is on every take's path.
func check(now int64, l *Limit, iv int64, cost int, peek bool, s *state, res *Result) {
	capacity := iv * int64(l.Burst)
	tat := max(s.TAT, now)
	*res = Result{}
	if s.BoxUntil > now {
		res.Penalized = true
		res.RetryAfter = time.Duration(s.BoxUntil - now)
		res.ResetAfter = time.Duration(max(s.BoxUntil, tat) - now)
		return
	}
	newTAT := tat + iv*int64(cost)
	if allowAt := newTAT - capacity; allowAt > now {
		res.RetryAfter = time.Duration(allowAt - now)
		res.Remaining = int((capacity - (tat - now)) / iv)
		res.ResetAfter = time.Duration(tat - now)
		return
	}
	res.Allowed = true
	if peek {
		newTAT = tat
	}
	res.Remaining = int((capacity - (newTAT - now)) / iv)
	res.ResetAfter = time.Duration(newTAT - now)
}

// commit spends an allowed request: check has computed its new TAT,
// max(TAT, now) + Interval × cost, as now + ResetAfter.
func commit(now int64, s *state, res *Result) {
	s.TAT = now + int64(res.ResetAfter)
	s.Expire = max(s.Expire, s.TAT)
}

// saturate spends a record of cost on l (Interval iv) that found fewer than
// cost tokens, in an allowed take: the bucket ends empty (or as it was, if
// a smaller limit left it beyond empty), and res says so.
func saturate(now int64, l *Limit, iv int64, cost int, s *state, res *Result) {
	capacity := iv * int64(l.Burst)
	tat := max(s.TAT, now)
	s.TAT = max(tat, min(tat+iv*int64(cost), now+capacity))
	s.Expire = max(s.Expire, s.TAT)
	if s.BoxUntil > now {
		// The result is the box's, as check wrote it, but for the reset.
		res.ResetAfter = time.Duration(max(s.BoxUntil, s.TAT) - now)
		return
	}
	res.Remaining = int((capacity - (s.TAT - now)) / iv)
	res.RetryAfter = time.Duration(s.TAT + iv*int64(cost) - capacity - now)
	res.ResetAfter = time.Duration(s.TAT - now)
}

// refund gives back cost tokens of l (Interval iv) to s, when apply is set
// (the take is allowed), and writes the result: the key's tokens after the
// refund, or now when it does not apply. A bucket given back up to full
// leaves a plain state as good as new, so it becomes the zero state.
func refund(now int64, l *Limit, iv int64, cost int, apply bool, s *state, res *Result) {
	tat := max(s.TAT, now)
	if apply && s.TAT > now {
		tat = max(now, s.TAT-iv*int64(cost))
		s.TAT = tat
		if s.PTAT == 0 && s.BoxUntil == 0 && s.Level == 0 {
			s.Expire = tat
			if tat == now {
				*s = state{}
			}
		}
	}
	*res = Result{Allowed: true}
	if s.BoxUntil > now {
		res.Penalized = true
		res.ResetAfter = time.Duration(max(s.BoxUntil, tat) - now)
		return
	}
	res.Remaining = int((iv*int64(l.Burst) - (tat - now)) / iv)
	res.ResetAfter = time.Duration(tat - now)
}

// penalize counts one denial for r's key and boxes it when the count runs out.
func penalize(now int64, p *Penalty, s *state, res *Result) {
	iv := int64(core.PenaltyInterval(p.After, p.Within))
	ptat := max(s.PTAT, now) + iv
	if ptat-now < iv*int64(p.After) {
		s.PTAT = ptat
		s.Expire = max(s.Expire, ptat)
		return
	}
	// The After-th denial within Within: into the box.
	reset := int64(core.PenaltyReset(p.Reset))
	level := s.Level
	if s.BoxUntil > 0 && now-s.BoxUntil >= reset {
		level = 0
	}
	d := int64(p.boxFor(level))
	s.BoxUntil = now + d
	s.Level = min(level+1, 62)
	s.PTAT = now
	s.Expire = max(s.Expire, s.BoxUntil+reset)
	res.Penalized = true
	res.Remaining = 0
	res.RetryAfter = time.Duration(d)
	res.ResetAfter = max(res.ResetAfter, time.Duration(d))
}

// tightest returns the index of the result with the fewest Remaining.
func tightest(results []Result) int {
	b := 0
	for i := 1; i < len(results); i++ {
		if results[i].Remaining < results[b].Remaining {
			b = i
		}
	}
	return b
}
