package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// TestProbingThePolicyCostsTheProber is issue 16's scenario: 1,000 requests
// for codes to rotating +1 876 numbers from one address. Before, all were
// refused with 403 and none spent the address's allowance, so the address
// then got a code sent to a US number. Now each refusal is counted against
// the address: past its Refusals allowance it is answered 429 (the policy's
// verdict no longer shows), the penalty box holds it, and even a valid
// number from it is refused, while other addresses are served.
func TestProbingThePolicyCostsTheProber(t *testing.T) {
	e := newEnv(t, nil) // DefaultLimits: Refusals 60/h, burst 20, box after 10 denials
	ctx := context.Background()
	prober := netip.MustParseAddr("203.0.113.66")
	var forbidden, limited int
	for i := range 1000 {
		_, err := e.svc.Start(ctx, verify.StartRequest{Phone: fmt.Sprintf("+1876%07d", 5550000+i), ClientIP: prober})
		var le *verify.LimitError
		switch {
		case errors.Is(err, verify.ErrBlocked):
			forbidden++
		case errors.As(err, &le) && le.Scope == "refusals" && errors.Is(err, verify.ErrRateLimited):
			limited++
		default:
			t.Fatalf("request %d: %v", i, err)
		}
		e.clock.Advance(100 * time.Millisecond)
	}
	if forbidden != 20 || limited != 980 {
		t.Fatalf("403: %d, 429: %d; want the burst of 20 refused, then 980 limited", forbidden, limited)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("%d probes reached the provider", n)
	}
	refused := e.rec.get("refused")
	if len(refused) != 1000 || refused[0].ClientIP != prober || refused[0].Reason == "" || refused[0].Scope != "" ||
		refused[999].Scope != "refusals" || refused[999].RetryAfter <= 0 || refused[999].Prefix != "+18765" {
		t.Fatalf("refused events: %d, first %+v, last %+v", len(refused), refused[0], refused[len(refused)-1])
	}

	// The prober is boxed: a number the policy allows is refused too, and
	// nothing is sent.
	_, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: prober})
	var le *verify.LimitError
	if !errors.As(err, &le) || le.Scope != "refusals" || le.RetryAfter < 30*time.Minute {
		t.Fatalf("valid number from the prober: %v", err)
	}
	if ev := e.rec.get("blocked"); len(ev) != 1 || ev[0].Reason != "rate_limited" || ev[0].Scope != "refusals" {
		t.Fatalf("blocked events %+v", ev)
	}
	// Another address is served.
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip2}); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// Once the box and the bucket are past, the prober's address is served
	// again: a box is a cost, not a ban.
	e.clock.Advance(le.RetryAfter + time.Hour)
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550101", ClientIP: prober}); err != nil {
		t.Fatalf("after the box: %v", err)
	}
}

// TestRefusalsWithinAllowance: a user who types a number the policy refuses
// now and then is told 403 each time, and keeps being served; the refusals
// limit can be turned off.
func TestRefusalsWithinAllowance(t *testing.T) {
	for _, tt := range []struct {
		name   string
		limits *verify.Limits
	}{
		{"default", nil},
		{"off", &verify.Limits{Phone: ratelimit.PerHour(100)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *verify.Config) { c.Limits = tt.limits })
			ctx := context.Background()
			for i := range 5 {
				if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+37120012345", ClientIP: ip1}); !errors.Is(err, verify.ErrBlocked) {
					t.Fatalf("refusal %d: %v", i, err)
				}
				if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: fmt.Sprintf("+1415555010%d", i), ClientIP: ip1}); err != nil {
					t.Fatalf("valid number after refusal %d: %v", i, err)
				}
				e.clock.Advance(time.Minute)
			}
			if ev := e.rec.get("refused"); len(ev) != 5 {
				t.Fatalf("%d refused events", len(ev))
			}
		})
	}
}

// TestProviderBlocksCountAsRefusals: Fraud Guard's refusals are counted
// against the address like the policy's.
func TestProviderBlocksCountAsRefusals(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) {
		c.Limits = &verify.Limits{Refusals: ratelimit.PerHour(1)}
		c.Cooldown = -1
	})
	ctx := context.Background()
	e.srv.FailNext(verifytest.CreateVerification, verifytest.Error{Code: 60410})
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550100", ClientIP: ip1}); !errors.Is(err, verify.ErrBlocked) {
		t.Fatalf("first: %v", err)
	}
	if _, err := e.svc.Start(ctx, verify.StartRequest{Phone: "+14155550101", ClientIP: ip1}); !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("after a Fraud Guard block, the address's one refusal is spent: %v", err)
	}
	if ev := e.rec.get("refused"); len(ev) != 1 || ev[0].Reason != "fraud_guard" || ev[0].ProviderCode != 60410 {
		t.Fatalf("refused events %+v", ev)
	}
}
