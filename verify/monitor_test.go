package verify_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// fakeMonitor counts sends per number and per address with Record requests
// (two allowed per hour each), and refuses a send when told to: before the
// take (block) or after it (refuse).
type fakeMonitor struct {
	mu       sync.Mutex
	refuse   error
	block    error
	started  [][]ratelimit.Result
	approved []string
	refused  []string
}

func (m *fakeMonitor) AppendStart(reqs []ratelimit.Request, n numbers.Number, ip netip.Addr) ([]ratelimit.Request, error) {
	if m.block != nil {
		return reqs, m.block
	}
	return append(reqs,
		ratelimit.Request{Key: "mon:n:" + n.E164, Limit: ratelimit.PerHour(2), Record: true},
		ratelimit.Request{Key: "mon:a:" + ip.String(), Limit: ratelimit.PerHour(2), Record: true}), nil
}

func (m *fakeMonitor) Started(_ context.Context, n numbers.Number, _ netip.Addr, results []ratelimit.Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started = append(m.started, slices.Clone(results))
	return m.refuse
}

func (m *fakeMonitor) Approved(_ context.Context, n numbers.Number, ip netip.Addr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.approved = append(m.approved, n.E164+" "+ip.String())
}

func (m *fakeMonitor) Refused(n numbers.Number, _ netip.Addr, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refused = append(m.refused, n.E164+" "+reason)
}

// takeCounter is a Store that records the keys of every take.
type takeCounter struct {
	ratelimit.Store
	mu    sync.Mutex
	takes [][]string
	gave  []ratelimit.Request // the last take that gave back
}

func (c *takeCounter) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (bool, int, error) {
	var keys []string
	for _, r := range reqs {
		keys = append(keys, r.Key)
	}
	c.mu.Lock()
	if len(reqs) > 0 && reqs[0].Cost < 0 {
		c.gave = slices.Clone(reqs)
	}
	c.takes = append(c.takes, keys)
	c.mu.Unlock()
	return c.Store.TakeAll(ctx, reqs, results)
}

// TestMonitorRidesInStartsTake: the monitor's requests join the Start's
// one take (with the shared cooldown and the limits), it learns the results
// before the code is sent, it can refuse the send, and it hears of approvals
// and refusals.
func TestMonitorRidesInStartsTake(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "cooldown in memory", true: "shared cooldown"}[shared], func(t *testing.T) {
			mon := &fakeMonitor{}
			e := newEnv(t, func(c *verify.Config) {
				c.Monitor, c.SharedCooldown = mon, shared
				c.Limits = &verify.Limits{IP: ratelimit.PerHour(10)}
			})
			counter := &takeCounter{Store: e.store}
			lim, err := ratelimit.New(counter)
			if err != nil {
				t.Fatal(err)
			}
			sender, err := verify.NewTwilioSender(e.srv.RestClient().VerifyV2, "VA0123456789abcdef0123456789abcdef")
			if err != nil {
				t.Fatal(err)
			}
			svc, err := verify.New(sender, lim, verify.Config{Monitor: mon, SharedCooldown: shared, Now: e.clock.Now,
				Limits: &verify.Limits{IP: ratelimit.PerHour(10)}, Channels: allChannels})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			phones := []string{"+447400123456", "+447400123457", "+447400123458"}
			for i, p := range phones {
				if _, err := svc.Start(ctx, verify.StartRequest{Phone: p, ClientIP: ip1}); err != nil {
					t.Fatalf("start %d: %v", i, err)
				}
			}
			// One take per Start, with the monitor's keys in it.
			if len(counter.takes) != 3 {
				t.Fatalf("%d takes for 3 starts: %q", len(counter.takes), counter.takes)
			}
			for _, keys := range counter.takes {
				if !slices.Contains(keys, "verify:start:ip:192.0.2.1") || !slices.Contains(keys, "mon:a:192.0.2.1") ||
					!strings.HasPrefix(keys[len(keys)-2], "mon:n:") || shared != slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "verify:cool") }) {
					t.Fatalf("take keys %q", keys)
				}
			}
			// The third send from ip1 is over the monitor's per-address
			// count: the monitor learns it, the send goes ahead.
			if len(mon.started) != 3 || !mon.started[1][1].Allowed || mon.started[2][1].Allowed || !mon.started[2][0].Allowed {
				t.Fatalf("monitor results %+v", mon.started)
			}
			// The monitor refuses: nothing is sent, the error says blocked.
			mon.refuse = errors.New("range under attack")
			before := len(e.srv.Requests())
			_, err = svc.Start(ctx, verify.StartRequest{Phone: "+447400123459", ClientIP: ip2})
			var be *verify.BlockedError
			if !errors.As(err, &be) || be.Reason != "pumping" || !errors.Is(err, mon.refuse) {
				t.Fatalf("monitor refusal: %v", err)
			}
			if len(e.srv.Requests()) != before {
				t.Fatal("sent although the monitor refused")
			}
			mon.refuse = nil
			// What the refused take spent was given back (one more
			// take): the number has no cooldown to wait, and the
			// address's allowance is whole.
			if n := len(counter.takes); n != 5 || len(counter.takes[4]) >= len(counter.takes[3]) {
				t.Fatalf("takes %q, want the refused one and its give-back", counter.takes)
			}
			for _, r := range counter.gave {
				if r.Cost >= 0 || r.Peek || strings.HasPrefix(r.Key, "mon:") {
					t.Fatalf("give-back %+v", counter.gave)
				}
			}
			if _, err := svc.Start(ctx, verify.StartRequest{Phone: "+447400123459", ClientIP: ip2}); err != nil {
				t.Fatalf("after the monitor's refusal: %v", err)
			}
			// The monitor refuses before the take: nothing is spent, not
			// even the cooldown.
			takes := len(counter.takes)
			mon.block = errors.New("address blocked")
			_, err = svc.Start(ctx, verify.StartRequest{Phone: "+447400123450", ClientIP: ip2})
			if !errors.As(err, &be) || be.Reason != "pumping" || !errors.Is(err, mon.block) || len(counter.takes) != takes {
				t.Fatalf("monitor refusal before the take: %v, %d takes", err, len(counter.takes)-takes)
			}
			mon.block = nil
			if _, err := svc.Start(ctx, verify.StartRequest{Phone: "+447400123450", ClientIP: ip2}); err != nil {
				t.Fatalf("the number refused before the take has no cooldown to wait: %v", err)
			}
			// Refusals and approvals reach it; email starts do not.
			if _, err := svc.Start(ctx, verify.StartRequest{Phone: "+37120012345", ClientIP: ip1}); !errors.Is(err, verify.ErrBlocked) {
				t.Fatal(err)
			}
			if _, err := svc.Start(ctx, verify.StartRequest{Phone: phones[0], ClientIP: ip1}); !errors.Is(err, verify.ErrCooldown) {
				t.Fatal(err)
			}
			if _, err := svc.Start(ctx, verify.StartRequest{Email: "a@example.com", ClientIP: ip1}); err != nil {
				t.Fatal(err)
			}
			code, _ := e.srv.Code(phones[1])
			if _, err := svc.Check(ctx, verify.CheckRequest{Phone: phones[1], Code: code, ClientIP: ip2}); err != nil {
				t.Fatal(err)
			}
			want := []string{"+447400123459 pumping", "+447400123450 pumping", "+37120012345 high_risk_destination", "+447400123456 cooldown"}
			if !slices.Equal(mon.refused, want) || !slices.Equal(mon.approved, []string{"+447400123457 192.0.2.2"}) || len(mon.started) != 6 {
				t.Fatalf("refused %q, approved %q, %d started", mon.refused, mon.approved, len(mon.started))
			}
		})
	}
}

// emptyMonitor asks for nothing in the take and counts its judgements.
type emptyMonitor struct{ started int }

func (m *emptyMonitor) AppendStart(reqs []ratelimit.Request, _ numbers.Number, _ netip.Addr) ([]ratelimit.Request, error) {
	return reqs, nil
}
func (m *emptyMonitor) Started(context.Context, numbers.Number, netip.Addr, []ratelimit.Result) error {
	m.started++
	return nil
}
func (m *emptyMonitor) Approved(context.Context, numbers.Number, netip.Addr) {}
func (m *emptyMonitor) Refused(numbers.Number, netip.Addr, string)           {}

// TestMonitorAlone: a Service without limits or a cooldown in the store,
// whose monitor asks for nothing, makes no take and still lets the monitor
// judge.
func TestMonitorAlone(t *testing.T) {
	mon := &emptyMonitor{}
	e := newEnv(t, func(c *verify.Config) {
		c.Monitor, c.Limits, c.Cooldown = mon, &verify.Limits{}, -1
	})
	if _, err := e.svc.Start(context.Background(), verify.StartRequest{Phone: "+447400123456", ClientIP: ip1}); err != nil || mon.started != 1 {
		t.Fatalf("Start: %v, monitor judged %d", err, mon.started)
	}
}
