package guard_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/sanitize"
)

func TestCheckOutbound(t *testing.T) {
	e := newEnv(t, guard.WithRegion("GB"))
	ctx := context.Background()
	rules := []guard.Rule{
		guard.PerPhone(ratelimit.PerDay(2)),
		guard.PerBlock(3, ratelimit.PerDay(3)),
		guard.PerUser(ratelimit.PerDay(4)),
	}
	send := func(to, text, user string) (numbers.Number, error) {
		return e.g.CheckOutbound(ctx, "invite", guard.Outbound{To: to, Channel: numbers.SMS, Text: text, User: user}, rules...)
	}
	n, err := send("07400 123456", "Join me on the app!", "u1")
	if err != nil || n.E164 != okNumber {
		t.Fatalf("%v %v", n, err)
	}
	// The text: a call to action is refused with the finding, and spends
	// nothing.
	_, err = send("07400 123456", "Win a prize at prize-now.com", "u1")
	var cta *sanitize.CallToActionError
	if !errors.As(err, &cta) || len(cta.Findings) != 1 || cta.Findings[0].Kind != sanitize.Link {
		t.Fatalf("call to action: %v", err)
	}
	if _, err := send("07400 123456", "", "u1"); err != nil {
		t.Fatalf("second send (the refused text spent nothing): %v", err)
	}
	// Per destination.
	_, err = send("07400 123456", "", "u1")
	var le *guard.LimitError
	if !errors.As(err, &le) || le.Rule != "phone" {
		t.Fatalf("per destination: %v", err)
	}
	// Per prefix: the same block of 1,000.
	if _, err := send("07400 123457", "", "u2"); err != nil {
		t.Fatal(err)
	}
	if _, err = send("07400 123458", "", "u2"); !errors.As(err, &le) || le.Rule != "block" {
		t.Fatalf("per block: %v", err)
	}
	// Per user.
	for _, to := range []string{"07400 200001", "07400 300001"} {
		if _, err := send(to, "", "u1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err = send("07400 400001", "", "u1"); !errors.As(err, &le) || le.Rule != "user" {
		t.Fatalf("per user: %v", err)
	}
	// The destination policy, and a destination that is not a number.
	if _, err := send(blockedNumber, "", "u3"); !errors.Is(err, numbers.ErrBlocked) {
		t.Fatalf("policy: %v", err)
	}
	if _, err := send("tomorrow", "", "u3"); !errors.Is(err, numbers.ErrInvalid) {
		t.Fatalf("not a number: %v", err)
	}
}

func TestCheckOutboundAddr(t *testing.T) {
	e := newEnv(t, guard.WithTextPolicy(mustSanitize(t, sanitize.WithKinds(sanitize.Phone))))
	ctx := context.Background()
	o := guard.Outbound{To: okNumber, Text: "see https://app.example/x"}
	// A PerAddr rule needs the address.
	if _, err := e.g.CheckOutbound(ctx, "share", o, guard.PerAddr(ratelimit.PerHour(1))); !errors.Is(err, guard.ErrNoClientAddr) {
		t.Fatalf("%v", err)
	}
	o.Addr = netip.MustParseAddr("::ffff:192.0.2.1")
	if _, err := e.g.CheckOutbound(ctx, "share", o, guard.PerAddr(ratelimit.PerHour(1))); err != nil {
		t.Fatalf("links allowed by the text policy: %v", err)
	}
	o.Addr = netip.MustParseAddr("192.0.2.1")
	if _, err := e.g.CheckOutbound(ctx, "share", o, guard.PerAddr(ratelimit.PerHour(1))); !errors.Is(err, guard.ErrRateLimited) {
		t.Fatalf("the same address, unmapped: %v", err)
	}
	o.Text = "call +44 7400 123456"
	if _, err := e.g.CheckOutbound(ctx, "share2", o); !errors.Is(err, sanitize.ErrCallToAction) {
		t.Fatalf("phone number in text: %v", err)
	}
}

func mustSanitize(t *testing.T, opts ...sanitize.Option) *sanitize.Policy {
	t.Helper()
	p, err := sanitize.NewPolicy(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
