package verify

import (
	"context"
	"net/netip"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// Monitor is an adaptive defense that watches the codes sent and approved
// per destination range and client address (guard/pumping's
// Monitor.ForVerify returns one), with counters that ride in the same all-or-nothing take,
// and so the same round trip to a shared store, as a Start's limits. Its
// methods are called only for phone numbers, from the goroutine of the
// call; they must be safe for concurrent use.
type Monitor interface {
	// AppendStart appends the monitor's requests for a Start to n from ip
	// to reqs and returns the result. They must never deny the take
	// (Record, or a negative Cost): the limits decide, the monitor
	// learns. An error instead refuses the Start before anything is
	// spent, as the policy does (a block the monitor holds already
	// covers n or ip): Start returns a *BlockedError with Reason
	// "pumping" wrapping it.
	AppendStart(reqs []ratelimit.Request, n numbers.Number, ip netip.Addr) ([]ratelimit.Request, error)
	// Started is given the results of those requests once the take was
	// allowed, before the code is sent. An error refuses the send: Start
	// returns a *BlockedError with Reason "pumping" wrapping it, and gives
	// back what the take spent on the limits and the cooldown (one more
	// take, only then), so that refused sends do not use up the country's
	// or everyone's allowance. results are only good during the call.
	Started(ctx context.Context, n numbers.Number, ip netip.Addr, results []ratelimit.Result) error
	// Approved is called after a code to n was approved.
	Approved(ctx context.Context, n numbers.Number, ip netip.Addr)
	// Refused is called when a Start to n was refused before anything was
	// sent (the policy, the cooldown, a limit, the monitor itself), with
	// the Event's reason.
	Refused(n numbers.Number, ip netip.Addr, reason string)
}
