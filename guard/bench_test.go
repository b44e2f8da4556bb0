package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/nyaruka/phonenumbers/v2"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// The benchmarks compare the guard with the hand-wired baseline it
// replaces, side by side in one run: go-chi/httprate for the limits, and
// for the phone middleware bare libphonenumber (nyaruka/phonenumbers) and
// encoding/json. Every request is allowed, so both sides do the work of
// an allowed request, headers included.

// benchLimit never runs out during a benchmark.
var benchLimit = ratelimit.Limit{Rate: 1_000_000, Period: time.Second, Burst: 1 << 30}

// sink is a ResponseWriter whose header map is reused: the benchmarks
// measure the middleware, not a recorder.
type sink struct{ h http.Header }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

// body is a request body that can be read again without allocating.
type body struct{ bytes.Reader }

func (*body) Close() error { return nil }

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func newBenchGuard(b *testing.B) *guard.Guard {
	b.Helper()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close(context.Background()) })
	lim, err := ratelimit.New(store)
	if err != nil {
		b.Fatal(err)
	}
	g, err := guard.New(lim, guard.WithRegion("GB"))
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// benchAddrs are the client addresses a benchmark cycles through.
func benchAddrs(n int) []string {
	a := make([]string, n)
	for i := range a {
		a[i] = "198.51." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":40000"
	}
	return a
}

func runLimit(b *testing.B, h http.Handler, addrs []string) {
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	w := &sink{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.RemoteAddr = addrs[i%len(addrs)]
		i++
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	if len(w.h) == 0 {
		b.Fatal("no rate-limit headers")
	}
}

// BenchmarkLimit: a limit per client address on an allowed request.
// Target: guard ≤ 0.25× httprate's LimitByIP, ≤ 2 allocations.
func BenchmarkLimit(b *testing.B) {
	for _, n := range []int{1, 1024} {
		addrs := benchAddrs(n)
		b.Run("addrs="+strconv.Itoa(n)+"/impl=guard", func(b *testing.B) {
			g := newBenchGuard(b)
			runLimit(b, g.Limit("api", guard.PerAddr(benchLimit))(noop), addrs)
		})
		b.Run("addrs="+strconv.Itoa(n)+"/impl=httprate", func(b *testing.B) {
			//lint:ignore SA1019 LimitByIP is the baseline issue 10 names; LimitBy with KeyByIP is the same code.
			runLimit(b, httprate.LimitByIP(1<<30, time.Minute)(noop), addrs)
		})
	}
}

// handWired is what an app writes today for a "call me" endpoint without
// the guard: a bounded read of a JSON body restored for the handler,
// libphonenumber, a region deny-list and a type check, three httprate
// limiters (address, number, block of 1,000), and the number handed on in
// the context. It is the baseline of BenchmarkPhone, and the "before" of
// the README's quick start.
func handWired(next http.Handler) http.Handler {
	byIP := httprate.NewRateLimiter(1<<30, time.Minute)
	byPhone := httprate.NewRateLimiter(1<<30, time.Minute)
	byBlock := httprate.NewRateLimiter(1<<30, time.Minute)
	denied := map[string]bool{"LV": true, "CU": true, "SO": true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var in struct{ Phone string }
		if err := json.Unmarshal(raw, &in); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		num, err := phonenumbers.Parse(in.Phone, "GB")
		if err != nil || !phonenumbers.IsValidNumber(num) {
			http.Error(w, "invalid number", http.StatusUnprocessableEntity)
			return
		}
		t := phonenumbers.GetNumberType(num)
		if denied[phonenumbers.GetRegionCodeForNumber(num)] || (t != phonenumbers.MOBILE && t != phonenumbers.FIXED_LINE_OR_MOBILE) {
			http.Error(w, "number not allowed", http.StatusForbidden)
			return
		}
		e164 := phonenumbers.Format(num, phonenumbers.E164)
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		if byIP.RespondOnLimit(w, r, ip) || byPhone.RespondOnLimit(w, r, e164) || byBlock.RespondOnLimit(w, r, e164[:len(e164)-3]) {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), numberKey{}, e164)))
	})
}

type numberKey struct{}

func runPhone(b *testing.B, h http.Handler, payloads [][]byte) {
	r := httptest.NewRequest(http.MethodPost, "/call-me", nil)
	r.Header.Set("Content-Type", "application/json")
	var bd body
	w := &sink{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := payloads[i%len(payloads)]
		i++
		bd.Reset(p)
		r.Body, r.ContentLength = &bd, int64(len(p))
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkPhone: the phone middleware on an allowed JSON request (read,
// parse, policy, three rules) against the same work hand-wired. Target:
// guard ≤ 3 µs and ≤ 0.3× hand-wired.
func BenchmarkPhone(b *testing.B) {
	var payloads [][]byte
	for i := range 64 {
		payloads = append(payloads, []byte(`{"name":"Ada","phone":"+44 7400 1`+strconv.Itoa(10000+i*137)+`","plan":"free"}`))
	}
	check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := guard.Number(r); !ok && r.Context().Value(numberKey{}) == nil {
			panic("refused")
		}
	})
	b.Run("impl=guard", func(b *testing.B) {
		g := newBenchGuard(b)
		h := g.Phone("call-me", numbers.SMS, guard.PerAddr(benchLimit), guard.PerPhone(benchLimit), guard.PerBlock(3, benchLimit))(check)
		runPhone(b, h, payloads)
	})
	b.Run("impl=hand-wired", func(b *testing.B) {
		runPhone(b, handWired(check), payloads)
	})
}
