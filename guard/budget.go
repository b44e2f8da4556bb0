package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// ErrOverBudget is wrapped by the error of every send a Budget refuses: its
// kill switch is tripped, by spend over the budget or by a call to Trip.
var ErrOverBudget = errors.New("guard: spend budget exhausted, sends are paused")

// budgetUnit is the smallest amount a Budget counts: a ten-thousandth of
// the currency (a hundredth of a cent), finer than any Twilio price.
const budgetUnit = 1e-4

// BudgetConfig configures a [Budget]. Amounts are in the currency the app
// counts in, the one of its Twilio prices (US dollars, say).
type BudgetConfig struct {
	// PerHour and PerDay are the spend budgets. Each is a token bucket of
	// its size that refills at its size per hour (per day): spend may come
	// all at once or spread out, and the switch trips at the first charge
	// that would go beyond what the bucket holds. So a steady spend of
	// PerDay a day never trips it, while a script that starts spending
	// faster trips it once it has spent what was left of the budget. Zero
	// means no budget for that span. Each is at most 360000 (PerHour) or
	// 8640000 (PerDay).
	PerHour, PerDay float64

	// Price returns what one send over channel ch to a number of region (an
	// ISO 3166 code, or "" when unknown) costs, for Send. Return a high
	// price for destinations you do not expect: an unknown destination is
	// where pumping goes. Nil means Send cannot be used, only Charge.
	Price func(ch numbers.Channel, region string) float64

	// OnTrip is called once each time the switch trips, with the reason,
	// from the goroutine that tripped it. Use it to alert, and to suspend a
	// Twilio subaccount (package guard/twilioaccount).
	OnTrip func(reason string)

	// Name tells budgets that share a store apart. The default is
	// "budget".
	Name string

	// Logger receives a Warn record when the switch trips and an Info
	// record when it is reset. Nil means no logging.
	Logger *slog.Logger

	// Now returns the current time, for the time of a trip. Nil means
	// time.Now.
	Now func() time.Time
}

// Budget is a spend budget with a kill switch. An app charges it what it
// spends, with Charge, or has it count sends at a price it supplies, with
// Send; when a charge would go over the hourly or daily budget, the switch
// trips and every guarded send is refused with ErrOverBudget until Reset.
// Trip throws the switch by hand: an operator in an incident, a Twilio
// usage trigger, a burst of alarms.
//
// The spend is counted in the ratelimit.Limiter's store, so instances that
// share a Redis store share the budget. The switch itself is kept per
// process: an instance learns of a trip on another only when its own
// charges go over. For a switch that holds across instances, also suspend
// the Twilio subaccount (guard/twilioaccount), which stops every send at
// Twilio.
//
// A Budget is safe for concurrent use.
type Budget struct {
	limiter *ratelimit.Limiter
	reqs    [2]ratelimit.Request // hour, day; a zero Limit is not checked
	n       int                  // how many of reqs are used
	price   func(numbers.Channel, string) float64
	onTrip  func(string)
	log     *slog.Logger
	now     func() time.Time

	tripped atomic.Pointer[budgetTrip] // nil while sends are allowed
}

// budgetTrip is a tripped switch.
type budgetTrip struct {
	err   error // wraps ErrOverBudget, with the reason
	since time.Time
}

// NewBudget returns a Budget counting spend in limiter's store. limiter may
// be nil when neither PerHour nor PerDay is set: the Budget is then a kill
// switch alone.
func NewBudget(limiter *ratelimit.Limiter, cfg BudgetConfig) (*Budget, error) {
	b := &Budget{limiter: limiter, price: cfg.Price, onTrip: cfg.OnTrip, log: cfg.Logger, now: cfg.Now}
	if b.now == nil {
		b.now = time.Now
	}
	name := cfg.Name
	if name == "" {
		name = "budget"
	}
	for _, w := range []struct {
		what   string
		amount float64
		period time.Duration
	}{{"PerHour", cfg.PerHour, time.Hour}, {"PerDay", cfg.PerDay, 24 * time.Hour}} {
		if w.amount == 0 {
			continue
		}
		units, ok := budgetUnits(w.amount)
		if !ok || w.amount < 0 {
			return nil, fmt.Errorf("guard: BudgetConfig.%s %v is not a positive amount: %w", w.what, w.amount, ErrInvalidConfig)
		}
		lim := ratelimit.Limit{Rate: units, Period: w.period, Burst: units}
		if err := lim.Validate(); err != nil {
			return nil, fmt.Errorf("guard: BudgetConfig.%s %v is too large: %w", w.what, w.amount, ErrInvalidConfig)
		}
		b.reqs[b.n] = ratelimit.Request{Key: "guard-budget:" + name + ":" + w.what, Limit: lim}
		b.n++
	}
	if b.n > 0 && limiter == nil {
		return nil, fmt.Errorf("guard: NewBudget: a budget needs a limiter: %w", ErrInvalidConfig)
	}
	return b, nil
}

// budgetUnits converts an amount to whole units, rounding up so that no
// spend is counted as free.
func budgetUnits(amount float64) (int, bool) {
	u := math.Ceil(amount / budgetUnit)
	if math.IsNaN(u) || u > 1<<53 || u < 0 {
		return 0, false
	}
	return int(u), true
}

// Check returns nil while sends are allowed, and an error wrapping
// ErrOverBudget, with the reason, once the switch has tripped. It costs a
// lock and no I/O: guarded checks call it before anything else.
func (b *Budget) Check(ctx context.Context) error {
	if t := b.tripped.Load(); t != nil {
		return t.err
	}
	return nil
}

// Charge counts amount against the budgets. It returns an error wrapping
// ErrOverBudget when the switch is tripped, or trips it because amount
// would go over a budget (and then nothing is counted); an error wrapping
// ratelimit.ErrUnavailable when the store could not answer and the
// limiter fails closed. Call it before the spend, with the price of what
// is about to be sent, so that the send can be refused.
func (b *Budget) Charge(ctx context.Context, amount float64) error {
	if err := b.Check(ctx); err != nil {
		return err
	}
	if b.n == 0 || amount <= 0 {
		return nil
	}
	units, ok := budgetUnits(amount)
	if !ok {
		return b.trip(fmt.Sprintf("a charge of %v is more than any budget", amount))
	}
	reqs := b.reqs // a copy: Cost is per call
	for i := range b.n {
		reqs[i].Cost = units
	}
	d, err := b.limiter.AllowAll(ctx, reqs[:b.n]...)
	if err != nil {
		return err
	}
	if !d.Allowed {
		span := "hourly"
		if d.Limit.Period > time.Hour {
			span = "daily"
		}
		return b.trip("spend over the " + span + " budget")
	}
	return nil
}

// Send charges one send over channel ch to a number of region at the price
// that BudgetConfig.Price gives. Its errors are Charge's.
func (b *Budget) Send(ctx context.Context, ch numbers.Channel, region string) error {
	if b.price == nil {
		if err := b.Check(ctx); err != nil {
			return err
		}
		return fmt.Errorf("guard: Budget.Send without BudgetConfig.Price: %w", ErrInvalidConfig)
	}
	return b.Charge(ctx, b.price(ch, region))
}

// Trip throws the kill switch: sends are refused with ErrOverBudget and
// the reason until Reset. Tripping a tripped switch keeps the first
// reason and calls OnTrip no more.
func (b *Budget) Trip(reason string) {
	_ = b.trip(reason)
}

func (b *Budget) trip(reason string) error {
	t := &budgetTrip{err: fmt.Errorf("%w: %s", ErrOverBudget, reason), since: b.now()}
	for !b.tripped.CompareAndSwap(nil, t) {
		if old := b.tripped.Load(); old != nil {
			return old.err // already tripped: the first reason stands
		}
	}
	if b.log != nil {
		b.log.LogAttrs(context.Background(), slog.LevelWarn, "guard: spend kill switch tripped, sends paused",
			slog.String("reason", reason))
	}
	if b.onTrip != nil {
		b.onTrip(reason)
	}
	return t.err
}

// Reset clears the kill switch; sends are allowed again. The spend
// counted so far stays: a budget that is still spent trips again at the
// next charge.
func (b *Budget) Reset() {
	if t := b.tripped.Swap(nil); t != nil && b.log != nil {
		b.log.LogAttrs(context.Background(), slog.LevelInfo, "guard: spend kill switch reset, sends allowed",
			slog.Duration("paused_for", b.now().Sub(t.since)))
	}
}
