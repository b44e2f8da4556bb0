package ratelimit

import (
	"cmp"
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
)

// TestMemoryFlood floods a default MemoryStore (MaxKeys 1,048,576) with
// distinct keys, each spent once under a limit of one an hour with a burst
// of 5, as an attacker rotating numbers or IPv6 /64s does, while aggregate
// keys (a global limit, ranges, countries) are spent along, and checks
// that the store stays bounded, serves every new key, and forgets none of
// the keys that carry real debt: users who spent their burst, keys in a
// penalty box, and the aggregates, whose exact count survives. 10 million
// keys with ANTIFRAUD_LONG=1 (CI); otherwise 150,000 keys into a store of
// 32,768 (40,000 into 8,192 under the race detector).
func TestMemoryFlood(t *testing.T) {
	flood, maxKeys := 150_000, 1<<15
	if raceEnabled {
		flood, maxKeys = 40_000, 1<<13
	}
	if testkit.Long() {
		// The race detector makes a take ~20 times slower: 10 M keys
		// would take more than 10 minutes under it. .ci/run runs this
		// test once more without -race, with the full flood.
		flood, maxKeys = 10_000_000, 0
		if raceEnabled {
			flood, maxKeys = 400_000, 1<<15
		}
	}
	if testing.Short() {
		t.Skip("a flood of keys")
	}
	clock := testkit.NewClock()
	var evicted, full atomic.Int64
	before := heapInUse()
	m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: maxKeys,
		Hooks: MemoryHooks{Evicted: func() { evicted.Add(1) }, Full: func() { full.Add(1) }}})
	ctx := context.Background()
	perKey := PerHour(1).WithBurst(5)
	// Users who spent their burst of 5, one request at a time: 10,000, or a
	// quarter of a small store.
	users := min(10_000, cmp.Or(maxKeys, defaultMaxKeys)/4)
	for u := range users {
		for range 5 {
			if r, _ := spend(m, "user:"+strconv.Itoa(u), perKey, 1); !r.Allowed {
				t.Fatalf("user %d denied within its burst", u)
			}
		}
	}
	// A tenth as many addresses in a penalty box for a day.
	boxed := PerHour(1).WithPenalty(Penalty{After: 1, Within: time.Hour, For: 24 * time.Hour})
	boxes := users / 10
	for b := range boxes {
		spend(m, "boxed:"+strconv.Itoa(b), boxed, 1)
		if r, _ := spend(m, "boxed:"+strconv.Itoa(b), boxed, 1); !r.Penalized {
			t.Fatalf("key %d not boxed", b)
		}
	}
	// Aggregates, in use before the flood and spent along with it: one of
	// them every 100 keys.
	aggregate := Limit{Rate: 1, Period: 5 * time.Minute, Burst: 1_000_000} // no token back within the flood
	aggregates := []string{"global:sms", "country:LV", "country:GB", "prefix:+3712001", "prefix:+447400", "prefix:+1415555"}
	spent := make([]int, len(aggregates))
	for a, key := range aggregates {
		for range 20 {
			spend(m, key, aggregate, 1)
			spent[a]++
		}
	}
	start := time.Now()
	for i := range flood {
		clock.Advance(100 * time.Nanosecond) // 10 M keys in a second: none refills
		r, err := spend(m, "flood:"+strconv.Itoa(i), perKey, 1)
		if err != nil || !r.Allowed {
			t.Fatalf("flood key %d: %+v, %v; want every new key served", i, r, err)
		}
		if i%100 == 0 {
			a := i / 100 % len(aggregates)
			if r, _ := spend(m, aggregates[a], aggregate, 1); !r.Allowed {
				t.Fatalf("aggregate %s denied", aggregates[a])
			}
			spent[a]++
		}
	}
	took := time.Since(start)
	runtime.GC()
	live := heapInUse()
	n := m.keyCount()
	if limit := cmp.Or(maxKeys, defaultMaxKeys); n > limit {
		t.Fatalf("%d keys held, MaxKeys %d", n, limit)
	}
	t.Logf("%d flood keys in %v (%v a key): %d keys held, %d evicted, heap %.1f MB (%.1f B a key held)",
		flood, took.Round(time.Millisecond), took/time.Duration(flood), n, evicted.Load(),
		float64(live-before)/(1<<20), float64(live-before)/float64(n))
	if full.Load() != 0 {
		t.Fatalf("%d takes denied for lack of room", full.Load())
	}
	forgot := 0
	for u := range users {
		if r, _ := spend(m, "user:"+strconv.Itoa(u), perKey, 1); r.Allowed {
			forgot++
		}
	}
	if forgot != 0 {
		t.Errorf("the flood made the store forget %d of %d users who had spent their burst", forgot, users)
	}
	unboxed := 0
	for b := range boxes {
		if r, _ := spend(m, "boxed:"+strconv.Itoa(b), boxed, 1); !r.Penalized {
			unboxed++
		}
	}
	if unboxed != 0 {
		t.Errorf("the flood let %d of %d keys out of their penalty box", unboxed, boxes)
	}
	for a, key := range aggregates {
		r, _ := m.Take(ctx, Request{Key: key, Limit: aggregate, Peek: true})
		if want := aggregate.Burst - spent[a]; r.Remaining != want {
			t.Errorf("aggregate %s has %d left after %d spends, want %d: it was forgotten", key, r.Remaining, spent[a], want)
		}
	}
	// A new key now is served; its second request within the hour spends
	// from its burst, as for any key.
	if r, _ := spend(m, "late:user", perKey, 1); !r.Allowed || r.Remaining != 4 {
		t.Errorf("new key after the flood: %+v", r)
	}
	runtime.KeepAlive(m)
}
