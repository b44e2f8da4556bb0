package ratelimit_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

func ExampleMemoryStore() {
	// A clock the example moves by hand, so that the output is the same on
	// every run; leave Now nil for the real time.
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	limiter, err := ratelimit.New(store)
	if err != nil {
		panic(err)
	}
	defer limiter.Close(context.Background())

	ctx := context.Background()
	key := ratelimit.KeyPhone("+37120012345")
	for range 4 {
		res, _ := limiter.Allow(ctx, key, ratelimit.PerHour(3))
		fmt.Printf("allowed=%v remaining=%d retry-after=%v\n", res.Allowed, res.Remaining, res.RetryAfter)
	}
	now = now.Add(20 * time.Minute) // PerHour(3): one token back every 20 minutes
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
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	limiter, _ := ratelimit.New(store)
	defer limiter.Close(context.Background())

	ip := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	check := func(phone string) ratelimit.Decision {
		d, err := limiter.AllowAll(context.Background(), []ratelimit.Request{
			{Key: ratelimit.KeyIP(ip), Limit: ratelimit.PerMinute(10)},
			{Key: ratelimit.KeyPhone(phone), Limit: ratelimit.PerHour(3)},
			{Key: ratelimit.KeyPrefix(phone, 6), Limit: ratelimit.PerHour(50)},
			{Key: ratelimit.KeyGlobal("verify"), Limit: ratelimit.PerHour(1000)},
		}, nil)
		if err != nil {
			panic(err)
		}
		return d
	}
	for range 4 {
		d := check("+37120012345")
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
func ExampleLimiter_AllowAll_buffer() {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	limiter, _ := ratelimit.New(store)
	defer limiter.Close(context.Background())
	buffers := sync.Pool{New: func() any { return new([4]ratelimit.Result) }}

	allow := func(ip netip.Addr, phone string) bool {
		buf := buffers.Get().(*[4]ratelimit.Result)
		defer buffers.Put(buf)
		reqs := [...]ratelimit.Request{
			{Key: ratelimit.KeyIP(ip), Limit: ratelimit.PerMinute(10)},
			{Key: ratelimit.KeyPhone(phone), Limit: ratelimit.PerDay(2)},
		}
		d, err := limiter.AllowAll(context.Background(), reqs[:], buf[:])
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

// Counters can ride along with the limits in one take (and, with a shared
// store, one round trip): a record never denies, and says when its key is
// over its limit; a negative cost gives tokens back. Here a monitor counts
// codes sent to a range of numbers and not yet confirmed.
func ExampleRequest_record() {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	limiter, _ := ratelimit.New(store)
	defer limiter.Close(context.Background())
	ctx := context.Background()

	unconfirmed := ratelimit.Request{Key: "unconfirmed:" + ratelimit.KeyPrefix("+37120012345", 7), Limit: ratelimit.PerHour(2), Record: true}
	send := func(phone string) {
		d, err := limiter.AllowAll(ctx, []ratelimit.Request{
			{Key: ratelimit.KeyPhone(phone), Limit: ratelimit.PerHour(3)},
			unconfirmed,
		}, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("send allowed=%v range-over-threshold=%v\n", d.Allowed, !d.Results[1].Allowed)
	}
	send("+37120012345")
	send("+37120012346")
	send("+37120012347")
	// A code was confirmed: the range gets one back.
	confirm := unconfirmed
	confirm.Cost = -1
	if _, err := limiter.AllowAll(ctx, []ratelimit.Request{confirm}, nil); err != nil {
		panic(err)
	}
	send("+37120012348")
	// Output:
	// send allowed=true range-over-threshold=false
	// send allowed=true range-over-threshold=false
	// send allowed=true range-over-threshold=true
	// send allowed=true range-over-threshold=false
}

func ExamplePenalty() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	limiter, _ := ratelimit.New(store)
	defer limiter.Close(context.Background())

	// 5 a minute; a key denied 3 times within a minute is boxed for 10
	// minutes, then 20, 40... up to a day.
	lim := ratelimit.PerMinute(5).WithPenalty(ratelimit.Penalty{After: 3, Within: time.Minute, For: 10 * time.Minute})
	key := ratelimit.KeyIP(netip.MustParseAddr("192.0.2.7"))
	ctx := context.Background()
	for i := range 8 {
		res, _ := limiter.Allow(ctx, key, lim)
		fmt.Printf("request %d: allowed=%v penalized=%v retry-after=%v\n", i+1, res.Allowed, res.Penalized, res.RetryAfter)
	}
	now = now.Add(time.Minute)
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
