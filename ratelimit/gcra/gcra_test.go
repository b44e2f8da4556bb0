package gcra_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
)

// Short names for the types of package ratelimit.
type (
	Request = ratelimit.Request
	Result  = ratelimit.Result
	Limit   = ratelimit.Limit
	Penalty = ratelimit.Penalty
	State   = gcra.State
)

var (
	PerSecond = ratelimit.PerSecond
	PerMinute = ratelimit.PerMinute
	PerHour   = ratelimit.PerHour
	Step      = gcra.Step
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
		{"flags ok", []Request{{Key: "a", Limit: PerSecond(3), Cost: -3, Record: true}, {Key: "b", Limit: PerSecond(3), Peek: true}}, nil},
		{"none", nil, ratelimit.ErrInvalidRequest},
		{"zero limit", []Request{{Key: "a"}}, ratelimit.ErrInvalidConfig},
		{"negative rate", []Request{{Key: "a", Limit: Limit{Rate: -1, Period: time.Second, Burst: 1}}}, ratelimit.ErrInvalidConfig},
		{"burst 0", []Request{{Key: "a", Limit: PerSecond(5).WithBurst(0)}}, ratelimit.ErrInvalidConfig},
		{"too fast", []Request{{Key: "a", Limit: PerSecond(2_000_000)}}, ratelimit.ErrInvalidConfig},
		{"window overflow", []Request{{Key: "a", Limit: Limit{Rate: 1, Period: gcra.MaxWindow, Burst: 2}}}, ratelimit.ErrInvalidConfig},
		{"cost over burst", []Request{{Key: "a", Limit: PerSecond(5), Cost: 6}}, ratelimit.ErrInvalidRequest},
		{"refund over burst", []Request{{Key: "a", Limit: PerSecond(5), Cost: -6}}, ratelimit.ErrInvalidRequest},
		{"peek that gives back", []Request{{Key: "a", Limit: PerSecond(5), Cost: -1, Peek: true}}, ratelimit.ErrInvalidRequest},
		{"peek that records", []Request{{Key: "a", Limit: PerSecond(5), Peek: true, Record: true}}, ratelimit.ErrInvalidRequest},
		{"empty key", []Request{{Key: "", Limit: PerSecond(5)}}, ratelimit.ErrInvalidRequest},
		{"long key", []Request{{Key: strings.Repeat("k", 513), Limit: PerSecond(5)}}, ratelimit.ErrInvalidRequest},
		{"duplicate key", []Request{{Key: "a", Limit: PerSecond(5)}, {Key: "a", Limit: PerHour(5)}}, ratelimit.ErrInvalidRequest},
		{"bad penalty", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1})}}, ratelimit.ErrInvalidConfig},
		{"penalty for not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1, Within: time.Second, For: time.Second + 1})}}, ratelimit.ErrInvalidConfig},
		{"penalty max not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1, Within: time.Second, For: time.Second, Max: time.Hour - 999})}}, ratelimit.ErrInvalidConfig},
		{"penalty reset not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 1, Within: time.Second, For: time.Second, Reset: time.Nanosecond})}}, ratelimit.ErrInvalidConfig},
		{"penalty within not whole µs", []Request{{Key: "a", Limit: PerSecond(5).WithPenalty(Penalty{After: 3, Within: time.Second + 1, For: time.Microsecond, Max: time.Hour, Reset: time.Hour})}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := gcra.Validate(tt.reqs)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Validate: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestStepRecord: a record never denies its take, spends when the take is
// allowed, at most down to an empty bucket, and reports whether the key
// had the tokens.
func TestStepRecord(t *testing.T) {
	l := PerMinute(3) // a token every 20s
	now := time.Hour
	var s State
	for i := range 3 {
		if r := take(now, &s, Request{Key: "k", Limit: l, Record: true}); !r.Allowed || r.Remaining != 2-i {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	r := take(now, &s, Request{Key: "k", Limit: l, Record: true, Cost: 2})
	if r.Allowed || r.Remaining != 0 || r.RetryAfter != 40*time.Second || r.ResetAfter != time.Minute {
		t.Fatalf("record over the limit: %+v; want over, empty, under again in 40s, full in 1m", r)
	}
	if s.TAT != int64(now+time.Minute) {
		t.Fatalf("TAT %v after saturating, want now + 1m", time.Duration(s.TAT))
	}
	// Half a token back: a record of 1 is still over, and empties it again.
	now += 10 * time.Second
	if r := take(now, &s, Request{Key: "k", Limit: l, Record: true}); r.Allowed || r.Remaining != 0 || s.TAT != int64(now+time.Minute) {
		t.Fatalf("record with half a token: %+v, TAT %v", r, time.Duration(s.TAT))
	}
	// A record over its limit does not deny its take.
	states := []State{{}, s}
	results := make([]Result, 2)
	ok, b := Step(int64(now), []Request{{Key: "p", Limit: l, Cost: 3}, {Key: "k", Limit: l, Record: true}}, states, results)
	if !ok || b != 0 || results[1].Allowed {
		t.Fatalf("take with a record over its limit: allowed=%v binding=%d %+v, want allowed, bound by the plain request", ok, b, results)
	}
	// In a take denied by another request, a record spends nothing.
	states = []State{states[0], {}}
	ok, b = Step(int64(now), []Request{{Key: "p", Limit: l}, {Key: "k2", Limit: l, Record: true}}, states, results)
	if ok || b != 0 || states[1] != (State{}) || !results[1].Allowed || results[1].Remaining != 3 {
		t.Fatalf("denied take: allowed=%v binding=%d, record state %+v result %+v; want nothing spent", ok, b, states[1], results[1])
	}
}

// TestStepRefund: a negative cost gives tokens back, never beyond full,
// never denies, and leaves a bucket given back to full as the zero State.
func TestStepRefund(t *testing.T) {
	l := PerMinute(3)
	now := time.Hour
	var s State
	take(now, &s, Request{Key: "k", Limit: l, Cost: 3})
	r := take(now, &s, Request{Key: "k", Limit: l, Cost: -1})
	if !r.Allowed || r.Remaining != 1 || r.ResetAfter != 40*time.Second {
		t.Fatalf("give back 1: %+v", r)
	}
	r = take(now, &s, Request{Key: "k", Limit: l, Cost: -3, Record: true})
	if !r.Allowed || r.Remaining != 3 || r.ResetAfter != 0 || s != (State{}) {
		t.Fatalf("give back 3 of 2 missing: %+v, state %+v; want full and the zero State", r, s)
	}
	// A refund on a boxed key gives tokens back but leaves the box.
	pl := PerMinute(1).WithPenalty(Penalty{After: 1, Within: time.Minute, For: time.Hour})
	take(now, &s, Request{Key: "k", Limit: pl})
	take(now, &s, Request{Key: "k", Limit: pl})
	r = take(now, &s, Request{Key: "k", Limit: pl, Cost: -1})
	if !r.Allowed || !r.Penalized || r.ResetAfter != time.Hour {
		t.Fatalf("give back in the box: %+v", r)
	}
	if r := take(now, &s, Request{Key: "k", Limit: pl}); r.Allowed || !r.Penalized {
		t.Fatalf("after a refund in the box: %+v, want still boxed", r)
	}
}

func TestParamsOf(t *testing.T) {
	l := Limit{Rate: 3, Period: time.Second, Burst: 5}
	if p := gcra.ParamsOf(l); p != (gcra.Params{Interval: 333333 * time.Microsecond, Burst: 5}) {
		t.Fatalf("ParamsOf(%v) = %+v", l, p)
	}
	l.Penalty = Penalty{After: 3, Within: time.Second + 1, For: time.Minute}
	want := gcra.Params{Interval: 333333 * time.Microsecond, Burst: 5, PenaltyAfter: 3, PenaltyInterval: 333333 * time.Microsecond,
		BoxFor: time.Minute, BoxMax: 24 * time.Hour, BoxReset: 24 * time.Hour}
	if p := gcra.ParamsOf(l); p != want {
		t.Fatalf("ParamsOf(%v) = %+v, want %+v", l, p, want)
	}
	l.Penalty = Penalty{After: 1, Within: time.Second, For: 48 * time.Hour, Reset: time.Hour}
	if p := gcra.ParamsOf(l); p.BoxMax != 48*time.Hour || p.BoxReset != time.Hour {
		t.Fatalf("ParamsOf(%v) = %+v, want max raised to For", l, p)
	}
}

// TestStepLongTake: Step works on more states than it keeps on its stack.
func TestStepLongTake(t *testing.T) {
	reqs := make([]Request, 20)
	for i := range reqs {
		reqs[i] = Request{Key: strings.Repeat("k", i+1), Limit: PerMinute(1)}
	}
	states := make([]State, len(reqs))
	results := make([]Result, len(reqs))
	if ok, _ := Step(int64(time.Hour), reqs, states, results); !ok {
		t.Fatal("first take denied")
	}
	for i, s := range states {
		if s.TAT != int64(time.Hour+time.Minute) {
			t.Fatalf("state %d: %+v", i, s)
		}
	}
	if ok, _ := Step(int64(time.Hour), reqs, states, results); ok {
		t.Fatal("second take allowed")
	}
}
