package verify

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
)

// greedyWaits runs gcra.Step on the buckets of a shared cooldown for a
// client that asks again the moment it may, and returns the waits between
// its sends, as found by probing (not by the buckets' own arithmetic).
func greedyWaits(t *testing.T, buckets []coolBucket, sends int) []time.Duration {
	t.Helper()
	reqs := make([]ratelimit.Request, len(buckets))
	for i, b := range buckets {
		reqs[i] = ratelimit.Request{Key: fmt.Sprint("b", i), Limit: b.limit, Cost: b.cost}
	}
	if err := gcra.Validate(reqs); err != nil {
		t.Fatal(err)
	}
	states := make([]gcra.State, len(reqs))
	results := make([]ratelimit.Result, len(reqs))
	var now, last int64
	var waits []time.Duration
	for n := 0; n < sends; {
		if ok, _ := gcra.Step(now, reqs, states, results); !ok {
			t.Fatalf("send %d at %v refused after it was announced", n, time.Duration(now))
		}
		if n > 0 {
			waits = append(waits, time.Duration(now-last))
		}
		last, n = now, n+1
		// The wait the service announces: the largest debt over slack.
		var next time.Duration
		for i, b := range buckets {
			next = max(next, results[i].ResetAfter-b.slack)
		}
		// One microsecond earlier must be refused, and must change nothing.
		if next > 0 {
			probe := append([]gcra.State(nil), states...)
			if ok, _ := gcra.Step(now+int64(next-time.Microsecond), reqs, probe, results); ok {
				t.Fatalf("send %d: allowed before the announced wait %v", n, next)
			}
		}
		now += int64(next)
	}
	return waits
}

func TestSharedCooldownWaitsMatchMemory(t *testing.T) {
	tests := []struct{ base, max time.Duration }{
		{30 * time.Second, 10 * time.Minute}, // the defaults
		{time.Minute, 3 * time.Minute},
		{time.Minute, time.Minute},
		{7 * time.Second, 10 * time.Minute},
		{time.Second, 9 * time.Hour},
		{1500 * time.Millisecond, 100 * time.Second},
		{45 * time.Second, 64 * 45 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.base, "-", tt.max), func(t *testing.T) {
			c, err := Cooldown{Base: tt.base, Max: tt.max, Reset: tt.max, Shared: true}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			buckets, err := c.sharedBuckets()
			if err != nil {
				t.Fatal(err)
			}
			const sends = 25
			got := greedyWaits(t, buckets, sends)
			for n := 1; n < sends; n++ {
				if want := c.wait(n); got[n-1] != want {
					t.Fatalf("wait after send %d = %v, want %v (all: %v)", n, got[n-1], want, got)
				}
			}
		})
	}
}

// TestSharedCooldownQuietResets: at the latest after the documented quiet
// time since the last send (44.5 minutes with the defaults), the waits start
// again at Base; after a quiet of only Max they do not.
func TestSharedCooldownQuietResets(t *testing.T) {
	c, _ := Cooldown{Shared: true}.withDefaults()
	buckets, err := c.sharedBuckets()
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]ratelimit.Request, len(buckets))
	for i, b := range buckets {
		reqs[i] = ratelimit.Request{Key: fmt.Sprint("b", i), Limit: b.limit, Cost: b.cost}
	}
	results := make([]ratelimit.Result, len(reqs))
	// announced sends at now and returns the wait it announces next.
	announced := func(states []gcra.State, now time.Duration) time.Duration {
		if ok, _ := gcra.Step(int64(now), reqs, states, results); !ok {
			t.Fatalf("send at %v refused", now)
		}
		var next time.Duration
		for i, b := range buckets {
			next = max(next, results[i].ResetAfter-b.slack)
		}
		return next
	}
	const quiet = 2670 * time.Second
	for _, tt := range []struct {
		quiet time.Duration
		base  bool
	}{{quiet, true}, {10 * time.Minute, false}} {
		states := make([]gcra.State, len(reqs))
		var now time.Duration
		for range 10 { // into the waits of Max
			now += announced(states, now)
		}
		now += tt.quiet - 10*time.Minute // the loop already waited Max
		if got := announced(states, now); (got == c.Base) != tt.base {
			t.Errorf("after %v of quiet the next wait is %v (want Base: %v)", tt.quiet, got, tt.base)
		}
	}
}

func TestSharedCooldownConfig(t *testing.T) {
	for _, tt := range []struct {
		c  Cooldown
		ok bool
	}{
		{Cooldown{Shared: true}, true},
		{Cooldown{Shared: true, Base: time.Second, Max: time.Second << 15, Reset: time.Second << 15}, true},
		{Cooldown{Shared: true, Base: time.Second, Max: time.Second<<15 + time.Millisecond, Reset: time.Second << 16}, false},
		{Cooldown{Shared: true, Base: -1}, true},
	} {
		c, err := tt.c.withDefaults()
		if err == nil {
			_, err = c.sharedBuckets()
		}
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%+v: err %v, want ok=%v", tt.c, err, tt.ok)
		}
	}
}
