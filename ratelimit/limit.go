package ratelimit

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit/internal/core"
)

// Limit is a token bucket checked with GCRA (the generic cell rate
// algorithm): a key may spend at most Burst tokens at once, and tokens come
// back at Rate per Period, one every Interval = Period / Rate.
//
// Precisely: a key that has been idle for Burst × Interval has Burst tokens.
// A request of cost n is allowed when n tokens are available, and then
// spends them; a denied request spends nothing. So over any span of time d,
// a key is allowed at most Burst + d/Interval tokens, and never more than
// Burst within a span shorter than Interval. There are no windows, so there
// is no doubled burst at a window's edge.
//
// PerSecond(10) is 10 tokens a second with a burst of 10. PerHour(3)
// allows 3 at once, then one every 20 minutes. Use [Limit.WithBurst] to
// smooth traffic: PerMinute(60).WithBurst(1) allows one a second.
//
// Every store counts time in whole microseconds, so that the memory store
// and the Redis store give identical answers: Interval is truncated to a
// microsecond, and Burst × Interval, like every duration of a Penalty, is
// at most ten years.
//
// A Limit may carry a [Penalty]: a penalty box for keys that keep hitting it.
// Limit is a comparable value; the zero Limit is invalid.
type Limit struct {
	// Rate is how many tokens come back every Period. It must be at least 1.
	Rate int
	// Period is the time over which Rate tokens come back. It must be
	// positive, and Period/Rate must be at least a microsecond.
	Period time.Duration
	// Burst is the bucket's size: how many tokens can be spent at once.
	// It must be at least 1.
	Burst int
	// Penalty, when its After is set, boxes keys that are denied too often.
	Penalty Penalty
}

// Penalty is a penalty box: after After denials within Within, the key is
// denied outright for For, whatever its bucket holds. Each further box of the
// same key doubles the time, up to Max; a key that stays out of the box for
// Reset starts again at For. Denials are counted with GCRA as well (After per
// Within, burst After), so After denials in quick succession box the key,
// while the same number spread evenly across more than Within does not.
//
// This is what slows a pumping script: it keeps hammering after the first
// 429, and each box it earns is twice as long as the last.
//
// For, Max and Reset must be whole microseconds, like every time a store
// keeps: a store that counts in microseconds could not otherwise give the
// answers the memory store gives. Within need not be; the denial counter's
// interval is truncated like a Limit's.
//
// The zero Penalty disables the penalty box.
type Penalty struct {
	// After is the number of denials that puts a key in the box. Zero
	// disables the penalty box.
	After int
	// Within is the span in which After denials must fall. Required when
	// After is set.
	Within time.Duration
	// For is how long the first box lasts. Required when After is set.
	For time.Duration
	// Max caps the doubling. Zero means 24 hours (or For, when that is
	// longer).
	Max time.Duration
	// Reset is how long a key must stay out of the box before its next box
	// starts again at For. Zero means 24 hours.
	Reset time.Duration
}

// PerSecond returns a limit of n tokens a second, with a burst of n.
func PerSecond(n int) Limit { return Limit{Rate: n, Period: time.Second, Burst: n} }

// PerMinute returns a limit of n tokens a minute, with a burst of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: n} }

// PerHour returns a limit of n tokens an hour, with a burst of n.
func PerHour(n int) Limit { return Limit{Rate: n, Period: time.Hour, Burst: n} }

// PerDay returns a limit of n tokens a day, with a burst of n.
func PerDay(n int) Limit { return Limit{Rate: n, Period: 24 * time.Hour, Burst: n} }

// WithBurst returns a copy of l with the given burst.
func (l Limit) WithBurst(burst int) Limit {
	l.Burst = burst
	return l
}

// WithPenalty returns a copy of l with the given penalty box.
func (l Limit) WithPenalty(p Penalty) Limit {
	l.Penalty = p
	return l
}

// Interval is the time between two tokens: Period / Rate, truncated to a
// whole microsecond. It is zero for an invalid limit.
func (l Limit) Interval() time.Duration { return core.Interval(l.Rate, l.Period) }

// String describes the limit, for example "10/1m0s burst 10".
func (l Limit) String() string {
	s := fmt.Sprintf("%d/%v burst %d", l.Rate, l.Period, l.Burst)
	if l.Penalty.After > 0 {
		s += fmt.Sprintf(" penalty %d/%v for %v", l.Penalty.After, l.Penalty.Within, l.Penalty.For)
	}
	return s
}

// Validate reports whether l is usable: the rules are on the fields of
// Limit and Penalty. The error wraps [ErrInvalidConfig]. Every store
// validates every request the same way.
func (l Limit) Validate() error {
	_, err := l.validate()
	return err
}

// validate is Validate through a pointer that also returns the Interval:
// it is on every take's path.
func (l *Limit) validate() (time.Duration, error) {
	switch {
	case l.Rate < 1:
		return 0, invalidLimit(l, "rate must be at least 1")
	case l.Period <= 0:
		return 0, invalidLimit(l, "period must be positive")
	case l.Period > core.MaxWindow:
		return 0, invalidLimit(l, "period longer than ten years")
	case l.Burst < 1:
		return 0, invalidLimit(l, "burst must be at least 1")
	}
	// Validate is on every take's path: one division, no more.
	iv := (l.Period / time.Duration(l.Rate)).Truncate(core.Resolution)
	if iv < core.Resolution {
		return 0, invalidLimit(l, "rate too high: period/rate is under one microsecond")
	}
	if hi, lo := bits.Mul64(uint64(l.Burst), uint64(iv)); hi != 0 || lo > uint64(core.MaxWindow) {
		return 0, invalidLimit(l, "burst × interval longer than ten years")
	}
	if p := &l.Penalty; p.After|int(p.Within|p.For|p.Max|p.Reset) == 0 {
		return iv, nil // the zero Penalty, without a 40-byte compare
	}
	return iv, l.Penalty.validate(l)
}

func (p *Penalty) validate(l *Limit) error {
	switch {
	case p.After < 1:
		return invalidLimit(l, "penalty: after must be at least 1")
	case p.Within <= 0 || p.Within > core.MaxWindow:
		return invalidLimit(l, "penalty: within must be positive and at most ten years")
	case p.Within/time.Duration(p.After) < core.Resolution:
		return invalidLimit(l, "penalty: within/after is under one microsecond")
	case p.For <= 0 || p.For > core.MaxWindow:
		return invalidLimit(l, "penalty: for must be positive and at most ten years")
	case p.Max < 0 || p.Max > core.MaxWindow:
		return invalidLimit(l, "penalty: max must be at most ten years")
	case p.Reset < 0 || p.Reset > core.MaxWindow:
		return invalidLimit(l, "penalty: reset must be at most ten years")
	case p.For%core.Resolution != 0 || p.Max%core.Resolution != 0 || p.Reset%core.Resolution != 0:
		return invalidLimit(l, "penalty: for, max and reset must be whole microseconds")
	}
	return nil
}

// enabled reports whether the penalty box is on.
func (p *Penalty) enabled() bool { return p.After > 0 }

// boxFor is how long the box lasts at escalation level (0 for the first).
func (p *Penalty) boxFor(level int64) time.Duration {
	d, m := p.For, core.PenaltyMax(p.Max, p.For)
	for i := int64(0); i < level && d < m; i++ {
		d *= 2
	}
	return min(d, m)
}
