package guard_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
)

// TestWithBudget: a guard with a budget refuses every guarded send once
// the switch has tripped, before parsing or spending anything, and
// charges the sends CheckOutbound allows.
func TestWithBudget(t *testing.T) {
	e := newEnv(t)
	b, err := guard.NewBudget(e.lim, guard.BudgetConfig{
		PerHour: 1,
		Price:   func(numbers.Channel, string) float64 { return 0.4 },
		Now:     e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.g.With(guard.WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := guard.Outbound{To: okNumber, Channel: numbers.SMS, Text: "join me"}
	for i := range 2 {
		if _, err := g.CheckOutbound(ctx, "invite", out); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// The third send would take the hour's spend to 1.2.
	if _, err := g.CheckOutbound(ctx, "invite", out); !errors.Is(err, guard.ErrOverBudget) {
		t.Fatalf("third send: %v, want ErrOverBudget", err)
	}
	h := g.Phone("call-me", numbers.Voice)(ok)
	rec := do(h, postJSON(`{"phone":"`+okNumber+`"}`))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("Phone after the trip: %d %s, want 503", rec.Code, rec.Body)
	}
	problemOf(t, rec)
	// A number the policy refuses gets the same answer: the budget comes first.
	if rec := do(h, postJSON(`{"phone":"`+blockedNumber+`"}`)); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("blocked number after the trip: %d, want 503", rec.Code)
	}
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := do(h, postJSON(`{"phone":"`+okNumber+`"}`)); rec.Code != http.StatusOK {
		t.Fatalf("Phone after Reset: %d %s", rec.Code, rec.Body)
	}
}

// TestWithBudgetVerifyStart: VerifyStart refuses once the budget has
// tripped and charges every code the Service sent.
func TestWithBudgetVerifyStart(t *testing.T) {
	e := newVerifyEnv(t, nil)
	b, err := guard.NewBudget(e.lim, guard.BudgetConfig{
		PerHour: 1,
		Price:   func(numbers.Channel, string) float64 { return 0.6 },
		Now:     e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.g.With(guard.WithBudget(b))
	if err != nil {
		t.Fatal(err)
	}
	h := g.VerifyStart(e.svc)
	if rec := post(h, "application/json", `{"phone":"+447400123456"}`); rec.Code != http.StatusAccepted {
		t.Fatalf("first code: %d %s", rec.Code, rec.Body)
	}
	// The second charge (1.2 of 1) trips the budget after the code went out.
	if rec := post(h, "application/json", `{"phone":"+447400123457"}`); rec.Code != http.StatusAccepted {
		t.Fatalf("second code: %d %s", rec.Code, rec.Body)
	}
	if rec := post(h, "application/json", `{"phone":"+447400123458"}`); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("after the trip: %d %s, want 503", rec.Code, rec.Body)
	}
	if n := e.srv.Sends("+447400123458"); n != 0 {
		t.Fatalf("%d codes sent after the trip", n)
	}
}
