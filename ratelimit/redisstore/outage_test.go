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
			// The breaker opened during the outage (six failures in a
			// row); the next probe finds Redis back, within 100ms of
			// go-redis dialling again.
			if !store.breaker.open.Load() {
				t.Fatal("breaker closed after six failures in a row")
			}
			waitBack(t, store)
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

// waitBack polls s until a take succeeds (at most 10s; go-redis retries
// dials at most once a second after PoolSize failures in a row).
func waitBack(t *testing.T, s *Store) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		_, err := s.Take(context.Background(), ratelimit.Request{Key: "waitback", Limit: ratelimit.PerSecond(1000)})
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no recovery 10s after the server came back: %v", err)
		}
		time.Sleep(5 * time.Millisecond) // polling an outside process, not timing a test
	}
}

// TestOutage takes an outage of each kind under load: the server killed
// and restarted, every client paused with CLIENT PAUSE, and the process
// stopped with SIGSTOP (it accepts connections and never answers). While
// it lasts no check succeeds and every error wraps ErrUnavailable; the
// breaker opens, so that most checks fail at once and at most one at a
// time waits for the server; after it, the breaker closes and every check
// succeeds again.
func TestOutage(t *testing.T) {
	outages := []struct {
		name       string
		long       bool
		down, back func(t *testing.T, srv *redistest.Server, admin *redis.Client)
	}{
		{"killed", false,
			func(t *testing.T, srv *redistest.Server, _ *redis.Client) {
				if err := srv.Stop(); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, srv *redistest.Server, _ *redis.Client) {
				if err := srv.Restart(); err != nil {
					t.Fatal(err)
				}
			}},
		{"CLIENT PAUSE", true,
			func(t *testing.T, _ *redistest.Server, admin *redis.Client) {
				// It ends by itself (CLIENT UNPAUSE would wait for it),
				// a little after the test stops checking.
				if err := admin.Do(context.Background(), "CLIENT", "PAUSE", (outageFor + pauseMargin).Milliseconds(), "ALL").Err(); err != nil {
					t.Fatal(err)
				}
			},
			func(*testing.T, *redistest.Server, *redis.Client) {
				time.Sleep(pauseMargin) // until the pause ends
			}},
		{"SIGSTOP", true,
			func(t *testing.T, srv *redistest.Server, _ *redis.Client) {
				if err := srv.Freeze(); err != nil {
					t.Skip(err)
				}
			},
			func(t *testing.T, srv *redistest.Server, _ *redis.Client) {
				if err := srv.Thaw(); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			if o.long && !testkit.Long() {
				t.Skipf("a %v outage; set %s=1 to run it", outageFor, testkit.EnvLong)
			}
			srv := redistest.Start(t)
			admin := srv.Client(t)
			f := &fakeServer{}
			c := srv.Client(t, func(o *redis.Options) { o.PoolSize = 8 })
			c.AddHook(countingHook{f})
			store, err := New(c, Config{Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var phase atomic.Int32 // 0 up, 1 down, 2 coming back
			var okDown, failed, fast atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					reqs := []ratelimit.Request{{Key: "a" + strconv.Itoa(w), Limit: ratelimit.PerSecond(1000)}, {Key: "b", Limit: ratelimit.PerSecond(100_000)}}
					results := make([]ratelimit.Result, 2)
					for {
						select {
						case <-stop:
							return
						default:
						}
						p := phase.Load()
						_, _, err := store.TakeAll(ctx, reqs, results)
						switch {
						case err == nil && p == 1 && phase.Load() == 1:
							okDown.Add(1)
						case err == nil:
						case !errors.Is(err, ratelimit.ErrUnavailable):
							t.Errorf("error not wrapping ErrUnavailable: %v", err)
						case strings.Contains(err.Error(), "circuit breaker open"):
							fast.Add(1)
						default:
							failed.Add(1)
						}
					}
				})
			}
			waitBack(t, store)
			o.down(t, srv, admin)
			phase.Store(1)
			callsAtDown := f.calls.Load()
			time.Sleep(outageFor) // while the outage lasts
			callsDown := f.calls.Load() - callsAtDown
			phase.Store(2)
			o.back(t, srv, admin)
			recovery := waitBack(t, store)
			close(stop)
			wg.Wait()
			if okDown.Load() != 0 {
				t.Errorf("%d checks succeeded while the server was down", okDown.Load())
			}
			if fast.Load() == 0 || fast.Load() < 10*failed.Load() {
				t.Errorf("%d checks failed at once and %d waited for the server: want most to fail at once", fast.Load(), failed.Load())
			}
			t.Logf("%s, %v: %d checks failed at once, %d went to the server and failed (%d calls reached the client); recovered %v after the server was back",
				o.name, outageFor, fast.Load(), failed.Load(), callsDown, recovery.Round(time.Millisecond))
			if store.breaker.open.Load() {
				t.Fatal("breaker open after a check succeeded")
			}
			for range 20 {
				if _, err := store.Take(ctx, ratelimit.Request{Key: "after", Limit: ratelimit.PerSecond(1000)}); err != nil {
					t.Fatalf("after recovery: %v", err)
				}
			}
		})
	}
}

// outageFor is how long TestOutage's outages last; a CLIENT PAUSE lasts
// pauseMargin more.
const (
	outageFor   = 1500 * time.Millisecond
	pauseMargin = 300 * time.Millisecond
)

// countingHook counts the calls that reach a real server in a fakeServer's
// counters, and passes them on.
type countingHook struct{ f *fakeServer }

func (h countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.f.calls.Add(1)
		h.f.inFlight.Add(1)
		defer h.f.inFlight.Add(-1)
		return next(ctx, cmd)
	}
}
