package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
)

// ErrOverBudget is wrapped by the error of every send a Budget refuses: its
// kill switch is tripped, by spend over the budget or by a call to Trip.
var ErrOverBudget = errors.New("guard: spend budget exhausted, sends are paused")

// budgetUnit is the smallest amount a Budget counts: a ten-thousandth of
// the currency (a hundredth of a cent), finer than any Twilio price.
const budgetUnit = 1e-4

// budgetSync is how often a tripped Budget asks the store whether the
// switch was reset elsewhere.
const budgetSync = time.Second

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

	// OnTrip is called once each time this Budget trips the switch, with
	// the reason, from the goroutine that tripped it. (An instance that
	// learns of a trip made by another through the store does not call
	// it.) Use it to alert, and to suspend a Twilio subaccount (package
	// guard/twilioaccount).
	OnTrip func(reason string)

	// Name tells budgets that share a store apart. The default is
	// "budget".
	Name string

	// Logger receives a Warn record when the switch trips and an Info
	// record when it is reset. Nil means no logging.
	Logger *slog.Logger

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Budget is a spend budget with a kill switch. An app charges it what it
// spends, with Charge, or has it count sends at a price it supplies, with
// Send; when a charge would go over the hourly or daily budget, the switch
// trips and every guarded send is refused with ErrOverBudget until Reset.
// Trip throws the switch by hand: an operator in an incident, a Twilio
// usage trigger, a burst of alarms.
//
// # Across instances
//
// The spend and the switch are kept in the ratelimit.Limiter's store, so
// instances that share a Redis store share both: a trip on one instance
// refuses the next Charge on every other, in the same round trip as the
// charge itself, and a Reset on one lets the others send again within a
// second. Check, which does no I/O, answers from what this instance last
// saw.
//
// A Budget is safe for concurrent use.
type Budget struct {
	limiter *ratelimit.Limiter
	limits  [2]ratelimit.Request // hour, day; the first n are set
	n       int
	trip    ratelimit.Request // the shared switch: a bucket of one token, empty while tripped
	price   func(numbers.Channel, string) float64
	onTrip  func(string)
	log     *slog.Logger
	now     func() time.Time

	tripped atomic.Pointer[budgetTrip] // nil while sends are allowed
}

// budgetTrip is a tripped switch as this instance knows it.
type budgetTrip struct {
	err    error // wraps ErrOverBudget, with the reason
	since  time.Time
	synced atomic.Int64 // when the store was last asked, Unix ns
}

// NewBudget returns a Budget that keeps its spend and its switch in
// limiter's store. limiter may be nil for a Budget without PerHour and
// PerDay: a kill switch of this process alone.
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
		b.limits[b.n] = ratelimit.Request{Key: "guard-budget:" + name + ":" + w.what, Limit: lim}
		b.n++
	}
	if b.n > 0 && limiter == nil {
		return nil, fmt.Errorf("guard: NewBudget: a budget needs a limiter: %w", ErrInvalidConfig)
	}
	b.trip = ratelimit.Request{
		Key:   "guard-budget:" + name + ":switch",
		Limit: ratelimit.Limit{Rate: 1, Period: gcra.MaxWindow, Burst: 1},
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
// ErrOverBudget, with the reason, once the switch has tripped. It does no
// I/O: it answers from what this instance last saw of the switch, which
// every Charge brings up to date.
func (b *Budget) Check(ctx context.Context) error {
	if t := b.tripped.Load(); t != nil {
		return t.err
	}
	return nil
}

// Charge counts amount against the budgets. It returns an error wrapping
// ErrOverBudget when the switch is tripped, here or by another instance
// sharing the store, or trips it because amount would go over a budget
// (and then nothing is counted); an error wrapping ratelimit.ErrUnavailable
// when the store could not answer and the limiter fails closed. Call it
// before the spend, with the price of what is about to be sent, so that
// the send can be refused.
//
// The switch is read in the same take as the budgets: a Charge costs one
// round trip to a shared store.
func (b *Budget) Charge(ctx context.Context, amount float64) error {
	if t := b.tripped.Load(); t != nil {
		if err := b.syncTripped(ctx, t); err != nil {
			return err
		}
	}
	if b.limiter == nil {
		return nil
	}
	units, ok := budgetUnits(max(amount, 0))
	if !ok {
		return b.throw(ctx, fmt.Sprintf("a charge of %v is more than any budget", amount), true)
	}
	sc := budgetScratchPool.Get().(*budgetScratch)
	defer budgetScratchPool.Put(sc)
	reqs, results := &sc.reqs, &sc.results
	reqs[0] = b.trip
	reqs[0].Peek = true
	n := 1
	if units > 0 { // a free send only looks at the switch
		n += copy(reqs[1:], b.limits[:b.n])
	}
	for i := 1; i < n; i++ {
		reqs[i].Cost = units
	}
	d, err := b.limiter.AllowAll(ctx, reqs[:n], results[:n])
	if err != nil {
		return err
	}
	switch {
	case d.Allowed:
		return nil
	case !d.Results[0].Allowed:
		return b.learnTripped()
	case reqs[d.Index].Limit.Period > time.Hour:
		return b.throw(ctx, "spend over the daily budget", true)
	default:
		return b.throw(ctx, "spend over the hourly budget", true)
	}
}

// budgetScratch holds a Charge's take: passed to the store through an
// interface, it would escape to the heap from the stack.
type budgetScratch struct {
	reqs    [3]ratelimit.Request
	results [3]ratelimit.Result
}

var budgetScratchPool = sync.Pool{New: func() any { return new(budgetScratch) }}

// syncTripped answers a Charge while this instance sees the switch
// tripped: the error, unless the store says that the switch was reset
// elsewhere (asked at most once a second); then the switch is cleared here
// too and the Charge goes on.
func (b *Budget) syncTripped(ctx context.Context, t *budgetTrip) error {
	now := b.now().UnixNano()
	last := t.synced.Load()
	if b.limiter == nil || now-last < int64(budgetSync) || !t.synced.CompareAndSwap(last, now) {
		return t.err
	}
	peek := b.trip
	peek.Peek = true
	var results [1]ratelimit.Result
	d, err := b.limiter.AllowAll(ctx, []ratelimit.Request{peek}, results[:])
	if err != nil || !d.Allowed {
		return t.err
	}
	b.tripped.CompareAndSwap(t, nil) // reset by another instance
	return nil
}

// learnTripped records a trip made by another instance.
func (b *Budget) learnTripped() error {
	t := &budgetTrip{err: fmt.Errorf("%w: tripped by another instance", ErrOverBudget), since: b.now()}
	t.synced.Store(t.since.UnixNano())
	if b.tripped.CompareAndSwap(nil, t) {
		return t.err
	}
	if cur := b.tripped.Load(); cur != nil {
		return cur.err
	}
	return t.err
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
// reason and calls OnTrip no more. The switch is thrown here at once; the
// error says that the store, and so the other instances, could not be
// told (the limiter's store failed).
func (b *Budget) Trip(ctx context.Context, reason string) error {
	return b.throw(ctx, reason, false)
}

// throw trips the switch here and in the store, and returns the error
// sends get. Charges that found the budget spent return that error;
// Trip returns the store's failure, if any.
func (b *Budget) throw(ctx context.Context, reason string, charge bool) error {
	t := &budgetTrip{err: fmt.Errorf("%w: %s", ErrOverBudget, reason), since: b.now()}
	t.synced.Store(t.since.UnixNano())
	for !b.tripped.CompareAndSwap(nil, t) {
		if old := b.tripped.Load(); old != nil {
			if charge {
				return old.err // already tripped: the first reason stands
			}
			return nil
		}
	}
	var storeErr error
	if b.limiter != nil {
		rec := b.trip
		rec.Record = true // empty the bucket, whatever it holds
		var results [1]ratelimit.Result
		_, storeErr = b.limiter.AllowAll(context.WithoutCancel(ctx), []ratelimit.Request{rec}, results[:])
	}
	if b.log != nil {
		attrs := []slog.Attr{slog.String("reason", reason)}
		if storeErr != nil {
			attrs = append(attrs, slog.Any("store_err", storeErr))
		}
		b.log.LogAttrs(ctx, slog.LevelWarn, "guard: spend kill switch tripped, sends paused", attrs...)
	}
	if b.onTrip != nil {
		b.onTrip(reason)
	}
	if charge {
		return t.err
	}
	return storeErr
}

// Reset clears the kill switch here and in the store: sends are allowed
// again, on the other instances within a second. The spend counted so far
// stays: a budget that is still spent trips again at the next charge. The
// error says that the store could not be told.
func (b *Budget) Reset(ctx context.Context) error {
	var err error
	if b.limiter != nil {
		give := b.trip
		give.Cost = -1
		var results [1]ratelimit.Result
		_, err = b.limiter.AllowAll(ctx, []ratelimit.Request{give}, results[:])
	}
	if t := b.tripped.Swap(nil); t != nil && b.log != nil {
		b.log.LogAttrs(ctx, slog.LevelInfo, "guard: spend kill switch reset, sends allowed",
			slog.Duration("paused_for", b.now().Sub(t.since)))
	}
	return err
}
