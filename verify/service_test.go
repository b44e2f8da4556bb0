package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

var (
	ip1 = netip.MustParseAddr("192.0.2.1")
	ip2 = netip.MustParseAddr("192.0.2.2")
)

// recorder collects hook events.
type recorder struct {
	mu     sync.Mutex
	events map[string][]verify.Event
}

func (r *recorder) hooks() verify.Hooks {
	add := func(kind string) func(verify.Event) {
		return func(e verify.Event) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events[kind] = append(r.events[kind], e)
		}
	}
	return verify.Hooks{Started: add("started"), Approved: add("approved"), Failed: add("failed"), Blocked: add("blocked"), Refused: add("refused")}
}

func (r *recorder) get(kind string) []verify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]verify.Event(nil), r.events[kind]...)
}

func (r *recorder) all() []verify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []verify.Event
	for _, evs := range r.events {
		out = append(out, evs...)
	}
	return out
}

type env struct {
	svc   *verify.Service
	srv   *verifytest.Server
	clock *testkit.Clock
	store *flakyStore
	rec   *recorder
}

// allChannels are the channels an env enables.
var allChannels = []numbers.Channel{numbers.SMS, numbers.Voice, numbers.WhatsApp, numbers.Email}

// newEnv builds a Service over the fake Twilio API, with a fake clock shared
// by the Service (its cooldown), the limiter's store and the fake.
func newEnv(t testing.TB, mod func(*verify.Config)) *env {
	t.Helper()
	clock := testkit.NewClock()
	e := &env{srv: verifytest.NewServer(verifytest.WithNow(clock.Now)), clock: clock, rec: &recorder{events: map[string][]verify.Event{}}}
	t.Cleanup(e.srv.Close)
	e.store = newFlakyStore(t, e.clock.Now)
	lim, err := ratelimit.New(e.store)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := verify.NewTwilioSender(e.srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := verify.Config{Hooks: e.rec.hooks(), Channels: allChannels, Now: clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	e.svc, err = verify.New(sender, lim, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func noLimits() *verify.Limits { return &verify.Limits{} }

func TestServiceStartAndCheck(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	res, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+44 7400 123456", ClientIP: ip1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Channel != numbers.SMS || res.ResendAfter != 30*time.Second || res.Masked == "" || strings.Contains(res.Masked, "123456") {
		t.Fatalf("result %+v", res)
	}
	code, ok := e.srv.Code(ukPhone)
	if !ok {
		t.Fatal("nothing sent")
	}
	if _, err := e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: "0000", ClientIP: ip1}); !errors.Is(err, verify.ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
	cr, err := e.svc.Check(ctx, verify.CheckRequest{Phone: "+44 7400 123456", Code: code, ClientIP: ip1})
	if err != nil || cr.To != ukPhone {
		t.Fatalf("check: %+v, %v", cr, err)
	}
	started, approved, failed := e.rec.get("started"), e.rec.get("approved"), e.rec.get("failed")
	if len(started) != 1 || len(approved) != 1 || len(failed) != 1 {
		t.Fatalf("events: %+v", e.rec.events)
	}
	ev := started[0]
	if ev.Op != "start" || ev.Channel != numbers.SMS || ev.Region != "GB" || ev.CallingCode != 44 || ev.Prefix != "+447400" {
		t.Fatalf("started event %+v", ev)
	}
	if failed[0].Reason != "invalid_code" {
		t.Fatalf("failed event %+v", failed[0])
	}
	// Approval resets the cooldown: a new code can be sent at once.
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); err != nil {
		t.Fatalf("start after approval: %v", err)
	}
}

func TestServiceEmail(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	res, err := e.svc.Start(ctx, verify.StartRequest{Email: "Someone@Example.com", ClientIP: ip1})
	if err != nil || res.Channel != numbers.Email || strings.Contains(res.Masked, "omeone") {
		t.Fatalf("start: %+v, %v", res, err)
	}
	code, _ := e.srv.Code("Someone@Example.com")
	if _, err := e.svc.Check(ctx, verify.CheckRequest{Email: "Someone@Example.com", Code: code, ClientIP: ip1}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "no-at", "@example.com", "a@b", "a b@example.com", strings.Repeat("a", 250) + "@example.com"} {
		if _, err := e.svc.Start(ctx, verify.StartRequest{Email: bad, Channel: numbers.Email, ClientIP: ip1}); !errors.Is(err, verify.ErrInvalidNumber) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestServiceRefusesBeforeSending(t *testing.T) {
	tests := []struct {
		name   string
		req    verify.StartRequest
		cfg    func(*verify.Config)
		want   error
		hook   string
		reason string
	}{
		{"unparseable", verify.StartRequest{Phone: "call me"}, nil, verify.ErrInvalidNumber, "blocked", "invalid_number"},
		{"policy", verify.StartRequest{Phone: "+37120012345"}, nil, verify.ErrBlocked, "refused", "high_risk_destination"},
		{"channel off", verify.StartRequest{Phone: ukPhone, Channel: numbers.Voice}, func(c *verify.Config) { c.Channels = nil }, verify.ErrInvalidChannel, "blocked", "invalid_channel"},
		{"unknown channel", verify.StartRequest{Phone: ukPhone, Channel: numbers.Channel(9)}, nil, verify.ErrInvalidChannel, "blocked", "invalid_channel"},
		{"header in locale", verify.StartRequest{Phone: ukPhone, Locale: "en\r\nX: y"}, nil, verify.ErrInvalidLocale, "blocked", "invalid_locale"},
		{"unsupported locale", verify.StartRequest{Phone: ukPhone, Locale: "tlh"}, nil, verify.ErrInvalidLocale, "blocked", "invalid_locale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			tt.req.ClientIP = ip1
			_, err := e.svc.Start(context.Background(), tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if n := len(e.srv.Requests()); n != 0 {
				t.Fatalf("%d requests reached the provider", n)
			}
			if ev := e.rec.all(); len(ev) != 1 || ev[0].Reason != tt.reason || len(e.rec.get(tt.hook)) != 1 || ev[0].ClientIP != ip1 {
				t.Fatalf("events %+v, want one %s event", e.rec.events, tt.hook)
			}
		})
	}
}

func TestServiceRefusedEventCarriesCountry(t *testing.T) {
	e := newEnv(t, nil)
	var be *verify.BlockedError
	if _, err := e.svc.Start(context.Background(), verify.StartRequest{Phone: "+37120012345", ClientIP: ip1}); !errors.As(err, &be) || be.Rule == "" {
		t.Fatalf("got %v", err)
	}
	ev := e.rec.get("refused")[0]
	if ev.Region != "LV" || ev.CallingCode != 371 || ev.Masked == "" || ev.Prefix == "" || ev.ClientIP != ip1 || ev.Scope != "" {
		t.Fatalf("event %+v", ev)
	}
}

func TestServiceCooldownGrows(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) { c.Limits = noLimits() })
	ctx := context.Background()
	start := func() (verify.StartResult, error) {
		return e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1})
	}
	for i, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute} {
		res, err := start()
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if res.ResendAfter != wait {
			t.Fatalf("send %d: ResendAfter %v, want %v", i, res.ResendAfter, wait)
		}
		e.clock.Advance(wait - time.Second)
		_, err = start()
		var le *verify.LimitError
		if !errors.As(err, &le) || le.RetryAfter != time.Second || le.Scope != "cooldown" || !errors.Is(err, verify.ErrCooldown) || errors.Is(err, verify.ErrRateLimited) {
			t.Fatalf("send %d too early: %v", i, err)
		}
		e.clock.Advance(time.Second)
	}
	if got := e.srv.Sends(ukPhone); got != 4 {
		t.Fatalf("provider saw %d sends, want 4", got)
	}
	// After 45 minutes without codes, the cooldown starts again at 30 s.
	e.clock.Advance(45 * time.Minute)
	if res, err := start(); err != nil || res.ResendAfter != 30*time.Second {
		t.Fatalf("after reset: %+v, %v", res, err)
	}
	ev := e.rec.get("blocked")
	if len(ev) != 4 || ev[0].Reason != "cooldown" || ev[0].Scope != "cooldown" || ev[0].RetryAfter != time.Second {
		t.Fatalf("blocked events %+v", ev)
	}
}

func TestServiceCooldownCapped(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) {
		c.Limits = noLimits()
		c.Cooldown, c.MaxCooldown = time.Minute, 3*time.Minute
	})
	var got []time.Duration
	for range 5 {
		res, err := e.svc.Start(context.Background(), verify.StartRequest{Phone: "+14155550100", ClientIP: ip1})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.ResendAfter)
		e.clock.Advance(res.ResendAfter) // 5 codes in 10 minutes: Twilio's own limit, not exceeded
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute, 3 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
}

func TestServiceLimits(t *testing.T) {
	one := ratelimit.PerHour(1)
	tests := []struct {
		name   string
		limits verify.Limits
		first  verify.StartRequest
		second verify.StartRequest
		scope  string
	}{
		{"phone", verify.Limits{Phone: one},
			verify.StartRequest{Phone: ukPhone, ClientIP: ip1}, verify.StartRequest{Phone: ukPhone, ClientIP: ip2}, "phone"},
		{"ip", verify.Limits{IP: one},
			verify.StartRequest{Phone: "+447400123456", ClientIP: ip1}, verify.StartRequest{Phone: "+14155550100", ClientIP: ip1}, "ip"},
		{"ip unknown shared", verify.Limits{IP: one},
			verify.StartRequest{Phone: "+447400123456"}, verify.StartRequest{Phone: "+14155550100"}, "ip"},
		{"ipv6 /64", verify.Limits{IP: one},
			verify.StartRequest{Phone: "+447400123456", ClientIP: netip.MustParseAddr("2001:db8::1")},
			verify.StartRequest{Phone: "+14155550100", ClientIP: netip.MustParseAddr("2001:db8::ffff")}, "ip"},
		{"prefix block", verify.Limits{Prefix: one},
			verify.StartRequest{Phone: "+447400123456", ClientIP: ip1}, verify.StartRequest{Phone: "+447400123999", ClientIP: ip2}, "prefix"},
		{"country", verify.Limits{Country: one},
			verify.StartRequest{Phone: "+447400123456", ClientIP: ip1}, verify.StartRequest{Phone: "+447912345678", ClientIP: ip2}, "country"},
		{"global", verify.Limits{Global: one},
			verify.StartRequest{Phone: "+447400123456", ClientIP: ip1}, verify.StartRequest{Phone: "+14155550100", ClientIP: ip2}, "global"},
		{"email", verify.Limits{Phone: one},
			verify.StartRequest{Email: "a@example.com", ClientIP: ip1}, verify.StartRequest{Email: "A@EXAMPLE.COM", ClientIP: ip2}, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *verify.Config) {
				c.Limits = &tt.limits
				c.Cooldown = -1
			})
			ctx := context.Background()
			if _, err := e.svc.Start(ctx, tt.first); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.Start(ctx, tt.second)
			var rl *verify.LimitError
			if !errors.As(err, &rl) || rl.Scope != tt.scope || rl.RetryAfter != time.Hour || !errors.Is(err, verify.ErrRateLimited) {
				t.Fatalf("got %v, want a %s limit for 1h", err, tt.scope)
			}
			if n := len(e.srv.Requests()); n != 1 {
				t.Fatalf("%d requests reached the provider", n)
			}
			ev := e.rec.get("blocked")
			if len(ev) != 1 || ev[0].Reason != "rate_limited" || ev[0].Scope != tt.scope {
				t.Fatalf("blocked events %+v", ev)
			}
		})
	}
}

// TestServiceLimitsAllOrNothing: a Start refused by the per-IP limit spends
// nothing of the number's allowance, and leaves no cooldown behind.
func TestServiceLimitsAllOrNothing(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) {
		c.Limits = &verify.Limits{Phone: ratelimit.PerHour(1), IP: ratelimit.PerHour(1)}
	})
	ctx := context.Background()
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+447400123456", ClientIP: ip1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip1}); !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("second from ip1: %v", err)
	}
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip2}); err != nil {
		t.Fatalf("same number from ip2: %v", err)
	}
}

func TestServiceCheckAttempts(t *testing.T) {
	tests := []struct {
		name   string
		limits verify.Limits
		second netip.Addr
		scope  string
	}{
		{"phone", verify.Limits{CheckPhone: ratelimit.PerHour(2)}, ip2, "check_phone"},
		{"ip", verify.Limits{CheckIP: ratelimit.PerHour(2)}, ip1, "check_ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *verify.Config) { c.Limits = &tt.limits })
			ctx := context.Background()
			if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); err != nil {
				t.Fatal(err)
			}
			code, _ := e.srv.Code(ukPhone)
			for range 2 {
				if _, err := e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: "0000", ClientIP: ip1}); !errors.Is(err, verify.ErrInvalidCode) {
					t.Fatal(err)
				}
			}
			phone := ukPhone
			if tt.scope == "check_ip" {
				phone = "+14155550100"
			}
			_, err := e.svc.Check(ctx, verify.CheckRequest{Phone: phone, Code: code, ClientIP: tt.second})
			var ae *verify.LimitError
			if !errors.As(err, &ae) || ae.Scope != tt.scope || ae.RetryAfter != 30*time.Minute || !errors.Is(err, verify.ErrTooManyAttempts) || errors.Is(err, verify.ErrRateLimited) {
				t.Fatalf("third check: %v", err)
			}
			if n := len(e.srv.Requests()); n != 3 {
				t.Fatalf("%d requests reached the provider, want 3", n)
			}
		})
	}
}

func TestServiceCheckRefusesMalformedCodeWithoutProvider(t *testing.T) {
	e := newEnv(t, nil)
	for _, code := range []string{"", "123", "12345678901", "12 34", "１２３４"} {
		if _, err := e.svc.Check(context.Background(), verify.CheckRequest{Phone: ukPhone, Code: code, ClientIP: ip1}); !errors.Is(err, verify.ErrInvalidCode) {
			t.Errorf("%q: %v", code, err)
		}
	}
	if _, err := e.svc.Check(context.Background(), verify.CheckRequest{Phone: "x", Code: "123456"}); !errors.Is(err, verify.ErrInvalidNumber) {
		t.Errorf("bad number: %v", err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached the provider", n)
	}
}

func TestServiceExpiry(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); err != nil {
		t.Fatal(err)
	}
	code, _ := e.srv.Code(ukPhone)
	e.clock.Advance(10 * time.Minute) // Twilio Verify's lifetime of a code
	_, err := e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: code, ClientIP: ip1})
	if !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("got %v", err)
	}
	if ev := e.rec.get("failed"); len(ev) != 1 || ev[0].Reason != "expired" || ev[0].ProviderCode != 20404 {
		t.Fatalf("failed events %+v", ev)
	}
}

func TestServiceProviderErrors(t *testing.T) {
	tests := []struct {
		code   int
		want   error
		hook   string
		reason string
	}{
		{60410, verify.ErrBlocked, "refused", "fraud_guard"},
		{60605, verify.ErrBlocked, "refused", "geo_permission"},
		{60203, verify.ErrRateLimited, "blocked", "rate_limited"},
		{60200, verify.ErrInvalidNumber, "blocked", "invalid_number"},
		{20003, verify.ErrProvider, "failed", "provider"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.FailNext(verifytest.CreateVerification, verifytest.Error{Code: tt.code})
			_, err := e.svc.Start(context.Background(), verify.StartRequest{Phone: ukPhone, ClientIP: ip1})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			ev := e.rec.get(tt.hook)
			if len(ev) != 1 || ev[0].Reason != tt.reason || ev[0].ProviderCode != tt.code {
				t.Fatalf("%s events %+v", tt.hook, ev)
			}
		})
	}
}

func TestServiceLimiterUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	e.store.setFail(fmt.Errorf("redis down: %w", ratelimit.ErrUnavailable))
	_, err := e.svc.Start(context.Background(), verify.StartRequest{Phone: ukPhone, ClientIP: ip1})
	if !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatal("sent while the limiter was down")
	}
	if ev := e.rec.get("blocked"); len(ev) != 1 || ev[0].Reason != "limiter_unavailable" {
		t.Fatalf("blocked events %+v", ev)
	}
	// The failed attempt left no cooldown behind.
	e.store.setFail(nil)
	if _, err := e.svc.Start(context.Background(), verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); err != nil {
		t.Fatal(err)
	}
}

func TestServiceContextCanceled(t *testing.T) {
	e := newEnv(t, nil)
	arrived, release := e.srv.Stall(verifytest.CreateVerification)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1})
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// TestHooksNeverCarryNumbersOrCodes runs every kind of outcome and checks
// that no event holds the whole number (in any common form) or a code.
func TestHooksNeverCarryNumbersOrCodes(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) { c.Limits = &verify.Limits{CheckPhone: ratelimit.PerHour(3)} })
	ctx := context.Background()
	_, _ = e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1})
	_, _ = e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1}) // cooldown
	_, _ = e.svc.Start(ctx, verify.StartRequest{Phone: "+37120012345", ClientIP: ip1})
	_, _ = e.svc.Start(ctx, verify.StartRequest{Email: "someone@example.com", ClientIP: ip1})
	code, _ := e.srv.Code(ukPhone)
	_, _ = e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: "999999", ClientIP: ip1})
	_, _ = e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: code, ClientIP: ip1})
	_, _ = e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: code, ClientIP: ip1})
	_, _ = e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: code, ClientIP: ip1})
	e.srv.FailNext(verifytest.CreateVerification, verifytest.Error{Code: 60410})
	_, _ = e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip1})

	events := e.rec.all()
	if len(events) < 9 {
		t.Fatalf("only %d events", len(events))
	}
	b, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"7400123456", "20012345", "4155550100", "someone", code, "999999"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("events carry %q: %s", secret, b)
		}
	}
}

func TestNewConfig(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	sender, _ := verify.NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
	lim, _ := ratelimit.New(newFlakyStore(t, time.Now))
	tests := []struct {
		name    string
		sender  verify.Sender
		limiter *ratelimit.Limiter
		cfg     verify.Config
	}{
		{"no sender", nil, lim, verify.Config{}},
		{"no limiter", sender, nil, verify.Config{}},
		{"bad limit", sender, lim, verify.Config{Limits: &verify.Limits{Phone: ratelimit.Limit{Rate: 1}}}},
		{"bad refusals limit", sender, lim, verify.Config{Limits: &verify.Limits{Refusals: ratelimit.Limit{Rate: 1}}}},
		{"bad prefix drop", sender, lim, verify.Config{Limits: &verify.Limits{PrefixDrop: -1}}},
		{"max below first", sender, lim, verify.Config{Cooldown: time.Minute, MaxCooldown: time.Second}},
		{"max too far", sender, lim, verify.Config{Cooldown: time.Second, MaxCooldown: 24 * time.Hour}},
		{"first below a microsecond", sender, lim, verify.Config{Cooldown: time.Nanosecond}},
		{"bad channel", sender, lim, verify.Config{Channels: []numbers.Channel{numbers.Channel(7)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := verify.New(tt.sender, tt.limiter, tt.cfg); !errors.Is(err, verify.ErrInvalidConfig) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := verify.New(sender, lim, verify.Config{}); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
}

func TestServiceDoneContextSpendsNothing(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) { c.Limits = &verify.Limits{Phone: ratelimit.PerHour(1)} })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("start: %v", err)
	}
	if _, err := e.svc.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: "123456", ClientIP: ip1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("check: %v", err)
	}
	if _, err := e.svc.Start(context.Background(), verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); err != nil {
		t.Fatalf("allowance or cooldown spent by a canceled call: %v", err)
	}
}
