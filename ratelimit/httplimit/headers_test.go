package httplimit

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

func TestSetRetryAfter(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{300 * time.Millisecond, "1"},
		{time.Nanosecond, "1"},
		{time.Second, "1"},
		{time.Second + time.Nanosecond, "2"},
		{59*time.Second + 999*time.Millisecond, "60"},
		{20 * time.Minute, "1200"},
		{0, "1"},
		{-time.Second, "1"},
		{time.Duration(1<<63 - 1), "9223372037"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			h := http.Header{}
			SetRetryAfter(h, tt.d)
			if got := h.Get("Retry-After"); got != tt.want {
				t.Fatalf("Retry-After for %v = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestSetHeaders(t *testing.T) {
	perMin := ratelimit.PerMinute(100) // one token every 600ms
	tests := []struct {
		name string
		l    ratelimit.Limit
		r    ratelimit.Result
		o    Options
		want map[string]string
	}{
		{
			name: "allowed, Retry-After only by default",
			l:    perMin,
			r:    ratelimit.Result{Allowed: true, Remaining: 42, ResetAfter: 34800 * time.Millisecond},
			want: map[string]string{"Retry-After": "", "RateLimit": "", "X-RateLimit-Limit": ""},
		},
		{
			name: "allowed with IETF fields",
			l:    perMin,
			r:    ratelimit.Result{Allowed: true, Remaining: 42, ResetAfter: 34800 * time.Millisecond},
			o:    Options{IETF: true},
			// 57 tokens missing; the next is back after 34.8s - 57×0.6s = 0.6s.
			want: map[string]string{"Retry-After": "", "RateLimit-Policy": `"default";q=100;w=60`, "RateLimit": `"default";r=42;t=1`},
		},
		{
			name: "full bucket has no effective window",
			l:    perMin,
			r:    ratelimit.Result{Allowed: true, Remaining: 100},
			o:    Options{IETF: true, Policy: "ip"},
			want: map[string]string{"RateLimit": `"ip";r=100`},
		},
		{
			name: "denied",
			// One token every 20m, none left, the next back in 19m19.7s.
			l: ratelimit.PerHour(3),
			r: ratelimit.Result{RetryAfter: 19*time.Minute + 19700*time.Millisecond, ResetAfter: 59*time.Minute + 19700*time.Millisecond},
			o: Options{IETF: true, Legacy: true, Policy: "phone"},
			want: map[string]string{
				"Retry-After":           "1160",
				"RateLimit-Policy":      `"phone";q=3;w=3600`,
				"RateLimit":             `"phone";r=0;t=1160`,
				"X-RateLimit-Limit":     "3",
				"X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset":     "3560",
			},
		},
		{
			name: "penalized",
			l:    ratelimit.PerMinute(5),
			r:    ratelimit.Result{RetryAfter: 10 * time.Minute, ResetAfter: 10 * time.Minute, Penalized: true, Remaining: 0},
			o:    Options{IETF: true},
			want: map[string]string{"Retry-After": "600", "RateLimit": `"default";r=0;t=600`},
		},
		{
			name: "burst differs from rate",
			l:    ratelimit.PerMinute(60).WithBurst(5),
			r:    ratelimit.Result{Allowed: true, Remaining: 5},
			o:    Options{IETF: true},
			want: map[string]string{"RateLimit-Policy": `"default";q=60;w=60;antifraud-burst=5`},
		},
		{
			name: "sub-second period",
			l:    ratelimit.Limit{Rate: 3, Period: 100 * time.Millisecond, Burst: 3},
			r:    ratelimit.Result{Allowed: true, Remaining: 3},
			o:    Options{IETF: true},
			want: map[string]string{"RateLimit-Policy": `"default";q=30;w=1`},
		},
		{
			name: "policy name escaped",
			l:    perMin,
			r:    ratelimit.Result{Allowed: true, Remaining: 100},
			o:    Options{IETF: true, Policy: "a\"b\\c\r\né"},
			want: map[string]string{"RateLimit": `"a\"b\\c";r=100`},
		},
		{
			name: "fail-closed result without a wait",
			l:    perMin,
			r:    ratelimit.Result{},
			o:    Options{Legacy: true},
			want: map[string]string{"Retry-After": "1", "X-RateLimit-Remaining": "0"},
		},
		{
			name: "invalid limit has no policy",
			r:    ratelimit.Result{},
			o:    Options{IETF: true},
			want: map[string]string{"RateLimit-Policy": "", "RateLimit": `"default";r=0`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			SetHeaders(h, tt.l, tt.r, tt.o)
			for k, want := range tt.want {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestSetDecisionHeaders(t *testing.T) {
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: func() time.Time { return clock }, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	reqs := []ratelimit.Request{
		{Key: "ip:192.0.2.1", Limit: ratelimit.PerMinute(10)},
		{Key: "phone:+37120012345", Limit: ratelimit.PerHour(3)},
	}
	limiter, err := ratelimit.New(m)
	if err != nil {
		t.Fatal(err)
	}
	var d ratelimit.Decision
	for i := 0; i < 4; i++ {
		d, _ = limiter.AllowAll(context.Background(), reqs, nil)
	}
	h := http.Header{}
	SetDecisionHeaders(h, reqs, d, Options{IETF: true, Legacy: true, Policies: []string{"ip", "phone"}})
	want := map[string]string{
		"Retry-After":           "1200",
		"RateLimit-Policy":      `"ip";q=10;w=60, "phone";q=3;w=3600`,
		"RateLimit":             `"ip";r=7;t=6, "phone";r=0;t=1200`,
		"X-RateLimit-Limit":     "3",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     "3600",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// Without one name per result: the binding result under Policy.
	h = http.Header{}
	SetDecisionHeaders(h, reqs, d, Options{IETF: true, Policies: []string{"only-one"}})
	if got := h.Get("RateLimit"); got != `"default";r=0;t=1200` {
		t.Errorf("RateLimit = %q", got)
	}
	// Requests that are not the decision's: Retry-After alone.
	h = http.Header{}
	SetDecisionHeaders(h, reqs[:1], d, Options{IETF: true, Legacy: true})
	if len(h) != 1 || h.Get("Retry-After") != "1200" {
		t.Errorf("headers for a decision about other requests: %v", h)
	}
}

// TestEffectiveWindowNotAfterRetryAfter: on every denial from a real store,
// t ≤ Retry-After (the draft's rule) and Retry-After ≥ the real wait.
func TestEffectiveWindowNotAfterRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: func() time.Time { return now }, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	limits := []ratelimit.Limit{
		ratelimit.PerSecond(10), ratelimit.PerMinute(7).WithBurst(3), ratelimit.PerHour(5),
		ratelimit.PerMinute(2).WithPenalty(ratelimit.Penalty{After: 2, Within: time.Minute, For: 90 * time.Second}),
	}
	for i := 0; i < 2000; i++ {
		l := limits[i%len(limits)]
		r, err := m.Take(context.Background(), ratelimit.Request{Key: "k" + strconv.Itoa(i%len(limits)), Limit: l, Cost: 1 + i%l.Burst})
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Duration(i%13) * 137 * time.Millisecond)
		if r.Allowed {
			continue
		}
		h := http.Header{}
		SetHeaders(h, l, r, Options{IETF: true})
		ra, _ := strconv.ParseInt(h.Get("Retry-After"), 10, 64)
		if time.Duration(ra)*time.Second < r.RetryAfter {
			t.Fatalf("Retry-After %d s < real wait %v", ra, r.RetryAfter)
		}
		rl := h.Get("RateLimit")
		ti := strings.Index(rl, ";t=")
		if ti < 0 {
			t.Fatalf("denial without t: %q for %+v", rl, r)
		}
		tv, _ := strconv.ParseInt(rl[ti+3:], 10, 64)
		if tv > ra {
			t.Fatalf("t=%d after Retry-After %d for %+v", tv, ra, r)
		}
	}
}
