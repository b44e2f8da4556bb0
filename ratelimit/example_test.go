package ratelimit_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// clock is a fixed clock that an example moves by hand, so that its output
// is the same on every run.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func ExampleMemoryStore() {
	c := newClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: c.Now})
	if err != nil {
		panic(err)
	}
	defer store.Close(context.Background())
	limiter, _ := ratelimit.New(store)

	ctx := context.Background()
	key := ratelimit.KeyPhone("+37120012345")
	for i := 0; i < 4; i++ {
		res, _ := limiter.Allow(ctx, key, ratelimit.PerHour(3))
		fmt.Printf("allowed=%v remaining=%d retry-after=%v\n", res.Allowed, res.Remaining, res.RetryAfter)
	}
	c.Advance(20 * time.Minute) // PerHour(3): one token back every 20 minutes
	res, _ := limiter.Allow(ctx, key, ratelimit.PerHour(3))
	fmt.Printf("20m later: allowed=%v remaining=%d\n", res.Allowed, res.Remaining)
	// Output:
	// allowed=true remaining=2 retry-after=0s
	// allowed=true remaining=1 retry-after=0s
	// allowed=true remaining=0 retry-after=0s
	// allowed=false remaining=0 retry-after=20m0s
	// 20m later: allowed=true remaining=0
}

func ExampleLimiter_AllowAll() {
	c := newClock()
	store := ratelimit.MustNewMemoryStore(ratelimit.MemoryConfig{Now: c.Now})
	defer store.Close(context.Background())
	limiter, _ := ratelimit.New(store)

	ip := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	phone := "+37120012345"
	check := func(phone string) ratelimit.Decision {
		d, err := limiter.AllowAll(context.Background(),
			ratelimit.Request{Key: ratelimit.KeyIP(ip), Limit: ratelimit.PerMinute(10)},
			ratelimit.Request{Key: ratelimit.KeyPhone(phone), Limit: ratelimit.PerHour(3)},
			ratelimit.Request{Key: ratelimit.KeyPrefix(phone, 6), Limit: ratelimit.PerHour(50)},
			ratelimit.Request{Key: ratelimit.KeyGlobal("verify"), Limit: ratelimit.PerHour(1000)},
		)
		if err != nil {
			panic(err)
		}
		return d
	}
	for i := 0; i < 4; i++ {
		d := check(phone)
		fmt.Printf("allowed=%v binding=%d retry-after=%v\n", d.Allowed, d.Index, d.RetryAfter)
	}
	// The denied fourth request spent nothing: the IP had 7 of 10 left,
	// and a request for another number spends one of them.
	d := check("+37120099999")
	fmt.Printf("another number: allowed=%v ip-remaining=%d\n", d.Allowed, d.Results[0].Remaining)
	// Output:
	// allowed=true binding=1 retry-after=0s
	// allowed=true binding=1 retry-after=0s
	// allowed=true binding=1 retry-after=0s
	// allowed=false binding=1 retry-after=20m0s
	// another number: allowed=true ip-remaining=6
}

// A server that checks several limits on every request reuses one buffer
// for the results, here from a sync.Pool, so that the take allocates
// nothing. The Decision's Results live in the buffer: read them before
// putting it back.
func ExampleLimiter_AllowAllInto() {
	c := newClock()
	store := ratelimit.MustNewMemoryStore(ratelimit.MemoryConfig{Now: c.Now})
	defer store.Close(context.Background())
	limiter, _ := ratelimit.New(store)
	buffers := sync.Pool{New: func() any { return new([4]ratelimit.Result) }}

	allow := func(ip netip.Addr, phone string) bool {
		buf := buffers.Get().(*[4]ratelimit.Result)
		defer buffers.Put(buf)
		reqs := [...]ratelimit.Request{
			{Key: ratelimit.KeyIP(ip), Limit: ratelimit.PerMinute(10)},
			{Key: ratelimit.KeyPhone(phone), Limit: ratelimit.PerHour(2)},
		}
		d, err := limiter.AllowAllInto(context.Background(), reqs[:], buf[:])
		if err != nil {
			panic(err)
		}
		fmt.Printf("allowed=%v ip-remaining=%d phone-remaining=%d\n", d.Allowed, d.Results[0].Remaining, d.Results[1].Remaining)
		return d.Allowed
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for range 3 {
		allow(ip, "+37120012345")
	}
	// Output:
	// allowed=true ip-remaining=9 phone-remaining=1
	// allowed=true ip-remaining=8 phone-remaining=0
	// allowed=false ip-remaining=8 phone-remaining=0
}

func ExamplePenalty() {
	c := newClock()
	store := ratelimit.MustNewMemoryStore(ratelimit.MemoryConfig{Now: c.Now})
	defer store.Close(context.Background())
	limiter, _ := ratelimit.New(store)

	// 5 a minute; a key denied 3 times within a minute is boxed for 10
	// minutes, then 20, 40... up to a day.
	lim := ratelimit.PerMinute(5).WithPenalty(ratelimit.Penalty{After: 3, Within: time.Minute, For: 10 * time.Minute})
	key := ratelimit.KeyIP(netip.MustParseAddr("192.0.2.7"))
	ctx := context.Background()
	for i := 0; i < 8; i++ {
		res, _ := limiter.Allow(ctx, key, lim)
		fmt.Printf("request %d: allowed=%v penalized=%v retry-after=%v\n", i+1, res.Allowed, res.Penalized, res.RetryAfter)
	}
	c.Advance(time.Minute)
	res, _ := limiter.Allow(ctx, key, lim)
	fmt.Printf("a minute later: allowed=%v penalized=%v retry-after=%v\n", res.Allowed, res.Penalized, res.RetryAfter)
	// Output:
	// request 1: allowed=true penalized=false retry-after=0s
	// request 2: allowed=true penalized=false retry-after=0s
	// request 3: allowed=true penalized=false retry-after=0s
	// request 4: allowed=true penalized=false retry-after=0s
	// request 5: allowed=true penalized=false retry-after=0s
	// request 6: allowed=false penalized=false retry-after=12s
	// request 7: allowed=false penalized=false retry-after=12s
	// request 8: allowed=false penalized=true retry-after=10m0s
	// a minute later: allowed=false penalized=true retry-after=9m0s
}
