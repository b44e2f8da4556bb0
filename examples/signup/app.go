package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore"
	"github.com/antifraud-go/antifraud/verify"
)

// options are the example's settings, from flags and the environment.
type options struct {
	// Region is assumed for numbers typed without a country code.
	Region string
	// VoiceRegions are the only countries the app calls.
	VoiceRegions []string
	// TrustedProxies are the reverse proxies in front of the app.
	TrustedProxies []string
	// AdminAllow are the client addresses that may open the dashboard.
	AdminAllow []string
	// BudgetHour and BudgetDay are the spend budgets, in US dollars.
	BudgetHour, BudgetDay float64
	// Shadow runs the pumping monitor in shadow mode.
	Shadow bool
	// AttackGap is the time between two requests of the attack.
	AttackGap time.Duration

	// Getenv reads REDIS_URL and the Twilio settings.
	Getenv func(string) string
	// Out is the terminal: the local sender prints codes there.
	Out io.Writer
	// Logger receives the library's logs.
	Logger *slog.Logger
	// TwilioHTTP, when set, is the HTTP client for Twilio (tests pass the
	// fake's).
	TwilioHTTP *http.Client
}

// part says what one part of the app is, for the startup banner.
type part struct {
	Name, Kind, Detail string // Kind is "local" or "real"
}

// app is the example: the public site, the admin site, and the defenses
// they share.
type app struct {
	opts options

	public, admin http.Handler
	parts         []part

	limiter     *ratelimit.Limiter
	sharedStore bool // with other instances, in Redis
	guard       *guard.Guard
	verify      *verify.Service
	budget      *guard.Budget
	policy      *numbers.Policy // the texts' static policy
	monitor     *monitor
	codes       *devCodes // nil unless codes are local
	stats       *recorder
	metrics     *metrics
	sessions    *sessions
	accounts    *accounts
	attacks     attacks

	// publicURL and adminURL are where the two sites listen, for the links
	// between them.
	publicURL, adminURL string

	closers []func(context.Context) error
}

// The routes of the guard, which namespace its keys and name them in
// metrics.
const (
	routeSMS    = "signup-sms"
	routeVoice  = "signup-call"
	routeVerify = "signup-verify"
)

// The guard's rules per route, on top of verify's own limits (per number,
// address, block of 1,000 numbers, country and overall, and the resend
// cooldown). A call costs more than a text and is the classic pumping
// target: its rules are stricter.
var (
	smsRules   = []guard.Rule{guard.PerAddr(ratelimit.PerMinute(10))}
	voiceRules = []guard.Rule{
		guard.PerPhone(ratelimit.PerDay(3)),
		guard.PerAddr(ratelimit.PerHour(5)),
		guard.PerBlock(3, ratelimit.PerHour(10)),
		guard.Global(ratelimit.PerHour(100)),
	}
)

// newApp builds the app from opts.
func newApp(opts options) (_ *app, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	a := &app{opts: opts, stats: newRecorder(nil), sessions: newSessions(), accounts: newAccounts()}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	a.metrics = newMetrics(a)

	// One store for every limit, cooldown, counter and budget: in memory,
	// or in Redis so that several instances share them.
	store, err := a.newStore()
	if err != nil {
		return nil, err
	}
	a.limiter, err = ratelimit.New(store, ratelimit.WithLogger(opts.Logger))
	if err != nil {
		return nil, err
	}

	// The adaptive defense: codes sent against codes confirmed, per range
	// of numbers, address and country. Its blocks reach the number policy
	// through a PrefixSet.
	a.monitor, err = newMonitor(a.limiter, opts.Shadow, a.metrics.decision, opts.Logger)
	if err != nil {
		return nil, err
	}

	// The number policies of the phone field, which the guard applies:
	// texts go anywhere but the known fraud destinations; calls only to the
	// countries the app serves, never to VoIP or toll-free numbers, and
	// never to numbers outside the known ranges. verify applies the texts'
	// policy again with the ranges the monitor blocked (its Blocklist), so
	// that the monitor hears of every number refused in a blocked range: a
	// range that pumpers keep hitting stays blocked longer.
	a.policy, err = numbers.ModeratePolicy().With(numbers.WithName("signup"))
	if err != nil {
		return nil, err
	}
	voicePolicy, err := a.policy.With(
		numbers.WithName("signup-voice"),
		numbers.AllowRegions(opts.VoiceRegions...),
		numbers.DenyTypes(numbers.Voice, numbers.VoIP, numbers.TollFree),
	)
	if err != nil {
		return nil, fmt.Errorf("-voice-regions: %w", err)
	}
	verifyPolicy, err := a.policy.With(numbers.WithPrefixSet(a.monitor.blocklist()))
	if err != nil {
		return nil, err
	}

	// The spend budget and its kill switch, in the same store: instances
	// sharing Redis share the spend and the switch.
	a.budget, err = guard.NewBudget(a.limiter, guard.BudgetConfig{
		PerHour: opts.BudgetHour,
		PerDay:  opts.BudgetDay,
		Price:   price,
		OnTrip:  a.metrics.tripped,
		Logger:  opts.Logger,
	})
	if err != nil {
		return nil, err
	}

	sender, err := a.newSender()
	if err != nil {
		return nil, err
	}
	a.verify, err = verify.New(sender, a.limiter, verify.Config{
		Policy:         verifyPolicy,
		DefaultRegion:  opts.Region,
		Channels:       []numbers.Channel{numbers.SMS, numbers.Voice},
		SharedCooldown: a.sharedStore,
		Monitor:        a.monitor.verify(),
		Hooks:          a.metrics.verifyHooks(),
		Logger:         opts.Logger,
	})
	if err != nil {
		return nil, err
	}

	a.guard, err = guard.New(a.limiter,
		guard.WithRegion(opts.Region),
		guard.WithTrustedProxies(opts.TrustedProxies...),
		guard.WithPolicy(a.policy, numbers.SMS),
		guard.WithPolicy(voicePolicy, numbers.Voice),
		guard.WithBudget(a.budget),
		guard.WithHooks(a.metrics.guardHooks()),
		guard.WithDenyHandler(http.HandlerFunc(a.denied)),
		guard.WithLogger(opts.Logger),
	)
	if err != nil {
		return nil, err
	}

	a.public = a.publicHandler()
	a.admin, err = a.adminHandler()
	if err != nil {
		return nil, err
	}
	return a, nil
}

// newStore returns the Redis store when REDIS_URL is set, the memory store
// otherwise.
func (a *app) newStore() (ratelimit.Store, error) {
	url := a.opts.Getenv("REDIS_URL")
	if url == "" {
		store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Logger: a.opts.Logger})
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, store.Close)
		a.parts = append(a.parts, part{"store", "local", "in memory: limits, cooldowns and blocks are this process's (set REDIS_URL to share them)"})
		return store, nil
	}
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	ro.ContextTimeoutEnabled = true
	c := redis.NewClient(ro)
	a.closers = append(a.closers, func(context.Context) error { return c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	store, err := redisstore.New(c, redisstore.Config{Logger: a.opts.Logger})
	if err != nil {
		return nil, err
	}
	a.sharedStore = true
	a.parts = append(a.parts, part{"store", "real", "Redis at " + ro.Addr + ": limits, cooldowns, budget and the monitor's counters are shared with every instance using it"})
	return store, nil
}

// newSender returns Twilio Verify when all three settings are there, the
// local development sender when none is, and an error otherwise.
func (a *app) newSender() (verify.Sender, error) {
	sid, token, service := a.opts.Getenv("TWILIO_ACCOUNT_SID"), a.opts.Getenv("TWILIO_AUTH_TOKEN"), a.opts.Getenv("TWILIO_VERIFY_SERVICE_SID")
	switch {
	case sid != "" && token != "" && service != "":
		// A twilio-go client without the root twilio package, which would
		// pull every Twilio API into the build.
		c := &client.Client{Credentials: client.NewCredentials(sid, token), HTTPClient: a.opts.TwilioHTTP}
		c.SetAccountSid(sid)
		s, err := verify.NewTwilioSender(openapi.NewApiServiceWithClient(c), service)
		if err != nil {
			return nil, err
		}
		a.parts = append(a.parts, part{"codes", "real", "Twilio Verify service " + service + ": texts and calls are real, and billed"})
		return s, nil
	case sid != "" || token != "" || service != "":
		return nil, errors.New("set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_VERIFY_SERVICE_SID, or none")
	}
	a.codes = newDevCodes(a.opts.Out)
	s, err := verify.NewUnsafeLocalSender(verify.LocalConfig{Out: a.codes})
	if err != nil {
		return nil, err
	}
	a.parts = append(a.parts, part{"codes", "local", "printed here and on the developer page, never sent (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_VERIFY_SERVICE_SID for Twilio Verify)"})
	return s, nil
}

// Close stops the store's housekeeping and closes the Redis client.
func (a *app) Close(ctx context.Context) {
	a.attacks.stop()
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i](ctx)
	}
}

// prices are illustrative prices of one text to a mobile of the region,
// in US dollars, close to public list prices; a call costs voiceFactor
// texts. Destinations missing here cost unknownPrice: an unexpected
// destination is where pumping goes.
var prices = map[string]float64{
	"US": 0.0083, "CA": 0.0083, "GB": 0.0463, "DE": 0.0945, "FR": 0.0867,
	"ES": 0.0837, "IT": 0.0897, "NL": 0.1049, "IE": 0.0709, "IN": 0.0831,
	"BR": 0.0625, "MX": 0.0565, "AU": 0.0515, "JP": 0.0807, "ID": 0.4189,
	"NG": 0.4250, "PH": 0.2147, "VN": 0.1132, "PK": 0.3095, "BD": 0.3185,
	"EG": 0.2470, "KE": 0.1654, "ZA": 0.0520, "TR": 0.0431,
}

const (
	unknownPrice = 0.50
	voiceFactor  = 2
)

// price is what one send over ch to a number of region costs.
func price(ch numbers.Channel, region string) float64 {
	p, ok := prices[region]
	if !ok {
		p = unknownPrice
	}
	if ch == numbers.Voice {
		p *= voiceFactor
	}
	return p
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
