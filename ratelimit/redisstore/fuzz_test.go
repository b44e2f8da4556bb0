package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore/internal/redistest"
)

// FuzzKeyName needs no server: any key and tag give a bounded name whose
// hash tag is the configured one, or a clear error; never a panic.
func FuzzKeyName(f *testing.F) {
	for _, seed := range []struct{ key, tag string }{
		{"phone:+15005550006", ""}, {"{a}", "rl"}, {"", "x"}, {"a}{b", "}"}, {"\x00\xff", "{"},
		{strings.Repeat("k", 600), strings.Repeat("t", 65)}, {"ip:2001:db8::/64", "verify"},
	} {
		f.Add(seed.key, seed.tag)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c.Close()
	f.Fuzz(func(t *testing.T, key, tag string) {
		s, err := New(c, Config{Tag: tag})
		if err != nil {
			if !errors.Is(err, ratelimit.ErrInvalidConfig) {
				t.Fatalf("New: %v, want ErrInvalidConfig", err)
			}
			return
		}
		name, err := s.KeyName(key)
		if err != nil {
			t.Fatal(err)
		}
		if tag == "" {
			tag = defaultTag
		}
		if hashTag(name) != tag || len(name) != len(defaultPrefix)+len(tag)+3+22 {
			t.Fatalf("KeyName(%q) = %q with tag %q", key, name, tag)
		}
	})
}

// loadState reads key's state from Redis as a gcra.State.
func loadState(t *testing.T, s *Store, c *redis.Client, key string) gcra.State {
	t.Helper()
	name, err := s.KeyName(key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.Get(context.Background(), name).Bytes()
	if errors.Is(err, redis.Nil) {
		return gcra.State{}
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(raw)
	if err != nil {
		t.Fatal(err)
	}
	return gcra.State{TAT: st.TAT * 1000, PTAT: st.PTAT * 1000, BoxUntil: st.BoxUntil * 1000, Level: st.Level, Expire: st.Expire * 1000}
}

// FuzzTake takes with arbitrary keys and limit parameters: a bad limit,
// cost or key is rejected with its sentinel (exactly when the core rejects
// it), and a good one gets Step's answer and state, twice: on a new key,
// then again advance µs later on the state the first left.
//
// It is deterministic: every execution has keys of its own (a store with a
// prefix of its own, its keys deleted after) and a fixed clock, the store
// has no timeout and no breaker, and each fuzzing process shares one
// server. (An earlier version took on keys that earlier executions had
// left, at a clock read from the machine, so an input could fail in one
// process and pass when the fuzzer ran it again.)
func FuzzTake(f *testing.F) {
	f.Add("phone:+15005550006", 3, int64(time.Hour), 3, 1, 0, int64(0), int64(0), int64(0), int64(0), false, false, int64(0))
	f.Add("ip:192.0.2.1", 10, int64(time.Minute), 10, 0, 2, int64(time.Minute), int64(time.Second), int64(0), int64(0), false, false, int64(time.Second))
	f.Add("{k}", 1, int64(time.Second), 1, 1, 1, int64(time.Second), int64(time.Microsecond), int64(2*time.Microsecond), int64(time.Hour), true, false, int64(5))
	f.Add("", 0, int64(0), 0, -1, -1, int64(-1), int64(1500), int64(-5), int64(1), false, false, int64(-1))
	f.Add("rec", 5, int64(time.Hour), 5, 3, 0, int64(0), int64(0), int64(0), int64(0), false, true, int64(0))
	f.Add("refund", 5, int64(time.Hour), 5, -2, 0, int64(0), int64(0), int64(0), int64(0), false, false, int64(0))
	f.Add("box", 1, int64(time.Hour), 1, 1, 1, int64(time.Hour), int64(time.Minute), int64(0), int64(0), false, false, int64(time.Second))
	f.Add("x", 1_000_000_000, int64(time.Second), 1, 1, 0, int64(0), int64(0), int64(0), int64(0), false, false, int64(0))
	f.Add(strings.Repeat("\xff", 513), 1, int64(gcra.MaxWindow), 1<<40, 1<<40, 1, int64(gcra.MaxWindow), int64(gcra.MaxWindow), int64(gcra.MaxWindow), int64(gcra.MaxWindow), false, false, int64(1<<62))
	srv := redistest.Shared(f)
	c := srv.Client(f)
	// A store whose breaker is open answers without a round trip, and
	// validates on a path of its own: it must reject what Step rejects.
	down := &fakeServer{}
	down.fail.Store(true)
	dc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	dc.AddHook(down)
	defer dc.Close()
	open, err := New(dc, Config{BreakAfter: 1})
	if err != nil {
		f.Fatal(err)
	}
	open.Take(context.Background(), oneReq)
	var run atomic.Int64
	f.Fuzz(func(t *testing.T, key string, rate int, period int64, burst, cost, after int, within, forD, maxD, reset int64, peek, record bool, advance int64) {
		s, err := New(c, Config{Prefix: fmt.Sprintf("antifraud-fuzz:%d:", run.Add(1)), Timeout: -1, BreakAfter: -1})
		if err != nil {
			t.Fatal(err)
		}
		req := ratelimit.Request{Key: key, Cost: cost, Peek: peek, Record: record, Limit: ratelimit.Limit{
			Rate: rate, Period: time.Duration(period), Burst: burst,
			Penalty: ratelimit.Penalty{After: after, Within: time.Duration(within), For: time.Duration(forD), Max: time.Duration(maxD), Reset: time.Duration(reset)},
		}}
		reqs := []ratelimit.Request{req}
		coreErr := gcra.Validate(reqs)
		if _, err := open.Take(context.Background(), req); isArgError(err) != (coreErr != nil) || !isArgError(err) && !errors.Is(err, ratelimit.ErrUnavailable) {
			t.Fatalf("request %+v through an open breaker: %v; Step's validation says %v", req, err, coreErr)
		}
		s.now = func() int64 { return testEpoch }
		d, err := decide(s, context.Background(), reqs)
		if coreErr != nil {
			if err == nil || !isArgError(err) || d.Allowed {
				t.Fatalf("invalid request %+v: got %+v, %v; want %v", req, d, err, coreErr)
			}
			return
		}
		name, _ := s.KeyName(key)
		defer c.Del(context.Background(), name)
		advance = min(max(advance, -advance, 0), int64(gcra.MaxWindow/time.Microsecond))
		states := []gcra.State{{}}
		for i, now := range []int64{testEpoch, testEpoch + advance} {
			if i > 0 {
				s.now = func() int64 { return now }
				d, err = decide(s, context.Background(), reqs)
			}
			if err != nil {
				t.Fatalf("valid request %+v: %v", req, err)
			}
			before := states[0]
			want := make([]ratelimit.Result, 1)
			allowed, _ := gcra.Step(now*1000, reqs, states, want)
			if d.Allowed != allowed || d.Results[0] != want[0] {
				t.Fatalf("take %d of %+v on %+v:\n got %v %+v\nwant %v %+v", i, req, before, d.Allowed, d.Results[0], allowed, want[0])
			}
			if got := loadState(t, s, c, key); got != states[0] {
				t.Fatalf("state after take %d of %+v:\n got %+v\nwant %+v", i, req, got, states[0])
			}
		}
	})
}

func isArgError(err error) bool {
	return errors.Is(err, ratelimit.ErrInvalidConfig) || errors.Is(err, ratelimit.ErrInvalidRequest)
}

// bytesSource turns fuzz input into choices; exhausted input chooses 0.
type bytesSource struct{ b []byte }

func (s *bytesSource) intn(n int) int {
	var v uint64
	for range 4 {
		v <<= 8
		if len(s.b) > 0 {
			v |= uint64(s.b[0])
			s.b = s.b[1:]
		}
	}
	return int(v % uint64(n))
}

var fuzzRun atomic.Int64

// FuzzScriptMatchesStep runs the differential test on sequences the fuzzer
// chooses.
func FuzzScriptMatchesStep(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte("penalty box escalation: deny, deny, deny, wait, deny, deny"))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32})
	s, c := newStore(f, Config{Timeout: -1, BreakAfter: -1})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := min(len(data)/16, 40) + 1
		diffRun(t, s, c, (&bytesSource{data}).intn, ops, fmt.Sprintf("fuzz%d", fuzzRun.Add(1)))
	})
}
