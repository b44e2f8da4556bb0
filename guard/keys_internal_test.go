package guard

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/httplimit"
)

// keyRecorder is a Store that records the keys of every take.
type keyRecorder struct {
	ratelimit.Store
	mu   sync.Mutex
	keys [][]string
}

func (k *keyRecorder) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (bool, int, error) {
	var keys []string
	for _, r := range reqs {
		keys = append(keys, r.Key)
	}
	k.mu.Lock()
	k.keys = append(k.keys, keys)
	k.mu.Unlock()
	return k.Store.TakeAll(ctx, reqs, results)
}

func (k *keyRecorder) Take(ctx context.Context, r ratelimit.Request) (ratelimit.Result, error) {
	k.mu.Lock()
	k.keys = append(k.keys, []string{r.Key})
	k.mu.Unlock()
	return k.Store.Take(ctx, r)
}

func newRecorder(t *testing.T) (*keyRecorder, *ratelimit.Limiter) {
	t.Helper()
	m, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	rec := &keyRecorder{Store: m}
	lim, err := ratelimit.New(rec)
	if err != nil {
		t.Fatal(err)
	}
	return rec, lim
}

// TestKeysUnchanged pins the keys of every rule: a changed key is a reset
// limit for every user of a shared store after an upgrade. The probing
// keys are shared with verify.Service.
func TestKeysUnchanged(t *testing.T) {
	rec, lim := newRecorder(t)
	open, err := numbers.NewPolicy(numbers.AllowTypes(numbers.SMS, numbers.UnknownType))
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(lim, WithUser(func(*http.Request) string { return "acct-42" }), WithPolicy(open))
	if err != nil {
		t.Fatal(err)
	}
	lots := ratelimit.PerHour(100)
	h := g.Phone("signup", numbers.SMS,
		PerAddr(lots), PerAddr(ratelimit.PerDay(1000)), PerPhone(lots), PerBlock(3, lots), PerCountry(lots),
		PerUser(lots), PerRoute(lots), Global(lots),
	)(http.NotFoundHandler())
	for _, tt := range []struct {
		remote, phone string
		want          []string
	}{
		{"192.0.2.1:1", "+447400123456", []string{
			"guard:signup:ip:192.0.2.1", "guard:signup#2:ip:192.0.2.1", "guard:signup:phone:+447400123456",
			"guard:signup:block3:+447400123", "guard:signup:country:GB", "guard:signup:user:acct-42",
			"guard:route:signup", "guard:global:100/1h0m0s burst 100", "guard:refused:ip:192.0.2.1"}},
		{"[2001:db8:1:2:3:4:5:6]:1", "+88234567890", []string{
			"guard:signup:ip:2001:db8:1:2::/64", "guard:signup#2:ip:2001:db8:1:2::/64", "guard:signup:phone:+88234567890",
			"guard:signup:block3:+88234567", "guard:signup:country:+882", "guard:signup:user:acct-42",
			"guard:route:signup", "guard:global:100/1h0m0s burst 100", "guard:refused:ip:2001:db8:1:2::/64"}},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"phone":"`+tt.phone+`"}`))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = tt.remote
		h.ServeHTTP(httptest.NewRecorder(), r)
		got := rec.keys[len(rec.keys)-1]
		if !slices.Equal(got, tt.want) {
			t.Errorf("keys\n%q\nwant\n%q", got, tt.want)
		}
	}
	// A user name that is too long is hashed.
	g2, _ := g.With(WithUser(func(*http.Request) string { return strings.Repeat("u", 100) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if err := g2.Check(r, "api", PerUser(lots)); err != nil {
		t.Fatal(err)
	}
	if k := rec.keys[len(rec.keys)-1][0]; !strings.HasPrefix(k, "guard:api:user:sha256:") || len(k) > 60 {
		t.Errorf("long user key %q", k)
	}
}

// The RateLimit field the guard formats without allocating is the one
// httplimit writes.
func TestRateLimitFieldMatchesHTTPLimit(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		lim := ratelimit.Limit{Rate: 1 + rnd.IntN(1000), Period: time.Duration(1+rnd.IntN(100000)) * time.Millisecond, Burst: 1 + rnd.IntN(50)}
		if lim.Validate() != nil {
			continue
		}
		res := ratelimit.Result{
			Allowed: rnd.IntN(2) == 0, Remaining: rnd.IntN(lim.Burst+2) - 1,
			RetryAfter: time.Duration(rnd.Int64N(int64(time.Hour))), ResetAfter: time.Duration(rnd.Int64N(int64(2 * time.Hour))),
			Penalized: rnd.IntN(5) == 0,
		}
		name := []string{"signup", "", `we"ird\name`}[rnd.IntN(3)]
		h := http.Header{}
		httplimit.SetHeaders(h, lim, res, httplimit.Options{IETF: true, Policy: name})
		policy, quoted := policyItems(name, lim)
		if got := string(appendRateLimit(nil, quoted, &res, lim.Burst, lim.Interval())); got != h.Get("RateLimit") {
			t.Fatalf("%+v: RateLimit %q, httplimit %q", res, got, h.Get("RateLimit"))
		}
		if policy != h.Get("RateLimit-Policy") {
			t.Fatalf("%+v: RateLimit-Policy %q, httplimit %q", res, policy, h.Get("RateLimit-Policy"))
		}
	}
}
