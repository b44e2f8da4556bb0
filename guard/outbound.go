package guard

import (
	"context"
	"net/netip"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/sanitize"
)

// Outbound is a text or call that the app is about to send to a
// destination a user chose, with text a user wrote: an invitation, a
// "share by SMS", a message between users. The guide's advice is not to
// let users message arbitrary numbers at all, and where the app must, to
// make sure no arbitrary message goes out.
type Outbound struct {
	// To is the destination as the user gave it; it is parsed with the
	// guard's default region.
	To string
	// Channel is how it will be sent.
	Channel numbers.Channel
	// Text is the user-written part of the message, checked with the
	// guard's text policy (WithTextPolicy). Leave the app's own template
	// out of it. Empty for a call.
	Text string
	// User identifies the sending user, for PerUser rules.
	User string
	// Addr is the address of the client that asked for the send, when
	// there is one, for PerAddr rules and the probing limit.
	Addr netip.Addr
}

// CheckOutbound checks a send before the app makes it, in this order:
// the destination parses (numbers.ErrInvalid); the number policy for the
// channel allows it (numbers.ErrBlocked, a refusal that also counts
// against o.Addr, see WithRefusalLimit); the text carries no call to action
// (sanitize.ErrCallToAction, a *sanitize.CallToActionError with the
// findings); then the rules, all or nothing, in one call to the limiter:
// PerPhone is the limit per destination, PerBlock per range of
// destinations, PerUser per sending user (a *LimitError naming the rule).
// Nothing is spent unless every check passes. With WithBudget, a tripped
// budget refuses first (ErrOverBudget), and an allowed send is charged to
// it last, which may trip it and refuse this send.
//
// It returns the parsed destination; send to its E164. An invalid name or
// rule is an error wrapping ErrInvalidConfig. ProblemFor turns any of the
// errors into a response.
func (g *Guard) CheckOutbound(ctx context.Context, name string, o Outbound, rules ...Rule) (numbers.Number, error) {
	rt, err := g.cached(name, true, rules)
	if err != nil {
		return numbers.Number{}, err
	}
	in := input{user: o.User, text: o.Text}
	if o.Addr.IsValid() {
		in.addr, _ = usable(o.Addr)
	}
	if rt.needAddr && !in.addr.IsValid() && !rt.refusalsOnly() {
		rt.denied(ctx, &in, o.Channel, ErrNoClientAddr)
		return numbers.Number{}, ErrNoClientAddr
	}
	st := &state{Context: ctx}
	var kb keyBuf
	if _, err := rt.phone(ctx, o.To, o.Channel, &in, st, &kb); err != nil {
		rt.denied(ctx, &in, o.Channel, err)
		return st.num, err
	}
	if b := g.cfg.budget; b != nil {
		if err := b.Send(ctx, o.Channel, st.num.Region); err != nil {
			rt.denied(ctx, &in, o.Channel, err)
			return st.num, err
		}
	}
	return st.num, nil
}

// refusalsOnly reports whether the route needs the address only for the
// refusals limit, which is skipped without one.
func (rt *route) refusalsOnly() bool {
	for _, c := range rt.rules {
		if c.kind == ruleAddr {
			return false
		}
	}
	return true
}

func checkText(p *sanitize.Policy, text string) error {
	if p == nil {
		return sanitize.Check(text)
	}
	return p.Check(text)
}
