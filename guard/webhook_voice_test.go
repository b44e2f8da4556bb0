package guard

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

const rejectBusy = `<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>`

type floodEnv struct {
	flood   *CallFlood
	h       http.Handler
	handled atomic.Int64
	rules   []string
}

func newFloodEnv(t *testing.T, l *ratelimit.Limiter, cfg CallFloodConfig) *floodEnv {
	t.Helper()
	env := &floodEnv{}
	cfg.OnReject = func(_ *http.Request, rule string) { env.rules = append(env.rules, rule) }
	var err error
	if env.flood, err = NewCallFlood(l, cfg); err != nil {
		t.Fatal(err)
	}
	env.h = env.flood.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.handled.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte("<Response><Say>Hello</Say></Response>"))
	}))
	return env
}

// call posts an incoming-call webhook from caller and says whether the
// handler answered it.
func (env *floodEnv) call(t *testing.T, caller string) bool {
	t.Helper()
	form := url.Values{"CallSid": {"CA1"}, "From": {caller}, "To": {"+15005550001"}, "CallStatus": {"ringing"}}
	r := httptest.NewRequest(http.MethodPost, "/voice", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	before := env.handled.Load()
	env.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if env.handled.Load() > before {
		return true
	}
	if got := rec.Body.String(); got != rejectBusy {
		t.Fatalf("rejected with %q", got)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("Content-Type %q", ct)
	}
	return false
}

func TestCallFloodPerCallerAndPrefix(t *testing.T) {
	clock := testkit.NewClock()
	env := newFloodEnv(t, webhookTestLimiter(t, clock.Now), CallFloodConfig{
		PerCaller: ratelimit.PerHour(3),
		PerPrefix: ratelimit.PerHour(5),
	})
	for i := range 3 {
		if !env.call(t, "+14155550100") {
			t.Fatalf("call %d rejected", i)
		}
	}
	if env.call(t, "+14155550100") {
		t.Fatal("fourth call from one caller answered")
	}
	// The same block of 10,000 numbers: two more, then the block is full.
	if !env.call(t, "+14155551234") || !env.call(t, "+14155559999") {
		t.Fatal("other callers of the block")
	}
	if env.call(t, "+14155550001") {
		t.Fatal("sixth call from the block answered")
	}
	if !env.call(t, "+14155560000") {
		t.Fatal("the next block")
	}
	if got := strings.Join(env.rules, ","); got != "caller,prefix" {
		t.Errorf("rules %q", got)
	}
	clock.Advance(time.Hour)
	if !env.call(t, "+14155550100") {
		t.Error("an hour later")
	}
}

func TestCallFloodAnonymousAndGlobal(t *testing.T) {
	env := newFloodEnv(t, webhookTestLimiter(t, testkit.NewClock().Now), CallFloodConfig{
		PerCaller: ratelimit.PerHour(100),
		Anonymous: ratelimit.PerHour(2),
		Global:    ratelimit.PerHour(6),
	})
	if !env.call(t, "+266696687") || !env.call(t, "client:alice") {
		t.Fatal("first anonymous calls")
	}
	for _, anon := range []string{"anonymous", "sip:x@example.com", "+7378742833", "", "+0123456789"} {
		if env.call(t, anon) {
			t.Errorf("anonymous caller %q answered over the anonymous limit", anon)
		}
	}
	// Rejected calls spent nothing from the global limit: 4 more fit.
	for i := range 4 {
		if !env.call(t, "+4420712345"+string(rune('0'+i))+"0") {
			t.Fatalf("call %d under the global limit", i)
		}
	}
	if env.call(t, "+442071234599") {
		t.Error("over the global limit")
	}
	if env.rules[len(env.rules)-1] != "global" {
		t.Errorf("rules %q", env.rules)
	}
}

func TestCallFloodBlockList(t *testing.T) {
	blocked := &numbers.PrefixSet{Name: "tdos"}
	env := newFloodEnv(t, webhookTestLimiter(t, nil), CallFloodConfig{Blocked: blocked, Global: ratelimit.PerHour(1)})
	if err := blocked.Add(numbers.Entry{Prefix: "+1876", Note: "pumping from Jamaica"}); err != nil {
		t.Fatal(err)
	}
	if env.call(t, "+18765550100") {
		t.Fatal("blocked prefix answered")
	}
	if !env.call(t, "+14155550100") {
		t.Fatal("a blocked call spent the global limit")
	}
	blocked.Remove("+1876")
	if env.call(t, "+18765550100") {
		t.Fatal("over the global limit after the unblock")
	}
	if got := strings.Join(env.rules, ","); got != "blocked,global" {
		t.Errorf("rules %q", got)
	}
	// A whole number is a prefix too; the set alone is enough.
	alone := newFloodEnv(t, webhookTestLimiter(t, nil), CallFloodConfig{Blocked: blocked})
	blocked.Add(numbers.Entry{Prefix: "+14155550100", Note: "harasser"})
	if alone.call(t, "+14155550100") || !alone.call(t, "+14155550101") {
		t.Error("number block")
	}
}

func TestCallFloodStoreDownLetsCallsThrough(t *testing.T) {
	l, _ := ratelimit.New(webhookDownStore{})
	env := newFloodEnv(t, l, CallFloodConfig{PerCaller: ratelimit.PerHour(1)})
	for range 3 {
		if !env.call(t, "+14155550100") {
			t.Fatal("rejected while the store is down")
		}
	}
}

func TestCallFloodGETAndRejectedReason(t *testing.T) {
	f, err := NewCallFlood(webhookTestLimiter(t, nil), CallFloodConfig{PerCaller: ratelimit.PerHour(1), Reason: "rejected"})
	if err != nil {
		t.Fatal(err)
	}
	called := 0
	h := f.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called++ }))
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/voice?From=%2B14155550100", nil))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/voice?From=%2B14155550100", nil))
	if called != 1 || !strings.Contains(rec.Body.String(), `<Reject reason="rejected"/>`) {
		t.Errorf("called %d, answer %q", called, rec.Body.String())
	}
}

func TestNewCallFloodConfigErrors(t *testing.T) {
	l := webhookTestLimiter(t, nil)
	for _, tt := range []struct {
		name string
		l    *ratelimit.Limiter
		cfg  CallFloodConfig
	}{
		{"nil limiter", nil, CallFloodConfig{PerCaller: ratelimit.PerHour(1)}},
		{"nothing", l, CallFloodConfig{}},
		{"bad reason", l, CallFloodConfig{PerCaller: ratelimit.PerHour(1), Reason: "hangup"}},
		{"bad drop", l, CallFloodConfig{PerCaller: ratelimit.PerHour(1), PrefixDrop: 13}},
		{"bad limit", l, CallFloodConfig{Global: ratelimit.Limit{Rate: 1}}},
	} {
		if _, err := NewCallFlood(tt.l, tt.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestCallerNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+14155550100": "+14155550100", "+442071234567": "+442071234567", "+123456789012345": "+123456789012345",
		"+266696687": "", "+8656696": "", "anonymous": "", "": "", "+123456": "", "+1234567890123456": "", "+6834002": "+6834002",
		"+0123456789": "", "14155550100": "", "+1415555010x": "", "client:bob": "",
	} {
		got, ok := callerNumber(in)
		if got != want || ok != (want != "") {
			t.Errorf("callerNumber(%q) = %q, %v", in, got, ok)
		}
	}
}

// FuzzCallerNumber: From is whatever the webhook carries.
func FuzzCallerNumber(f *testing.F) {
	for _, s := range []string{"+14155550100", "+266696687", "anonymous", "sip:a@b", "+", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, from string) {
		n, ok := callerNumber(from)
		if !ok {
			if n != "" {
				t.Fatal("a number without ok")
			}
			return
		}
		if n != from || n[0] != '+' || len(n) < 8 || len(n) > 16 || strings.Trim(n[1:], "0123456789") != "" {
			t.Fatalf("accepted %q", from)
		}
		if m := maskCaller(from); m == from || !strings.Contains(m, "*") {
			t.Fatalf("mask %q of %q", m, from)
		}
	})
}
