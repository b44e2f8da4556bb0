package main

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/antifraud-go/antifraud/guard/pumping"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// request is one "send me a code" of the simulation.
type request struct {
	num numbers.Number
	ip  netip.Addr
}

// outcome is what a defense did with a request.
type outcome struct {
	sent   bool
	reason string // why not: "policy", "prefix_blocked", "cooldown", "limit:<scope>", "monitor:<scope>"
	// ranged is true when the refusal was about the number's range, which
	// is what makes a range-hopping pumper move on.
	ranged bool
	// would is true when the monitor, in shadow mode, would have refused.
	would bool
	// why names the monitor's block that refused, if one did.
	why string
	// err is the defense's error, when it refused.
	err error
}

// defense is a way to guard the "send code" endpoint.
type defense interface {
	start(ctx context.Context, r request) outcome
	// confirm checks the code a user received, and reports whether it
	// was approved.
	confirm(ctx context.Context, r request) (bool, string)
	decisions() int
}

// simSender is a verify.Sender that sends nothing and approves the one
// code every simulated user types.
type simSender struct{}

const simCode = "123456"

func (simSender) SendCode(context.Context, verify.SendRequest) error { return nil }
func (simSender) CheckCode(_ context.Context, _, code string) error {
	if code != simCode {
		return verify.ErrInvalidCode
	}
	return nil
}

// static is today's verify defaults: verify.Service with
// numbers.ModeratePolicy() and verify.DefaultLimits().
type static struct {
	svc *verify.Service
}

// limitsFor returns verify.DefaultLimits(), with the global and per-country
// limits raised for an app of legit users a day whose biggest country
// has share of them, as its operators would (the defaults are sized for
// an app of a few thousand sign-ups a day): three times the mean hourly
// volume.
func limitsFor(legit int, share float64) verify.Limits {
	l := verify.DefaultLimits()
	perHour := float64(legit) / 24
	if g := int(3 * perHour); g > l.Global.Rate {
		l.Global = ratelimit.PerHour(g).WithBurst(max(l.Global.Burst, g/10))
	}
	if c := int(3 * perHour * share); c > l.Country.Rate {
		l.Country = ratelimit.PerHour(c).WithBurst(max(l.Country.Burst, c/4))
	}
	return l
}

// newLimiter returns a limiter over a memory store on the simulated clock.
func newLimiter(now func() time.Time) (*ratelimit.Limiter, error) {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: now})
	if err != nil {
		return nil, err
	}
	return ratelimit.New(store)
}

func newStatic(now func() time.Time, lim *ratelimit.Limiter, policy *numbers.Policy, limits verify.Limits) (*static, error) {
	svc, err := verify.New(simSender{}, lim, verify.Config{Policy: policy, Limits: &limits, Now: now})
	if err != nil {
		return nil, err
	}
	return &static{svc: svc}, nil
}

func (s *static) start(ctx context.Context, r request) outcome {
	_, err := s.svc.Start(ctx, verify.StartRequest{Phone: r.num.E164, ClientIP: r.ip})
	if err == nil {
		return outcome{sent: true}
	}
	o := refusal(err)
	o.err = err
	return o
}

// refusal classifies a verify error.
func refusal(err error) outcome {
	var be *verify.BlockedError
	var le *verify.LimitError
	switch {
	case errors.As(err, &be):
		if be.Reason == string(numbers.ReasonPrefixBlocked) {
			return outcome{reason: "prefix_blocked", ranged: true}
		}
		return outcome{reason: "policy"}
	case errors.As(err, &le):
		if le.Scope == "cooldown" {
			return outcome{reason: "cooldown"}
		}
		return outcome{reason: "limit:" + le.Scope, ranged: le.Scope == "prefix"}
	}
	return outcome{reason: "error:" + err.Error()}
}

func (s *static) confirm(ctx context.Context, r request) (bool, string) {
	_, err := s.svc.Check(ctx, verify.CheckRequest{Phone: r.num.E164, Code: simCode, ClientIP: r.ip})
	if err != nil {
		return false, "check:" + reasonOf(err)
	}
	return true, ""
}

func reasonOf(err error) string {
	var le *verify.LimitError
	if errors.As(err, &le) {
		return le.Scope
	}
	return err.Error()
}

func (s *static) decisions() int { return 0 }

// adaptive is static with the pumping monitor, wired as an app wires it:
// verify.Config.Monitor (its counters in the take of verify's limits, its
// judgement before the send, approvals and refusals reported by verify),
// and its range blocks in the number policy verify checks.
type adaptive struct {
	static *static
	mon    *pumping.Monitor
	shadow bool
	nDec   int
}

func newAdaptive(now func() time.Time, limits verify.Limits, shadow bool, floors pumping.Floors, onDec func(pumping.Decision)) (*adaptive, error) {
	// One store for verify's limits and the monitor's counters, as an app
	// would have; the monitor's range blocks in the policy verify checks.
	lim, err := newLimiter(now)
	if err != nil {
		return nil, err
	}
	a := &adaptive{shadow: shadow}
	a.mon, err = pumping.New(lim, pumping.Config{Shadow: shadow, Now: now, Floors: floors,
		OnDecision: func(d pumping.Decision) {
			a.nDec++
			if onDec != nil {
				onDec(d)
			}
		}})
	if err != nil {
		return nil, err
	}
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(a.mon.Blocklist()))
	if err != nil {
		return nil, err
	}
	svc, err := verify.New(simSender{}, lim, verify.Config{Policy: policy, Limits: &limits, Now: now, Monitor: a.mon.ForVerify()})
	if err != nil {
		return nil, err
	}
	a.static = &static{svc: svc}
	return a, nil
}

func (a *adaptive) start(ctx context.Context, r request) outcome {
	s := pumping.Send{Number: r.num, ClientIP: r.ip}
	would := false
	if a.shadow {
		_, would = a.mon.Blocked(s)
	}
	o := a.static.start(ctx, r)
	o.would = would
	if o.sent {
		return o
	}
	// Which of the monitor's blocks refused, for the attribution of legit
	// refusals: the one in the error, or the range block of the policy.
	var pb *pumping.BlockedError
	switch {
	case errors.As(o.err, &pb):
		o.reason = "monitor:" + pb.Block.Scope.String()
		o.ranged = pb.Block.Scope == pumping.ScopeRange
		o.why = pb.Block.Scope.String() + "/" + string(pb.Block.Signal)
	case o.reason == string(numbers.ReasonPrefixBlocked):
		if b, ok := a.mon.Blocked(s); ok {
			o.why = b.Scope.String() + "/" + string(b.Signal)
		}
	}
	return o
}

func (a *adaptive) confirm(ctx context.Context, r request) (bool, string) {
	// verify tells the monitor of the approval.
	return a.static.confirm(ctx, r)
}

func (a *adaptive) decisions() int { return a.nDec }
