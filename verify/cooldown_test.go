package verify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// instances returns n Services with a shared cooldown, as n instances of
// one app, that share one limiter store (standing in for a Redis store), one
// fake Twilio and one clock.
func instances(t *testing.T, n int, cfg verify.Config) ([]*verify.Service, *testkit.Clock, *verifytest.Server) {
	t.Helper()
	clock := testkit.NewClock()
	srv := verifytest.NewServer(verifytest.WithNow(clock.Now))
	t.Cleanup(srv.Close)
	store := newFlakyStore(t, clock.Now)
	var out []*verify.Service
	for range n {
		lim, err := ratelimit.New(store)
		if err != nil {
			t.Fatal(err)
		}
		sender, err := verify.NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.SharedCooldown, c.Now = true, clock.Now
		svc, err := verify.New(sender, lim, c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, svc)
	}
	return out, clock, srv
}

// TestCooldownAcrossInstances: a code sent by one instance puts the number
// in cooldown on every other, and the waits grow.
func TestCooldownAcrossInstances(t *testing.T) {
	ctx := context.Background()
	req := verify.StartRequest{Phone: ukPhone, ClientIP: ip1}
	svcs, clock, srv := instances(t, 2, verify.Config{Limits: noLimits()})
	for i, wait := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute} {
		a, b := svcs[i%2], svcs[(i+1)%2]
		res, err := a.Start(ctx, req)
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if res.ResendAfter != wait {
			t.Fatalf("send %d: ResendAfter %v, want %v", i, res.ResendAfter, wait)
		}
		// The other instance refuses until the wait is over.
		clock.Advance(wait - time.Second)
		_, err = b.Start(ctx, req)
		var le *verify.LimitError
		if !errors.As(err, &le) || le.RetryAfter != time.Second || le.Scope != "cooldown" || !errors.Is(err, verify.ErrCooldown) {
			t.Fatalf("send %d, other instance 1s early: %v", i, err)
		}
		clock.Advance(time.Second)
	}
	if got := len(srv.Requests()); got != 7 {
		t.Fatalf("provider saw %d requests, want 7 sends", got)
	}
}

// TestCooldownApprovalStartsFresh: an approved code resets the cooldown, on
// every instance: the next code to the same number goes out at once, and is
// treated as the first, whatever the cooldown had grown to.
func TestCooldownApprovalStartsFresh(t *testing.T) {
	ctx := context.Background()
	req := verify.StartRequest{Phone: ukPhone, ClientIP: ip1}
	svcs, clock, srv := instances(t, 2, verify.Config{Limits: noLimits()})
	a, b := svcs[0], svcs[1]
	// Three codes: the next wait is 2 minutes.
	var res verify.StartResult
	for i := range 3 {
		var err error
		if res, err = a.Start(ctx, req); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i < 2 {
			clock.Advance(res.ResendAfter)
		}
	}
	if res.ResendAfter != 2*time.Minute {
		t.Fatalf("third wait %v", res.ResendAfter)
	}
	clock.Advance(10 * time.Second)
	code, _ := srv.Code(ukPhone)
	if _, err := b.Check(ctx, verify.CheckRequest{Phone: ukPhone, Code: code, ClientIP: ip1}); err != nil {
		t.Fatal(err)
	}
	// A new sign-up at once, on the other instance: sent, as a first code.
	res, err := a.Start(ctx, req)
	if err != nil {
		t.Fatalf("start after approval: %v", err)
	}
	if res.ResendAfter != 30*time.Second {
		t.Fatalf("after the approval: ResendAfter %v, want the first wait", res.ResendAfter)
	}
	var le *verify.LimitError
	if _, err := b.Start(ctx, req); !errors.As(err, &le) || le.Scope != "cooldown" || le.RetryAfter != 30*time.Second {
		t.Fatalf("second start after the approval: %v, want the first wait", err)
	}
	if got := srv.Sends(ukPhone); got != 4 {
		t.Fatalf("provider sent %d codes, want 4", got)
	}
	// A number whose code was not approved keeps its cooldown.
	if _, err := a.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip1}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip1}); !errors.Is(err, verify.ErrCooldown) {
		t.Fatalf("no approval, no reset: %v", err)
	}
}

// TestCooldownAllOrNothing: a Start refused by a limit leaves no
// cooldown behind, and a Start refused by the cooldown spends no limit.
func TestCooldownAllOrNothing(t *testing.T) {
	ctx := context.Background()
	svcs, _, _ := instances(t, 1, verify.Config{
		Limits: &verify.Limits{IP: ratelimit.PerHour(2)},
	})
	svc := svcs[0]
	if _, err := svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); err != nil {
		t.Fatal(err)
	}
	// Cooling down: refused, and the IP's second token is not spent.
	if _, err := svc.Start(ctx, verify.StartRequest{Phone: ukPhone, ClientIP: ip1}); !errors.Is(err, verify.ErrCooldown) {
		t.Fatalf("second start: %v, want a cooldown", err)
	}
	if _, err := svc.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip1}); err != nil {
		t.Fatalf("other number from the same IP: %v", err)
	}
	// The IP is spent: refused, and the number gets no cooldown from it.
	other := "+447400123999"
	if _, err := svc.Start(ctx, verify.StartRequest{Phone: other, ClientIP: ip1}); !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("third from ip1: %v, want rate limited", err)
	}
	if _, err := svc.Start(ctx, verify.StartRequest{Phone: other, ClientIP: ip2}); err != nil {
		t.Fatalf("same number from ip2: %v (a refused start left a cooldown)", err)
	}
}
