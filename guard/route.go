package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/httplimit"
	"github.com/antifraud-go/antifraud/verify"
)

// maxRules is the most rules one check takes.
const maxRules = 8

// route is a check compiled once: its rules with their key prefixes and
// header items.
type route struct {
	g        *Guard
	name     string
	quoted   string // name as a Structured Field string
	rules    []compiled
	needAddr bool // a rule keys on the address
	needUser bool
	withNum  bool // the route checks a phone number
	refusals bool // refusals by the policy count against the address
}

// compiled is one rule of a route.
type compiled struct {
	kind   ruleKind
	limit  ratelimit.Limit
	drop   int
	key    string // the whole key of a static rule, the prefix of others
	static bool
	policy string        // its RateLimit-Policy item
	iv     time.Duration // limit.Interval(), for the RateLimit field
}

// compile checks rules and prepares them for name. number says whether
// the route parses a phone number.
func (g *Guard) compile(name string, number bool, rules []Rule) (*route, error) {
	if name == "" || len(name) > 64 {
		return nil, configError("route name %q is empty or longer than 64 bytes", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return nil, configError("route name %q is not printable ASCII without spaces", name)
		}
	}
	if len(rules) > maxRules {
		return nil, configError("route %s: %d rules, at most %d", name, len(rules), maxRules)
	}
	rt := &route{g: g, name: name, withNum: number}
	rt.refusals = number && g.cfg.refusals != (ratelimit.Limit{})
	var seen [ruleRefusals]int
	for _, r := range rules {
		if r.kind == 0 || r.kind >= ruleRefusals {
			return nil, configError("route %s: the zero Rule", name)
		}
		if err := r.limit.Validate(); err != nil {
			return nil, configError("route %s: rule %s: %v", name, r.kind, err)
		}
		if r.kind.needsNumber() && !number {
			return nil, configError("route %s: rule %s needs a phone number: use Phone, CheckPhone or CheckOutbound", name, r.kind)
		}
		if r.kind == ruleBlock && (r.drop < 1 || r.drop > 12) {
			return nil, configError("route %s: PerBlock drops %d digits, not 1..12", name, r.drop)
		}
		seen[r.kind]++
		c := compiled{kind: r.kind, limit: r.limit, drop: r.drop, iv: r.limit.Interval()}
		rep := ""
		if n := seen[r.kind]; n > 1 {
			rep = "#" + strconv.Itoa(n)
		}
		switch r.kind {
		case ruleRoute:
			c.key, c.static = keyNS+"route:"+name+rep, true
		case ruleGlobal:
			// Keyed by the limit, so that routes sharing a ceiling share it.
			c.key, c.static = keyNS+"global:"+r.limit.String()+rep, true
		case ruleAddr:
			c.key = keyNS + name + rep + ":"
			rt.needAddr = true
		case rulePhone:
			c.key = keyNS + name + rep + ":phone:"
		case ruleBlock:
			c.key = keyNS + name + rep + ":block" + strconv.Itoa(r.drop) + ":"
		case ruleCountry:
			c.key = keyNS + name + rep + ":country:"
		case ruleUser:
			c.key = keyNS + name + rep + ":user:"
			rt.needUser = true
		}
		if g.cfg.rateHeader {
			c.policy, rt.quoted = policyItems(name, r.limit)
		}
		rt.rules = append(rt.rules, c)
	}
	if rt.refusals {
		rt.needAddr = true
	}
	return rt, nil
}

// mustCompile is compile for the middleware builders, which cannot return
// an error: a route is program text, and a mistake in it shows at startup,
// as http.ServeMux.Handle shows a bad pattern.
func (g *Guard) mustCompile(name string, number bool, rules []Rule) *route {
	rt, err := g.compile(name, number, rules)
	if err != nil {
		panic(err)
	}
	return rt
}

// maxCachedRoutes bounds the routes the checks remember: names are
// program text, so a program that makes them up by the request is the
// only one to go past it (and then compiles each time).
const maxCachedRoutes = 256

// cachedRoute is a route a check compiled, with the rules it came from.
type cachedRoute struct {
	number bool
	rules  []Rule
	rt     *route
}

// routeCache remembers the routes of the checks (Check, CheckPhone,
// CheckOutbound), which get their rules on every call.
type routeCache struct {
	m sync.Map // name -> *cachedRoute
	n atomic.Int32
}

// cached returns the compiled route for a check, compiling it the first
// time.
func (g *Guard) cached(name string, number bool, rules []Rule) (*route, error) {
	if v, ok := g.routes.m.Load(name); ok {
		c := v.(*cachedRoute)
		if c.number == number && slices.Equal(c.rules, rules) {
			return c.rt, nil
		}
	}
	rt, err := g.compile(name, number, rules)
	if err != nil {
		return nil, err
	}
	if g.routes.n.Load() < maxCachedRoutes {
		if _, loaded := g.routes.m.Swap(name, &cachedRoute{number: number, rules: slices.Clone(rules), rt: rt}); !loaded {
			g.routes.n.Add(1)
		}
	}
	return rt, nil
}

// input is what a check knows about a request.
type input struct {
	addr netip.Addr // valid when found
	num  *numbers.Number
	user string
	text string // user-written text to check, for CheckOutbound
}

// outcome is what a take decided, for the headers: the binding result
// (the one denied with the longest wait, or the allowed one with the
// fewest tokens left) and its rule, -1 when no rule was taken.
type outcome struct {
	res  ratelimit.Result
	rule int
}

// maxMonitor is room for a monitor's requests in a take's scratch
// (guard/pumping's are at most 9).
const maxMonitor = 16

// scratch holds one take's requests and results. It is pooled: the
// Limiter keeps neither.
type scratch struct {
	reqs    [maxRules + 1 + maxMonitor]ratelimit.Request
	results [maxRules + 1 + maxMonitor]ratelimit.Result
	rule    [maxRules + 1]int8
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// take takes the route's rules for in, the probing box's peek and the
// monitor's requests, in one call; the monitor then judges an allowed
// take. kb receives the keys.
func (rt *route) take(ctx context.Context, in *input, kb *keyBuf) (outcome, error) {
	var keys [maxRules + 1]string
	var rules [maxRules + 1]int8
	b := kb.b[:0]
	n := 0
	for i := range rt.rules {
		c := &rt.rules[i]
		var key string
		if c.static {
			key = c.key
		} else {
			start := len(b)
			b = append(b, c.key...)
			switch c.kind {
			case ruleAddr:
				b = appendAddrKey(b, in.addr)
			case rulePhone:
				b = append(b, in.num.E164...)
			case ruleBlock:
				b = appendBlockKey(b, in.num, c.drop)
			case ruleCountry:
				b = appendCountryKey(b, in.num)
			case ruleUser:
				if in.user == "" {
					b = b[:start]
					continue // anonymous: this rule does not apply
				}
				b = appendPart(b, in.user)
			}
			key = str(b, start)
		}
		keys[n], rules[n] = key, int8(i)
		n++
	}
	if rt.refusals && in.addr.IsValid() {
		start := len(b)
		b = append(b, refusedNS...)
		b = appendAddrKey(b, in.addr)
		keys[n], rules[n] = str(b, start), -1
		n++
	}
	kb.tail = b
	mon := rt.g.cfg.monitor
	if in.num == nil {
		mon = nil
	}
	switch {
	case n == 0 && mon == nil:
		return outcome{rule: -1}, nil
	case n == 1 && rules[0] >= 0 && mon == nil:
		// One rule: the limiter's single take, without a multi-take's
		// bookkeeping.
		return rt.takeOne(ctx, keys[0], int(rules[0]))
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	for i := range n {
		sc.reqs[i] = ratelimit.Request{Key: keys[i], Limit: rt.g.cfg.refusals, Peek: true}
		if r := rules[i]; r >= 0 {
			sc.reqs[i] = ratelimit.Request{Key: keys[i], Limit: rt.rules[r].limit}
		}
		sc.rule[i] = rules[i]
	}
	reqs, results := sc.reqs[:n], sc.results[:]
	var d ratelimit.Decision
	var err, monErr error
	if mon != nil {
		// The monitor may refuse before anything is spent.
		reqs, monErr = mon.AppendStart(reqs, *in.num, in.addr)
		if len(reqs) > len(results) {
			results = make([]ratelimit.Result, len(reqs))
		}
	}
	if monErr == nil {
		if len(reqs) > 0 {
			d, err = rt.g.limiter.AllowAll(ctx, reqs, results[:len(reqs)])
		} else {
			d.Allowed = true // a monitor alone, that asked for nothing
		}
		if err == nil && d.Allowed && mon != nil {
			if monErr = mon.Started(ctx, *in.num, in.addr, d.Results[n:len(reqs)]); monErr != nil {
				rt.giveBack(ctx, reqs[:n])
			}
		}
	}
	for i := range reqs {
		reqs[i].Key = "" // keep no key alive in the pool
	}
	if err != nil {
		return outcome{rule: -1}, rt.takeError(err)
	}
	if monErr != nil {
		return outcome{rule: -1}, &verify.BlockedError{Reason: "pumping", Err: monErr}
	}
	if !d.Allowed {
		o := outcome{res: d.Result, rule: int(sc.rule[d.Index])}
		kind := ruleRefusals
		if o.rule >= 0 {
			kind = rt.rules[o.rule].kind
		}
		return o, &LimitError{Rule: kind.String(), RetryAfter: d.RetryAfter, Penalized: d.Penalized}
	}
	// The tightest of the route's own rules, for the headers: the probing
	// box is nobody's quota to advertise.
	o := outcome{rule: -1}
	for i := range n {
		if sc.rule[i] >= 0 && (o.rule < 0 || d.Results[i].Remaining < o.res.Remaining) {
			o = outcome{res: d.Results[i], rule: int(sc.rule[i])}
		}
	}
	return o, nil
}

// giveBack returns what reqs, an allowed take's rules, spent: the monitor
// refused the request after the take, and nothing was sent. It costs one
// more take, only then; a store that cannot answer keeps what was spent.
// reqs is rewritten.
func (rt *route) giveBack(ctx context.Context, reqs []ratelimit.Request) {
	k := 0
	for _, r := range reqs {
		if r.Peek {
			continue
		}
		r.Cost = -max(r.Cost, 1)
		reqs[k] = r
		k++
	}
	if k > 0 {
		_, _ = rt.g.limiter.AllowAll(ctx, reqs[:k], nil)
	}
}

// takeOne takes a route's only rule, rule, for key.
func (rt *route) takeOne(ctx context.Context, key string, rule int) (outcome, error) {
	c := &rt.rules[rule]
	res, err := rt.g.limiter.AllowN(ctx, key, c.limit, 1)
	if err != nil {
		return outcome{rule: -1}, rt.takeError(err)
	}
	o := outcome{res: res, rule: rule}
	if !res.Allowed {
		return o, &LimitError{Rule: c.kind.String(), RetryAfter: res.RetryAfter, Penalized: res.Penalized}
	}
	return o, nil
}

// takeError is the error of a take that failed: the limiter's when the
// store is unavailable, a configuration error otherwise (an invalid key
// or limit, which compile should have caught).
func (rt *route) takeError(err error) error {
	if errors.Is(err, ratelimit.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("guard: route %s: %w: %w", rt.name, ErrInvalidConfig, err)
}

// refused counts a refusal by the number policy, err, against the client
// address. It returns err, or a *LimitError (wrapping err) when the address
// has spent its allowance of refusals: from then on a prober learns
// nothing more about the policy. A failing store changes nothing: the
// number is refused anyway.
func (rt *route) refused(ctx context.Context, addr netip.Addr, err error) error {
	if !rt.refusals || !addr.IsValid() {
		return err
	}
	var b [64]byte
	key := string(appendAddrKey(append(b[:0], refusedNS...), addr))
	res, lerr := rt.g.limiter.AllowN(ctx, key, rt.g.cfg.refusals, 1)
	if lerr != nil || res.Allowed {
		return err
	}
	return &LimitError{Rule: ruleRefusals.String(), RetryAfter: res.RetryAfter, Penalized: res.Penalized, Err: err}
}

// setHeaders writes the rate-limit headers of an allowed take.
func (rt *route) setHeaders(h http.Header, o outcome, kb *keyBuf) {
	if o.rule < 0 || !rt.g.cfg.rateHeader {
		return
	}
	b := kb.tail // past the keys
	if b == nil {
		b = kb.b[:0]
	}
	start := len(b)
	c := &rt.rules[o.rule]
	b = appendRateLimit(b, rt.quoted, &o.res, c.limit.Burst, c.iv)
	kb.vals[0] = str(b, start)
	kb.vals[1] = rt.rules[o.rule].policy
	h[hdrRateLimit] = kb.vals[0:1:1]
	if kb.vals[1] != "" {
		h[hdrRateLimitPolicy] = kb.vals[1:2:2]
	}
}

// denyHeaders writes Retry-After, and RateLimit, for a refusal.
func (rt *route) denyHeaders(h http.Header, err error) {
	var le *LimitError
	if !errors.As(err, &le) {
		return
	}
	httplimit.SetRetryAfter(h, le.RetryAfter)
	if rt.g.cfg.rateHeader && rt.quoted != "" {
		// Remaining nothing until the wait is over; which rule it is, and
		// so its quota, stays out.
		h.Set(hdrRateLimit, rt.quoted+";r=0;t="+strconv.FormatInt(max(1, ceilSeconds(le.RetryAfter)), 10))
	}
}

// allowed reports an allowed request.
func (rt *route) allowed(ctx context.Context, in *input, ch numbers.Channel, err error) {
	if err != nil {
		rt.g.warn(ctx, rt.name, err, true)
	}
	if rt.g.cfg.hooks.Allowed != nil {
		rt.g.cfg.hooks.Allowed(rt.event(in, ch, err))
	}
	if l := rt.g.cfg.logger; l != nil && l.Enabled(ctx, slog.LevelDebug) {
		rt.log(ctx, l, "guard: allowed", in, err)
	}
}

// denied reports a refused request.
func (rt *route) denied(ctx context.Context, in *input, ch numbers.Channel, err error) {
	if errors.Is(err, ratelimit.ErrUnavailable) {
		rt.g.warn(ctx, rt.name, err, false)
	}
	if m := rt.g.cfg.monitor; m != nil && in.num != nil && rt.withNum {
		m.Refused(*in.num, in.addr, refusalReason(err))
	}
	hook := rt.g.cfg.hooks.Denied
	if errors.Is(err, numbers.ErrBlocked) {
		hook = rt.g.cfg.hooks.Refused
	}
	if hook != nil {
		hook(rt.event(in, ch, err))
	}
	if l := rt.g.cfg.logger; l != nil && l.Enabled(ctx, slog.LevelDebug) {
		rt.log(ctx, l, "guard: denied", in, err)
	}
}

func (rt *route) event(in *input, ch numbers.Channel, err error) Event {
	ev := Event{Route: rt.name, Addr: in.addr, User: in.user, Channel: ch, Err: err}
	if in.num != nil {
		ev.Number = *in.num
	}
	return ev
}

func (rt *route) log(ctx context.Context, l *slog.Logger, msg string, in *input, err error) {
	attrs := []slog.Attr{slog.String("route", rt.name)}
	if in.addr.IsValid() {
		attrs = append(attrs, slog.String("addr", in.addr.String()))
	}
	if in.num != nil {
		attrs = append(attrs, slog.String("number", in.num.String()))
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	l.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

// refusalReason names the reason of a refusal for a monitor, as verify's
// Event.Reason does.
func refusalReason(err error) string {
	var nb *numbers.BlockedError
	var vb *verify.BlockedError
	switch {
	case errors.As(err, &vb):
		return vb.Reason
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.As(err, &nb):
		return string(nb.Decision.Reason)
	case errors.Is(err, ratelimit.ErrUnavailable):
		return "limiter_unavailable"
	case errors.Is(err, ErrOverBudget):
		return "over_budget"
	}
	return "refused"
}
