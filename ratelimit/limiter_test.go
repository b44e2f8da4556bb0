package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
)

// failingStore is a Store whose every take fails with err.
type failingStore struct {
	err    error
	calls  atomic.Int64
	closed atomic.Bool
}

func (f *failingStore) Take(ctx context.Context, r Request) (Result, error) {
	var res [1]Result
	_, _, err := f.TakeAll(ctx, []Request{r}, res[:])
	return res[0], err
}

func (f *failingStore) TakeAll(ctx context.Context, reqs []Request, results []Result) (bool, int, error) {
	f.calls.Add(1)
	if err := validate(reqs); err != nil {
		return false, 0, err
	}
	return false, 0, f.err
}

func (f *failingStore) Close(context.Context) error {
	f.closed.Store(true)
	return nil
}

var errDown = fmt.Errorf("redis: connection refused: %w", ErrUnavailable)

func TestLimiterFailModes(t *testing.T) {
	ctx := context.Background()
	lim := PerMinute(2)
	reqs := []Request{{Key: "ip:1", Limit: lim}, {Key: "phone:1", Limit: PerHour(3)}}
	tests := []struct {
		name        string
		opts        func(fallback Store) []Option
		wantAllowed bool
		wantErr     error
		fallback    bool
	}{
		{"default fails closed", func(Store) []Option { return nil }, false, ErrUnavailable, false},
		{"fail open", func(Store) []Option { return []Option{WithFailOpen()} }, true, nil, false},
		{"fallback", func(fb Store) []Option { return []Option{WithFallback(fb)} }, true, nil, true},
		{"failing fallback fails closed", func(Store) []Option {
			return []Option{WithFallback(&failingStore{err: errors.New("fallback broken")})}
		}, false, ErrUnavailable, false},
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
			r, err := l.Allow(ctx, "ip:1", lim)
			if r.Allowed != tt.wantAllowed || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Allow = %+v, %v; want allowed=%v err=%v", r, err, tt.wantAllowed, tt.wantErr)
			}
			d, err := l.AllowAll(ctx, reqs, nil)
			if d.Allowed != tt.wantAllowed || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("AllowAll = %+v, %v; want allowed=%v err=%v", d, err, tt.wantAllowed, tt.wantErr)
			}
			if len(d.Results) != len(reqs) {
				t.Fatalf("AllowAll gave %d results for %d requests", len(d.Results), len(reqs))
			}
			buf := []Result{garbage, garbage}
			reqs := []Request{{Key: "ip:2", Limit: lim}, {Key: "phone:2", Limit: PerHour(3)}} // a fallback limits
			d, err = l.AllowAll(ctx, reqs, buf)
			if d.Allowed != tt.wantAllowed || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("AllowAll into a buffer = %+v, %v; want allowed=%v err=%v", d, err, tt.wantAllowed, tt.wantErr)
			}
			if len(d.Results) != len(reqs) || &d.Results[0] != &buf[0] || d.Results[1] == garbage {
				t.Fatalf("AllowAll gave results %+v, want %d in the buffer", d.Results, len(reqs))
			}
			if reported.Load() == 0 {
				t.Fatal("OnError not called")
			}
			if tt.fallback {
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
	ctx := context.Background()
	if _, err := l.Allow(ctx, "", PerSecond(1)); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("empty key under fail-open: %v, want ErrInvalidRequest", err)
	}
	if _, err := l.AllowN(ctx, "k", Limit{}, 1); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("zero limit under fail-open: %v, want ErrInvalidConfig", err)
	}
	if _, err := l.AllowN(ctx, "k", PerSecond(1), 2); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("cost over burst under fail-open: %v, want ErrInvalidRequest", err)
	}
	if _, err := l.AllowAll(ctx, []Request{{Key: "k", Limit: PerSecond(1), Peek: true, Record: true}}, nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("a peek that records under fail-open: %v, want ErrInvalidRequest", err)
	}
	if reported.Load() != 0 {
		t.Fatal("argument errors reported as store failures")
	}
}

func TestLimiterLogsFailuresRateLimited(t *testing.T) {
	for _, tt := range []struct {
		opts []Option
		mode string
	}{
		{nil, "closed"},
		{[]Option{WithFailOpen()}, "open"},
		{[]Option{WithFallback(&failingStore{err: errDown})}, "fallback"},
	} {
		var buf testkit.Buffer
		l, err := New(&failingStore{err: errDown}, append(tt.opts, WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))...)
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
		if !strings.Contains(out, "fail_mode="+tt.mode) {
			t.Fatalf("log lacks fail_mode=%s: %s", tt.mode, out)
		}
	}
}

func TestNewLimiterErrors(t *testing.T) {
	tests := []struct {
		name  string
		store Store
		opts  []Option
	}{
		{"nil store", nil, nil},
		{"nil fallback", &failingStore{}, []Option{WithFallback(nil)}},
		{"open and fallback", &failingStore{}, []Option{WithFailOpen(), WithFallback(&failingStore{})}},
	}
	for _, tt := range tests {
		if _, err := New(tt.store, tt.opts...); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New: %v, want ErrInvalidConfig", tt.name, err)
		}
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

// TestAllowNZeroPeeks: AllowN with n == 0 spends nothing and reports the
// key's state, allowed even with no token left, but not in a penalty box.
func TestAllowNZeroPeeks(t *testing.T) {
	clock := testkit.NewClock()
	l, err := New(clockStore(t, clock))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim := PerMinute(3).WithPenalty(Penalty{After: 1, Within: time.Minute, For: time.Hour})
	r, err := l.AllowN(ctx, "k", lim, 0)
	if err != nil || !r.Allowed || r.Remaining != 3 || r.ResetAfter != 0 || r.RetryAfter != 0 {
		t.Fatalf("AllowN(0) on a new key: %+v, %v; want allowed, 3 remaining", r, err)
	}
	for range 3 {
		l.Allow(ctx, "k", lim)
	}
	for range 2 {
		r, err = l.AllowN(ctx, "k", lim, 0)
		if err != nil || !r.Allowed || r.Remaining != 0 || r.ResetAfter != time.Minute || r.RetryAfter != 0 || r.Penalized {
			t.Fatalf("AllowN(0) on an empty bucket: %+v, %v; want allowed, 0 remaining, full in 1m, no penalty", r, err)
		}
	}
	clock.Advance(20 * time.Second)
	if r, _ := l.AllowN(ctx, "k", lim, 0); r.Remaining != 1 {
		t.Fatalf("AllowN(0) after 20s: %+v, want 1 remaining", r)
	}
	if r, _ := l.Allow(ctx, "k", lim); !r.Allowed {
		t.Fatalf("AllowN(0) spent the token: %+v", r)
	}
	l.Allow(ctx, "k", lim) // denied: into the box
	r, err = l.AllowN(ctx, "k", lim, 0)
	if err != nil || r.Allowed || !r.Penalized || r.RetryAfter != time.Hour {
		t.Fatalf("AllowN(0) in the box: %+v, %v; want denied for an hour", r, err)
	}
}

// TestAllowNNegativeGivesBack: a negative n gives tokens back, up to full,
// and is always allowed.
func TestAllowNNegativeGivesBack(t *testing.T) {
	m := clockStore(t, testkit.NewClock())
	l, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim := PerHour(3)
	for range 3 {
		l.Allow(ctx, "k", lim)
	}
	r, err := l.AllowN(ctx, "k", lim, -2)
	if err != nil || !r.Allowed || r.Remaining != 2 || r.ResetAfter != 20*time.Minute {
		t.Fatalf("give back 2: %+v, %v; want allowed, 2 remaining, full in 20m", r, err)
	}
	r, err = l.AllowN(ctx, "k", lim, -3)
	if err != nil || !r.Allowed || r.Remaining != 3 || r.ResetAfter != 0 {
		t.Fatalf("give back 3 more: %+v, %v; want full, never beyond", r, err)
	}
	if n := m.keyCount(); n != 0 {
		t.Fatalf("a key given back to full is as new, but the store holds %d keys", n)
	}
	if r, _ := l.AllowN(ctx, "new", lim, -1); !r.Allowed || r.Remaining != 3 || m.keyCount() != 0 {
		t.Fatalf("give back to a new key: %+v, %d keys; want full and nothing stored", r, m.keyCount())
	}
}

// TestRecordsAndRefunds is the adaptive monitor's use: counters ride along
// in the take of the limits, never deny, say when they are over, and a
// confirmation drains them.
func TestRecordsAndRefunds(t *testing.T) {
	clock := testkit.NewClock()
	l, err := New(clockStore(t, clock))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	unconfirmed := PerHour(3) // a range with more than 3 unconfirmed sends an hour is suspect
	send := func(phone string) Decision {
		d, err := l.AllowAll(ctx, []Request{
			{Key: "phone:" + phone, Limit: PerHour(2)},
			{Key: "range:+3712001", Limit: unconfirmed, Record: true},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := range 5 {
		d := send(fmt.Sprint("+37120010", i))
		over := !d.Results[1].Allowed
		if !d.Allowed || d.Index != 0 || over != (i >= 3) {
			t.Fatalf("send %d: %+v; want allowed, bound by the phone, range over from the 4th", i, d)
		}
	}
	// The record saturates: the range is empty, not deeper in debt.
	if r := send("+3712001099").Results[1]; r.Allowed || r.Remaining != 0 || r.ResetAfter != time.Hour || r.RetryAfter != 20*time.Minute {
		t.Fatalf("range after 6 sends: %+v; want over, empty, full in 1h, under again in 20m", r)
	}
	// Two confirmations drain the counter.
	d, err := l.AllowAll(ctx, []Request{{Key: "range:+3712001", Limit: unconfirmed, Cost: -2}}, nil)
	if err != nil || !d.Allowed || d.Remaining != 2 {
		t.Fatalf("confirmations: %+v, %v; want 2 back", d, err)
	}
	if r := send("+3712001000").Results[1]; !r.Allowed || r.Remaining != 1 {
		t.Fatalf("send after confirmations: %+v; want within, 1 left", r)
	}
	// A denied send records nothing.
	for range 2 {
		l.Allow(ctx, "phone:+3712009999", PerHour(2))
	}
	d, err = l.AllowAll(ctx, []Request{
		{Key: "phone:+3712009999", Limit: PerHour(2)},
		{Key: "range:+3712009", Limit: unconfirmed, Record: true},
	}, nil)
	if err != nil || d.Allowed || d.Index != 0 || !d.Results[1].Allowed || d.Results[1].Remaining != 3 {
		t.Fatalf("send to a number that had its two: %+v, %v; want denied by the phone, the range untouched", d, err)
	}
	if r, _ := l.AllowN(ctx, "range:+3712009", unconfirmed, 0); r.Remaining != 3 {
		t.Fatalf("range after a denied send: %+v; want 3 left", r)
	}
}
