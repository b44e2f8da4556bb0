package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/internal/keys"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// Config holds the optional settings of a [Service]; the zero Config means
// every default.
type Config struct {
	// Policy decides which numbers may be sent a code, per channel. Nil
	// means numbers.ModeratePolicy(): the world minus the high-risk
	// dataset and costly number types. An app whose users live in known
	// countries should prefer numbers.SMSVerificationPolicy("US", "CA", ...).
	Policy *numbers.Policy
	// DefaultRegion is the region assumed for numbers typed without a
	// country code ("US", "GB"). Empty means numbers must be typed in
	// international form ("+44...", "0044...").
	DefaultRegion string
	// Limits are the rate limits. Nil means DefaultLimits().
	Limits *Limits
	// Cooldown is the wait between the first code to a destination and
	// the next; it doubles with every code sent (30 s, 1 min, 2 min, ...)
	// up to MaxCooldown. Zero means 30 seconds; negative disables the
	// cooldown (the rate limits still apply). See [Service] for how it
	// shrinks back and what an approved code does.
	Cooldown time.Duration
	// MaxCooldown is the longest wait. Zero means 10 minutes (or
	// Cooldown, when that is longer). It must be at least Cooldown and at
	// most 2^15 × Cooldown.
	MaxCooldown time.Duration
	// SharedCooldown keeps the cooldown in the Limiter's store instead of
	// the memory of this process, so that every instance of an app that
	// shares the store (Redis) sees it, checked in the same all-or-nothing
	// take as the limits. Set it whenever the Limiter's store is shared.
	// The cooldown answers the same either way (but for one detail: in
	// the store, a Start that the cooldown refuses still counts toward the
	// penalty box of a limit that refuses it too). In memory it costs a
	// map look-up; in the store, one more key per bucket in every Start's
	// take (six with the defaults).
	SharedCooldown bool
	// Channels are the channels a Start may ask for. Nil means SMS only:
	// voice calls cost more and are the classic pumping target, so enable
	// them on purpose.
	Channels []numbers.Channel
	// Hooks receive the outcome of every Start and Check.
	Hooks Hooks
	// Logger receives one Debug record per Start and Check (numbers
	// masked, codes never) and a Warn record per provider failure. Nil
	// logs nothing.
	Logger *slog.Logger
	// Monitor, when set, counts every Start and approval in the same take
	// as the limits, and may refuse a send (see [Monitor]). Nil means none.
	Monitor Monitor
	// Now returns the current time, for a cooldown kept in memory. Nil
	// means time.Now. (The limiter's store keeps its own clock, for the
	// limits and a shared cooldown.)
	Now func() time.Time
}

// Service runs the checks that must pass before a code is sent: the number
// policy for the channel, the client address's record of refused numbers, a
// growing resend cooldown, and rate limits per number, client address,
// block of numbers, country and overall; and, when a code is checked,
// attempt limits per number and per client address. Only then does it ask
// the Sender. It is safe for concurrent use.
//
// # State
//
// The limits and the refusals live in the Limiter's store and are taken in
// one all-or-nothing call per Start: one round trip, and the same answers on
// one instance over a ratelimit.MemoryStore as on many sharing a Redis
// store. The cooldown lives in the memory of the process, or in the store
// too with Config.SharedCooldown, which several instances sharing a store
// need; it answers the same in both places.
//
// # Cooldown
//
// A client that asks again as soon as it may is allowed codes after
// Cooldown, 2×Cooldown, 4×Cooldown, ... up to MaxCooldown, then one per
// MaxCooldown. The cooldown is made of token buckets, so quiet time drains
// it gradually rather than resetting it at once: after at most about
// (log2(MaxCooldown/Cooldown)+2) × MaxCooldown of quiet (44.5 minutes with
// the defaults) the next wait is Cooldown again.
//
// An approved code resets the cooldown: the next code to the same
// destination is treated as its first, so that a user who needed several
// codes and then signs in again is not kept waiting. In the store this is a
// give-back of every bucket's tokens (one more take, on approval only).
type Service struct {
	sender   Sender
	limiter  *ratelimit.Limiter
	limits   Limits
	cool     cooldown
	local    *localCooldowns // the cooldown in memory; nil when shared or off
	channels []numbers.Channel
	hooks    Hooks
	monitor  Monitor
	logger   *slog.Logger
	policy   *numbers.Policy
	region   string

	// The enabled limits of a Start to a number, of a Start to an email
	// address, and of a Check, worked out once in New.
	startPhone, startEmail, check []scopedLimit
}

// destination is a parsed and checked phone number or email address.
type destination struct {
	to          string // E.164, or the email address
	key         string // what limits and cooldowns key on
	masked      string // to masked, for events and logs
	email       bool
	region      string
	callingCode int
}

// New returns a Service that sends codes with sender once the limits kept
// by limiter allow it (use one over a ratelimit.MemoryStore for one process,
// or over a shared store when several processes serve the same users). Its
// errors wrap [ErrInvalidConfig].
func New(sender Sender, limiter *ratelimit.Limiter, cfg Config) (*Service, error) {
	if sender == nil {
		return nil, fmt.Errorf("%w: nil Sender", ErrInvalidConfig)
	}
	if limiter == nil {
		return nil, fmt.Errorf("%w: nil Limiter", ErrInvalidConfig)
	}
	limits := DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	limits, err := limits.validate()
	if err != nil {
		return nil, err
	}
	cool, err := newCooldown(cfg.Cooldown, cfg.MaxCooldown)
	if err != nil {
		return nil, err
	}
	channels := cfg.Channels
	if channels == nil {
		channels = []numbers.Channel{numbers.SMS}
	}
	for _, c := range channels {
		if c.String() == "unknown" {
			return nil, fmt.Errorf("%w: unknown channel %d", ErrInvalidConfig, c)
		}
	}
	s := &Service{
		sender:     sender,
		limiter:    limiter,
		limits:     limits,
		startPhone: limits.enabled(kindPhone, kindIP, kindPrefix, kindCountry, kindGlobal, kindRefusals),
		startEmail: limits.enabled(kindPhone, kindIP, kindGlobal, kindRefusals),
		check:      limits.enabled(kindCheckPhone, kindCheckIP),
		cool:       cool,
		channels:   slices.Clone(channels),
		hooks:      cfg.Hooks,
		monitor:    cfg.Monitor,
		logger:     cfg.Logger,
		policy:     cfg.Policy,
		region:     cfg.DefaultRegion,
	}
	if s.policy == nil {
		s.policy = numbers.ModeratePolicy()
	}
	if cool.buckets != nil && !cfg.SharedCooldown {
		now := cfg.Now
		if now == nil {
			now = time.Now
		}
		s.local = newLocalCooldowns(&s.cool, now)
	}
	return s, nil
}

// StartRequest is a request to send a code.
type StartRequest struct {
	// Phone is the phone number as the user typed it. Ignored for the
	// Email channel.
	Phone string
	// Email is the email address, for the Email channel.
	Email string
	// Channel is how to send the code. The zero value is numbers.SMS; a
	// request with Email set and Phone empty goes by numbers.Email unless
	// it names another channel.
	Channel numbers.Channel
	// ClientIP is the address of the client asking. Requests without one
	// share a single per-IP allowance, so pass it.
	ClientIP netip.Addr
	// Locale optionally chooses the message language: a well-formed BCP 47
	// tag of a language Twilio Verify supports (twilio.com/docs/verify/
	// supported-languages), in any case ("pt-br" is sent as "pt-BR").
	// Anything else is refused with [ErrInvalidLocale] before any limit is
	// spent. Empty lets the provider choose from the number.
	Locale string
}

// StartResult describes a code that was sent.
type StartResult struct {
	// Masked is the destination, masked, to show the user where the code
	// went.
	Masked string
	// Channel is the channel used.
	Channel numbers.Channel
	// ResendAfter is how long the user must wait before asking for another
	// code to the same destination.
	ResendAfter time.Duration
}

// CheckRequest is a request to check a code.
type CheckRequest struct {
	// Phone is the phone number as the user typed it, or Email the email
	// address, whichever the code was sent to.
	Phone, Email string
	// Code is the code the user entered.
	Code string
	// ClientIP is the address of the client asking.
	ClientIP netip.Addr
}

// CheckResult describes an approved code.
type CheckResult struct {
	// To is the verified destination: the number in E.164 form, or the
	// email address. It is the value to store as verified.
	To string
	// Masked is To masked, for logs.
	Masked string
}

// Start sends a code, if the channel, the locale, the number policy, the
// cooldown and the rate limits all allow it. Errors wrap
// [ErrInvalidChannel], [ErrInvalidLocale], [ErrInvalidNumber], [ErrBlocked],
// [ErrCooldown], [ErrRateLimited] or, from the sender, [ErrProvider]; a
// limiter that cannot answer (and fails closed) gives an error wrapping
// ratelimit.ErrUnavailable.
func (s *Service) Start(ctx context.Context, req StartRequest) (StartResult, error) {
	if err := ctx.Err(); err != nil {
		return StartResult{}, err
	}
	ch, err := s.channel(req)
	if err != nil {
		s.emit(s.hooks.Blocked, Event{Op: "start", ClientIP: req.ClientIP, Reason: "invalid_channel"})
		return StartResult{}, err
	}
	locale, err := canonicalLocale(req.Locale)
	if err != nil {
		s.emit(s.hooks.Blocked, Event{Op: "start", Channel: ch, ClientIP: req.ClientIP, Reason: "invalid_locale"})
		return StartResult{}, err
	}
	dst, n, err := s.parseDestination(req.Phone, req.Email, ch)
	if err != nil {
		ev := Event{Op: "start", Channel: ch, ClientIP: req.ClientIP, Reason: "invalid_number"}
		s.emit(s.hooks.Blocked, ev)
		s.log(ctx, ev)
		return StartResult{}, err
	}
	ev := s.event("start", ch, dst, req.ClientIP)
	var num *numbers.Number // for the monitor
	if !dst.email {
		if d := s.policy.Check(n, ch); !d.Allowed {
			err := s.refused(ctx, ev, &BlockedError{Reason: string(d.Reason), Rule: d.Rule, Decision: d, Err: d.Err()})
			s.monitorRefused(&n, req.ClientIP, string(d.Reason))
			return StartResult{}, err
		}
		num = &n
	}
	resend, err := s.guardStart(ctx, dst, req.ClientIP, num)
	if err != nil {
		s.fail(ctx, s.hooks.Blocked, ev, err)
		s.monitorRefused(num, req.ClientIP, reasonOf(err))
		return StartResult{}, err
	}
	if err := s.sender.SendCode(ctx, SendRequest{To: dst.to, Channel: ch, Locale: locale}); err != nil {
		var be *BlockedError
		switch {
		case errors.As(err, &be):
			err = s.refused(ctx, ev, err)
		case errors.Is(err, ErrRateLimited) || errors.Is(err, ErrInvalidNumber):
			s.fail(ctx, s.hooks.Blocked, ev, err)
		default:
			s.fail(ctx, s.hooks.Failed, ev, err)
		}
		return StartResult{}, err
	}
	s.emit(s.hooks.Started, ev)
	s.log(ctx, ev)
	return StartResult{Masked: ev.Masked, Channel: ch, ResendAfter: resend}, nil
}

// refused counts a refusal of the number of ev (err, a *BlockedError or an
// error wrapping one) against the client address, and reports it. It
// returns err, or a *LimitError when the address has spent its Refusals
// allowance: from then on a prober learns nothing about the policy. A
// limiter that cannot answer changes nothing: the number is refused anyway.
func (s *Service) refused(ctx context.Context, ev Event, err error) error {
	var be *BlockedError
	if errors.As(err, &be) {
		ev.Reason = be.Reason
	}
	var pe *ProviderError
	if errors.As(err, &pe) {
		ev.ProviderCode = pe.Code
	}
	if lim := s.limits.Refusals; lim != (ratelimit.Limit{}) {
		var buf [64]byte
		key := string(s.appendKey(buf[:0], kindRefusals, destination{}, ev.ClientIP))
		res, lerr := s.limiter.Allow(ctx, key, lim)
		if lerr == nil && !res.Allowed {
			ev.Scope, ev.RetryAfter = scopes[kindRefusals], roundUpSecond(res.RetryAfter)
			err = &LimitError{RetryAfter: ev.RetryAfter, Scope: ev.Scope}
		}
	}
	s.emit(s.hooks.Refused, ev)
	s.log(ctx, ev)
	return err
}

// Check checks a code, if the attempt limits allow it. It returns a result
// only when the sender approved the code. Errors wrap [ErrInvalidNumber],
// [ErrInvalidCode], [ErrExpired], [ErrTooManyAttempts] or [ErrProvider].
func (s *Service) Check(ctx context.Context, req CheckRequest) (CheckResult, error) {
	if err := ctx.Err(); err != nil {
		return CheckResult{}, err
	}
	ch := numbers.SMS
	if req.Phone == "" && req.Email != "" {
		ch = numbers.Email
	}
	dst, n, err := s.parseDestination(req.Phone, req.Email, ch)
	if err != nil {
		s.emit(s.hooks.Failed, Event{Op: "check", Channel: ch, ClientIP: req.ClientIP, Reason: "invalid_number"})
		return CheckResult{}, err
	}
	ev := s.event("check", ch, dst, req.ClientIP)
	if !validCode(req.Code) {
		ev.Reason = "invalid_code"
		s.emit(s.hooks.Failed, ev)
		s.log(ctx, ev)
		return CheckResult{}, ErrInvalidCode
	}
	if _, err := s.take(ctx, s.check, false, dst, req.ClientIP, nil); err != nil {
		s.fail(ctx, s.hooks.Failed, ev, err)
		return CheckResult{}, err
	}
	if err := s.sender.CheckCode(ctx, dst.to, req.Code); err != nil {
		s.fail(ctx, s.hooks.Failed, ev, err)
		return CheckResult{}, err
	}
	s.resetCooldown(ctx, dst)
	if s.monitor != nil && !dst.email {
		s.monitor.Approved(ctx, n, req.ClientIP)
	}
	s.emit(s.hooks.Approved, ev)
	s.log(ctx, ev)
	return CheckResult{To: dst.to, Masked: ev.Masked}, nil
}

// channel picks and checks the channel of a Start.
func (s *Service) channel(req StartRequest) (numbers.Channel, error) {
	ch := req.Channel
	if ch == numbers.SMS && req.Phone == "" && req.Email != "" {
		ch = numbers.Email
	}
	if !slices.Contains(s.channels, ch) {
		return 0, ErrInvalidChannel
	}
	return ch, nil
}

// parseDestination parses the destination of a call on ch. A number comes
// back parsed as well, for the policy.
func (s *Service) parseDestination(phone, email string, ch numbers.Channel) (destination, numbers.Number, error) {
	if ch == numbers.Email {
		dst, err := parseEmail(email)
		return dst, numbers.Number{}, err
	}
	n, err := numbers.Parse(phone, s.region)
	if err != nil {
		return destination{}, n, fmt.Errorf("%w: %w", ErrInvalidNumber, err)
	}
	if n.Extension != "" {
		return destination{}, n, fmt.Errorf("%w: numbers with an extension cannot receive codes", ErrInvalidNumber)
	}
	// n.String knows the calling code: no lookup as in numbers.Mask.
	return destination{to: n.E164, key: n.E164, masked: n.String(), region: n.Region, callingCode: n.CallingCode}, n, nil
}

const maxEmailLen = 254

// parseEmail accepts a plausible email address. The provider has the last
// word; this only keeps junk out of the limiter's keys.
func parseEmail(addr string) (destination, error) {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if len(addr) > maxEmailLen || at < 1 || at == len(addr)-1 || !strings.Contains(addr[at:], ".") {
		return destination{}, fmt.Errorf("%w: not an email address", ErrInvalidNumber)
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' {
			return destination{}, fmt.Errorf("%w: not an email address", ErrInvalidNumber)
		}
	}
	return destination{to: addr, key: "email:" + strings.ToLower(addr), masked: maskDestination(addr), email: true}, nil
}

// validCode reports whether code can be a code at all: 4 to 10 letters or
// digits, as Twilio's. Anything else is refused without asking the sender.
func validCode(code string) bool {
	if len(code) < 4 || len(code) > 10 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if !isAlnum(code[i]) {
			return false
		}
	}
	return true
}

// guardStart is Start's own guard once dst is parsed and allowed by the
// policy: the cooldown, the start limits and the address's refusals, all or
// nothing (one take with a shared cooldown; the cooldown in memory is
// reserved first and released when a limit refuses). It returns the wait
// before the next code to dst may be sent.
func (s *Service) guardStart(ctx context.Context, dst destination, ip netip.Addr, n *numbers.Number) (time.Duration, error) {
	limits := s.startPhone
	if dst.email {
		limits = s.startEmail
	}
	if s.local != nil {
		r, wait, ok := s.local.reserve(dst.key)
		if !ok {
			return 0, &LimitError{RetryAfter: roundUpSecond(wait), Scope: "cooldown"}
		}
		if _, err := s.take(ctx, limits, false, dst, ip, n); err != nil {
			s.local.release(r)
			return 0, err
		}
		return wait, nil
	}
	return s.take(ctx, limits, s.cool.buckets != nil, dst, ip, n)
}

// monitorRefused tells the monitor, if any, that a Start to n (nil for an
// email address) was refused.
func (s *Service) monitorRefused(n *numbers.Number, ip netip.Addr, reason string) {
	if s.monitor != nil && n != nil {
		s.monitor.Refused(*n, ip, reason)
	}
}

// resetCooldown resets the cooldown of dst after a code to it was approved.
// A store that cannot answer costs the user the reset, nothing else.
func (s *Service) resetCooldown(ctx context.Context, dst destination) {
	if s.local != nil {
		s.local.reset(dst.key)
		return
	}
	if s.cool.buckets == nil {
		return
	}
	var buf [512]byte
	b := buf[:0]
	reqs := make([]ratelimit.Request, len(s.cool.buckets))
	ends := make([]int, len(reqs))
	for j := range s.cool.buckets {
		b = s.appendCoolKey(b, j, dst)
		ends[j] = len(b)
	}
	keys, start := string(b), 0
	for j, c := range s.cool.buckets {
		// Give back a whole burst: the bucket is full again.
		reqs[j] = ratelimit.Request{Key: keys[start:ends[j]], Limit: c.limit, Cost: -c.limit.Burst}
		start = ends[j]
	}
	if _, err := s.limiter.AllowAll(ctx, reqs, nil); err != nil && s.logger != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "verify: cannot reset a cooldown", slog.String("to", dst.masked), slog.String("error", err.Error()))
	}
}

// appendCoolKey appends the key of bucket j of dst's cooldown:
// verify:cool<j>:phone:<E.164>, or the email key.
func (s *Service) appendCoolKey(b []byte, j int, dst destination) []byte {
	b = append(b, coolNS...)
	b = append(b, "0123456789abcdef"[j], ':')
	if dst.email {
		return append(b, dst.key...)
	}
	return keys.AppendPhone(b, dst.to)
}

const (
	startNS = "verify:start:"
	checkNS = "verify:check:"
	// refusedNS prefixes the keys of the Refusals limit.
	refusedNS = "verify:refused:"
	// coolNS prefixes the keys of the cooldown's buckets.
	coolNS = "verify:cool"
)

// globalKey is the key of the global start limit.
var globalKey = ratelimit.KeyGlobal("verify:start")

// appendKey appends the key of a limit of kind for a call on dst from ip.
// The keys are those of the ratelimit helpers in this package's namespace:
// startNS + ratelimit.KeyPhone(dst.to), and so on (email addresses are
// keyed by dst.key). They must never change: a changed key is a reset
// limit for every user of a shared store.
func (s *Service) appendKey(b []byte, kind limitKind, dst destination, ip netip.Addr) []byte {
	switch kind {
	case kindGlobal:
		return append(b, globalKey...)
	case kindRefusals:
		return keys.AppendIP(append(b, refusedNS...), ip)
	case kindCheckPhone, kindCheckIP:
		b = append(b, checkNS...)
	default:
		b = append(b, startNS...)
	}
	switch kind {
	case kindPhone, kindCheckPhone:
		if dst.email {
			return append(b, dst.key...)
		}
		return keys.AppendPhone(b, dst.to)
	case kindIP, kindCheckIP:
		return keys.AppendIP(b, ip)
	case kindPrefix:
		digits := max(1, len(dst.to)-1-s.limits.PrefixDrop)
		return keys.AppendPrefix(b, dst.to, digits)
	}
	if dst.region != "" && dst.region != "001" {
		return keys.AppendCountry(b, dst.region)
	}
	return keys.AppendCallingCode(b, dst.callingCode)
}

// maxLimits is the most limits one take checks, and maxTake the most
// requests: the limits and the buckets of the cooldown.
const (
	maxLimits = int(kindRefusals) + 1
	maxTake   = maxLimits + maxCoolBuckets
)

// takeScratch holds the requests and results of one take, reused through
// takePool so that a take allocates only its keys.
type takeScratch struct {
	reqs    [maxTake]ratelimit.Request
	results [maxTake]ratelimit.Result
}

var takePool = sync.Pool{New: func() any { return new(takeScratch) }}

// take runs one all-or-nothing take of limits for a call on dst from ip,
// with the cooldown's buckets when cool is set, and the monitor's requests
// when num (the parsed number of a Start) is set. A denial is a *LimitError
// naming the scope; a refusal by the monitor, a *BlockedError (before the
// take when AppendStart refuses, nothing spent). When the take
// is allowed, it returns the wait before the cooldown allows the next send
// to dst.
func (s *Service) take(ctx context.Context, limits []scopedLimit, cool bool, dst destination, ip netip.Addr, num *numbers.Number) (time.Duration, error) {
	var buckets []coolBucket
	if cool {
		buckets = s.cool.buckets
	}
	mon := s.monitor
	if num == nil {
		mon = nil
	}
	n := len(limits) + len(buckets)
	if n == 0 && mon == nil {
		return 0, nil
	}
	// All the keys in one string: one allocation for the lot (two for
	// long email addresses).
	var buf [512]byte
	var ends [maxTake]int
	b := buf[:0]
	for i := range limits {
		b = s.appendKey(b, limits[i].kind, dst, ip)
		ends[i] = len(b)
	}
	for j := range buckets {
		b = s.appendCoolKey(b, j, dst)
		ends[len(limits)+j] = len(b)
	}
	keys := string(b)
	sc := takePool.Get().(*takeScratch)
	reqs := sc.reqs[:n]
	start := 0
	for i := range reqs {
		// Field by field, without copying a whole Request or scopedLimit.
		reqs[i].Key = keys[start:ends[i]]
		reqs[i].Record = false // a monitor's request may have been here
		if i < len(limits) {
			reqs[i].Limit, reqs[i].Cost, reqs[i].Peek = limits[i].limit, 0, limits[i].peek
		} else {
			c := &buckets[i-len(limits)]
			reqs[i].Limit, reqs[i].Cost, reqs[i].Peek = c.limit, c.cost, false
		}
		start = ends[i]
	}
	results := sc.results[:]
	var d ratelimit.Decision
	var err, monErr error
	if mon != nil {
		reqs, monErr = mon.AppendStart(reqs, *num, ip)
		if len(reqs) > len(results) {
			results = make([]ratelimit.Result, len(reqs))
		}
	}
	if monErr == nil {
		if len(reqs) > 0 {
			d, err = s.limiter.AllowAll(ctx, reqs, results[:len(reqs)])
		} else {
			d.Allowed = true // a monitor alone, that asked for nothing
		}
		if err == nil && d.Allowed && mon != nil {
			if monErr = mon.Started(ctx, *num, ip, d.Results[n:len(reqs)]); monErr != nil {
				s.giveBack(ctx, reqs[:n])
			}
		}
	}
	var wait time.Duration
	coolDenied := false
	bind := -1 // the denied limit with the longest wait, if any
	if err == nil && monErr == nil {
		if len(buckets) > 0 {
			// The next send is allowed once every bucket's debt is down
			// to its slack; when the take was refused by the cooldown,
			// that is the time left.
			wait = s.cool.wait(d.Results[len(limits):n])
			for j := len(limits); j < n; j++ {
				coolDenied = coolDenied || !d.Results[j].Allowed
			}
		}
		if !d.Allowed {
			for i := range limits {
				if r := &d.Results[i]; !r.Allowed && (bind < 0 || r.RetryAfter > d.Results[bind].RetryAfter) {
					bind = i
				}
			}
		}
	}
	for i := range sc.reqs {
		sc.reqs[i].Key = "" // no keys kept alive in the pool
	}
	takePool.Put(sc)
	// d.Results aliases sc.results: from here only d.Result may be used.
	if err != nil {
		return 0, fmt.Errorf("verify: limiter: %w", err)
	}
	if monErr != nil {
		return 0, &BlockedError{Reason: "pumping", Err: monErr}
	}
	if d.Allowed {
		return wait, nil
	}
	if coolDenied {
		// The cooldown answers first, as it does in memory, where it is
		// checked before the limits.
		return 0, &LimitError{RetryAfter: roundUpSecond(wait), Scope: "cooldown"}
	}
	return 0, &LimitError{RetryAfter: roundUpSecond(d.RetryAfter), Scope: scopes[limits[bind].kind]}
}

// giveBack returns what reqs, an allowed take's limits and cooldown
// buckets, spent: a Start the monitor refused after the take sent
// nothing, and must not spend the allowance of the country, of everyone.
// It costs one more take, only then; a store that cannot answer keeps
// what was spent. reqs is rewritten.
func (s *Service) giveBack(ctx context.Context, reqs []ratelimit.Request) {
	k := 0
	for _, r := range reqs {
		if r.Peek || r.Record {
			continue
		}
		r.Cost = -max(r.Cost, 1)
		reqs[k] = r
		k++
	}
	if k > 0 {
		_, _ = s.limiter.AllowAll(ctx, reqs[:k], nil)
	}
}

// event starts the Event of a call on dst from ip.
func (s *Service) event(op string, ch numbers.Channel, dst destination, ip netip.Addr) Event {
	ev := Event{Op: op, Channel: ch, Masked: dst.masked, Region: dst.region, CallingCode: dst.callingCode, ClientIP: ip}
	if dst.to == "" || dst.email {
		return ev
	}
	// With Mask's calling code and last digits, a prefix of all but the
	// last six digits leaves at least two digits unknown.
	ccLen := 1
	for cc := dst.callingCode; cc >= 10; cc /= 10 {
		ccLen++
	}
	ev.Prefix = dst.to[:1+max(ccLen, len(dst.to)-1-6)]
	return ev
}

// fail completes ev from err, calls hook and logs.
func (s *Service) fail(ctx context.Context, hook func(Event), ev Event, err error) {
	ev.Reason = reasonOf(err)
	var le *LimitError
	if errors.As(err, &le) {
		ev.Scope, ev.RetryAfter = le.Scope, le.RetryAfter
	}
	var pe *ProviderError
	if errors.As(err, &pe) {
		ev.ProviderCode = pe.Code
	}
	s.emit(hook, ev)
	s.log(ctx, ev)
	if s.logger != nil && errors.Is(err, ErrProvider) {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "verify: provider failed", slog.String("op", ev.Op),
			slog.String("to", ev.Masked), slog.Int("provider_code", ev.ProviderCode))
	}
}

// reasonOf returns the Event reason for err.
func reasonOf(err error) string {
	var be *BlockedError
	switch {
	case errors.As(err, &be):
		return be.Reason
	case errors.Is(err, ratelimit.ErrUnavailable):
		return "limiter_unavailable"
	case errors.Is(err, ErrCooldown):
		return "cooldown"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrTooManyAttempts):
		return "too_many_attempts"
	case errors.Is(err, ErrInvalidNumber):
		return "invalid_number"
	case errors.Is(err, ErrInvalidCode):
		return "invalid_code"
	case errors.Is(err, ErrExpired):
		return "expired"
	}
	return "provider"
}

func (s *Service) emit(hook func(Event), ev Event) {
	if hook != nil {
		hook(ev)
	}
}

func (s *Service) log(ctx context.Context, ev Event) {
	if s.logger == nil {
		return
	}
	outcome := "ok"
	if ev.Reason != "" {
		outcome = ev.Reason
	}
	s.logger.LogAttrs(ctx, slog.LevelDebug, "verify: "+ev.Op, slog.String("to", ev.Masked),
		slog.String("channel", ev.Channel.String()), slog.String("outcome", outcome))
}
