package guard

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/sanitize"
	"github.com/antifraud-go/antifraud/verify"
)

// Guard checks requests before they reach the handlers that cost money:
// it finds the client's address (trusting proxy headers only from declared
// proxies), reads the phone number from the body, applies the number
// policy for the channel, then takes the rules of the route from a
// ratelimit.Limiter in one all-or-nothing call, and answers a refusal with
// an RFC 9457 problem.
//
// Build one with New and share it: a Guard is immutable and safe for
// concurrent use. Its middleware and checks are built from it by route:
// Limit and Phone return middleware, Check, CheckPhone and CheckOutbound
// are the same checks for code that is not a handler.
type Guard struct {
	limiter  *ratelimit.Limiter
	cfg      config
	rv       resolver
	policies [maxChannels]*numbers.Policy
	phone    fieldSet // the phone field, in a fieldSet of one
	deny     http.Handler
	logs     *logThrottle
	routes   *routeCache // the checks' compiled routes
}

// maxChannels is the number of channels the guard keeps a policy for.
const maxChannels = 8

// Option configures a Guard.
type Option func(*config)

type config struct {
	policies    [maxChannels]*numbers.Policy
	policyErr   error
	region      string
	proxies     []string
	hops        int
	header      string
	deny        http.Handler
	failOpen    bool
	logger      *slog.Logger
	hooks       Hooks
	field       string
	maxBody     int64
	refusals    ratelimit.Limit
	refusalsSet bool
	user        func(*http.Request) string
	text        *sanitize.Policy
	budget      *Budget
	monitor     verify.Monitor
	rateHeader  bool
}

// WithPolicy sets the number policy for the given channels, or for every
// channel when none is given. The default is numbers.ModeratePolicy() for
// every channel. A number the
// policy refuses is answered 403 before any rule is taken.
func WithPolicy(p *numbers.Policy, channels ...numbers.Channel) Option {
	return func(c *config) {
		if p == nil {
			c.policyErr = configError("WithPolicy: nil policy")
			return
		}
		if len(channels) == 0 {
			for i := range c.policies {
				c.policies[i] = p
			}
			return
		}
		for _, ch := range channels {
			if int(ch) >= maxChannels || !knownChannel(ch) {
				c.policyErr = configError("WithPolicy: unknown channel %d", ch)
				return
			}
			c.policies[ch] = p
		}
	}
}

// WithRegion sets the region assumed for numbers typed without a country
// code, such as "US" for "(415) 555-2671". The default, "", accepts only
// numbers in international form ("+1 415 ...", "00 44 ...").
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithTrustedProxies declares the reverse proxies in front of the app, by
// address or CIDR prefix ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7").
// Only a request whose connection comes from one of them is looked at
// further: its client is the rightmost address of the proxy header (see
// WithProxyHeader) that is not a trusted proxy's, across every line of the
// header. A request from anywhere else is its connection's address,
// whatever headers it sent.
//
// By default no proxy is trusted and the client is the connection's
// address (http.Request.RemoteAddr), which is right for an app that
// clients reach directly, and wrong behind a proxy: every client would
// then share the proxy's address.
func WithTrustedProxies(prefixes ...string) Option {
	return func(c *config) { c.proxies = append(c.proxies, prefixes...) }
}

// WithProxyHops declares that n reverse proxies, each appending the
// address it received the request from, stand in front of the app: the
// client is the n-th address from the right of the proxy header. Use it
// when the proxies' addresses are not known (a cloud load balancer); it
// is only safe when clients cannot reach the app but through them. With
// WithTrustedProxies as well, the connection must come from a trusted
// proxy for the header to be read.
func WithProxyHops(n int) Option { return func(c *config) { c.hops = n } }

// WithProxyHeader names the header the trusted proxies write: the default
// "X-Forwarded-For", "Forwarded" (RFC 7239, its for= parameter), or a
// header that holds one address, such as "X-Real-IP" or
// "CF-Connecting-IP", for a proxy that overwrites it. Only one header is
// read: a client can add any other.
func WithProxyHeader(name string) Option { return func(c *config) { c.header = name } }

// WithDenyHandler replaces the response to a refused request. The handler
// runs with the request's context carrying the reason, which
// FailureReason returns, and with Retry-After and the rate-limit headers
// already set when they apply. The default writes ProblemFor(reason).
func WithDenyHandler(h http.Handler) Option { return func(c *config) { c.deny = h } }

// WithFailOpen lets requests through when the limiter's store cannot
// answer (ratelimit.ErrUnavailable): the failure is logged at Warn and
// reported to Hooks.Allowed with Event.Err set. By default the guard fails
// closed and answers 503, because what it guards costs money. (A Limiter
// built with ratelimit.WithFailOpen or WithFallback never reports the
// failure to the guard.)
func WithFailOpen() Option { return func(c *config) { c.failOpen = true } }

// WithLogger sets where the guard logs: a Debug record per decision, a
// Warn record (at most one a second) when the store fails. Phone numbers
// are masked. By default nothing is logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHooks sets functions called with every decision.
func WithHooks(h Hooks) Option { return func(c *config) { c.hooks = h } }

// WithField names the field that holds the phone number: the form field,
// and in a JSON body the key, or a path of keys separated by dots
// ("user.phone" for {"user": {"phone": ...}}). The default is "phone".
func WithField(name string) Option { return func(c *config) { c.field = name } }

// WithMaxBody bounds the request bodies the guard reads, in bytes. A body
// over the bound is answered 413, unread when its Content-Length says so.
// The default is 64 KiB.
func WithMaxBody(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithRefusalLimit sets the limit on refusals by the number policy per
// client address. A client that feeds the form numbers it may not use is
// probing the policy, or pumping with a list it has not cleaned: each
// refusal takes a token from this limit, a cheaper one than a send but
// not free. Once the address has no token left, and while it is in the
// limit's penalty box, its refusals are answered 429 rather than 403 (the
// prober learns nothing more about the policy), and every phone request
// from it is refused with 429, even for a number the policy allows. The
// zero Limit turns this off.
//
// The default is 60 refusals an hour with a burst of 20; 10 more within
// 10 minutes box the address for an hour, doubling up to a day. A person
// who mistypes a few numbers never notices; a script walking a range of
// premium numbers is stopped within a few dozen tries. verify.Service
// counts its own refusals the same way (verify.Limits.Refusals).
func WithRefusalLimit(lim ratelimit.Limit) Option {
	return func(c *config) { c.refusals, c.refusalsSet = lim, true }
}

// WithUser sets how middleware learns which user of the app makes a
// request, for PerUser rules: typically the account ID from the session.
// It returns "" for anonymous requests. By default no request has a user.
func WithUser(f func(*http.Request) string) Option { return func(c *config) { c.user = f } }

// WithTextPolicy sets the sanitize policy that CheckOutbound applies to
// user-written text: text in which it finds a call to action is refused.
// The default is sanitize's: links, email addresses, phone numbers and
// short codes. Give a policy that allows your own domains where your
// users legitimately send links to your site.
func WithTextPolicy(p *sanitize.Policy) Option { return func(c *config) { c.text = p } }

// WithBudget makes the guard consult b, a spend budget with a kill switch:
// once it has tripped, Phone, CheckPhone, CheckOutbound and VerifyStart
// refuse with ErrOverBudget (503) before anything else, at no I/O
// (Budget.Check). CheckOutbound charges every send it allows with
// Budget.Send, and VerifyStart every code the Service sent, so a budget
// with prices counts the guard's own sends; an app that sends from behind
// Phone charges the budget itself.
func WithBudget(b *Budget) Option { return func(c *config) { c.budget = b } }

// WithMonitor makes the phone checks (Phone, CheckPhone and
// CheckOutbound) consult m, an adaptive defense such as guard/pumping's
// (its Monitor.ForVerify). m's requests ride in the check's one take, so
// with a shared store it costs no round trip, and a take that a rule
// denies spends none of them. m may refuse a send before the take (a block
// it holds covers it: nothing spent) or judge it once the take is allowed;
// a send it refuses is answered 403 (a *verify.BlockedError of Reason
// "pumping" wrapping m's error, reported to Hooks.Denied), and what the
// take spent on the rules is given back (one more take, only then). Every phone
// request refused after its number was parsed, by the policy, a rule or
// m itself, is reported to m.Refused; m.Approved is never called here.
//
// Give it to the routes whose sends are confirmed, such as a code the user
// types back, and tell the monitor of the confirmations (pumping's
// Monitor.Confirmed): a route whose sends are never confirmed, a "call
// me" button, would look pumped. Guard.With gives it to some routes only.
// VerifyStart's Service has its own, verify.Config.Monitor. Nil means
// none.
func WithMonitor(m verify.Monitor) Option { return func(c *config) { c.monitor = m } }

// WithoutRateLimitHeaders stops the guard writing the IETF RateLimit and
// RateLimit-Policy headers, which tell a client how much of its allowance
// is left: clients that pace themselves need them, and so does a pumping
// script that wants to stay just under the limits. Retry-After is always
// written on a 429.
func WithoutRateLimitHeaders() Option { return func(c *config) { c.rateHeader = false } }

// defaultRefusals is the default of WithRefusalLimit, verify's.
var defaultRefusals = ratelimit.PerHour(60).WithBurst(20).WithPenalty(ratelimit.Penalty{
	After: 10, Within: 10 * time.Minute, For: time.Hour,
})

// New returns a Guard that takes its rules from limiter. It returns an
// error wrapping ErrInvalidConfig when an option is invalid.
func New(limiter *ratelimit.Limiter, opts ...Option) (*Guard, error) {
	if limiter == nil {
		return nil, configError("New: nil limiter")
	}
	c := config{field: "phone", maxBody: defaultMaxBody, rateHeader: true}
	moderate := numbers.ModeratePolicy()
	for ch := range c.policies {
		c.policies[ch] = moderate
	}
	return build(limiter, c, opts, &logThrottle{})
}

// With returns a Guard with the options of g and opts on top of them, for
// a route that needs another field name, policy or deny handler. The new
// Guard shares g's limiter.
func (g *Guard) With(opts ...Option) (*Guard, error) {
	c := g.cfg
	c.proxies = append([]string(nil), c.proxies...)
	return build(g.limiter, c, opts, g.logs)
}

func build(limiter *ratelimit.Limiter, c config, opts []Option, logs *logThrottle) (*Guard, error) {
	c.policyErr = nil
	for _, o := range opts {
		o(&c)
	}
	if c.policyErr != nil {
		return nil, c.policyErr
	}
	if c.region != "" && !isRegion(c.region) {
		return nil, configError("WithRegion: %q is not an upper-case ISO 3166 code", c.region)
	}
	if c.maxBody < 1<<10 || c.maxBody > 1<<30 {
		return nil, configError("WithMaxBody: %d is not in 1 KiB..1 GiB", c.maxBody)
	}
	path, err := parseField(c.field)
	if err != nil {
		return nil, err
	}
	if !c.refusalsSet {
		c.refusals = defaultRefusals
	}
	if c.refusals != (ratelimit.Limit{}) {
		if err := c.refusals.Validate(); err != nil {
			return nil, configError("WithRefusalLimit: %v", err)
		}
	}
	rv, err := newResolver(c.proxies, c.hops, c.header)
	if err != nil {
		return nil, err
	}
	g := &Guard{limiter: limiter, cfg: c, rv: rv, policies: c.policies, logs: logs, routes: &routeCache{}}
	g.phone = newFieldSet(field{form: c.field, path: path})
	g.deny = c.deny
	if g.deny == nil {
		g.deny = http.HandlerFunc(writeProblem)
	}
	return g, nil
}

// parseField checks a field name and splits it into a JSON path.
func parseField(name string) ([]string, error) {
	if name == "" || len(name) > 128 {
		return nil, configError("WithField: %q is empty or longer than 128 bytes", name)
	}
	path := strings.Split(name, ".")
	for _, k := range path {
		if k == "" {
			return nil, configError("WithField: %q has an empty key", name)
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c >= 0x7f {
			// Non-ASCII names would need the general key folding on
			// every key of every body.
			return nil, configError("WithField: %q is not printable ASCII", name)
		}
	}
	return path, nil
}

func isRegion(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

func knownChannel(ch numbers.Channel) bool {
	c, err := numbers.ParseChannel(ch.String())
	return err == nil && c == ch
}

// policy returns the number policy for ch.
func (g *Guard) policy(ch numbers.Channel) *numbers.Policy {
	if int(ch) < len(g.policies) {
		return g.policies[ch]
	}
	return nil
}

// ClientAddr returns the address of the client that sent r, found as
// WithTrustedProxies, WithProxyHops and WithProxyHeader say: unmapped
// (::ffff:192.0.2.1 is 192.0.2.1) and without an IPv6 zone. It returns an
// error wrapping ErrNoClientAddr when there is no usable address; never a
// made-up one that would put unrelated clients in one bucket.
func (g *Guard) ClientAddr(r *http.Request) (netip.Addr, error) {
	return g.rv.clientAddr(r)
}

// logThrottle keeps store failures to one Warn record a second, across
// the Guards derived from one another.
type logThrottle struct {
	last    atomic.Int64
	dropped atomic.Int64
}

// warn logs a store failure, at most once a second.
func (g *Guard) warn(ctx context.Context, route string, err error, open bool) {
	if g.cfg.logger == nil {
		return
	}
	now := time.Now().UnixNano()
	last := g.logs.last.Load()
	if now-last < int64(time.Second) || !g.logs.last.CompareAndSwap(last, now) {
		g.logs.dropped.Add(1)
		return
	}
	action := "refused (fail closed)"
	if open {
		action = "allowed (fail open)"
	}
	g.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "guard: limiter unavailable, request "+action,
		slog.String("route", route), slog.Any("err", err), slog.Int64("not_logged", g.logs.dropped.Swap(0)))
}
