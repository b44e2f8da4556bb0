package guard

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

func newTestBudget(t *testing.T, l *ratelimit.Limiter, cfg BudgetConfig) *Budget {
	t.Helper()
	b, err := NewBudget(l, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBudgetTripsAndResets(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	var trips []string
	b := newTestBudget(t, webhookTestLimiter(t, clock.Now), BudgetConfig{
		PerHour: 1, PerDay: 5,
		OnTrip: func(reason string) { trips = append(trips, reason) },
		Now:    clock.Now,
	})
	for i := range 10 {
		if err := b.Charge(ctx, 0.1); err != nil {
			t.Fatalf("charge %d: %v", i, err)
		}
	}
	err := b.Charge(ctx, 0.0001)
	if !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), "hourly") {
		t.Fatalf("charge over the hourly budget: %v", err)
	}
	if err := b.Check(ctx); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("Check after the trip: %v", err)
	}
	// Tripped: refused whatever the budget holds, OnTrip called once.
	clock.Advance(2 * time.Hour)
	if err := b.Charge(ctx, 0.01); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("charge while tripped: %v", err)
	}
	b.Trip(ctx, "again")
	if len(trips) != 1 || trips[0] != "spend over the hourly budget" {
		t.Fatalf("OnTrip calls: %q", trips)
	}
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// The hour has refilled; the day has 4 left.
	for i := range 10 {
		if err := b.Charge(ctx, 0.1); err != nil {
			t.Fatalf("after reset, charge %d: %v", i, err)
		}
	}
	clock.Advance(time.Hour)
	for i := range 10 {
		if err := b.Charge(ctx, 0.1); err != nil {
			t.Fatalf("next hour, charge %d: %v", i, err)
		}
	}
	clock.Advance(time.Hour)
	var daily error
	for range 100 {
		if daily = b.Charge(ctx, 0.1); daily != nil {
			break
		}
		clock.Advance(6 * time.Minute)
	}
	if !errors.Is(daily, ErrOverBudget) || !strings.Contains(daily.Error(), "daily") {
		t.Fatalf("daily budget: %v", daily)
	}
	if len(trips) != 2 {
		t.Errorf("OnTrip calls: %q", trips)
	}
}

func TestBudgetManualTrip(t *testing.T) {
	ctx := context.Background()
	var logs testkit.Buffer
	b := newTestBudget(t, nil, BudgetConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := b.Charge(ctx, 1e9); err != nil {
		t.Fatalf("a kill switch alone counts nothing: %v", err)
	}
	if err := b.Trip(ctx, "usage trigger UT123 fired"); err != nil {
		t.Fatal(err)
	}
	err := b.Charge(ctx, 0.01)
	if !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), "UT123") {
		t.Fatalf("Charge = %v", err)
	}
	_ = b.Reset(ctx)
	_ = b.Reset(ctx)
	if err := b.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Count(out, "tripped") != 1 || strings.Count(out, "reset") != 1 {
		t.Errorf("logs:\n%s", out)
	}
}

func TestBudgetSendPrices(t *testing.T) {
	ctx := context.Background()
	prices := map[numbers.Channel]map[string]float64{
		numbers.SMS:   {"US": 0.0079, "GB": 0.04},
		numbers.Voice: {"US": 0.014},
	}
	b := newTestBudget(t, webhookTestLimiter(t, testkit.NewClock().Now), BudgetConfig{
		PerHour: 0.08,
		Price: func(ch numbers.Channel, region string) float64 {
			if p, ok := prices[ch][region]; ok {
				return p
			}
			return 1 // unknown destinations cost the most
		},
	})
	if err := b.Send(ctx, numbers.SMS, "GB"); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(ctx, numbers.SMS, "GB"); err != nil {
		t.Fatal(err)
	}
	// 0.08 spent: the next US text trips the switch.
	if err := b.Send(ctx, numbers.SMS, "US"); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("Send = %v", err)
	}

	b2 := newTestBudget(t, webhookTestLimiter(t, testkit.NewClock().Now), BudgetConfig{PerHour: 10, Price: prices2(prices)})
	if err := b2.Send(ctx, numbers.Voice, "ZW"); err != nil {
		t.Fatal(err)
	}
	noPrice := newTestBudget(t, nil, BudgetConfig{})
	if err := noPrice.Send(ctx, numbers.SMS, "US"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Send without prices: %v", err)
	}
}

func prices2(p map[numbers.Channel]map[string]float64) func(numbers.Channel, string) float64 {
	return func(ch numbers.Channel, region string) float64 { return p[ch][region] }
}

// Two instances sharing a store share the budget and the switch.
func TestBudgetSharedStore(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	l := webhookTestLimiter(t, clock.Now)
	var trips []string
	a := newTestBudget(t, l, BudgetConfig{PerDay: 1, Name: "sms", Now: clock.Now, OnTrip: func(r string) { trips = append(trips, "a: "+r) }})
	b := newTestBudget(t, l, BudgetConfig{PerDay: 1, Name: "sms", Now: clock.Now, OnTrip: func(r string) { trips = append(trips, "b: "+r) }})
	other := newTestBudget(t, l, BudgetConfig{PerDay: 1, Name: "voice", Now: clock.Now})
	if a.Charge(ctx, 0.6) != nil || other.Charge(ctx, 0.6) != nil {
		t.Fatal("first charges")
	}
	if err := b.Charge(ctx, 0.6); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("the other instance: %v", err)
	}
	// b tripped the switch: a learns it at its next charge, even a free one.
	if err := a.Check(ctx); err != nil {
		t.Fatalf("Check does no I/O, so a has not seen it yet: %v", err)
	}
	if err := a.Charge(ctx, 0); !errors.Is(err, ErrOverBudget) || !strings.Contains(err.Error(), "another instance") {
		t.Fatalf("a after b tripped: %v", err)
	}
	if err := a.Check(ctx); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("a.Check after learning of the trip: %v", err)
	}
	if err := other.Charge(ctx, 0.1); err != nil {
		t.Errorf("a budget of another name: %v", err)
	}
	if len(trips) != 1 || trips[0] != "b: spend over the daily budget" {
		t.Errorf("OnTrip: %q", trips)
	}

	// b resets; a sees it within a second.
	clock.Advance(24 * time.Hour) // the budget has refilled
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Charge(ctx, 0.1); err != nil {
		t.Fatalf("b after its reset: %v", err)
	}
	clock.Advance(budgetSync / 2)
	a.Charge(ctx, 0.1) // may still see the trip
	clock.Advance(budgetSync)
	if err := a.Charge(ctx, 0.1); err != nil {
		t.Fatalf("a a second after the reset: %v", err)
	}

	// A trip by hand on a reaches b's next charge.
	if err := a.Trip(ctx, "incident 42"); err != nil {
		t.Fatal(err)
	}
	if err := b.Charge(ctx, 0.01); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("b after a tripped by hand: %v", err)
	}
}

// Under concurrent charges the budget is never overspent.
func TestBudgetConcurrentCharges(t *testing.T) {
	ctx := context.Background()
	b := newTestBudget(t, webhookTestLimiter(t, testkit.NewClock().Now), BudgetConfig{PerHour: 5})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if b.Charge(ctx, 0.01) == nil {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 500 {
		t.Errorf("%d charges of 0.01 allowed on a budget of 5, want 500", got)
	}
}

func TestBudgetStoreDown(t *testing.T) {
	ctx := context.Background()
	closed, _ := ratelimit.New(webhookDownStore{})
	down := newTestBudget(t, closed, BudgetConfig{PerHour: 1})
	if err := down.Charge(ctx, 0.1); !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Errorf("fail closed: %v", err)
	}
	// A trip holds here even when the store cannot be told.
	if err := down.Trip(ctx, "by hand"); !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Errorf("Trip with the store down: %v", err)
	}
	if err := down.Check(ctx); !errors.Is(err, ErrOverBudget) {
		t.Errorf("Check after a trip the store missed: %v", err)
	}
	open, _ := ratelimit.New(webhookDownStore{}, ratelimit.WithFailOpen())
	if err := newTestBudget(t, open, BudgetConfig{PerHour: 1}).Charge(ctx, 0.1); err != nil {
		t.Errorf("fail open: %v", err)
	}
}

func TestNewBudgetConfigErrors(t *testing.T) {
	l := webhookTestLimiter(t, nil)
	for _, tt := range []struct {
		name string
		l    *ratelimit.Limiter
		cfg  BudgetConfig
	}{
		{"negative", l, BudgetConfig{PerHour: -1}},
		{"NaN", l, BudgetConfig{PerDay: nan()}},
		{"too large an hour", l, BudgetConfig{PerHour: 1e6}},
		{"no limiter", nil, BudgetConfig{PerDay: 10}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewBudget(tt.l, tt.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewBudget = %v", err)
			}
		})
	}
	if _, err := NewBudget(l, BudgetConfig{PerHour: 360000, PerDay: 8640000}); err != nil {
		t.Errorf("the largest budgets: %v", err)
	}
}

func nan() float64 { var z float64; return z / z }

func BenchmarkBudget(b *testing.B) {
	ctx := context.Background()
	b.Run("op=Check", func(b *testing.B) {
		bu, _ := NewBudget(nil, BudgetConfig{})
		b.ReportAllocs()
		for b.Loop() {
			if bu.Check(ctx) != nil {
				b.Fatal("tripped")
			}
		}
	})
	b.Run("op=Charge", func(b *testing.B) {
		bu, _ := NewBudget(webhookTestLimiter(b, nil), BudgetConfig{PerHour: 360000, PerDay: 8640000})
		b.ReportAllocs()
		for b.Loop() {
			if bu.Charge(ctx, 0.0001) != nil {
				b.Fatal("tripped")
			}
		}
	})
}
