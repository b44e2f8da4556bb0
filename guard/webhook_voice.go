package guard

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/antifraud-go/antifraud/internal/keys"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// CallFloodConfig configures a [CallFlood]. Each limit is off when zero;
// at least one limit or a block list is needed.
type CallFloodConfig struct {
	// PerCaller limits calls per caller number (Twilio's From), such as
	// ratelimit.PerHour(5).WithBurst(3): a person calls back a few times, a
	// dialer thousands.
	PerCaller ratelimit.Limit
	// PerPrefix limits calls per block of caller numbers: the number
	// without its last PrefixDrop digits. A flood that spoofs random
	// numbers within a range is one block.
	PerPrefix ratelimit.Limit
	// PrefixDrop is how many last digits a block leaves out. Zero means 4
	// (blocks of 10,000 numbers).
	PrefixDrop int
	// Anonymous limits together the calls that carry no caller number:
	// withheld, restricted or unknown caller ID, SIP and client calls.
	// Floods hide their numbers.
	Anonymous ratelimit.Limit
	// Global limits all the calls to the handler: what the call center can
	// take.
	Global ratelimit.Limit
	// Blocked refuses callers whose number starts with one of its
	// prefixes (a whole number is a prefix too), at once and without
	// spending from any limit. It can change while serving.
	Blocked *numbers.PrefixSet

	// Name tells the limits of several handlers apart in one store. The
	// default is "calls".
	Name string
	// Reason is the reason of the <Reject> verb: "busy" (the default: the
	// caller hears a busy tone, a dialer moves on) or "rejected" (the
	// number is not in service).
	Reason string

	// OnReject is called for every rejected call with the rule that
	// rejected it: "blocked", "caller", "prefix", "anonymous" or "global".
	// The request's From is the caller. It must be fast and safe for
	// concurrent use.
	OnReject func(r *http.Request, rule string)
	// Logger receives a Debug record per rejected call (the caller
	// masked) and a Warn record when the store fails. Nil means no
	// logging.
	Logger *slog.Logger
}

// CallFlood guards the voice webhook of a Twilio number against telephony
// denial of service (TDoS) and inbound pumping: calls over a limit per
// caller, per block of callers, for anonymous callers or in all, and calls
// from a blocked number or prefix, are answered with TwiML
// <Response><Reject reason="busy"/></Response> without calling the
// handler. <Reject> as the first verb is the only way to keep Twilio from
// answering a call, and Twilio does not bill a rejected call.
//
// Mount it inside the signature check, so that only Twilio's requests
// spend from its limits: webhook.Handler(flood.Handler(voice)).
//
// When the store cannot answer, calls go through (and the failure is
// logged): refusing every call is what a flood is after. A CallFlood is
// safe for concurrent use.
type CallFlood struct {
	limiter  *ratelimit.Limiter
	cfg      CallFloodConfig
	blocked  *numbers.Policy // the block list as a policy that allows every number type
	ns       string
	reject   []byte
	keyBufs  sync.Pool // of *[]byte
	requests sync.Pool // of *callTake
}

// callTake holds one call's take: through the store's interface it would
// escape to the heap.
type callTake struct {
	reqs    [3]ratelimit.Request
	results [3]ratelimit.Result
	rules   [3]string
}

// anonymousCallers are the numbers Twilio puts in From when the caller ID
// is withheld: ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN and UNAVAILABLE
// spelt on a keypad.
var anonymousCallers = map[string]bool{
	"+266696687": true, "+7378742833": true, "+2562533": true, "+8656696": true, "+86282452253": true,
}

// NewCallFlood returns a CallFlood that counts calls in limiter's store.
func NewCallFlood(limiter *ratelimit.Limiter, cfg CallFloodConfig) (*CallFlood, error) {
	f := &CallFlood{limiter: limiter, cfg: cfg}
	if f.cfg.Name == "" {
		f.cfg.Name = "calls"
	}
	if f.cfg.PrefixDrop == 0 {
		f.cfg.PrefixDrop = 4
	}
	if f.cfg.Reason == "" {
		f.cfg.Reason = "busy"
	}
	switch {
	case limiter == nil:
		return nil, fmt.Errorf("guard: NewCallFlood: nil limiter: %w", ErrInvalidConfig)
	case f.cfg.Reason != "busy" && f.cfg.Reason != "rejected":
		return nil, fmt.Errorf("guard: CallFloodConfig.Reason %q is not busy or rejected: %w", cfg.Reason, ErrInvalidConfig)
	case f.cfg.PrefixDrop < 1 || f.cfg.PrefixDrop > 12:
		return nil, fmt.Errorf("guard: CallFloodConfig.PrefixDrop %d is not in 1..12: %w", cfg.PrefixDrop, ErrInvalidConfig)
	}
	set := 0
	for _, l := range []struct {
		name string
		lim  ratelimit.Limit
	}{{"PerCaller", cfg.PerCaller}, {"PerPrefix", cfg.PerPrefix}, {"Anonymous", cfg.Anonymous}, {"Global", cfg.Global}} {
		if l.lim == (ratelimit.Limit{}) {
			continue
		}
		set++
		if err := l.lim.Validate(); err != nil {
			return nil, fmt.Errorf("guard: CallFloodConfig.%s: %v: %w", l.name, err, ErrInvalidConfig)
		}
	}
	if set == 0 && cfg.Blocked == nil {
		return nil, fmt.Errorf("guard: NewCallFlood: no limit and no block list: %w", ErrInvalidConfig)
	}
	if cfg.Blocked != nil {
		// A caller is refused for being on the list, never for its number
		// type: every type, unknown ranges included, is allowed.
		var err error
		f.blocked, err = numbers.NewPolicy(numbers.WithName("guard call block list"), numbers.WithPrefixSet(cfg.Blocked),
			numbers.AllowTypes(numbers.Voice, numbers.UnknownType, numbers.FixedLine, numbers.Mobile, numbers.FixedLineOrMobile,
				numbers.TollFree, numbers.PremiumRate, numbers.SharedCost, numbers.VoIP, numbers.PersonalNumber,
				numbers.Pager, numbers.UAN, numbers.Voicemail))
		if err != nil {
			return nil, fmt.Errorf("guard: NewCallFlood: %v: %w", err, ErrInvalidConfig)
		}
	}
	f.ns = "guard-calls:" + f.cfg.Name + ":"
	f.reject = []byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="` + f.cfg.Reason + `"/></Response>`)
	f.keyBufs.New = func() any { b := make([]byte, 0, 128); return &b }
	f.requests.New = func() any { return new(callTake) }
	return f, nil
}

// Handler returns a handler that rejects the calls over the limits, and
// calls h with the others.
func (f *CallFlood) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule := f.check(r)
		if rule == "" {
			h.ServeHTTP(w, r)
			return
		}
		if f.cfg.OnReject != nil {
			f.cfg.OnReject(r, rule)
		}
		if f.cfg.Logger != nil {
			f.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "guard: call rejected",
				slog.String("rule", rule), slog.String("caller", maskCaller(r.FormValue("From"))))
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK) // Twilio reads TwiML from a 200 only
		_, _ = w.Write(f.reject)
	})
}

// check returns the rule that rejects the call, or "".
func (f *CallFlood) check(r *http.Request) string {
	caller, ok := callerNumber(r.FormValue("From"))
	if ok && f.blocked != nil {
		if n, err := numbers.Parse(caller, ""); err == nil && !f.blocked.Check(n, numbers.Voice).Allowed {
			return "blocked"
		}
	}
	t := f.requests.Get().(*callTake)
	defer f.requests.Put(t)
	bp := f.keyBufs.Get().(*[]byte)
	defer f.keyBufs.Put(bp)
	n := 0
	b := (*bp)[:0]
	add := func(rule string, lim ratelimit.Limit, key []byte) {
		b = key[:0] // keep the buffer, grown if it had to
		if lim != (ratelimit.Limit{}) {
			t.reqs[n] = ratelimit.Request{Key: string(key), Limit: lim}
			t.rules[n] = rule
			n++
		}
	}
	if ok {
		add("caller", f.cfg.PerCaller, keys.AppendPhone(append(b, f.ns...), caller))
		add("prefix", f.cfg.PerPrefix, keys.AppendPrefix(append(b, f.ns...), caller, max(1, len(caller)-1-f.cfg.PrefixDrop)))
	} else {
		add("anonymous", f.cfg.Anonymous, keys.AppendGlobal(append(b, f.ns...), "anonymous"))
	}
	add("global", f.cfg.Global, keys.AppendGlobal(append(b, f.ns...), "all"))
	*bp = b
	if n == 0 {
		return ""
	}
	d, err := f.limiter.AllowAll(r.Context(), t.reqs[:n], t.results[:n])
	if err != nil {
		if f.cfg.Logger != nil {
			f.cfg.Logger.LogAttrs(context.WithoutCancel(r.Context()), slog.LevelWarn,
				"guard: call limits unavailable, call let through", slog.Any("err", err))
		}
		return ""
	}
	if d.Allowed {
		return ""
	}
	return t.rules[d.Index]
}

// callerNumber returns From when it is an E.164 number that is not one of
// Twilio's stand-ins for a withheld caller ID.
func callerNumber(from string) (string, bool) {
	if len(from) < 8 || len(from) > 16 || from[0] != '+' || from[1] == '0' || anonymousCallers[from] {
		return "", false
	}
	for i := 1; i < len(from); i++ {
		if from[i] < '0' || from[i] > '9' {
			return "", false
		}
	}
	return from, true
}

// maskCaller masks a caller number for the log.
func maskCaller(from string) string {
	if n, ok := callerNumber(from); ok {
		return numbers.Mask(n)
	}
	return "anonymous"
}
