package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit/internal/core"
)

// FuzzTake takes with arbitrary keys, limits, costs and flags: never a
// panic; invalid arguments are rejected with a matchable error and store
// nothing; valid ones give step's answer and sane results.
func FuzzTake(f *testing.F) {
	f.Add("ip:192.0.2.1", 10, int64(time.Second), 10, 1, 0, int64(0), int64(0), uint8(0))
	f.Add("phone:+37120012345", 3, int64(time.Hour), 3, 3, 2, int64(time.Minute), int64(time.Second), uint8(0))
	f.Add("", 1, int64(time.Second), 1, 1, 0, int64(0), int64(0), uint8(0))
	f.Add("\x00\xff", 0, int64(0), 0, 0, 0, int64(0), int64(0), uint8(1))
	f.Add("k", -1, int64(-1), -5, -1, -1, int64(-1), int64(-1), uint8(2))
	f.Add("k", 2_000_000, int64(time.Second), 1, 1, 0, int64(0), int64(0), uint8(0))
	f.Add("k", 1, int64(core.MaxWindow), 2, 1, 0, int64(0), int64(0), uint8(0))
	f.Add(string(make([]byte, core.MaxKeyLen+1)), 1, int64(time.Second), 1, 1, 0, int64(0), int64(0), uint8(0))
	f.Add("k", 1<<62, int64(1<<62), 1<<62, 1<<62, 1<<62, int64(1<<62), int64(1<<62), uint8(3))
	f.Add("rec", 5, int64(time.Minute), 5, 2, 0, int64(0), int64(0), uint8(2))
	f.Add("refund", 5, int64(time.Minute), 5, -3, 0, int64(0), int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, key string, rate int, period int64, burst, cost, after int, within, forD int64, flags uint8) {
		clock := testkit.NewClock()
		m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 64})
		req := Request{Key: key, Cost: cost, Peek: flags&1 != 0, Record: flags&2 != 0, Limit: Limit{
			Rate: rate, Period: time.Duration(period), Burst: burst,
			Penalty: Penalty{After: after, Within: time.Duration(within), For: time.Duration(forD)},
		}}
		ctx := context.Background()
		_, verr := validateRequest(&req)
		var st state
		for i := 0; i < 4; i++ {
			r, err := m.Take(ctx, req)
			if verr != nil {
				if !errors.Is(err, ErrInvalidRequest) && !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("invalid take: err %v, want a matchable argument error (validate: %v)", err, verr)
				}
				if m.keyCount() != 0 {
					t.Fatal("an invalid take stored a key")
				}
				return
			}
			if err != nil {
				t.Fatalf("valid take failed: %v", err)
			}
			var want [1]Result
			states := []state{st}
			step(clock.UnixNano(), []Request{req}, nil, states, want[:])
			st = states[0]
			if r != want[0] {
				t.Fatalf("take %d: %+v, step says %+v", i, r, want[0])
			}
			if r.Remaining > req.Limit.Burst || r.RetryAfter < 0 || r.ResetAfter < 0 || r.Allowed == (r.RetryAfter > 0) ||
				(r.Remaining < 0 && !req.Record) {
				t.Fatalf("take %d: implausible result %+v for %+v", i, r, req)
			}
			clock.Advance(time.Duration(period) / 3)
		}
	})
}

// FuzzLimit validates arbitrary limits and runs step on the valid ones
// over a stretch of time: no panic, no overflow into nonsense, and never
// more admitted than Burst + elapsed/Interval.
func FuzzLimit(f *testing.F) {
	f.Add(10, int64(time.Second), 10, int64(time.Millisecond), 50)
	f.Add(1, int64(time.Hour), 3, int64(time.Minute), 200)
	f.Add(1, int64(core.MaxWindow), 1, int64(core.MaxWindow/7), 20)
	f.Add(1_000_000, int64(time.Second), 1, int64(time.Microsecond), 100)
	f.Add(0, int64(0), 0, int64(0), 1)
	f.Fuzz(func(t *testing.T, rate int, period int64, burst int, stepBy int64, steps int) {
		l := Limit{Rate: rate, Period: time.Duration(period), Burst: burst}
		if err := l.Validate(); err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate: %v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		// Stay within 50 years of 2026: Unix nanoseconds end in 2262.
		if stepBy < 0 || stepBy > int64(core.MaxWindow) || steps < 0 || steps > 1000 || (steps > 0 && stepBy > 5*int64(core.MaxWindow)/int64(steps)) {
			return
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
		start := now
		var s state
		admitted := 0
		for i := 0; i < steps; i++ {
			var res [1]Result
			st := []state{s}
			if ok, _ := step(now, []Request{{Key: "k", Limit: l}}, nil, st, res[:]); ok {
				admitted++
			}
			s = st[0]
			if r := res[0]; r.Remaining < 0 || r.Remaining > l.Burst || r.RetryAfter < 0 || r.ResetAfter < 0 {
				t.Fatalf("implausible result %+v for %v", r, l)
			}
			now += stepBy
		}
		bound := int64(l.Burst) + (now-stepBy-start)/int64(l.Interval())
		if steps > 0 && int64(admitted) > bound {
			t.Fatalf("%v admitted %d over %v, bound %d", l, admitted, time.Duration(now-stepBy-start), bound)
		}
	})
}
