package pumping

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// ForVerify returns the monitor as a verify.Monitor, for
// verify.Config.Monitor and guard.WithMonitor: its counters then ride in
// the take of the verification's (or the guard route's) limits, in the
// same round trip to a shared store, and it hears of every send, approval
// and refusal there without glue:
//
//	svc, err := verify.New(sender, lim, verify.Config{Policy: policy, Monitor: mon.ForVerify()})
//
// A send that a block of its address, network or region covers is refused
// before the take, so that it spends neither the limits nor the counters
// ([Monitor.Check]); one that trips a signal is refused once the take is
// allowed ([Monitor.Judge]). verify answers both with a *verify.BlockedError
// of Reason "pumping" that wraps the *BlockedError. Range blocks are the number
// policy's: give verify a policy that consults [Monitor.Blocklist]. An
// approval is [Monitor.Confirmed] (a store that cannot record it is
// logged at Warn), a refusal [Monitor.Refused].
func (m *Monitor) ForVerify() verify.Monitor { return inTake{m} }

// inTake is the verify.Monitor of a Monitor.
type inTake struct{ m *Monitor }

// AppendStart refuses a send that a block covers, or appends its requests.
func (t inTake) AppendStart(reqs []ratelimit.Request, n numbers.Number, ip netip.Addr) ([]ratelimit.Request, error) {
	s := Send{Number: n, ClientIP: ip}
	if err := t.m.Check(s); err != nil {
		return reqs, err
	}
	return t.m.AppendRequests(reqs, s), nil
}

// Started judges the send from the results of its requests (AppendStart
// has checked it).
func (t inTake) Started(ctx context.Context, n numbers.Number, ip netip.Addr, results []ratelimit.Result) error {
	if len(results) == 0 {
		return nil // n has no digits to count
	}
	return t.m.judgeResults(ctx, &Send{Number: n, ClientIP: ip}, results)
}

// Approved records a confirmation.
func (t inTake) Approved(ctx context.Context, n numbers.Number, ip netip.Addr) {
	if err := t.m.Confirmed(ctx, Send{Number: n, ClientIP: ip}); err != nil && t.m.logger != nil {
		t.m.logger.LogAttrs(ctx, slog.LevelWarn, "pumping: cannot record a confirmation",
			slog.String("to", n.String()), slog.String("error", err.Error()))
	}
}

// Refused records a refusal.
func (t inTake) Refused(n numbers.Number, ip netip.Addr, _ string) {
	t.m.Refused(Send{Number: n, ClientIP: ip})
}
