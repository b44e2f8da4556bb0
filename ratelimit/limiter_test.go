package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// failingStore is a Store whose every take fails with err.
type failingStore struct {
	err    error
	calls  atomic.Int64
	closed atomic.Bool
}

func (f *failingStore) Take(ctx context.Context, key string, l Limit, n int) (Result, error) {
	f.calls.Add(1)
	if _, err := validateTake(key, &l, n); err != nil {
		return Result{}, err
	}
	return Result{}, f.err
}

func (f *failingStore) TakeAll(ctx context.Context, reqs []Request) (Decision, error) {
	f.calls.Add(1)
	if err := Validate(reqs); err != nil {
		return Decision{}, err
	}
	return Decision{}, f.err
}

func (f *failingStore) Close(context.Context) error {
	f.closed.Store(true)
	return nil
}

var errDown = fmt.Errorf("%w: redis: connection refused", ErrUnavailable)

func TestLimiterFailModes(t *testing.T) {
	ctx := context.Background()
	lim := PerMinute(2)
	reqs := []Request{{Key: "ip:1", Limit: lim}, {Key: "phone:1", Limit: PerHour(3)}}
	tests := []struct {
		name        string
		opts        func(fallback Store) []Option
		wantAllowed bool
		wantErr     error
		wantMode    FailMode
	}{
		{"default fails closed", func(Store) []Option { return nil }, false, ErrUnavailable, FailClosed},
		{"fail closed", func(Store) []Option { return []Option{WithFailClosed()} }, false, ErrUnavailable, FailClosed},
		{"fail open", func(Store) []Option { return []Option{WithFailOpen()} }, true, nil, FailOpen},
		{"fallback", func(fb Store) []Option { return []Option{WithFallback(fb)} }, true, nil, FailFallback},
		{"failing fallback fails closed", func(Store) []Option {
			return []Option{WithFallback(&failingStore{err: errors.New("fallback broken")})}
		}, false, ErrUnavailable, FailFallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fallback := newStore(t, MemoryConfig{SweepInterval: -1})
			var reported atomic.Int64
			opts := append(tt.opts(fallback), WithOnError(func(err error) {
				if !errors.Is(err, ErrUnavailable) && !strings.Contains(err.Error(), "fallback broken") {
					t.Errorf("OnError got %v", err)
				}
				reported.Add(1)
			}))
			l, err := New(&failingStore{err: errDown}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if l.FailMode() != tt.wantMode {
				t.Fatalf("FailMode = %v, want %v", l.FailMode(), tt.wantMode)
			}
			r, err := l.Allow(ctx, "ip:1", lim)
			if r.Allowed != tt.wantAllowed || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Allow = %+v, %v; want allowed=%v err=%v", r, err, tt.wantAllowed, tt.wantErr)
			}
			d, err := l.AllowAll(ctx, reqs...)
			if d.Allowed != tt.wantAllowed || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("AllowAll = %+v, %v; want allowed=%v err=%v", d, err, tt.wantAllowed, tt.wantErr)
			}
			if len(d.Results) != len(reqs) {
				t.Fatalf("AllowAll gave %d results for %d requests", len(d.Results), len(reqs))
			}
			buf := make([]Result, len(reqs))
			reqs := []Request{{Key: "ip:2", Limit: lim}, {Key: "phone:2", Limit: PerHour(3)}} // a fallback limits
			d, err = l.AllowAllInto(ctx, reqs, buf)
			if d.Allowed != tt.wantAllowed || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("AllowAllInto = %+v, %v; want allowed=%v err=%v", d, err, tt.wantAllowed, tt.wantErr)
			}
			if len(d.Results) != len(reqs) || &d.Results[0] != &buf[0] || d.Results[1].Limit != reqs[1].Limit {
				t.Fatalf("AllowAllInto gave results %+v, want %d in the buffer", d.Results, len(reqs))
			}
			if reported.Load() == 0 {
				t.Fatal("OnError not called")
			}
			if tt.wantMode == FailFallback && tt.wantAllowed {
				// The fallback really limits: the burst of 2 runs out.
				r, _ := l.Allow(ctx, "ip:1", lim)
				if r.Allowed {
					t.Fatalf("third request through the fallback allowed: %+v", r)
				}
			}
			if err := l.Close(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLimiterArgumentErrorsAreNotFailures(t *testing.T) {
	var reported atomic.Int64
	l, err := New(&failingStore{err: errDown}, WithFailOpen(), WithOnError(func(error) { reported.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Allow(context.Background(), "", PerSecond(1)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("empty key under fail-open: %v, want ErrInvalidKey", err)
	}
	if _, err := l.AllowN(context.Background(), "k", Limit{}, 1); !errors.Is(err, ErrInvalidLimit) {
		t.Fatalf("zero limit under fail-open: %v, want ErrInvalidLimit", err)
	}
	if reported.Load() != 0 {
		t.Fatal("argument errors reported as store failures")
	}
}

func TestLimiterLogsFailuresRateLimited(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	l, err := New(&failingStore{err: errDown}, WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		l.Allow(context.Background(), "phone:+37120012345", PerSecond(1))
	}
	out := buf.String()
	if n := strings.Count(out, "ratelimit: store failed"); n != 1 {
		t.Fatalf("logged %d times in a burst of 100 failures, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "fail_mode=closed") {
		t.Fatalf("log lacks the fail mode: %s", out)
	}
}

func TestNewLimiterErrors(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
	if _, err := New(&failingStore{}, WithFallback(nil)); err == nil {
		t.Fatal("WithFallback(nil) accepted")
	}
}

func TestLimiterCloseClosesFallback(t *testing.T) {
	primary, fallback := &failingStore{}, &failingStore{}
	l, err := New(primary, WithFallback(fallback))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !primary.closed.Load() || !fallback.closed.Load() {
		t.Fatal("Close did not close both stores")
	}
}

func TestLimitErrorUnwraps(t *testing.T) {
	m := newFakeClock().store(t)
	l, _ := New(m)
	ctx := context.Background()
	l.Allow(ctx, "k", PerHour(1))
	r, err := l.Allow(ctx, "k", PerHour(1))
	if err != nil || r.Allowed {
		t.Fatalf("second take: %+v, %v", r, err)
	}
	var le *LimitError
	if e := r.Err(); !errors.Is(e, ErrRateLimited) || !errors.As(e, &le) || le.RetryAfter != r.RetryAfter {
		t.Fatalf("Result.Err() = %v", e)
	}
}
