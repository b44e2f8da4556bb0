package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// fakeServer is a go-redis hook that answers every command itself, so
// that the breaker's tests need no server and run in a synctest bubble:
// it fails while fail is set, waits on hold when it is not nil, and counts
// the calls that reach it.
type fakeServer struct {
	fail     atomic.Bool
	hold     chan struct{}
	calls    atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

var errInjected = errors.New("injected failure")

// allowedReply is the script's reply to an allowed take of one request
// that leaves its bucket full.
const allowedReply = int64(1)

func (f *fakeServer) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *fakeServer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (f *fakeServer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		f.calls.Add(1)
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for m := f.maxIn.Load(); n > m && !f.maxIn.CompareAndSwap(m, n); m = f.maxIn.Load() {
		}
		if f.hold != nil {
			select {
			case <-f.hold:
			case <-ctx.Done():
				cmd.SetErr(ctx.Err())
				return ctx.Err()
			}
		}
		if f.fail.Load() {
			cmd.SetErr(errInjected)
			return errInjected
		}
		// The reply to an allowed take of one request.
		cmd.(*redis.Cmd).SetVal(allowedReply)
		return nil
	}
}

// fakeStore returns a store whose client never reaches a network: f
// answers for the server.
func fakeStore(t *testing.T, f *fakeServer, cfg Config) *Store {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	c.AddHook(f)
	t.Cleanup(func() { c.Close() })
	s, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

var oneReq = ratelimit.Request{Key: "k", Limit: ratelimit.PerSecond(10)}

func TestBreakerOpensAfterFailuresInARow(t *testing.T) {
	f := &fakeServer{}
	s := fakeStore(t, f, Config{BreakAfter: 3})
	ctx := context.Background()
	take := func() error { _, err := s.Take(ctx, oneReq); return err }

	// Two failures, a success, two failures: never three in a row.
	for _, fail := range []bool{true, true, false, true, true} {
		f.fail.Store(fail)
		if err := take(); (err != nil) != fail {
			t.Fatalf("fail=%v: %v", fail, err)
		}
	}
	if s.breaker.open.Load() {
		t.Fatal("breaker open without three failures in a row")
	}
	// The third in a row opens it: calls fail at once, never reaching the
	// client.
	if err := take(); !errors.Is(err, errInjected) {
		t.Fatalf("third failure: %v", err)
	}
	calls := f.calls.Load()
	for range 10 {
		err := take()
		if !errors.Is(err, ratelimit.ErrUnavailable) || !strings.Contains(err.Error(), "circuit breaker open") || !strings.Contains(err.Error(), errInjected.Error()) {
			t.Fatalf("open breaker: %v; want ErrUnavailable naming the breaker and the last failure", err)
		}
	}
	if got := f.calls.Load() - calls; got != 0 {
		t.Fatalf("%d calls reached the client through an open breaker", got)
	}
	// Bad arguments are still the caller's error.
	if _, err := s.Take(ctx, ratelimit.Request{Key: "", Limit: oneReq.Limit}); !errors.Is(err, ratelimit.ErrInvalidRequest) {
		t.Fatalf("bad request through an open breaker: %v, want ErrInvalidRequest", err)
	}
}

// TestBreakerProbes follows an open breaker on a fake clock: the first
// probe 100ms after it opened, then one every 100ms while they fail, and
// the first that succeeds closes it.
func TestBreakerProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{}
		var logs testkit.Buffer
		s := fakeStore(t, f, Config{BreakAfter: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx := context.Background()
		take := func() error { _, err := s.Take(ctx, oneReq); return err }
		f.fail.Store(true)
		take()
		take()
		if !s.breaker.open.Load() {
			t.Fatal("breaker closed after two failures")
		}
		for step := range 3 {
			calls := f.calls.Load()
			for range 5 {
				take()
			}
			if got := f.calls.Load() - calls; got != 0 {
				t.Fatalf("step %d: %d calls reached the server before the next probe is due", step, got)
			}
			time.Sleep(probeEvery)
			if err := take(); !errors.Is(err, errInjected) { // the probe, failing
				t.Fatalf("step %d: probe: %v", step, err)
			}
			if got := f.calls.Load() - calls; got != 1 {
				t.Fatalf("step %d: %d calls reached the server, want the one probe", step, got)
			}
		}
		time.Sleep(probeEvery / 2)
		f.fail.Store(false)
		if err := take(); err == nil {
			t.Fatal("a call succeeded before the probe was due")
		}
		time.Sleep(probeEvery / 2)
		if err := take(); err != nil { // the probe, succeeding
			t.Fatalf("probe after the server came back: %v", err)
		}
		if s.breaker.open.Load() {
			t.Fatal("breaker still open after a probe succeeded")
		}
		calls := f.calls.Load()
		for range 5 {
			if err := take(); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.calls.Load() - calls; got != 5 {
			t.Fatalf("%d of 5 calls reached the server after the breaker closed", got)
		}
		out := logs.String()
		if !strings.Contains(out, "level=WARN msg=\"redisstore: circuit breaker open") ||
			!strings.Contains(out, "level=INFO msg=\"redisstore: circuit breaker closed") ||
			!strings.Contains(out, "open_for=400ms") || !strings.Contains(out, "failed_at_once=16") {
			t.Fatalf("logs do not tell the breaker's story:\n%s", out)
		}
	})
}

// TestBreakerOneProbeAtATime holds the probe at the server: every other
// call fails at once meanwhile, and only the probe reaches the client.
func TestBreakerOneProbeAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{}
		s := fakeStore(t, f, Config{BreakAfter: 1, Timeout: time.Second})
		ctx := context.Background()
		f.fail.Store(true)
		s.Take(ctx, oneReq)
		time.Sleep(probeEvery)
		f.hold = make(chan struct{})
		f.fail.Store(false)
		probeDone := make(chan error)
		go func() { _, err := s.Take(ctx, oneReq); probeDone <- err }()
		synctest.Wait() // the probe waits at the server
		calls := f.calls.Load()
		var wg sync.WaitGroup
		var fast atomic.Int64
		for range 20 {
			wg.Go(func() {
				if _, err := s.Take(ctx, oneReq); errors.Is(err, ratelimit.ErrUnavailable) {
					fast.Add(1)
				}
			})
		}
		wg.Wait()
		if fast.Load() != 20 || f.calls.Load() != calls {
			t.Fatalf("%d of 20 calls failed at once, %d reached the server, while a probe was out", fast.Load(), f.calls.Load()-calls)
		}
		close(f.hold)
		if err := <-probeDone; err != nil {
			t.Fatalf("probe: %v", err)
		}
		if s.breaker.open.Load() || f.maxIn.Load() != 1 {
			t.Fatalf("open=%v after the probe succeeded, %d calls at once at the server", s.breaker.open.Load(), f.maxIn.Load())
		}
	})
}

// TestBreakerProbeTimesOut: a probe that the server never answers ends at
// the store's timeout and fails; the next probe goes out at once, since
// the last started more than 100ms before.
func TestBreakerProbeTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{}
		s := fakeStore(t, f, Config{BreakAfter: 1, Timeout: 300 * time.Millisecond})
		ctx := context.Background()
		f.fail.Store(true)
		s.Take(ctx, oneReq)
		f.fail.Store(false)
		f.hold = make(chan struct{})
		time.Sleep(probeEvery)
		start := time.Now()
		if _, err := s.Take(ctx, oneReq); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("probe to a silent server: %v", err)
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Fatalf("probe took %v, want the timeout", d)
		}
		calls := f.calls.Load()
		close(f.hold)
		if _, err := s.Take(ctx, oneReq); err != nil || f.calls.Load() != calls+1 {
			t.Fatalf("next probe: %v after %d calls", err, f.calls.Load()-calls)
		}
	})
}

// TestBreakerIgnoresCallersThatGiveUp: calls that fail because their
// caller cancelled do not count toward opening the breaker; calls whose
// deadline the server did not meet do.
func TestBreakerIgnoresCallersThatGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{hold: make(chan struct{})}
		s := fakeStore(t, f, Config{BreakAfter: 2, Timeout: time.Second})
		for range 5 {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { time.Sleep(time.Millisecond); cancel() }()
			if _, err := s.Take(ctx, oneReq); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled call: %v", err)
			}
		}
		if s.breaker.open.Load() {
			t.Fatal("cancelled calls opened the breaker")
		}
		for range 2 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			s.Take(ctx, oneReq)
			cancel()
		}
		if !s.breaker.open.Load() {
			t.Fatal("two deadlines missed by the server did not open the breaker")
		}
	})
}

func TestBreakerOff(t *testing.T) {
	f := &fakeServer{}
	s := fakeStore(t, f, Config{BreakAfter: -1})
	f.fail.Store(true)
	for range 50 {
		s.Take(context.Background(), oneReq)
	}
	if s.breaker.open.Load() || f.calls.Load() != 50 {
		t.Fatalf("open=%v, %d of 50 calls reached the client; want every call tried", s.breaker.open.Load(), f.calls.Load())
	}
}

// TestBreakerDefault: five failures in a row open the breaker of a zero
// Config.
func TestBreakerDefault(t *testing.T) {
	f := &fakeServer{}
	s := fakeStore(t, f, Config{})
	f.fail.Store(true)
	for i := range defaultBreakAfter {
		if s.breaker.open.Load() {
			t.Fatalf("open after %d failures", i)
		}
		s.Take(context.Background(), oneReq)
	}
	if !s.breaker.open.Load() {
		t.Fatalf("closed after %d failures", defaultBreakAfter)
	}
}

// TestBreakerPerSlot: with TagFunc on a cluster, each hash slot has a
// breaker of its own, so failures of one shard do not fail the others'
// checks at once.
func TestBreakerPerSlot(t *testing.T) {
	f := &fakeServer{}
	s := fakeStore(t, f, Config{BreakAfter: 2, TagFunc: func(k string) string { r, _, _ := strings.Cut(k, "|"); return r }})
	s.spread = true // as for a cluster client
	ctx := context.Background()
	bad := ratelimit.Request{Key: "login|ip", Limit: ratelimit.PerSecond(10)}
	good := ratelimit.Request{Key: "verify|ip", Limit: ratelimit.PerSecond(10)}
	f.fail.Store(true)
	for range 2 {
		s.Take(ctx, bad)
	}
	if !s.breakerFor("login").open.Load() || s.breakerFor("verify").open.Load() || s.breaker.open.Load() {
		t.Fatal("want the login slot's breaker open, and no other")
	}
	f.fail.Store(false)
	if _, err := s.Take(ctx, good); err != nil {
		t.Fatalf("a check on a healthy slot: %v", err)
	}
	if _, err := s.Take(ctx, bad); err == nil || !strings.Contains(err.Error(), "circuit breaker open") {
		t.Fatalf("a check on the failing slot: %v, want the breaker's error", err)
	}
}

// TestHashSlot checks the slot computation against CRC16/XMODEM's check
// value and slots Redis documents; TestCluster checks it against a
// cluster's CLUSTER KEYSLOT.
func TestHashSlot(t *testing.T) {
	for tag, want := range map[string]uint16{"123456789": 0x31C3, "foo": 12182, "bar": 5061} {
		if got := hashSlot(tag); got != want {
			t.Errorf("hashSlot(%q) = %d, want %d", tag, got, want)
		}
	}
}
