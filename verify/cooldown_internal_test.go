package verify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// refWait is the wait after the n-th code (n >= 1) of a client that asks
// again as soon as it may: base doubled n-1 times, capped at maxWait.
func refWait(base, maxWait time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}

// bucketsTaker takes the buckets of c, all at once, from a memory store on a
// fake clock, through the Limiter as the Service does.
type bucketsTaker struct {
	c     cooldown
	lim   *ratelimit.Limiter
	clock *testkit.Clock
	reqs  []ratelimit.Request
}

func newBucketsTaker(t *testing.T, c cooldown) *bucketsTaker {
	t.Helper()
	clock := testkit.NewClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: clock.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	lim, err := ratelimit.New(store)
	if err != nil {
		t.Fatal(err)
	}
	b := &bucketsTaker{c: c, lim: lim, clock: clock}
	for i, bk := range c.buckets {
		b.reqs = append(b.reqs, ratelimit.Request{Key: fmt.Sprint("b", i), Limit: bk.limit, Cost: bk.cost})
	}
	return b
}

// send takes the buckets now and returns whether it was allowed and the wait
// the Service would announce.
func (b *bucketsTaker) send(t *testing.T) (bool, time.Duration) {
	t.Helper()
	d, err := b.lim.AllowAll(context.Background(), b.reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d.Allowed, b.c.wait(d.Results)
}

// TestCooldownGreedyWaits: a client that asks again the moment it may is
// told, and allowed, exactly the doubling waits; one microsecond earlier it
// is refused, and the refusal changes nothing.
func TestCooldownGreedyWaits(t *testing.T) {
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
			c, err := newCooldown(tt.base, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			b := newBucketsTaker(t, c)
			for n := 1; n <= 25; n++ {
				ok, next := b.send(t)
				if !ok {
					t.Fatalf("send %d refused after it was announced", n)
				}
				if want := refWait(tt.base, tt.max, n); next != want {
					t.Fatalf("wait after send %d = %v, want %v", n, next, want)
				}
				b.clock.Advance(next - time.Microsecond)
				if ok, left := b.send(t); ok || left != time.Microsecond {
					t.Fatalf("send %d: allowed (%v) or told %v one microsecond before the wait", n+1, ok, left)
				}
				b.clock.Advance(time.Microsecond)
			}
		})
	}
}

// TestCooldownQuietResets: at the latest after the documented quiet time
// since the last send (44.5 minutes with the defaults), the waits start again
// at the first; after a quiet of only the longest wait they do not.
func TestCooldownQuietResets(t *testing.T) {
	for _, tt := range []struct {
		quiet time.Duration
		first bool
	}{{2670 * time.Second, true}, {10 * time.Minute, false}} {
		c, _ := newCooldown(0, 0)
		b := newBucketsTaker(t, c)
		var next time.Duration
		for range 10 { // into the waits of the longest
			_, next = b.send(t)
			b.clock.Advance(next)
		}
		b.clock.Advance(tt.quiet - next)
		if ok, got := b.send(t); !ok || (got == defaultCooldown) != tt.first {
			t.Errorf("after %v of quiet the next wait is %v (want the first: %v)", tt.quiet, got, tt.first)
		}
	}
}

func TestCooldownConfig(t *testing.T) {
	for _, tt := range []struct {
		base, max time.Duration
		ok        bool
		buckets   int
	}{
		{0, 0, true, 6},
		{time.Minute, 0, true, 5},
		{20 * time.Minute, 0, true, 1}, // the longest defaults to the first
		{time.Second, time.Second << 15, true, 16},
		{time.Second, time.Second<<15 + time.Millisecond, false, 0},
		{time.Minute, time.Second, false, 0},
		{time.Nanosecond, time.Second, false, 0},
		{-1, 0, true, 0},
	} {
		c, err := newCooldown(tt.base, tt.max)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) || len(c.buckets) != tt.buckets {
			t.Errorf("%v, %v: %d buckets, err %v; want ok=%v, %d buckets", tt.base, tt.max, len(c.buckets), err, tt.ok, tt.buckets)
		}
	}
}

// TestLocalCooldownsBounded: the cooldown in memory holds at most its bound
// of destinations, however many it sees, and a destination it still holds
// keeps its wait.
func TestLocalCooldownsBounded(t *testing.T) {
	c, err := newCooldown(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.NewClock()
	l := newLocalCooldowns(&c, clock.Now)
	l.perShard = 4
	for i := range 10_000 {
		if _, _, ok := l.reserve(fmt.Sprint("n", i)); !ok {
			t.Fatalf("first send to n%d refused", i)
		}
		if i%1000 == 0 {
			clock.Advance(time.Hour) // some die, some stay live
		}
	}
	total := 0
	for i := range l.shards {
		total += len(l.shards[i].m)
	}
	if total > localShards*l.perShard {
		t.Fatalf("%d destinations held, bound %d", total, localShards*l.perShard)
	}
	if _, _, ok := l.reserve("n9999"); ok {
		t.Fatal("the last destination lost its cooldown")
	}
}
