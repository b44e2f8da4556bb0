package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore/internal/redistest"
)

// TestCluster runs the store on a real Redis Cluster of three masters
// (and their replicas): multi-limit takes on the default hash tag, routes
// spread over shards with TagFunc, and exact limits across eight clients.
func TestCluster(t *testing.T) {
	if !testkit.Long() {
		t.Skipf("starts a six-node cluster (seconds); set %s=1 to run it", testkit.EnvLong)
	}
	cl := redistest.StartCluster(t, 3)
	ctx := context.Background()
	newStore := func(t *testing.T, cfg Config) *Store {
		s, err := New(cl.Client(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("several limits in one slot", func(t *testing.T) {
		s := newStore(t, Config{Prefix: testPrefix(t)})
		reqs := []ratelimit.Request{
			{Key: "ip", Limit: ratelimit.PerMinute(2)},
			{Key: "phone", Limit: ratelimit.PerHour(3)},
			{Key: "global", Limit: ratelimit.PerHour(1000)},
		}
		for i, want := range []bool{true, true, false} {
			d, err := decide(s, ctx, reqs)
			if err != nil || d.Allowed != want {
				t.Fatalf("take %d: %+v, %v; want allowed=%v", i, d, err, want)
			}
		}
		// Nothing of the denied take was spent.
		r, err := s.Take(ctx, ratelimit.Request{Key: "phone", Limit: ratelimit.PerHour(3), Peek: true})
		if err != nil || r.Remaining != 1 {
			t.Fatalf("phone after the denied take: %+v, %v; want 1 remaining", r, err)
		}
	})

	t.Run("routes spread over shards", func(t *testing.T) {
		s := newStore(t, Config{Prefix: testPrefix(t), TagFunc: func(k string) string { r, _, _ := strings.Cut(k, "|"); return r }})
		// Find two routes whose slots are on different masters.
		routes := []string{"verify"}
		for i := 0; len(routes) < 2; i++ {
			r := "route" + strconv.Itoa(i)
			if cl.MasterOf(t, "{"+r+"}") != cl.MasterOf(t, "{verify}") {
				routes = append(routes, r)
			}
		}
		for _, r := range routes {
			reqs := []ratelimit.Request{{Key: r + "|ip", Limit: ratelimit.PerMinute(1)}, {Key: r + "|phone", Limit: ratelimit.PerMinute(1)}}
			if d, err := decide(s, ctx, reqs); err != nil || !d.Allowed {
				t.Fatalf("route %s: %+v, %v", r, d, err)
			}
			if d, err := decide(s, ctx, reqs); err != nil || d.Allowed {
				t.Fatalf("route %s again: %+v, %v; want denied", r, d, err)
			}
		}
		mixed := []ratelimit.Request{{Key: routes[0] + "|ip", Limit: ratelimit.PerMinute(1)}, {Key: routes[1] + "|ip", Limit: ratelimit.PerMinute(1)}}
		if _, err := decide(s, ctx, mixed); !errors.Is(err, ratelimit.ErrInvalidRequest) {
			t.Fatalf("a take across slots: %v, want ErrInvalidRequest", err)
		}
	})

	t.Run("hash slots", func(t *testing.T) {
		c := cl.Client(t)
		for _, tag := range []string{defaultTag, "verify", "login", "route7", "{", "ключ"} {
			want, err := c.ClusterKeySlot(ctx, "{"+tag+"}:x").Result()
			if err != nil {
				t.Fatal(err)
			}
			if got := hashSlot(tag); int64(got) != want && !strings.ContainsAny(tag, "{}") {
				t.Errorf("hashSlot(%q) = %d, CLUSTER KEYSLOT says %d", tag, got, want)
			}
		}
	})

	t.Run("exact across clients", func(t *testing.T) {
		prefix := testPrefix(t)
		const clients, workers, attempts = 8, 4, 10
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for range clients {
			s := newStore(t, Config{Prefix: prefix, Timeout: 10 * time.Second})
			for range workers {
				wg.Go(func() {
					for range attempts {
						r, err := s.Take(ctx, ratelimit.Request{Key: "single", Limit: ratelimit.PerDay(100)})
						if err != nil {
							t.Error(err)
							return
						}
						if r.Allowed {
							admitted.Add(1)
						}
					}
				})
			}
		}
		wg.Wait()
		if got := admitted.Load(); got != 100 {
			t.Fatalf("admitted %d of %d attempts, want exactly 100", got, clients*workers*attempts)
		}
	})
}

// TestClusterFailover kills the master that serves the limiter's slot
// while eight goroutines check limits through two Limiters over one
// store, one failing closed and one falling back to a memory store. While
// the replica takes over, the closed one denies with ErrUnavailable, the
// other answers from its fallback, nothing panics; once the replica is
// master the store answers again, and the killed node rejoins as a
// replica. It logs how many takes of a limit were admitted beyond it: the
// takes the old master acknowledged but had not yet copied to its replica
// are lost with it.
func TestClusterFailover(t *testing.T) {
	if !testkit.Long() {
		t.Skipf("a cluster failover takes several seconds; set %s=1 to run it", testkit.EnvLong)
	}
	cl := redistest.StartCluster(t, 3)
	ctx := context.Background()
	store, err := New(cl.Client(t, func(o *redis.ClusterOptions) { o.MaxRetries = 2 }), Config{Prefix: testPrefix(t), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := ratelimit.New(store)
	if err != nil {
		t.Fatal(err)
	}
	fallback := newLocalStore(t)
	open, err := ratelimit.New(store, ratelimit.WithFallback(fallback))
	if err != nil {
		t.Fatal(err)
	}
	master := cl.MasterOf(t, "{"+defaultTag+"}")

	// A limit the load exhausts across the failover: what is admitted
	// beyond it was lost with the old master.
	const budget = 2000
	quota := ratelimit.PerDay(budget)
	var admitted, unavailable, fellBack, afterBack atomic.Int64
	var phase atomic.Int32 // 0 before, 1 master killed, 2 store answers again
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			lim := closed
			if w%2 == 1 {
				lim = open
			}
			reqs := []ratelimit.Request{{Key: "w" + strconv.Itoa(w), Limit: ratelimit.PerSecond(100_000)}, {Key: "quota", Limit: quota}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				fb := fallback.takes.Load()
				d, err := lim.AllowAll(ctx, reqs, nil)
				switch {
				case err != nil && (lim == open || !errors.Is(err, ratelimit.ErrUnavailable)):
					t.Errorf("worker %d: %v", w, err)
					return
				case err != nil:
					unavailable.Add(1)
				case fallback.takes.Load() != fb:
					fellBack.Add(1)
				case d.Allowed:
					admitted.Add(1)
					if phase.Load() == 2 {
						afterBack.Add(1)
					}
				}
			}
		})
	}
	// Spend about half the quota, then kill the master.
	for admitted.Load() < budget/2 {
		time.Sleep(time.Millisecond) // waiting for the load
	}
	if err := master.Stop(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	phase.Store(1)
	// The replica takes over after NodeTimeout and an election.
	for m := cl.MasterOfOrNil("{" + defaultTag + "}"); m == nil || m == master; m = cl.MasterOfOrNil("{" + defaultTag + "}") {
		if time.Since(killed) > 30*time.Second {
			t.Fatal("no replica took over in 30s")
		}
		time.Sleep(10 * time.Millisecond) // polling outside processes
	}
	failover := time.Since(killed)
	waitBackFor(t, store, 30*time.Second)
	back := time.Since(killed)
	phase.Store(2)
	// Run until the quota is spent for good.
	for afterBack.Load() < 50 && admitted.Load() < budget {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if unavailable.Load() == 0 || fellBack.Load() == 0 {
		t.Errorf("during the failover: %d closed denials, %d fallback answers; want both", unavailable.Load(), fellBack.Load())
	}
	r, err := store.Take(ctx, ratelimit.Request{Key: "quota", Limit: quota, Peek: true})
	if err != nil {
		t.Fatal(err)
	}
	spent := int64(budget - r.Remaining)
	t.Logf("replica became master %v after the master was killed, the store answered again after %v; %d closed denials and %d fallback answers meanwhile; %d takes admitted by Redis, the quota shows %d spent (%d lost with the old master; negative: spent without an answer)",
		failover.Round(time.Millisecond), back.Round(time.Millisecond), unavailable.Load(), fellBack.Load(), admitted.Load(), spent, admitted.Load()-spent)
	if admitted.Load() > budget+budget/10 {
		t.Errorf("admitted %d of a quota of %d", admitted.Load(), budget)
	}
	// The old master comes back as a replica of the new one.
	if err := master.Restart(); err != nil {
		t.Fatal(err)
	}
	cl.WaitHealthy(t)
	if m := cl.MasterOf(t, "{"+defaultTag+"}"); m == master {
		t.Fatal("the restarted node is master again")
	}
	if _, err := store.Take(ctx, ratelimit.Request{Key: "after", Limit: quota}); err != nil {
		t.Fatal(err)
	}
}

// TestClusterShardDown kills the master of one route's slot (and its
// replica) on a cluster that serves the slots it still has
// (cluster-require-full-coverage no): with TagFunc, each slot has a
// breaker of its own, so the other route's checks never fail at once while
// the dead shard's do, most of them.
func TestClusterShardDown(t *testing.T) {
	if !testkit.Long() {
		t.Skipf("a cluster with a shard down takes seconds; set %s=1 to run it", testkit.EnvLong)
	}
	cl := redistest.StartCluster(t, 3, "--cluster-require-full-coverage", "no")
	ctx := context.Background()
	store, err := New(cl.Client(t, func(o *redis.ClusterOptions) { o.MaxRetries = -1 }), Config{
		Prefix:     testPrefix(t),
		Timeout:    500 * time.Millisecond,
		BreakAfter: 2,
		TagFunc:    func(k string) string { r, _, _ := strings.Cut(k, "|"); return r },
	})
	if err != nil {
		t.Fatal(err)
	}
	routes := []string{"verify"}
	for i := 0; len(routes) < 2; i++ {
		if r := "route" + strconv.Itoa(i); cl.MasterOf(t, "{"+r+"}") != cl.MasterOf(t, "{verify}") {
			routes = append(routes, r)
		}
	}
	dead := cl.MasterOf(t, "{"+routes[0]+"}")
	for _, n := range cl.Nodes {
		if n == dead || strings.Contains(n.ReplicaOf(t), dead.Addr) {
			if err := n.Stop(); err != nil {
				t.Fatal(err)
			}
		}
	}
	var healthyFailed, deadOK, deadFast, deadSlow atomic.Int64
	var wg sync.WaitGroup
	until := time.Now().Add(2 * time.Second)
	for w := range 4 {
		route := routes[w%2]
		wg.Go(func() {
			for time.Now().Before(until) {
				_, err := store.Take(ctx, ratelimit.Request{Key: route + "|k" + strconv.Itoa(w), Limit: ratelimit.PerSecond(100_000)})
				switch {
				case route == routes[1] && err != nil && strings.Contains(err.Error(), "circuit breaker open"):
					t.Errorf("route %s on a live shard: %v", route, err)
				case route == routes[1] && err != nil:
					// A loaded machine can miss a deadline; not the breaker.
					healthyFailed.Add(1)
				case route == routes[0] && err == nil:
					deadOK.Add(1)
				case route == routes[0] && strings.Contains(err.Error(), "circuit breaker open"):
					deadFast.Add(1)
				case route == routes[0]:
					deadSlow.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("dead shard: %d checks failed at once, %d waited; live shard: %d timeouts, no breaker failure", deadFast.Load(), deadSlow.Load(), healthyFailed.Load())
	if deadOK.Load() != 0 || deadFast.Load() == 0 {
		t.Fatalf("dead shard: %d checks succeeded, %d failed at once", deadOK.Load(), deadFast.Load())
	}
}

// waitBackFor polls s until a take succeeds, for at most limit.
func waitBackFor(t *testing.T, s *Store, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		_, err := s.Take(context.Background(), ratelimit.Request{Key: "waitback", Limit: ratelimit.PerSecond(1000)})
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("no answer %v after the failure: %v", limit, err)
		}
		time.Sleep(5 * time.Millisecond) // polling outside processes
	}
}

// TestSentinel runs the store through go-redis's failover client, with a
// master, a replica and one sentinel: exact limits, and a failover when
// the master is killed.
func TestSentinel(t *testing.T) {
	if !testkit.Long() {
		t.Skipf("starts a master, a replica and a sentinel (seconds); set %s=1 to run it", testkit.EnvLong)
	}
	sen := redistest.StartSentinel(t)
	ctx := context.Background()
	store, err := New(sen.Client(t), Config{Prefix: testPrefix(t), Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				r, err := store.Take(ctx, ratelimit.Request{Key: "k", Limit: ratelimit.PerDay(100)})
				if err != nil {
					t.Error(err)
					return
				}
				if r.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 100 {
		t.Fatalf("admitted %d of 160, want exactly 100", admitted.Load())
	}
	// The replica has the state: after the failover the limit holds.
	time.Sleep(100 * time.Millisecond) // let the last writes reach the replica
	if err := sen.Master.Stop(); err != nil {
		t.Fatal(err)
	}
	back := waitBackFor(t, store, 30*time.Second)
	if got := sen.MasterAddr(t); got != sen.Replica.Addr {
		t.Fatalf("sentinel gives master %s, want the replica %s", got, sen.Replica.Addr)
	}
	r, err := store.Take(ctx, ratelimit.Request{Key: "k", Limit: ratelimit.PerDay(100)})
	if err != nil || r.Allowed {
		t.Fatalf("after the failover: %+v, %v; want the limit still spent", r, err)
	}
	t.Logf("store answered again %v after the master was killed", back.Round(time.Millisecond))
}
