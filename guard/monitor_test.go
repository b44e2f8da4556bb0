package guard_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// fakeMonitor is a verify.Monitor that counts each send in one bucket of
// its own (a Record request), refuses the numbers in refuse, and records
// what it was told.
type fakeMonitor struct {
	mu      sync.Mutex
	refuse  map[string]bool // after the take
	block   map[string]bool // before it
	started []string        // numbers judged
	levels  []int           // what their bucket had spent, seen by Started
	refused []string        // "number reason"
	addrs   []netip.Addr
}

var errPumped = errors.New("fake monitor: pumped")

// monLimit is the fake's bucket: Record requests are never denied.
var monLimit = ratelimit.PerHour(100).WithBurst(100)

func (f *fakeMonitor) AppendStart(reqs []ratelimit.Request, n numbers.Number, _ netip.Addr) ([]ratelimit.Request, error) {
	if f.block[n.E164] {
		return reqs, errPumped
	}
	return append(reqs, ratelimit.Request{Key: "mon:" + n.E164, Limit: monLimit, Record: true}), nil
}

func (f *fakeMonitor) Started(_ context.Context, n numbers.Number, ip netip.Addr, results []ratelimit.Result) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, n.E164)
	f.addrs = append(f.addrs, ip)
	if len(results) == 1 {
		f.levels = append(f.levels, monLimit.Burst-results[0].Remaining)
	}
	if f.refuse[n.E164] {
		return errPumped
	}
	return nil
}

func (f *fakeMonitor) Approved(context.Context, numbers.Number, netip.Addr) {
	panic("the guard approves nothing")
}

func (f *fakeMonitor) Refused(n numbers.Number, _ netip.Addr, reason string) {
	f.mu.Lock()
	f.refused = append(f.refused, n.E164+" "+reason)
	f.mu.Unlock()
}

// TestMonitor: the monitor's requests ride in the phone routes' take (a
// route of one rule included), it judges allowed takes only, its refusal
// is a 403 reported to Hooks.Denied, and every refusal of a parsed number
// reaches it.
func TestMonitor(t *testing.T) {
	mon := &fakeMonitor{refuse: map[string]bool{"+447400123457": true}}
	var denied []error
	e := newEnv(t, guard.WithMonitor(mon), guard.WithHooks(guard.Hooks{Denied: func(ev guard.Event) { denied = append(denied, ev.Err) }}))
	h := e.g.Phone("signup", numbers.SMS, guard.PerPhone(ratelimit.PerHour(2)))(ok)

	for i := range 2 {
		rec := do(h, postJSON(`{"phone":"`+okNumber+`"}`))
		if rec.Code != 200 || rec.Header().Get("RateLimit") == "" {
			t.Fatalf("send %d: %d %v", i, rec.Code, rec.Header())
		}
	}
	// The route's rule denies the third: the monitor is neither judged
	// nor spent, and hears of the refusal.
	if rec := do(h, postJSON(`{"phone":"`+okNumber+`"}`)); rec.Code != 429 {
		t.Fatalf("third send: %d", rec.Code)
	}
	if len(mon.started) != 2 || mon.levels[0] != 1 || mon.levels[1] != 2 || !mon.addrs[0].IsValid() {
		t.Fatalf("monitor judged %v at levels %v from %v", mon.started, mon.levels, mon.addrs)
	}
	res, err := e.lim.AllowAll(context.Background(), []ratelimit.Request{{Key: "mon:" + okNumber, Limit: monLimit, Peek: true}}, nil)
	if err != nil || res.Results[0].Remaining != monLimit.Burst-2 {
		t.Fatalf("the denied take spent the monitor's bucket: %+v %v", res, err)
	}
	// The monitor refuses a send: 403, Denied, and the refusal reported.
	rec := do(h, postJSON(`{"phone":"+447400123457"}`))
	if rec.Code != 403 {
		t.Fatalf("send the monitor refuses: %d %s", rec.Code, rec.Body)
	}
	var vb *verify.BlockedError
	if len(denied) != 2 || !errors.As(denied[1], &vb) || vb.Reason != "pumping" || !errors.Is(denied[1], errPumped) {
		t.Fatalf("Denied saw %v", denied)
	}
	if p := problemOf(t, rec); p["title"] != "Number not allowed" {
		t.Errorf("problem %v", p)
	}
	// It gave back what the take spent on the rules: the number's two
	// sends an hour are whole.
	delete(mon.refuse, "+447400123457")
	for i := range 2 {
		if rec := do(h, postJSON(`{"phone":"+447400123457"}`)); rec.Code != 200 {
			t.Fatalf("send %d after the monitor's refusal: %d", i, rec.Code)
		}
	}
	mon.refuse["+447400123457"] = true
	// A number the policy refuses: reported, never judged.
	if rec := do(h, postJSON(`{"phone":"`+blockedNumber+`"}`)); rec.Code != 403 {
		t.Fatalf("blocked number: %d", rec.Code)
	}
	want := []string{okNumber + " rate_limited", "+447400123457 pumping", blockedNumber + " high_risk_destination"}
	if len(mon.refused) != len(want) {
		t.Fatalf("monitor heard of refusals %q, want %q", mon.refused, want)
	}
	for i := range want {
		if mon.refused[i] != want[i] {
			t.Errorf("refusal %d: %q, want %q", i, mon.refused[i], want[i])
		}
	}
	if len(mon.started) != 5 {
		t.Errorf("judged %v", mon.started)
	}

	// CheckOutbound: the same, with the address given.
	ip := netip.MustParseAddr("192.0.2.9")
	if _, err := e.g.CheckOutbound(context.Background(), "invite", guard.Outbound{To: "+447400123458", Channel: numbers.SMS, Addr: ip}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.CheckOutbound(context.Background(), "invite", guard.Outbound{To: "+447400123457", Channel: numbers.SMS, Addr: ip}); !errors.As(err, &vb) {
		t.Fatalf("CheckOutbound of a number the monitor refuses: %v", err)
	}
	if last := mon.addrs[len(mon.addrs)-1]; last != ip || len(mon.started) != 7 {
		t.Errorf("CheckOutbound: judged %v from %v", mon.started, mon.addrs)
	}

	// A refusal before the take spends none of the route's rules.
	mon.block = map[string]bool{"+447400123450": true}
	for range 3 {
		if rec := do(h, postJSON(`{"phone":"+447400123450"}`)); rec.Code != 403 {
			t.Fatalf("send the monitor refuses before the take: %d", rec.Code)
		}
	}
	delete(mon.block, "+447400123450")
	if rec := do(h, postJSON(`{"phone":"+447400123450"}`)); rec.Code != 200 {
		t.Fatalf("the refusals before the take spent the number's rule: %d", rec.Code)
	}
	if len(mon.started) != 8 || mon.refused[len(mon.refused)-1] != "+447400123450 pumping" {
		t.Errorf("judged %v, refused %v", mon.started, mon.refused)
	}

	// Routes without a number never see the monitor.
	lh := e.g.Limit("page", guard.PerAddr(ratelimit.PerHour(5)))(ok)
	if rec := do(lh, postJSON(`{"phone":"`+okNumber+`"}`)); rec.Code != 200 || len(mon.started) != 8 {
		t.Errorf("Limit route: %d, monitor judged %v", rec.Code, mon.started)
	}
}

// emptyMonitor asks for nothing in the take and lets everything through.
type emptyMonitor struct{ started int }

func (m *emptyMonitor) AppendStart(reqs []ratelimit.Request, _ numbers.Number, _ netip.Addr) ([]ratelimit.Request, error) {
	return reqs, nil
}
func (m *emptyMonitor) Started(_ context.Context, _ numbers.Number, _ netip.Addr, results []ratelimit.Result) error {
	if len(results) != 0 {
		panic("results for no request")
	}
	m.started++
	return nil
}
func (m *emptyMonitor) Approved(context.Context, numbers.Number, netip.Addr) {}
func (m *emptyMonitor) Refused(numbers.Number, netip.Addr, string)           {}

// TestMonitorAlone: a route without rules, whose monitor asks for nothing,
// makes no take and still lets the monitor judge.
func TestMonitorAlone(t *testing.T) {
	mon := &emptyMonitor{}
	e := newEnv(t, guard.WithMonitor(mon), guard.WithRefusalLimit(ratelimit.Limit{}))
	h := e.g.Phone("signup", numbers.SMS)(ok)
	if rec := do(h, postJSON(`{"phone":"`+okNumber+`"}`)); rec.Code != 200 || mon.started != 1 {
		t.Fatalf("%d, monitor judged %d", rec.Code, mon.started)
	}
}
