package verify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// instances returns n Services, as n instances of one app, that share one
// limiter store (standing in for ratelimit/redisstore), one fake Twilio and one
// clock.
func instances(t *testing.T, n int, cfg verify.Config) ([]*verify.Service, *fakeClock, *verifytest.Server) {
	t.Helper()
	clock := newFakeClock()
	srv := verifytest.NewServer()
	t.Cleanup(srv.Close)
	srv.SetClock(clock.Now)
	store := newFlakyStore(t, clock.Now)
	var out []*verify.Service
	for range n {
		lim, err := ratelimit.New(store)
		if err != nil {
			t.Fatal(err)
		}
		sender, err := verify.NewTwilioSender(srv.VerifyV2(), verifytest.ServiceSID)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Sender, c.Limiter, c.Now = sender, lim, clock.Now
		svc, err := verify.New(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, svc)
	}
	return out, clock, srv
}

// TestSharedCooldownAcrossInstances: with Cooldown.Shared, a code sent by
// one instance puts the number in cooldown on every other, and the waits
// grow as in memory; without it, each instance keeps its own.
func TestSharedCooldownAcrossInstances(t *testing.T) {
	ctx := context.Background()
	req := verify.StartRequest{Phone: ukPhone, ClientIP: ip1}
	svcs, clock, srv := instances(t, 2, verify.Config{Limits: noLimits(), Cooldown: verify.Cooldown{Shared: true}})
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
		var cd *verify.CooldownError
		if !errors.As(err, &cd) || cd.RetryAfter != time.Second || !errors.Is(err, verify.ErrCooldown) {
			t.Fatalf("send %d, other instance 1s early: %v", i, err)
		}
		clock.Advance(time.Second)
	}
	if got := len(srv.Requests()); got != 7 {
		t.Fatalf("provider saw %d requests, want 7 sends", got)
	}

	// The in-memory cooldown is per instance: the other one sends at once.
	svcs, _, _ = instances(t, 2, verify.Config{Limits: noLimits()})
	if _, err := svcs[0].Start(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs[1].Start(ctx, req); err != nil {
		t.Fatalf("in-memory cooldown: the other instance refused: %v", err)
	}
}

// TestSharedCooldownAllOrNothing: a Start refused by a limit leaves no
// cooldown behind, and a Start refused by the cooldown spends no limit.
func TestSharedCooldownAllOrNothing(t *testing.T) {
	ctx := context.Background()
	svcs, _, _ := instances(t, 1, verify.Config{
		Limits:   &verify.Limits{IP: ratelimit.PerHour(2)},
		Cooldown: verify.Cooldown{Shared: true},
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
