package ratelimit

import (
	"errors"
	"testing"
	"time"
)

// take runs Step for one request on s at now.
func take(now time.Duration, s *State, r Request) Result {
	var res [1]Result
	st := []State{*s}
	Step(int64(now), []Request{r}, st, res[:])
	*s = st[0]
	return res[0]
}

func TestStepBurstThenRate(t *testing.T) {
	l := PerSecond(10)
	var s State
	base := time.Duration(1_700_000_000) * time.Second
	for i := 0; i < 10; i++ {
		r := take(base, &s, Request{Key: "k", Limit: l})
		if !r.Allowed || r.Remaining != 9-i {
			t.Fatalf("request %d: got allowed=%v remaining=%d, want true %d", i, r.Allowed, r.Remaining, 9-i)
		}
	}
	r := take(base, &s, Request{Key: "k", Limit: l})
	if r.Allowed || r.RetryAfter != 100*time.Millisecond || r.Remaining != 0 || r.ResetAfter != time.Second {
		t.Fatalf("11th: %+v, want denied, retry 100ms, reset 1s", r)
	}
	r = take(base+99*time.Millisecond, &s, Request{Key: "k", Limit: l})
	if r.Allowed || r.RetryAfter != time.Millisecond {
		t.Fatalf("at 99ms: %+v, want denied with retry 1ms", r)
	}
	r = take(base+100*time.Millisecond, &s, Request{Key: "k", Limit: l})
	if !r.Allowed || r.Remaining != 0 {
		t.Fatalf("at 100ms: %+v, want allowed with 0 remaining", r)
	}
	if s.Expire != s.TAT {
		t.Fatalf("expire %d != tat %d", s.Expire, s.TAT)
	}
}

func TestStepNoDoubleBurstAtEdges(t *testing.T) {
	// Fixed windows admit 2× the limit across a window edge; GCRA must
	// never admit more than Burst + elapsed/Interval.
	l := PerSecond(10)
	var s State
	admitted := 0
	for ms := 0; ms < 100; ms++ {
		if take(time.Duration(ms)*time.Millisecond+time.Hour, &s, Request{Key: "k", Limit: l}).Allowed {
			admitted++
		}
	}
	if admitted > 10 {
		t.Fatalf("admitted %d within 100ms under 10/s burst 10", admitted)
	}
}

func TestStepCost(t *testing.T) {
	l := PerMinute(6) // one token every 10s
	var s State
	now := time.Hour
	if r := take(now, &s, Request{Key: "k", Limit: l, Cost: 4}); !r.Allowed || r.Remaining != 2 {
		t.Fatalf("cost 4: %+v", r)
	}
	r := take(now, &s, Request{Key: "k", Limit: l, Cost: 3})
	if r.Allowed || r.Remaining != 2 || r.RetryAfter != 10*time.Second {
		t.Fatalf("cost 3 with 2 left: %+v, want denied, retry 10s", r)
	}
	if r := take(now, &s, Request{Key: "k", Limit: l, Cost: 3, Peek: true}); r.Allowed {
		t.Fatalf("peek of cost 3 allowed: %+v", r)
	}
	if r := take(now, &s, Request{Key: "k", Limit: l, Cost: 2, Peek: true}); !r.Allowed || r.Remaining != 2 {
		t.Fatalf("peek of cost 2: %+v, want allowed with 2 remaining", r)
	}
	if r := take(now, &s, Request{Key: "k", Limit: l, Cost: 2}); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("cost 2: %+v, peek must not have spent", r)
	}
}

func TestStepAllOrNothing(t *testing.T) {
	reqs := []Request{
		{Key: "ip", Limit: PerMinute(10)},
		{Key: "phone", Limit: PerHour(3)},
		{Key: "prefix", Limit: PerHour(50)},
		{Key: "global", Limit: PerHour(1000)},
	}
	states := make([]State, len(reqs))
	results := make([]Result, len(reqs))
	now := int64(time.Hour)
	for i := 0; i < 3; i++ {
		if ok, _ := Step(now, reqs, states, results); !ok {
			t.Fatalf("take %d denied", i)
		}
	}
	before := append([]State(nil), states...)
	ok, binding := Step(now, reqs, states, results)
	if ok || binding != 1 {
		t.Fatalf("4th take: allowed=%v binding=%d, want denied by phone (1)", ok, binding)
	}
	for i := range states {
		if states[i] != before[i] {
			t.Fatalf("denied take changed state %d: %+v -> %+v", i, before[i], states[i])
		}
	}
	if !results[0].Allowed || results[0].Remaining != 7 {
		t.Fatalf("ip result: %+v, want allowed on its own with 7 remaining", results[0])
	}
	if results[1].RetryAfter != 20*time.Minute {
		t.Fatalf("phone retry %v, want 20m", results[1].RetryAfter)
	}
}

func TestStepPenaltyEscalates(t *testing.T) {
	l := PerMinute(1).WithPenalty(Penalty{After: 3, Within: time.Minute, For: 10 * time.Second, Reset: time.Hour})
	var s State
	now := time.Hour
	if !take(now, &s, Request{Key: "k", Limit: l}).Allowed {
		t.Fatal("first request denied")
	}
	for i := 0; i < 2; i++ {
		if r := take(now, &s, Request{Key: "k", Limit: l}); r.Allowed || r.Penalized {
			t.Fatalf("denial %d: %+v, want plain denial", i+1, r)
		}
	}
	r := take(now, &s, Request{Key: "k", Limit: l})
	if !r.Penalized || r.RetryAfter != 10*time.Second {
		t.Fatalf("3rd denial: %+v, want box for 10s", r)
	}
	// The bucket refills after a minute, but the box holds for 10s only.
	if r := take(now+5*time.Second, &s, Request{Key: "k", Limit: l}); !r.Penalized || r.RetryAfter != 5*time.Second {
		t.Fatalf("in box: %+v", r)
	}
	now += time.Minute
	if !take(now, &s, Request{Key: "k", Limit: l}).Allowed {
		t.Fatal("after box and refill: denied")
	}
	var last Result
	for i := 0; i < 3; i++ {
		last = take(now, &s, Request{Key: "k", Limit: l})
	}
	if !last.Penalized || last.RetryAfter != 20*time.Second {
		t.Fatalf("second box: %+v, want 20s", last)
	}
	// Out of the box for longer than Reset: back to For.
	now += 2 * time.Hour
	take(now, &s, Request{Key: "k", Limit: l})
	for i := 0; i < 3; i++ {
		last = take(now, &s, Request{Key: "k", Limit: l})
	}
	if !last.Penalized || last.RetryAfter != 10*time.Second {
		t.Fatalf("after reset: %+v, want 10s", last)
	}
	if s.Expire != s.BoxUntil+int64(time.Hour) {
		t.Fatalf("expire %d, want box end + reset", s.Expire)
	}
}

func TestStepExpiredStateIsNew(t *testing.T) {
	l := PerMinute(5).WithPenalty(Penalty{After: 2, Within: time.Minute, For: time.Minute})
	var s State
	now := time.Hour
	for i := 0; i < 10; i++ {
		take(now, &s, Request{Key: "k", Limit: l})
	}
	later := time.Duration(s.Expire)
	var fresh State
	a := take(later, &s, Request{Key: "k", Limit: l})
	b := take(later, &fresh, Request{Key: "k", Limit: l})
	if a != b {
		t.Fatalf("state at Expire answers %+v, a new key %+v", a, b)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		reqs []Request
		want error
	}{
		{"ok", []Request{{Key: "a", Limit: PerSecond(1)}}, nil},
		{"zero limit", []Request{{Key: "a"}}, ErrInvalidLimit},
		{"negative rate", []Request{{Key: "a", Limit: Limit{Rate: -1, Period: time.Second, Burst: 1}}}, ErrInvalidLimit},
		{"burst 0", []Request{{Key: "a", Limit: PerSecond(5).WithBurst(0)}}, ErrInvalidLimit},
		{"too fast", []Request{{Key: "a", Limit: PerSecond(2_000_000)}}, ErrInvalidLimit},
		{"window overflow", []Request{{Key: "a", Limit: Limit{Rate: 1, Period: MaxWindow, Burst: 2}}}, ErrInvalidLimit},
		{"cost over burst", []Request{{Key: "a", Limit: PerSecond(5), Cost: 6}}, ErrInvalidCost},
		{"negative cost", []Request{{Key: "a", Limit: PerSecond(5), Cost: -1}}, ErrInvalidCost},
		{"empty key", []Request{{Key: "", Limit: PerSecond(5)}}, ErrInvalidKey},
		{"long key", []Request{{Key: string(make([]byte, MaxKeyLen+1)), Limit: PerSecond(5)}}, ErrInvalidKey},
		{"duplicate key", []Request{{Key: "a", Limit: PerSecond(5)}, {Key: "a", Limit: PerHour(5)}}, ErrInvalidKey},
		{"bad penalty", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1})}}, ErrInvalidLimit},
		{"penalty for not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1, Within: time.Second, For: time.Second + 1})}}, ErrInvalidLimit},
		{"penalty max not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1, Within: time.Second, For: time.Second, Max: time.Hour - 999})}}, ErrInvalidLimit},
		{"penalty reset not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1, Within: time.Second, For: time.Second, Reset: time.Nanosecond})}}, ErrInvalidLimit},
		{"penalty within not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 3, Within: time.Second + 1, For: time.Microsecond, Max: time.Hour, Reset: time.Hour})}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.reqs)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Validate: %v, want %v", err, tt.want)
			}
		})
	}
}
