package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// probeEvery is the least time between the starts of two probes while the
// breaker is open: a server that fails at once is asked ten times a
// second, not at the rate of the application's requests.
const probeEvery = 100 * time.Millisecond

// breaker is the store's circuit breaker. Closed, it only counts failures
// in a row (an atomic load per call, a store after a failure). Open, a
// call either fails at once or becomes the probe: one call at a time, at
// most one every probeEvery, goes to the server, and closes the breaker
// when it succeeds.
type breaker struct {
	// after is the number of failures in a row that opens the breaker; 0
	// means never.
	after int64
	// lease bounds how long a probe holds the probe slot, should its call
	// not end (no timeout, and a caller's context without a deadline).
	lease time.Duration
	log   *logSink

	fails atomic.Int64
	open  atomic.Bool
	// next is when the next probe may start, in Unix nanoseconds.
	next atomic.Int64
	// err is what calls get while the breaker is open.
	err atomic.Pointer[error]
	// fast counts the calls failed at once since the breaker opened.
	fast atomic.Int64

	mu       sync.Mutex // serializes opening and closing
	openedAt time.Time
	// logged is set when the opening was logged, so that its closing is
	// too (a flapping server gets one pair a second).
	logged bool
}

// allow reports whether a call may go to the server: with a nil error,
// when the breaker is closed (probe 0) or the call is the probe (probe is
// its start, in Unix nanoseconds); otherwise the error to fail with.
func (b *breaker) allow() (probe int64, err error) {
	if !b.open.Load() {
		return 0, nil
	}
	now := time.Now().UnixNano()
	next := b.next.Load()
	if now >= next && b.next.CompareAndSwap(next, now+int64(b.lease)) {
		return now, nil
	}
	b.fast.Add(1)
	return 0, *b.err.Load()
}

// fastFail returns the error to fail with at once when the breaker is
// open and no probe is due; nil when the call should go on to allow.
func (b *breaker) fastFail() error {
	if !b.open.Load() || time.Now().UnixNano() >= b.next.Load() {
		return nil
	}
	b.fast.Add(1)
	return *b.err.Load()
}

// done records how a call that went to the server ended. ctx is the
// caller's context.
func (b *breaker) done(ctx context.Context, probe int64, err error) {
	switch {
	case err == nil:
		if b.fails.Load() != 0 {
			b.fails.Store(0)
		}
		if probe != 0 {
			b.close()
		}
	case !counts(ctx, err):
		if probe != 0 {
			b.next.Store(0) // the next call probes
		}
	case probe != 0:
		b.next.Store(probe + int64(probeEvery))
	case b.after > 0 && b.fails.Add(1) >= b.after && !b.open.Load():
		b.trip(err)
	}
}

// counts reports whether err, from a call with the caller's context ctx,
// says something about the server: not when the caller gave up (its
// context cancelled; a deadline the server did not meet counts), nor for
// a key that holds something other than limiter state.
func counts(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	return !strings.Contains(err.Error(), scriptKeyError)
}

// trip opens the breaker after err, the last of the failures in a row.
func (b *breaker) trip(err error) {
	b.mu.Lock()
	if b.open.Load() {
		b.mu.Unlock()
		return
	}
	e := fmt.Errorf("redisstore: circuit breaker open after %d failures in a row (last: %v): %w", b.after, err, ratelimit.ErrUnavailable)
	b.err.Store(&e)
	b.openedAt = time.Now()
	b.fast.Store(0)
	b.next.Store(b.openedAt.UnixNano() + int64(probeEvery))
	b.open.Store(true)
	b.logged = b.log.event(slog.LevelWarn, "redisstore: circuit breaker open: Redis calls fail at once while one call at a time probes the server",
		"failures", b.after, "err", err)
	b.mu.Unlock()
}

// close closes the breaker after a probe succeeded.
func (b *breaker) close() {
	b.mu.Lock()
	if !b.open.Load() {
		b.mu.Unlock()
		return
	}
	b.fails.Store(0)
	b.open.Store(false)
	if b.logged {
		b.log.logger.Info("redisstore: circuit breaker closed: Redis answers again",
			"open_for", time.Since(b.openedAt).Round(time.Millisecond), "failed_at_once", b.fast.Load())
	}
	b.mu.Unlock()
}
