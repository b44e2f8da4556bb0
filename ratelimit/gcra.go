package ratelimit

import "time"

// State is what a store keeps for one key: the GCRA theoretical arrival
// time and the penalty box. All times are Unix nanoseconds. The zero State is
// a key never seen, and a State whose Expire is not after now is identical
// to it: a store may forget such a key without changing any answer.
//
// State and Step are exported for implementers of Store; users of the
// package do not need them.
type State struct {
	// TAT is the theoretical arrival time: the bucket is full when TAT <= now,
	// and holds (Burst×Interval − (TAT − now)) / Interval tokens otherwise.
	TAT int64
	// PTAT is the TAT of the penalty's denial counter.
	PTAT int64
	// BoxUntil is the end of the current or last penalty box.
	BoxUntil int64
	// Level is the escalation level of the last box (1 after the first).
	Level int64
	// Expire is when the state becomes identical to the zero State.
	Expire int64
}

// Step runs one multi-limit take at now (Unix nanoseconds) on states, which
// hold the current state of reqs' keys in the same order. It writes one
// result per request into results, updates states in place when anything
// changed, and reports whether the take was allowed. It returns the index of
// the binding result (see Decision). The caller must ensure that reqs are
// valid (see Validate) and that each key appears once.
//
// When every request is allowed, every TAT moves forward by its cost. When
// any is denied, no TAT moves; denied requests whose limit has a penalty
// count a denial, and may enter the box.
func Step(now int64, reqs []Request, states []State, results []Result) (allowed bool, binding int) {
	if len(reqs) == 1 {
		r := &reqs[0]
		return stepOne(now, &r.Limit, int64(r.Limit.Interval()), r.cost(), r.Peek, &states[0], &results[0]), 0
	}
	allowed = true
	for i := range reqs {
		r := &reqs[i]
		check(now, &r.Limit, int64(r.Limit.Interval()), r.cost(), r.Peek, &states[i], &results[i])
		if !results[i].Allowed {
			allowed = false
		}
	}
	if allowed {
		for i := range reqs {
			if reqs[i].Peek {
				continue
			}
			commit(now, &states[i], &results[i])
		}
		return true, tightest(results)
	}
	binding = -1
	for i := range reqs {
		if results[i].Allowed {
			// Allowed on its own, but nothing was spent: report what the
			// key holds now.
			if !reqs[i].Peek {
				c := int64(reqs[i].cost())
				results[i].Remaining += int(c)
				results[i].ResetAfter -= time.Duration(c * int64(reqs[i].Limit.Interval()))
			}
			continue
		}
		if !results[i].Penalized && reqs[i].Limit.Penalty.enabled() && !reqs[i].Peek {
			penalize(now, &reqs[i].Limit.Penalty, &states[i], &results[i])
		}
		if binding < 0 || results[i].RetryAfter > results[binding].RetryAfter {
			binding = i
		}
	}
	return false, binding
}

// Validate checks reqs for Step: valid limits, costs and keys, no key twice.
func Validate(reqs []Request) error {
	for i := range reqs {
		if err := validateRequest(&reqs[i]); err != nil {
			return err
		}
		for j := 0; j < i; j++ {
			if reqs[j].Key == reqs[i].Key {
				return errorf(ErrInvalidKey, "key %q appears twice in one take", truncKey(reqs[i].Key))
			}
		}
	}
	return nil
}

// MaxKeyLen bounds a key's length. Longer keys are rejected: keys built from
// outside input must be bounded, and the helpers always are.
const MaxKeyLen = 512

func validateRequest(r *Request) error {
	_, err := validateTake(r.Key, &r.Limit, r.Cost)
	return err
}

// validateTake validates the parts of a Request and returns the limit's
// Interval.
func validateTake(key string, l *Limit, cost int) (time.Duration, error) {
	if len(key) == 0 || len(key) > MaxKeyLen {
		return 0, errorf(ErrInvalidKey, "key length %d not in 1..%d", len(key), MaxKeyLen)
	}
	iv, err := l.validate()
	if err != nil {
		return 0, err
	}
	if cost < 0 || cost > l.Burst {
		return 0, errorf(ErrInvalidCost, "cost %d not in 0..%d (the burst of %v)", cost, l.Burst, *l)
	}
	return iv, nil
}

func truncKey(k string) string {
	if len(k) > 32 {
		return k[:32] + "..."
	}
	return k
}

// stepOne is Step for a single request of cost (at least 1) on l, whose
// Interval is iv, for stores that take one key at a time without building
// slices.
func stepOne(now int64, l *Limit, iv int64, cost int, peek bool, s *State, res *Result) bool {
	check(now, l, iv, cost, peek, s, res)
	if res.Allowed {
		if !peek {
			commit(now, s, res)
		}
		return true
	}
	if !res.Penalized && l.Penalty.enabled() && !peek {
		penalize(now, &l.Penalty, s, res)
	}
	return false
}

// check computes the result of a request of cost (at least 1) on l, whose
// Interval is iv, against s into res without changing s. It works through
// pointers: it is on every take's path.
func check(now int64, l *Limit, iv int64, cost int, peek bool, s *State, res *Result) {
	capacity := iv * int64(l.Burst)
	tat := max(s.TAT, now)
	*res = Result{}
	setLimit(&res.Limit, l)
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

// setLimit copies src to dst field by field: a Limit just spilled to the
// stack with 8-byte stores and copied with 16-byte loads stalls on store
// forwarding, which costs more on the hot path than the rest of check.
func setLimit(dst, src *Limit) {
	dst.Rate, dst.Period, dst.Burst = src.Rate, src.Period, src.Burst
	dst.Penalty.After, dst.Penalty.Within, dst.Penalty.For = src.Penalty.After, src.Penalty.Within, src.Penalty.For
	dst.Penalty.Max, dst.Penalty.Reset = src.Penalty.Max, src.Penalty.Reset
}

// commit spends an allowed request: check has computed its new TAT,
// max(TAT, now) + Interval × cost, as now + ResetAfter.
func commit(now int64, s *State, res *Result) {
	s.TAT = now + int64(res.ResetAfter)
	s.Expire = max(s.Expire, s.TAT)
}

// penalize counts one denial for r's key and boxes it when the count runs out.
func penalize(now int64, p *Penalty, s *State, res *Result) {
	iv := int64(p.interval())
	ptat := max(s.PTAT, now) + iv
	if ptat-now < iv*int64(p.After) {
		s.PTAT = ptat
		s.Expire = max(s.Expire, ptat)
		return
	}
	// The After-th denial within Within: into the box.
	level := s.Level
	if s.BoxUntil > 0 && now-s.BoxUntil >= int64(p.reset()) {
		level = 0
	}
	d := int64(p.boxFor(int(level)))
	s.BoxUntil = now + d
	s.Level = min(level+1, 62)
	s.PTAT = now
	s.Expire = max(s.Expire, s.BoxUntil+int64(p.reset()))
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
