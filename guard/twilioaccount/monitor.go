package twilioaccount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/twilio/twilio-go/client"
)

// maxAlarmCodes bounds the distinct error codes counted.
const maxAlarmCodes = 1024

// Config configures a [Monitor]. The zero value only calls the hooks
// (none) and counts alarms.
type Config struct {
	// Budget is the kill switch: every usage trigger that calls the
	// Monitor trips it, and so does every burst of an AlarmRule. Nil
	// means no switch.
	Budget *guard.Budget

	// Client is a twilio-go client authenticated as the main account, for
	// suspending subaccounts. It is needed with SuspendSubaccounts or with
	// an AlarmRule that suspends.
	Client client.BaseClient

	// SuspendSubaccounts suspends the subaccount whose usage trigger fired
	// (the guide: "suspend a subaccount in response to a usage trigger").
	// A trigger on the main account only trips the switch: Twilio suspends
	// main accounts only through its support.
	SuspendSubaccounts bool

	// AlarmRules are the bursts of alarms that trip the switch. Nil means
	// DefaultAlarmRules(); an empty slice, none.
	AlarmRules []AlarmRule

	// Limiter counts alarm bursts in its store, so that instances behind
	// one load balancer, which each receive part of the debugger webhooks,
	// count them together (over Redis). Nil means counting in this
	// process.
	Limiter *ratelimit.Limiter

	// OnUsageTrigger and OnAlarm are called with every callback, after its
	// signature is checked and before the Monitor acts on it. They must be
	// fast and safe for concurrent use.
	OnUsageTrigger func(context.Context, UsageTrigger)
	OnAlarm        func(context.Context, Alarm)

	// Logger receives a Warn record for every trip and suspension, and an
	// Error record for a suspension that failed. Nil means no logging.
	Logger *slog.Logger
}

// Monitor receives Twilio's account alarms, the usage-trigger callbacks and
// the debugger webhook, and acts on them: it trips the kill switch,
// suspends subaccounts, counts alarms by error code and calls the app's
// hooks. Every request goes through a guard.Webhook first, so only
// requests signed by Twilio are acted on. It is safe for concurrent use.
type Monitor struct {
	webhook *guard.Webhook
	cfg     Config
	rules   []AlarmRule
	limiter *ratelimit.Limiter
	limits  []ratelimit.Limit // per rule; zero for Count 1

	mu        sync.Mutex
	counts    map[int]int64
	suspended map[string]time.Time // subaccounts this Monitor suspended, and when
}

// ErrInvalidConfig is wrapped by every error of NewMonitor.
var ErrInvalidConfig = errors.New("twilioaccount: invalid configuration")

// resuspendAfter is how long the Monitor trusts a suspension it made:
// a burst goes on for a while, and each of its alarms would suspend again.
const resuspendAfter = 10 * time.Minute

// NewMonitor returns a Monitor whose handlers check requests with webhook.
func NewMonitor(webhook *guard.Webhook, cfg Config) (*Monitor, error) {
	if webhook == nil {
		return nil, fmt.Errorf("twilioaccount: NewMonitor: nil webhook (callbacks must be signed): %w", ErrInvalidConfig)
	}
	m := &Monitor{webhook: webhook, cfg: cfg, rules: cfg.AlarmRules, limiter: cfg.Limiter, counts: map[int]int64{}, suspended: map[string]time.Time{}}
	if m.rules == nil {
		m.rules = DefaultAlarmRules()
	}
	needClient := cfg.SuspendSubaccounts
	for i, r := range m.rules {
		var lim ratelimit.Limit
		switch {
		case len(r.Codes) == 0 || r.Count < 1:
			return nil, fmt.Errorf("twilioaccount: AlarmRules[%d] %q needs codes and a count of at least 1: %w", i, r.Name, ErrInvalidConfig)
		case r.Count > 1:
			lim = ratelimit.Limit{Rate: r.Count, Period: r.Within, Burst: r.Count - 1}
			if err := lim.Validate(); err != nil {
				return nil, fmt.Errorf("twilioaccount: AlarmRules[%d] %q: %v: %w", i, r.Name, err, ErrInvalidConfig)
			}
		}
		m.limits = append(m.limits, lim)
		needClient = needClient || r.Suspend
	}
	if needClient && cfg.Client == nil {
		return nil, fmt.Errorf("twilioaccount: suspending subaccounts needs Config.Client: %w", ErrInvalidConfig)
	}
	if m.limiter == nil {
		store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1, MaxKeys: 1 << 14})
		if err == nil {
			m.limiter, err = ratelimit.New(store)
		}
		if err != nil {
			return nil, fmt.Errorf("twilioaccount: NewMonitor: %v: %w", err, ErrInvalidConfig)
		}
	}
	return m, nil
}

// UsageTriggerHandler returns the handler for the callback URL of usage
// triggers (see EnsureTriggers): for each signed callback it calls
// OnUsageTrigger, trips the Budget and, with SuspendSubaccounts, suspends
// the subaccount. It answers 200 once the switch is tripped, and 502 when
// a suspension failed (Twilio's debugger then shows it).
func (m *Monitor) UsageTriggerHandler() http.Handler {
	return m.webhook.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		t, err := parseUsageTrigger(r.Form)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		if m.cfg.OnUsageTrigger != nil {
			m.cfg.OnUsageTrigger(ctx, t)
		}
		m.trip(ctx, t.reason())
		if m.cfg.SuspendSubaccounts {
			if err := m.suspend(ctx, t.AccountSID); err != nil {
				http.Error(w, "suspension failed", http.StatusBadGateway)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
}

// AlarmHandler returns the handler for the account's debugger webhook
// (Console, Monitor, Debugger, Webhook): for each signed event it counts
// the error code, calls OnAlarm, and applies the AlarmRules. It answers
// 200, or 502 when a suspension failed.
func (m *Monitor) AlarmHandler() http.Handler {
	return m.webhook.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		a, err := parseAlarm(r.Form)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		m.count(a.ErrorCode)
		if m.cfg.OnAlarm != nil {
			m.cfg.OnAlarm(ctx, a)
		}
		if err := m.applyRules(ctx, a); err != nil {
			http.Error(w, "suspension failed", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
}

// AlarmCounts returns how many alarms of each error code the Monitor has
// received since it started (in this process).
func (m *Monitor) AlarmCounts() map[int]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int]int64, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}

func (m *Monitor) count(code int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.counts[code]; ok || len(m.counts) < maxAlarmCodes {
		m.counts[code]++
	}
}

// applyRules takes a token for each rule the alarm's code is in, and acts
// on the bursts.
func (m *Monitor) applyRules(ctx context.Context, a Alarm) error {
	var errs []error
	for i, rule := range m.rules {
		if !slices.Contains(rule.Codes, a.ErrorCode) {
			continue
		}
		burst := rule.Count <= 1
		if !burst {
			key := "twilioaccount:alarms:" + strconv.Itoa(i) + ":" + a.AccountSID
			res, err := m.limiter.Allow(ctx, key, m.limits[i])
			if err != nil {
				// The store is down and the limiter fails closed: a burst
				// cannot be told from normal traffic, so nothing trips.
				m.logErr(ctx, "twilioaccount: counting alarms failed", err)
				continue
			}
			burst = !res.Allowed
		}
		if !burst {
			continue
		}
		m.trip(ctx, fmt.Sprintf("burst of Twilio alarms (%s): %d of error %d within %v on account %s",
			rule.Name, rule.Count, a.ErrorCode, rule.Within, a.AccountSID))
		if rule.Suspend && a.ParentAccountSID != "" {
			if err := m.suspend(ctx, a.AccountSID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (m *Monitor) trip(ctx context.Context, reason string) {
	if m.cfg.Budget == nil {
		if m.cfg.Logger != nil {
			m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "twilioaccount: alarm (no kill switch configured)", slog.String("reason", reason))
		}
		return
	}
	_ = m.cfg.Budget.Trip(ctx, reason) // tripped here whatever the store says; the Budget logs a store failure
}

// suspend suspends a subaccount; the main account is left alone.
func (m *Monitor) suspend(ctx context.Context, accountSID string) error {
	if m.cfg.Client == nil || accountSID == m.cfg.Client.AccountSid() {
		return nil
	}
	m.mu.Lock()
	if at, ok := m.suspended[accountSID]; ok && time.Since(at) < resuspendAfter {
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	// Finish the suspension even if Twilio hangs up on the callback.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := Suspend(ctx, m.cfg.Client, accountSID); err != nil {
		m.logErr(ctx, "twilioaccount: suspending a subaccount failed", err)
		return err
	}
	m.mu.Lock()
	if len(m.suspended) >= maxAlarmCodes {
		clear(m.suspended)
	}
	m.suspended[accountSID] = time.Now()
	m.mu.Unlock()
	if m.cfg.Logger != nil {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "twilioaccount: subaccount suspended", slog.String("account", accountSID))
	}
	return nil
}

func (m *Monitor) logErr(ctx context.Context, msg string, err error) {
	if m.cfg.Logger != nil {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelError, msg, slog.Any("err", err))
	}
}
