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

// Config configures a [Service]. Sender and Limiter are required; every
// other field documents its default.
type Config struct {
	// Sender sends and checks the codes. Required.
	Sender Sender
	// Policy decides which numbers may be sent a code, per channel (SMS,
	// Call as numbers.Voice, WhatsApp). Nil means numbers.ModeratePolicy():
	// the world minus the high-risk dataset and costly number types. An
	// app whose users live in known countries should prefer
	// numbers.SMSVerificationPolicy("US", "CA", ...).
	Policy *numbers.Policy
	// DefaultRegion is the region assumed for numbers typed without a
	// country code ("US", "GB"). Empty means numbers must be typed in
	// international form ("+44...", "0044...").
	DefaultRegion string
	// Limiter keeps the rate limits (see Limits). Required: use one over a
	// ratelimit.MemoryStore for one process, or over ratelimit/redisstore when
	// several processes serve the same users.
	Limiter *ratelimit.Limiter
	// Limits are the rate limits. Nil means DefaultLimits().
	Limits *Limits
	// Cooldown is the growing wait between two codes to one destination.
	// The zero value means the defaults documented on Cooldown.
	Cooldown Cooldown
	// Channels are the channels a Start may ask for. Nil means SMS only:
	// voice calls cost more and are the classic pumping target, so enable
	// them on purpose.
	Channels []Channel
	// Hooks receive the outcome of every Start and Check.
	Hooks Hooks
	// Logger receives one Debug record per Start and Check (numbers
	// masked, codes never) and a Warn record per provider failure. Nil
	// logs nothing.
	Logger *slog.Logger
	// Now returns the current time, for the cooldowns. Nil means time.Now.
	// (The limiter's store keeps its own clock.)
	Now func() time.Time
}

// Service runs the checks that must pass before a code is sent: the number
// policy for the channel, a growing resend cooldown, and rate limits per
// number, client address, block of numbers, country and overall; and, when a
// code is checked, attempt limits per number and per client address. Only
// then does it ask the Sender. It is safe for concurrent use.
type Service struct {
	sender   Sender
	limiter  *ratelimit.Limiter
	limits   Limits
	cool     *cooldowns
	channels []Channel
	hooks    Hooks
	logger   *slog.Logger
	now      func() time.Time
	policy   *numbers.Policy
	region   string

	// The enabled limits of a Start to a number, of a Start to an email
	// address, and of a Check, worked out once in New.
	startPhone, startEmail, check []scopedLimit
	// coolShared are the token buckets of a shared cooldown (Cooldown.Shared),
	// nil for a cooldown in memory.
	coolShared []coolBucket
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

// New returns a Service, or an error wrapping [ErrInvalidConfig].
func New(cfg Config) (*Service, error) {
	if cfg.Sender == nil {
		return nil, fmt.Errorf("%w: nil Sender", ErrInvalidConfig)
	}
	if cfg.Limiter == nil {
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
	cool, err := cfg.Cooldown.withDefaults()
	if err != nil {
		return nil, err
	}
	var coolShared []coolBucket
	if cool.Shared {
		if coolShared, err = cool.sharedBuckets(); err != nil {
			return nil, err
		}
	}
	channels := cfg.Channels
	if channels == nil {
		channels = []Channel{SMS}
	}
	for _, c := range channels {
		if _, ok := ParseChannel(string(c)); !ok {
			return nil, fmt.Errorf("%w: unknown channel %q", ErrInvalidConfig, c)
		}
	}
	s := &Service{
		sender:     cfg.Sender,
		limiter:    cfg.Limiter,
		limits:     limits,
		startPhone: limits.enabled(kindPhone, kindIP, kindPrefix, kindCountry, kindGlobal),
		startEmail: limits.enabled(kindPhone, kindIP, kindGlobal),
		check:      limits.enabled(kindCheckPhone, kindCheckIP),
		cool:       newCooldowns(cool),
		coolShared: coolShared,
		channels:   slices.Clone(channels),
		hooks:      cfg.Hooks,
		logger:     cfg.Logger,
		now:        cfg.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.policy, s.region = cfg.Policy, cfg.DefaultRegion
	if s.policy == nil {
		s.policy = numbers.ModeratePolicy()
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
	// Channel is how to send the code. Empty means Email when Email is set
	// and Phone is not, SMS otherwise.
	Channel Channel
	// ClientIP is the address of the client asking. Requests without one
	// share a single per-IP allowance, so pass it.
	ClientIP netip.Addr
	// Locale optionally chooses the message language.
	Locale string
}

// StartResult describes a code that was sent.
type StartResult struct {
	// Masked is the destination, masked, to show the user where the code
	// went.
	Masked string
	// Channel is the channel used.
	Channel Channel
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

// Start sends a code, if the number policy, the cooldown and the rate
// limits all allow it. Errors wrap [ErrInvalidNumber], [ErrBlocked],
// [ErrCooldown], [ErrRateLimited] or, from the sender, [ErrProvider]; a
// limiter that cannot answer (and fails closed) gives an error wrapping
// ratelimit.ErrUnavailable.
func (s *Service) Start(ctx context.Context, req StartRequest) (StartResult, error) {
	if err := ctx.Err(); err != nil {
		return StartResult{}, err
	}
	ch, err := s.channel(req)
	if err != nil {
		s.emit(s.hooks.Blocked, Event{Op: "start", Reason: "invalid_channel"})
		return StartResult{}, err
	}
	dst, err := s.destination(req.Phone, req.Email, ch)
	if err != nil {
		ev := Event{Op: "start", Channel: ch, Reason: "invalid_number"}
		var be *BlockedError
		if errors.As(err, &be) {
			ev = s.event("start", ch, dst)
			ev.Reason = be.Reason
		}
		s.emit(s.hooks.Blocked, ev)
		s.log(ctx, "start", ev)
		return StartResult{}, err
	}
	ev := s.event("start", ch, dst)
	resend, err := s.guardStart(ctx, dst, req.ClientIP)
	if ce, ok := err.(*CooldownError); ok {
		ev.Reason, ev.RetryAfter = "cooldown", ce.RetryAfter
		s.emit(s.hooks.Blocked, ev)
		s.log(ctx, "start", ev)
		return StartResult{}, err
	}
	if err != nil {
		s.fail(ctx, s.hooks.Blocked, ev, err)
		return StartResult{}, err
	}
	if err := s.sender.SendCode(ctx, SendRequest{To: dst.to, Channel: ch, Locale: req.Locale}); err != nil {
		hook := s.hooks.Failed
		if errors.Is(err, ErrBlocked) || errors.Is(err, ErrRateLimited) || errors.Is(err, ErrInvalidNumber) {
			hook = s.hooks.Blocked
		}
		s.fail(ctx, hook, ev, err)
		return StartResult{}, err
	}
	s.emit(s.hooks.Started, ev)
	s.log(ctx, "start", ev)
	return StartResult{Masked: ev.Masked, Channel: ch, ResendAfter: resend}, nil
}

// Check checks a code, if the attempt limits allow it. It returns a result
// only when the sender approved the code. Errors wrap [ErrInvalidNumber],
// [ErrInvalidCode], [ErrExpired], [ErrTooManyAttempts] or [ErrProvider].
func (s *Service) Check(ctx context.Context, req CheckRequest) (CheckResult, error) {
	if err := ctx.Err(); err != nil {
		return CheckResult{}, err
	}
	ch := SMS
	if req.Phone == "" && req.Email != "" {
		ch = Email
	}
	dst, err := s.parseDestination(req.Phone, req.Email, ch)
	if err != nil {
		s.emit(s.hooks.Failed, Event{Op: "check", Reason: "invalid_number"})
		return CheckResult{}, err
	}
	ev := s.event("check", "", dst)
	if !validCode(req.Code) {
		ev.Reason = "invalid_code"
		s.emit(s.hooks.Failed, ev)
		s.log(ctx, "check", ev)
		return CheckResult{}, ErrInvalidCode
	}
	if err := s.take(ctx, s.check, dst, req.ClientIP, true); err != nil {
		s.fail(ctx, s.hooks.Failed, ev, err)
		return CheckResult{}, err
	}
	if err := s.sender.CheckCode(ctx, dst.to, req.Code); err != nil {
		s.fail(ctx, s.hooks.Failed, ev, err)
		return CheckResult{}, err
	}
	s.cool.reset(dst.key)
	s.emit(s.hooks.Approved, ev)
	s.log(ctx, "check", ev)
	return CheckResult{To: dst.to, Masked: ev.Masked}, nil
}

// channel picks and checks the channel of a Start.
func (s *Service) channel(req StartRequest) (Channel, error) {
	ch := req.Channel
	if ch == "" {
		ch = SMS
		if req.Phone == "" && req.Email != "" {
			ch = Email
		}
	}
	if !slices.Contains(s.channels, ch) {
		return "", ErrInvalidChannel
	}
	return ch, nil
}

// destination parses and checks the destination of a Start. A number the
// policy blocks comes back with the error, for the Blocked hook.
func (s *Service) destination(phone, email string, ch Channel) (destination, error) {
	if ch == Email {
		return parseEmail(email)
	}
	n, dst, err := s.parsePhone(phone)
	if err != nil {
		return destination{}, err
	}
	nch := numbers.SMS
	switch ch {
	case Call:
		nch = numbers.Voice
	case WhatsApp:
		nch = numbers.WhatsApp
	}
	if d := s.policy.Check(n, nch); !d.Allowed {
		return dst, &BlockedError{Reason: string(d.Reason), Rule: d.Rule, Decision: d, Err: d.Err()}
	}
	return dst, nil
}

// parseDestination parses the destination of a Check; the policy is not
// applied again (no code went to a blocked number).
func (s *Service) parseDestination(phone, email string, ch Channel) (destination, error) {
	if ch == Email {
		return parseEmail(email)
	}
	_, dst, err := s.parsePhone(phone)
	return dst, err
}

// parsePhone parses a number as typed.
func (s *Service) parsePhone(phone string) (numbers.Number, destination, error) {
	n, err := numbers.Parse(phone, s.region)
	if err != nil {
		return n, destination{}, fmt.Errorf("%w: %w", ErrInvalidNumber, err)
	}
	if n.Extension != "" {
		return n, destination{}, fmt.Errorf("%w: numbers with an extension cannot receive codes", ErrInvalidNumber)
	}
	// n.String knows the calling code: no lookup as in numbers.Mask.
	return n, destination{to: n.E164, key: n.E164, masked: n.String(), region: n.Region, callingCode: n.CallingCode}, nil
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
// policy: the cooldown, then the start limits in one all-or-nothing take.
// It returns the wait before the next code to dst may be sent. A cooldown
// is a *CooldownError; when a limit denies, the cooldown is released and
// the error is take's. A shared cooldown is part of the take.
func (s *Service) guardStart(ctx context.Context, dst destination, ip netip.Addr) (time.Duration, error) {
	limits := s.startPhone
	if dst.email {
		limits = s.startEmail
	}
	if s.coolShared != nil {
		return s.takeWith(ctx, limits, s.coolShared, dst, ip, false)
	}
	res, wait, ok := s.cool.reserve(dst.key, s.now())
	if !ok {
		return 0, &CooldownError{RetryAfter: roundUpSecond(wait)}
	}
	if err := s.take(ctx, limits, dst, ip, false); err != nil {
		s.cool.release(res)
		return 0, err
	}
	return wait, nil
}

// limitKind is one of the limits of Limits.
type limitKind uint8

const (
	kindPhone limitKind = iota
	kindIP
	kindPrefix
	kindCountry
	kindGlobal
	kindCheckPhone
	kindCheckIP
	numKinds
)

// scopes are the kinds' names in errors and events.
var scopes = [numKinds]string{"phone", "ip", "prefix", "country", "global", "phone", "ip"}

// scopedLimit is one enabled limit.
type scopedLimit struct {
	kind  limitKind
	limit ratelimit.Limit
}

// enabled returns the limits of kinds that are not zero, in order.
func (l Limits) enabled(kinds ...limitKind) []scopedLimit {
	var out []scopedLimit
	for _, k := range kinds {
		lim := [numKinds]ratelimit.Limit{l.Phone, l.IP, l.Prefix, l.Country, l.Global, l.CheckPhone, l.CheckIP}[k]
		if lim != (ratelimit.Limit{}) {
			out = append(out, scopedLimit{k, lim})
		}
	}
	return out
}

const (
	startNS = "verify:start:"
	checkNS = "verify:check:"
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
// requests: the limits and the buckets of a shared cooldown.
const (
	maxLimits = 5
	maxTake   = maxLimits + maxCoolBuckets
)

// takeScratch holds the requests and results of one take, reused through
// takePool so that a take allocates only its keys.
type takeScratch struct {
	reqs    [maxTake]ratelimit.Request
	results [maxTake]ratelimit.Result
}

var takePool = sync.Pool{New: func() any { return new(takeScratch) }}

// take runs one all-or-nothing take of limits for a call on dst from ip. A
// denial is a *RateLimitError (a *AttemptsError for checks) naming the
// scope.
func (s *Service) take(ctx context.Context, limits []scopedLimit, dst destination, ip netip.Addr, check bool) error {
	_, err := s.takeWith(ctx, limits, nil, dst, ip, check)
	return err
}

// coolNS prefixes the keys of a shared cooldown's buckets.
const coolNS = "verify:cool"

// takeWith is take with the buckets of a shared cooldown in the same take.
// A denial by a bucket is a *CooldownError. When the take is allowed, it
// returns the wait before the buckets allow the next send to dst.
func (s *Service) takeWith(ctx context.Context, limits []scopedLimit, cool []coolBucket, dst destination, ip netip.Addr, check bool) (time.Duration, error) {
	n := len(limits) + len(cool)
	if n == 0 {
		return 0, nil
	}
	// All the keys in one string: one allocation for the lot.
	var buf [192]byte
	var ends [maxTake]int
	b := buf[:0]
	for i := range limits {
		b = s.appendKey(b, limits[i].kind, dst, ip)
		ends[i] = len(b)
	}
	for j := range cool {
		// verify:cool<j>:phone:<E.164>, or the email key.
		b = append(b, coolNS...)
		b = append(b, "0123456789abcdef"[j], ':')
		if dst.email {
			b = append(b, dst.key...)
		} else {
			b = keys.AppendPhone(b, dst.to)
		}
		ends[len(limits)+j] = len(b)
	}
	keys := string(b)
	sc := takePool.Get().(*takeScratch)
	reqs := sc.reqs[:n]
	start := 0
	for i := range reqs {
		// Field by field, without copying a whole Request or scopedLimit:
		// Peek stays zero in the pool, and Cost is set for every request.
		reqs[i].Key = keys[start:ends[i]]
		if i < len(limits) {
			reqs[i].Limit, reqs[i].Cost = limits[i].limit, 0
		} else {
			reqs[i].Limit, reqs[i].Cost = cool[i-len(limits)].limit, cool[i-len(limits)].cost
		}
		start = ends[i]
	}
	d, err := s.limiter.AllowAll(ctx, reqs, sc.results[:n])
	var resend time.Duration
	if err == nil && d.Allowed {
		// The next send is allowed once every bucket's debt (the time
		// until it is full again) is down to its slack.
		for j, c := range cool {
			resend = max(resend, d.Results[len(limits)+j].ResetAfter-c.slack)
		}
	}
	for i := range reqs {
		reqs[i].Key = "" // no keys kept alive in the pool
	}
	takePool.Put(sc)
	// d.Results aliases sc.results: from here only d.Result may be used.
	if err != nil {
		return 0, fmt.Errorf("verify: limiter: %w", err)
	}
	if d.Allowed {
		return resend, nil
	}
	retry := roundUpSecond(d.RetryAfter)
	if d.Index >= len(limits) {
		return 0, &CooldownError{RetryAfter: retry}
	}
	scope := scopes[limits[d.Index].kind]
	if check {
		return 0, &AttemptsError{RetryAfter: retry, Scope: scope}
	}
	return 0, &RateLimitError{RetryAfter: retry, Scope: scope}
}

// event starts the Event of a call on dst.
func (s *Service) event(op string, ch Channel, dst destination) Event {
	ev := Event{Op: op, Channel: ch, Masked: dst.masked, Region: dst.region, CallingCode: dst.callingCode}
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
	ev.RetryAfter, _ = RetryAfter(err)
	var pe *ProviderError
	if errors.As(err, &pe) {
		ev.ProviderCode = pe.Code
	}
	var rl *RateLimitError
	var at *AttemptsError
	switch {
	case errors.As(err, &rl):
		ev.Scope = rl.Scope
	case errors.As(err, &at):
		ev.Scope = at.Scope
	}
	s.emit(hook, ev)
	s.log(ctx, ev.Op, ev)
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

func (s *Service) log(ctx context.Context, op string, ev Event) {
	if s.logger == nil {
		return
	}
	outcome := "ok"
	if ev.Reason != "" {
		outcome = ev.Reason
	}
	s.logger.LogAttrs(ctx, slog.LevelDebug, "verify: "+op, slog.String("to", ev.Masked),
		slog.String("channel", string(ev.Channel)), slog.String("outcome", outcome))
}
