package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
)

// The differential tests run random sequences of takes through
// gcra.Step (the definition) and through the script, with the same
// explicit now, and compare every Result field, the decision, the binding
// index and the stored state, including its expiry.

// intn returns a random int in [0, n); n > 0.
type intn func(n int) int

// testEpoch is where the tests' clock starts, in Unix µs: a fixed instant,
// so that a run depends on nothing but its inputs, and far enough ahead
// that the keys' expiry (PXAT) never passes in real time while the tests
// move their clock freely.
var testEpoch = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// us returns d microseconds.
func us(d int64) time.Duration { return time.Duration(d) * time.Microsecond }

// pick returns one of vs.
func pick[T any](r intn, vs ...T) T { return vs[r(len(vs))] }

// randLimit returns a valid limit, often with a penalty box. Durations are
// sometimes not whole microseconds where the core truncates them (period,
// within), and always whole microseconds where the store requires it.
func randLimit(r intn) ratelimit.Limit {
	var l ratelimit.Limit
	for {
		l = ratelimit.Limit{
			Rate: 1 + r(pick(r, 1, 5, 100, 1000)),
			Period: pick(r,
				time.Second, time.Minute, time.Hour, 10*time.Millisecond,
				us(int64(1+r(5000))),
				time.Duration(1+r(1_000_000_000)), // any nanoseconds
			),
			Burst: 1 + r(pick(r, 1, 3, 10, 100)),
		}
		if r(2) == 0 {
			l.Penalty = ratelimit.Penalty{
				After:  1 + r(4),
				Within: pick(r, time.Second, time.Minute, time.Duration(1+r(100_000_000)), us(int64(1+r(10_000)))),
				For:    pick(r, time.Second, us(int64(1+r(10_000_000))), us(1)),
				Max:    pick(r, 0, time.Minute, us(int64(1+r(100_000_000)))),
				Reset:  pick(r, 0, time.Minute, us(int64(1+r(100_000_000)))),
			}
		}
		if l.Validate() == nil {
			return l
		}
	}
}

// randRequest returns a request for key on l: plain, a peek, a record or a
// refund, of any valid cost.
func randRequest(r intn, key string, l ratelimit.Limit) ratelimit.Request {
	req := ratelimit.Request{Key: key, Limit: l, Cost: r(l.Burst + 1)}
	switch r(10) {
	case 0:
		req.Peek = true
	case 1, 2:
		req.Record = true
	case 3:
		req.Cost = -1 - r(l.Burst)
		req.Record = r(2) == 0
	}
	return req
}

// diffRun runs one random sequence of ops takes over a small pool of keys
// against both Step and s, failing t at the first difference.
func diffRun(t testing.TB, s *Store, c *redis.Client, r intn, ops int, tag string) {
	t.Helper()
	ctx := context.Background()
	const poolSize = 4
	keys := make([]string, poolSize)
	limits := make([]ratelimit.Limit, poolSize)
	states := make(map[string]gcra.State)
	hist := make(map[string]*keyHistory)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s:k%d", tag, i)
		limits[i] = randLimit(r)
		// The keys expire a century ahead: delete them after the run.
		name, _ := s.KeyName(keys[i])
		defer c.Del(ctx, name)
	}
	now := testEpoch + int64(r(1_000_000))
	s.now = func() int64 { return now }

	for op := range ops {
		// Move time: not at all, within an interval, across several, or far.
		l0 := limits[r(poolSize)]
		iv := int64(l0.Interval() / time.Microsecond)
		switch r(6) {
		case 0, 1:
		case 2:
			now += int64(r(int(min(iv, 1<<40)) + 1))
		case 3:
			now += iv * int64(r(4*l0.Burst+1))
		case 4:
			now += int64(r(int(l0.Penalty.For/time.Microsecond) + 2))
		case 5:
			now += int64(r(int(48*time.Hour/time.Microsecond)) + 1)
		}
		if r(20) == 0 { // sometimes a key's limit changes
			limits[r(poolSize)] = randLimit(r)
		}
		n := 1 + r(poolSize)
		perm := make([]int, poolSize)
		for i := range perm {
			perm[i] = i
		}
		for i := range perm {
			j := i + r(poolSize-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		reqs := make([]ratelimit.Request, n)
		goStates := make([]gcra.State, n)
		for i := range reqs {
			k := perm[i]
			l := limits[k]
			reqs[i] = randRequest(r, keys[k], l)
			goStates[i] = states[keys[k]]
		}
		want := make([]ratelimit.Result, n)
		wantAllowed, wantBinding := gcra.Step(now*1000, reqs, goStates, want)
		for i := range reqs {
			states[reqs[i].Key] = goStates[i]
			if hist[reqs[i].Key] == nil {
				hist[reqs[i].Key] = &keyHistory{}
			}
			hist[reqs[i].Key].update(reqs[i].Limit, goStates[i])
		}

		got, err := decide(s, ctx, reqs)
		if err != nil {
			t.Fatalf("op %d: TakeAll: %v", op, err)
		}
		where := func() string { return fmt.Sprintf("op %d at now=%dµs, reqs %+v", op, now, reqs) }
		if got.Allowed != wantAllowed || got.Index != wantBinding {
			t.Fatalf("%s:\ngot allowed=%v binding=%d, want %v %d", where(), got.Allowed, got.Index, wantAllowed, wantBinding)
		}
		for i := range want {
			if got.Results[i] != want[i] {
				t.Fatalf("%s:\nresult %d:\n got %+v\nwant %+v", where(), i, got.Results[i], want[i])
			}
		}
		// The binding result, with the decision's Allowed (a record's
		// own may differ).
		wb := want[wantBinding]
		wb.Allowed = wantAllowed
		if got.Result != wb {
			t.Fatalf("%s: binding result %+v, want %+v", where(), got.Result, wb)
		}
		for i := range reqs {
			compareState(t, s, c, reqs[i].Key, goStates[i], *hist[reqs[i].Key], where)
		}
	}
}

// keyHistory is what compareState needs to know of a key's past: the
// largest window of the limits that wrote it, and the latest Expire it
// had, since it was last deleted.
type keyHistory struct {
	maxCap    time.Duration
	maxExpire int64
}

// update records a take of l that left the key in state st.
func (h *keyHistory) update(l ratelimit.Limit, st gcra.State) {
	if st == (gcra.State{}) {
		*h = keyHistory{}
		return
	}
	h.maxCap = max(h.maxCap, window(l))
	h.maxExpire = max(h.maxExpire, st.Expire)
}

// compareState checks that Redis holds key's Go state, and an expiry that
// is the PX its value records: at or after Expire (rounded up to the ms),
// and at most a quarter of the largest window after the latest Expire the
// key had (a refund lowers Expire, but keeps the expiry).
func compareState(t testing.TB, s *Store, c *redis.Client, key string, want gcra.State, h keyHistory, where func() string) {
	t.Helper()
	ctx := context.Background()
	name, err := s.KeyName(key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.Get(ctx, name).Bytes()
	if errors.Is(err, redis.Nil) {
		if want != (gcra.State{}) {
			t.Fatalf("%s: key %s missing in Redis, Go state %+v", where(), key, want)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeState(raw)
	if err != nil {
		t.Fatal(err)
	}
	w := state{TAT: want.TAT / 1000, PTAT: want.PTAT / 1000, BoxUntil: want.BoxUntil / 1000, Level: want.Level, Expire: want.Expire / 1000, PX: got.PX}
	if got != w {
		t.Fatalf("%s: key %s state\n got %+v µs\nwant %+v µs", where(), key, got, w)
	}
	exp, err := c.PExpireTime(ctx, name).Result()
	if err != nil {
		t.Fatal(err)
	}
	need := (want.Expire + 999_999) / 1_000_000
	most := (h.maxExpire+999_999)/1_000_000 + int64(h.maxCap/time.Millisecond/4)
	if exp != time.Duration(got.PX)*time.Millisecond || got.PX < need || got.PX > most {
		t.Fatalf("%s: key %s expires at %v with PX %d ms; want PX, in [%d, %d] ms (Expire %dns rounded up, to the latest Expire %dns plus a quarter of %v)",
			where(), key, exp, got.PX, need, most, want.Expire, h.maxExpire, h.maxCap)
	}
}

// window returns l's capacity as the script computes it.
func window(l ratelimit.Limit) time.Duration {
	p := gcra.ParamsOf(l)
	return p.Interval.Truncate(time.Microsecond) * time.Duration(p.Burst)
}

func TestScriptMatchesStep(t *testing.T) {
	s, c := newStore(t, Config{})
	seqs, ops := 300, 60
	if testing.Short() {
		seqs = 40
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range seqs {
		diffRun(t, s, c, rng.IntN, ops, fmt.Sprintf("seq%d", i))
	}
}

// TestScriptMatchesStepCases pins sequences that exercise each branch of
// Step: penalty escalation, the cap, the reset, peeks, and limits that
// change under a key.
func TestScriptMatchesStepCases(t *testing.T) {
	s, c := newStore(t, Config{})
	pen := ratelimit.Penalty{After: 2, Within: time.Minute, For: time.Second, Max: 3 * time.Second, Reset: time.Hour}
	boxNow := ratelimit.PerMinute(1).WithPenalty(ratelimit.Penalty{After: 1, Within: time.Minute, For: 10 * time.Second, Max: 40 * time.Second, Reset: 100 * time.Second})
	lim := ratelimit.PerMinute(2).WithPenalty(pen)
	other := ratelimit.PerMinute(1)
	type step struct {
		advance time.Duration
		reqs    []ratelimit.Request
	}
	a := func(r ...ratelimit.Request) []ratelimit.Request { return r }
	cases := []struct {
		name  string
		steps []step
	}{
		{"escalation to max then reset", func() []step {
			var st []step
			for range 3 {
				for range 6 {
					st = append(st, step{0, a(ratelimit.Request{Key: "p", Limit: lim})})
				}
				st = append(st, step{5 * time.Second, nil})
			}
			st = append(st, step{2 * time.Hour, a(ratelimit.Request{Key: "p", Limit: lim})})
			for range 4 {
				st = append(st, step{0, a(ratelimit.Request{Key: "p", Limit: lim})})
			}
			return st
		}()},
		{"level capped at 62", func() []step {
			l := ratelimit.PerHour(1).WithPenalty(ratelimit.Penalty{After: 1, Within: time.Minute, For: time.Microsecond, Max: 2 * time.Microsecond})
			st := []step{{0, a(ratelimit.Request{Key: "c", Limit: l})}}
			for range 70 {
				st = append(st, step{3 * time.Microsecond, a(ratelimit.Request{Key: "c", Limit: l})})
			}
			return st
		}()},
		{"reset exactly Reset after the box", []step{
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{110 * time.Second, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
		}},
		{"no reset a microsecond before Reset", []step{
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{110*time.Second - time.Microsecond, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
		}},
		{"all-or-nothing with peek", []step{
			{0, a(ratelimit.Request{Key: "ip", Limit: lim, Cost: 2}, ratelimit.Request{Key: "phone", Limit: other})},
			{0, a(ratelimit.Request{Key: "ip", Limit: lim}, ratelimit.Request{Key: "phone", Limit: other, Peek: true})},
			{0, a(ratelimit.Request{Key: "phone", Limit: other}, ratelimit.Request{Key: "ip", Limit: lim, Peek: true})},
			{30 * time.Second, a(ratelimit.Request{Key: "ip", Limit: lim}, ratelimit.Request{Key: "phone", Limit: other})},
		}},
		{"records count past the limit without denying", []step{
			{0, a(ratelimit.Request{Key: "ip", Limit: other}, ratelimit.Request{Key: "range", Limit: ratelimit.PerMinute(3), Record: true})},
			{0, a(ratelimit.Request{Key: "range", Limit: ratelimit.PerMinute(3), Record: true, Cost: 2})},
			{0, a(ratelimit.Request{Key: "range", Limit: ratelimit.PerMinute(3), Record: true})},
			{time.Second, a(ratelimit.Request{Key: "phone", Limit: lim}, ratelimit.Request{Key: "range", Limit: ratelimit.PerMinute(3), Record: true, Cost: 3})},
			{0, a(ratelimit.Request{Key: "ip", Limit: other}, ratelimit.Request{Key: "range", Limit: ratelimit.PerMinute(3), Record: true})},
		}},
		{"records on a boxed key", []step{
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{0, a(ratelimit.Request{Key: "b", Limit: boxNow})},
			{time.Second, a(ratelimit.Request{Key: "b", Limit: boxNow, Record: true})},
		}},
		{"refunds down to full delete the key", []step{
			{0, a(ratelimit.Request{Key: "r", Limit: ratelimit.PerMinute(5), Cost: 3})},
			{0, a(ratelimit.Request{Key: "r", Limit: ratelimit.PerMinute(5), Cost: -1})},
			{time.Second, a(ratelimit.Request{Key: "r", Limit: ratelimit.PerMinute(5), Cost: -5}, ratelimit.Request{Key: "new", Limit: ratelimit.PerMinute(5), Cost: -2})},
		}},
		{"refunds and records wait for the take", []step{
			{0, a(ratelimit.Request{Key: "r", Limit: ratelimit.PerMinute(5), Cost: 4})},
			{0, a(ratelimit.Request{Key: "phone", Limit: other, Cost: 1})},
			{0, a(ratelimit.Request{Key: "r", Limit: ratelimit.PerMinute(5), Cost: -2}, ratelimit.Request{Key: "phone", Limit: other}, ratelimit.Request{Key: "c", Limit: other, Record: true})},
		}},
		{"limit shrinks under a key (negative remaining)", []step{
			{0, a(ratelimit.Request{Key: "k", Limit: ratelimit.PerMinute(10), Cost: 10})},
			{0, a(ratelimit.Request{Key: "k", Limit: ratelimit.PerMinute(10).WithBurst(2)})},
			{0, a(ratelimit.Request{Key: "k", Limit: ratelimit.PerMinute(10).WithBurst(2), Peek: true})},
			{0, a(ratelimit.Request{Key: "k", Limit: ratelimit.PerMinute(10).WithBurst(2), Record: true})},
			{0, a(ratelimit.Request{Key: "k", Limit: ratelimit.PerMinute(10).WithBurst(2), Cost: -1})},
		}},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := testEpoch + int64(ci)
			s.now = func() int64 { return now }
			states := map[string]gcra.State{}
			hist := map[string]*keyHistory{}
			for i, st := range tc.steps {
				now += int64(st.advance / time.Microsecond)
				if st.reqs == nil {
					continue
				}
				reqs := make([]ratelimit.Request, len(st.reqs))
				copy(reqs, st.reqs)
				for j := range reqs {
					reqs[j].Key = fmt.Sprintf("case%d:%s", ci, reqs[j].Key)
				}
				goStates := make([]gcra.State, len(reqs))
				for j := range reqs {
					goStates[j] = states[reqs[j].Key]
				}
				want := make([]ratelimit.Result, len(reqs))
				allowed, binding := gcra.Step(now*1000, reqs, goStates, want)
				got, err := decide(s, context.Background(), reqs)
				if err != nil {
					t.Fatal(err)
				}
				if got.Allowed != allowed || got.Index != binding {
					t.Fatalf("step %d: allowed %v binding %d, want %v %d", i, got.Allowed, got.Index, allowed, binding)
				}
				for j := range want {
					if got.Results[j] != want[j] {
						t.Fatalf("step %d result %d:\n got %+v\nwant %+v", i, j, got.Results[j], want[j])
					}
					states[reqs[j].Key] = goStates[j]
					if hist[reqs[j].Key] == nil {
						hist[reqs[j].Key] = &keyHistory{}
					}
					hist[reqs[j].Key].update(reqs[j].Limit, goStates[j])
					compareState(t, s, c, reqs[j].Key, goStates[j], *hist[reqs[j].Key], func() string { return fmt.Sprintf("step %d", i) })
				}
			}
		})
	}
}
