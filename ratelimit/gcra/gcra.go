// Package gcra is the definition that every [ratelimit.Store] follows, for
// those who write a store: the state a store keeps for a key, and Step,
// which runs a take on those states. Applications need none of it; they
// use a [ratelimit.Limiter] over a store.
//
// A store either runs Step itself (load the keys' states, Step, save what
// changed, all under one lock or transaction), or implements the same
// arithmetic where its data lives, as ratelimit/redisstore does in Lua,
// and tests itself against Step: the answers must be identical, field for
// field, for every sequence of takes. [ParamsOf] gives a limit's numbers as
// Step computes with them.
//
// # Time
//
// Times are Unix nanoseconds, and every duration Step adds is a whole
// number of microseconds ([Resolution]): limit intervals are truncated to
// it, and a Penalty's For, Max and Reset must be multiples of it, so that a
// store counting in microseconds (such as Lua's doubles, exact to 2^53 µs)
// gives the answers of one counting in nanoseconds. No duration exceeds
// [MaxWindow], so that arithmetic on times never overflows.
package gcra

import (
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/internal/core"
)

// Resolution is the granularity of every duration a store keeps.
const Resolution = time.Microsecond

// MaxWindow bounds a limit's Burst × Interval (the time a full bucket takes
// to refill) and every duration of a Penalty: ten years.
const MaxWindow = 10 * 365 * 24 * time.Hour

// The constants are those package ratelimit enforces: a negative constant
// converted to uint64 does not compile.
const _ = uint64(Resolution-core.Resolution) + uint64(core.Resolution-Resolution) +
	uint64(MaxWindow-core.MaxWindow) + uint64(core.MaxWindow-MaxWindow)

// State is what a store keeps for one key: the GCRA theoretical arrival
// time and the penalty box. All times are Unix nanoseconds. The zero State
// is a key never seen, and a State whose Expire is not after now is
// identical to it: a store may forget such a key without changing any
// answer, and should, to bound its memory.
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
	// Expire is when the state becomes identical to the zero State. It is
	// TAT when the other fields are zero.
	Expire int64
}

// The step function of package ratelimit, which is the definition.
var (
	step     = core.Step.(func(int64, []ratelimit.Request, []core.State, []ratelimit.Result) (bool, int))
	validate = core.Validate.(func([]ratelimit.Request) error)
)

// Step runs one take at now (Unix nanoseconds) on states, which hold the
// current state of reqs' keys in the same order. It writes one result per
// request into results, updates states in place, and reports whether the
// take was allowed and the index of the binding result (see
// ratelimit.Decision). The requests must be valid (see Validate); states
// and results must be as long as reqs.
//
// When every request that can deny (a plain request or a peek) is allowed,
// every plain request's TAT moves forward by its cost, a record's as far
// as the bucket allows, and a refund's back by its cost, not below now.
// When any denies, no TAT moves; denied plain requests whose limit has a
// penalty count a denial, and may enter the box.
func Step(now int64, reqs []ratelimit.Request, states []State, results []ratelimit.Result) (allowed bool, binding int) {
	var buf [8]core.State
	cs := buf[:0]
	if len(states) > len(buf) {
		cs = make([]core.State, 0, len(states))
	}
	for _, s := range states[:len(reqs)] {
		cs = append(cs, core.State(s))
	}
	allowed, binding = step(now, reqs, cs, results[:len(reqs)])
	for i := range cs {
		states[i] = State(cs[i])
	}
	return allowed, binding
}

// Validate checks reqs as every store must before a take, and returns the
// error a store returns: one wrapping ratelimit.ErrInvalidConfig for a
// limit that breaks its rules, or ratelimit.ErrInvalidRequest for no
// request, an empty key or one longer than 512 bytes, a key twice, a cost
// beyond the burst either way, or a peek that records or gives back.
func Validate(reqs []ratelimit.Request) error { return validate(reqs) }

// Params are the numbers of a limit as Step computes with them: durations
// in nanoseconds, each a whole number of microseconds, with the defaults
// of a Penalty applied.
type Params struct {
	// Interval is the time one token takes to come back: Limit.Interval.
	Interval time.Duration
	// Burst is the limit's Burst.
	Burst int
	// PenaltyAfter is the penalty's After, or 0 when the limit has none;
	// the other penalty fields are then zero.
	PenaltyAfter int
	// PenaltyInterval is the interval of the denial counter: Within /
	// After, truncated to Resolution.
	PenaltyInterval time.Duration
	// BoxFor is the first box's length (For).
	BoxFor time.Duration
	// BoxMax caps the doubling of the box: Max, or 24 hours when zero, and
	// never less than For.
	BoxMax time.Duration
	// BoxReset is the time out of the box after which the next box starts
	// again at For: Reset, or 24 hours when zero.
	BoxReset time.Duration
}

// ParamsOf returns l's numbers as Step computes with them. l should be
// valid (see ratelimit.Limit.Validate).
func ParamsOf(l ratelimit.Limit) Params {
	p := Params{Interval: l.Interval(), Burst: l.Burst}
	if pen := l.Penalty; pen.After > 0 {
		p.PenaltyAfter = pen.After
		p.PenaltyInterval = core.PenaltyInterval(pen.After, pen.Within)
		p.BoxFor = pen.For
		p.BoxMax = core.PenaltyMax(pen.Max, pen.For)
		p.BoxReset = core.PenaltyReset(pen.Reset)
	}
	return p
}
