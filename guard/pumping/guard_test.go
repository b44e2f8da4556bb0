package pumping

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// newGuard returns a guard whose phone routes consult m (and m's
// Blocklist in their policy), with or without it.
func newGuard(t testing.TB, lim *ratelimit.Limiter, m *Monitor) *guard.Guard {
	t.Helper()
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(m.Blocklist()))
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.New(lim, guard.WithPolicy(policy), guard.WithMonitor(m.ForVerify()))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// post sends a phone request from addr to h.
func post(h http.Handler, phone, addr string) int {
	r := httptest.NewRequest(http.MethodPost, "/send-code", strings.NewReader(`{"phone":"`+phone+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr + ":1234"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

var sent = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })

// TestGuardMonitor: guard's Phone middleware with the monitor: a pumped
// range is refused by the monitor at its third send, then by the policy.
func TestGuardMonitor(t *testing.T) {
	clock := testkit.NewClock()
	lim := newLimiter(t, clock)
	m, err := New(lim, Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := newGuard(t, lim, m).Phone("send-code", numbers.SMS, guard.PerPhone(ratelimit.PerHour(3)))(sent)
	var codes []int
	for i, sfx := range []int{1234, 8812, 5093, 7301} {
		clock.Advance(time.Minute)
		codes = append(codes, post(h, gb(t, "12", sfx).E164, v4(i).String()))
	}
	if fmt.Sprint(codes) != "[202 202 403 403]" {
		t.Fatalf("statuses %v", codes)
	}
	ds := m.Decisions()
	if len(ds) != 1 || ds[0].Key != "+44771112" {
		t.Fatalf("decisions %+v", ds)
	}
	// The policy's refusal was reported: the block was hit once.
	m.mu.Lock()
	hits := m.blocks[blockKey(ScopeRange, "+44771112")].refusals
	m.mu.Unlock()
	if hits != 2 {
		t.Errorf("the block heard of %d refusals, want 2 (the monitor's and the policy's)", hits)
	}
}

// TestRedisRoundTripsGuard counts the commands of a Phone request with
// the Redis store, with and without the monitor: one either way.
func TestRedisRoundTripsGuard(t *testing.T) {
	lim, m, _, h := redisMonitor(t)
	plain, err := guard.New(lim)
	if err != nil {
		t.Fatal(err)
	}
	rules := []guard.Rule{guard.PerAddr(ratelimit.PerHour(20)), guard.PerPhone(ratelimit.PerHour(5)),
		guard.PerBlock(3, ratelimit.PerHour(20)), guard.PerCountry(ratelimit.PerHour(1000))}
	const n = 20
	var cmds [2]int64
	for j, g := range []*guard.Guard{plain, newGuard(t, lim, m)} {
		hd := g.Phone("send-code", numbers.SMS, rules...)(sent)
		_ = post(hd, gb(t, "98", j).E164, "192.0.2.1") // warm the script cache
		before := h.cmds.Load()
		for i := range n {
			phone := num(t, fmt.Sprintf("+4477%02d%06d", 11+i, 123456+100*j+i)).E164
			if code := post(hd, phone, v4(100*j+i).String()); code != http.StatusAccepted {
				t.Fatalf("guard %d, request %d: %d", j, i, code)
			}
		}
		cmds[j] = h.cmds.Load() - before
	}
	if cmds[0] != n || cmds[1] != n {
		t.Errorf("%d Phone requests: %d commands without the monitor, %d with it; want %d both", n, cmds[0], cmds[1], n)
	}
}
