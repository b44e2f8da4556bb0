package redisstore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore/internal/redistest"
)

// localStore is the memory store as a fallback, counting its takes.
type localStore struct {
	ratelimit.Store
	takes atomic.Int64
}

func newLocalStore(t *testing.T) *localStore {
	m, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &localStore{Store: m}
}

func (s *localStore) Take(ctx context.Context, r ratelimit.Request) (ratelimit.Result, error) {
	s.takes.Add(1)
	return s.Store.Take(ctx, r)
}

func (s *localStore) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (bool, int, error) {
	s.takes.Add(1)
	return s.Store.TakeAll(ctx, reqs, results)
}

// TestServerStopsAndReturns stops the Redis server in the middle of a run
// and starts it again, under each failure mode of ratelimit.Limiter: while
// it is down every mode does what it says, and every mode uses Redis again
// as soon as it is back.
func TestServerStopsAndReturns(t *testing.T) {
	srv := redistest.Start(t)
	lim := ratelimit.PerHour(5)
	reqs := []ratelimit.Request{{Key: "ip", Limit: lim}, {Key: "phone", Limit: ratelimit.PerHour(3)}}

	tests := []struct {
		name string
		opts func(fallback ratelimit.Store) []ratelimit.Option
		// down checks a result and error taken while Redis is down.
		down func(t *testing.T, r ratelimit.Result, err error, fallback *localStore)
	}{
		{
			name: "fail closed (default)",
			opts: func(ratelimit.Store) []ratelimit.Option { return nil },
			down: func(t *testing.T, r ratelimit.Result, err error, _ *localStore) {
				if r.Allowed || !errors.Is(err, ratelimit.ErrUnavailable) {
					t.Fatalf("got %+v, %v; want a denial with ErrUnavailable", r, err)
				}
			},
		},
		{
			name: "fail open",
			opts: func(ratelimit.Store) []ratelimit.Option { return []ratelimit.Option{ratelimit.WithFailOpen()} },
			down: func(t *testing.T, r ratelimit.Result, err error, _ *localStore) {
				if !r.Allowed || err != nil {
					t.Fatalf("got %+v, %v; want allowed without error", r, err)
				}
			},
		},
		{
			name: "fall back",
			opts: func(fb ratelimit.Store) []ratelimit.Option { return []ratelimit.Option{ratelimit.WithFallback(fb)} },
			down: func(t *testing.T, r ratelimit.Result, err error, fb *localStore) {
				if err != nil || fb.takes.Load() == 0 {
					t.Fatalf("got %+v, %v after %d fallback takes; want the fallback's answer", r, err, fb.takes.Load())
				}
			},
		},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// No retries, so that calls to a stopped server fail at once,
			// and a timeout that a busy machine cannot trip.
			c := srv.Client(t, func(o *redis.Options) { o.MaxRetries = -1 })
			store, err := New(c, Config{Prefix: testPrefix(t), Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			fallback := newLocalStore(t)
			var failures atomic.Int64
			opts := append(tc.opts(fallback), ratelimit.WithOnError(func(err error) {
				if !errors.Is(err, ratelimit.ErrUnavailable) {
					t.Errorf("OnError got %v, want ErrUnavailable", err)
				}
				failures.Add(1)
			}))
			l, err := ratelimit.New(store, opts...)
			if err != nil {
				t.Fatal(err)
			}

			// Up: Redis answers.
			r, err := l.Allow(ctx, "ip", lim)
			if err != nil || !r.Allowed || r.Remaining != 4 || failures.Load() != 0 {
				t.Fatalf("up: %+v, %v", r, err)
			}

			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				r, err := l.Allow(ctx, "ip", lim)
				tc.down(t, r, err, fallback)
				d, err := l.AllowAll(ctx, reqs, nil)
				tc.down(t, d.Result, err, fallback)
				if len(d.Results) != len(reqs) {
					t.Fatalf("down: %d results for %d requests", len(d.Results), len(reqs))
				}
			}
			if got := failures.Load(); got != 6 {
				t.Fatalf("OnError called %d times, want 6", got)
			}
			// The store itself says what happened.
			if _, err := store.Take(ctx, ratelimit.Request{Key: "ip", Limit: lim, Cost: 1}); !errors.Is(err, ratelimit.ErrUnavailable) {
				t.Fatalf("store while down: %v, want ErrUnavailable", err)
			}

			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			fallbackTakes := fallback.takes.Load()
			failures.Store(0)
			// Back: an empty Redis answers again (its state was lost with
			// the restart, persistence being off).
			r, err = l.Allow(ctx, "ip", lim)
			if err != nil || !r.Allowed || r.Remaining != 4 {
				t.Fatalf("back: %+v, %v; want Redis's answer", r, err)
			}
			d, err := l.AllowAll(ctx, reqs, nil)
			if err != nil || !d.Allowed || d.Results[0].Remaining != 3 || d.Results[1].Remaining != 2 {
				t.Fatalf("back: %+v, %v", d, err)
			}
			if failures.Load() != 0 || fallback.takes.Load() != fallbackTakes {
				t.Fatalf("back: %d failures, %d fallback takes; want none", failures.Load(), fallback.takes.Load()-fallbackTakes)
			}
		})
	}
}

// TestServerStopsUnderLoad stops and restarts the server while goroutines
// keep checking: no panic, no success while it is down, every error wraps
// ErrUnavailable, and once the server is back every check succeeds.
func TestServerStopsUnderLoad(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t, func(o *redis.Options) { o.PoolSize = 4; o.MaxRetries = -1 })
	store, err := New(c, Config{Prefix: testPrefix(t), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var phase atomic.Int32 // 0 up, 1 down, 2 restarting
	var okDown atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				p := phase.Load()
				_, err := decide(store, ctx, []ratelimit.Request{{Key: "a", Limit: ratelimit.PerSecond(1000)}, {Key: "b", Limit: ratelimit.PerSecond(1000)}})
				switch {
				case err != nil && !errors.Is(err, ratelimit.ErrUnavailable):
					t.Errorf("error not wrapping ErrUnavailable: %v", err)
				case err == nil && p == 1 && phase.Load() == 1:
					okDown.Add(1)
				}
			}
		})
	}
	take := func() error {
		_, err := store.Take(ctx, ratelimit.Request{Key: "c", Limit: ratelimit.PerSecond(1000), Cost: 1})
		return err
	}
	for range 20 {
		if err := take(); err != nil {
			t.Fatal(err)
		}
	}
	phase.Store(1)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := take(); !errors.Is(err, ratelimit.ErrUnavailable) {
			t.Fatalf("down: %v", err)
		}
	}
	phase.Store(2)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Calls still in flight from the outage finish; go-redis may then stop
	// dialling for a while: after PoolSize failed dials in a row it probes
	// once a second (and a dial that began during the outage can fail
	// after the restart). So wait for the first success (bounded), then
	// every check must succeed.
	close(stop)
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for err := take(); err != nil; err = take() {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 10s after the restart: %v", err)
		}
		time.Sleep(5 * time.Millisecond) // polling an outside process, not timing a test
	}
	for range 20 {
		if err := take(); err != nil {
			t.Fatalf("back: %v", err)
		}
	}
	if okDown.Load() != 0 {
		t.Fatalf("%d checks succeeded while the server was down", okDown.Load())
	}
}
