package pumping

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// ErrInvalidConfig is wrapped by every error [New] returns.
var ErrInvalidConfig = errors.New("pumping: invalid configuration")

// ErrBlocked is wrapped by the *BlockedError of a refused send.
var ErrBlocked = errors.New("pumping: blocked")

// BlockedError says which block refused a send. It unwraps to [ErrBlocked].
type BlockedError struct {
	Block Block
}

func (e *BlockedError) Error() string {
	return "pumping: blocked: " + e.Block.Scope.String() + " " + e.Block.Key + " (" + string(e.Block.Signal) + ")"
}

// Unwrap returns ErrBlocked.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Send describes a code sent, confirmed or refused: where it went and who
// asked for it.
type Send struct {
	// Number is the destination, as numbers.Parse returned it. Required.
	Number numbers.Number
	// ClientIP is the address of the client that asked. IPv6 addresses
	// count by their /64. Optional, but without it the address signals
	// are off for this send.
	ClientIP netip.Addr
	// Network optionally names a network the app knows the send belongs
	// to: the destination's carrier (an MCC-MNC from a carrier lookup, as
	// Vonage blocks networks) or the client's autonomous system. Sends of
	// one network are counted together, and a network that stops
	// confirming is blocked like an address. At most 64 bytes are used.
	Network string
}

// Config configures a [Monitor]. The zero Config is usable: every field
// documents its default.
type Config struct {
	// Blocklist is the prefix set range blocks go to. The number policy
	// must consult it (numbers.WithPrefixSet) for them to take effect. Nil
	// means a new set named "pumping" on the monitor's clock, returned by
	// [Monitor.Blocklist]; a set given here should read the same clock.
	Blocklist *numbers.PrefixSet
	// Shadow records decisions without enforcing them: nothing is added
	// to the Blocklist and Check refuses nothing, but Blocks, Decisions,
	// Blocked and OnDecision report what would have been blocked. Run in
	// shadow for the first days, read the decisions, then switch it off.
	Shadow bool
	// Floors are the lowest thresholds of each signal; the thresholds
	// learnt from the app's own traffic only ever raise them. The zero
	// value means DefaultFloors().
	Floors Floors
	// Durations is the escalation of blocks: the first block of a range,
	// address, network or country lasts Durations[0], the next one within
	// StrikeMemory Durations[1], and so on, the last one repeating. Nil
	// means 15 minutes, 1 hour, 12 hours, 24 hours.
	Durations []time.Duration
	// Brakes is the escalation of country brakes, which refuse every
	// new number of a region and so are kept short. Nil means 10 minutes,
	// 30 minutes, 1 hour.
	Brakes []time.Duration
	// StrikeMemory is how long a block is remembered for escalation. Zero
	// means 7 days.
	StrikeMemory time.Duration
	// WidenWithin is how long a blocked range counts toward blocking the
	// wider range around it: 3 ranges blocked within it inside one block
	// of up to a million numbers block that block (SignalNeighbours).
	// Zero means 24 hours.
	WidenWithin time.Duration
	// MaxBlocks bounds the blocks held (of all scopes). When it is
	// reached, the block that ends soonest is lifted early. Zero means
	// 4096; a numbers.PrefixSet costs time proportional to its size on
	// every change.
	MaxBlocks int
	// MaxTracked bounds the strikes remembered for escalation. Zero means
	// 100,000.
	MaxTracked int
	// MaxDecisions is how many decision records Decisions keeps. Zero
	// means 1024.
	MaxDecisions int
	// OnDecision, if set, is called with every decision, from the
	// goroutine that made it. It must be fast.
	OnDecision func(Decision)
	// Logger receives one Info record per decision (numbers masked). Nil
	// logs nothing.
	Logger *slog.Logger
	// Now returns the current time, for blocks, strikes and what the
	// monitor learns. The counters keep the time of the Limiter's store
	// (ratelimit.MemoryConfig.Now, the Redis server's clock), which it
	// should agree with. Nil means time.Now.
	Now func() time.Time
}

// Floors are the lowest thresholds of the signals, in unconfirmed sends
// (sends less the weight of confirmations, see the package doc).
type Floors struct {
	// Run is the number of distinct numbers of one block of ten (the
	// number without its last digit) asked within minutes that makes a
	// sequential run. Default 3.
	Run int
	// Ranges are the unconfirmed sends to one block of 100, 1,000,
	// 10,000, 100,000 and 1,000,000 numbers (the number without its last
	// 2 to 6 digits) that block it. Defaults 3, 3, 3, 6, 10.
	Ranges [numRanges]int
	// Country is the unconfirmed sends to one region, beyond those of
	// its blocked ranges, that brake the whole region. It is raised to
	// authgear's max(20, 0.2 × best day of confirmations in 14, 0.2 ×
	// confirmations in 24 h) and to what the region's own traffic needs.
	// Default 50.
	Country int
	// Address is the unconfirmed sends from one client address that
	// block it. Default 5.
	Address int
	// Network is the unconfirmed sends of one named network that block
	// it. Default 20.
	Network int
	// Countries is the number of countries beyond the first that one
	// address may ask for without confirming any before it is blocked.
	// Default 3.
	Countries int
}

// DefaultFloors returns the default floors.
func DefaultFloors() Floors {
	return Floors{Run: 3, Ranges: [numRanges]int{3, 3, 3, 6, 10},
		Country: 50, Address: 5, Network: 20, Countries: 3}
}

// Monitor watches codes sent and confirmed, learns how the app's traffic
// converts, and blocks the ranges, addresses, networks and, as a last
// resort, countries whose codes are sent but not confirmed. It is safe for
// concurrent use.
type Monitor struct {
	store       counters
	set         *numbers.PrefixSet
	shadow      atomic.Bool
	floors      Floors
	durations   []time.Duration
	brakes      []time.Duration
	strikeMem   time.Duration
	widenWithin time.Duration
	maxBlocks   int
	maxStrike   int
	onDec       func(Decision)
	logger      *slog.Logger
	now         func() time.Time

	regionsMu sync.Mutex
	regions   atomic.Pointer[map[string]*baseline]
	global    *baseline // address, network and spread signals

	mu      sync.Mutex
	blocks  map[string]*block // by scope key
	strikes map[string]strike
	family  map[string]family
	nOther  atomic.Int32 // blocks that Check must look at: not ranges
	nFamily atomic.Int32 // len(family), read without the lock
	nPardon atomic.Int32 // ranges ever pardoned: Unblock was called
	ring    decisionRing
	conf    confirmed
	pend    pending
	runs    runs
}

// New returns a Monitor whose counters live in lim's store, or an error
// wrapping [ErrInvalidConfig]. Give it the Limiter of the app's own limits
// (verify's, guard's), so that the counters share their store, and with
// ratelimit/redisstore every instance of the app sees the same counters.
// The monitor's operations take the Limiter's failure mode: with
// WithFailOpen, a store that cannot answer reads as counters at zero.
func New(lim *ratelimit.Limiter, cfg Config) (*Monitor, error) {
	if lim == nil {
		return nil, fmt.Errorf("%w: nil Limiter", ErrInvalidConfig)
	}
	store := counters{lim}
	f := cfg.Floors
	if f == (Floors{}) {
		f = DefaultFloors()
	}
	for _, v := range []struct {
		name string
		v    int
	}{{"Run", f.Run}, {"Ranges[0]", f.Ranges[0]}, {"Ranges[1]", f.Ranges[1]}, {"Ranges[2]", f.Ranges[2]},
		{"Ranges[3]", f.Ranges[3]}, {"Ranges[4]", f.Ranges[4]}, {"Country", f.Country},
		{"Address", f.Address}, {"Network", f.Network}, {"Countries", f.Countries}} {
		if v.v < 1 || v.v > maxLevel/2 {
			return nil, fmt.Errorf("%w: Floors.%s %d not in 1..%d", ErrInvalidConfig, v.name, v.v, maxLevel/2)
		}
	}
	m := &Monitor{
		store:       store,
		set:         cfg.Blocklist,
		floors:      f,
		durations:   cfg.Durations,
		brakes:      cfg.Brakes,
		strikeMem:   cfg.StrikeMemory,
		widenWithin: cfg.WidenWithin,
		maxBlocks:   cfg.MaxBlocks,
		maxStrike:   cfg.MaxTracked,
		onDec:       cfg.OnDecision,
		logger:      cfg.Logger,
		now:         cfg.Now,
		global:      newBaseline(),
		blocks:      make(map[string]*block),
		strikes:     make(map[string]strike),
		family:      make(map[string]family),
	}
	if m.durations == nil {
		m.durations = []time.Duration{15 * time.Minute, time.Hour, 12 * time.Hour, 24 * time.Hour}
	}
	if m.brakes == nil {
		m.brakes = []time.Duration{10 * time.Minute, 30 * time.Minute, time.Hour}
	}
	for _, ds := range [][]time.Duration{m.durations, m.brakes} {
		if len(ds) == 0 {
			return nil, fmt.Errorf("%w: empty Durations or Brakes", ErrInvalidConfig)
		}
		for _, d := range ds {
			if d <= 0 || d > ratelimitMaxWindow {
				return nil, fmt.Errorf("%w: block duration %v not positive or too long", ErrInvalidConfig, d)
			}
		}
	}
	defaults := []struct {
		p   *time.Duration
		def time.Duration
	}{{&m.strikeMem, 7 * 24 * time.Hour}, {&m.widenWithin, 24 * time.Hour}}
	for _, d := range defaults {
		if *d.p == 0 {
			*d.p = d.def
		}
		if *d.p < 0 {
			return nil, fmt.Errorf("%w: negative duration %v", ErrInvalidConfig, *d.p)
		}
	}
	ints := []struct {
		p   *int
		def int
	}{{&m.maxBlocks, 4096}, {&m.maxStrike, 100_000}, {&cfg.MaxDecisions, 1024}}
	for _, d := range ints {
		if *d.p == 0 {
			*d.p = d.def
		}
		if *d.p < 0 {
			return nil, fmt.Errorf("%w: negative bound %d", ErrInvalidConfig, *d.p)
		}
	}
	m.shadow.Store(cfg.Shadow)
	m.conf = confirmed{seed: maphash.MakeSeed(), by: make(map[uint64]map[uint64]int64), max: m.maxStrike}
	m.pend = pending{m: make(map[uint64]sample), max: m.maxStrike}
	m.runs = runs{seed: m.conf.seed, m: make(map[uint64]run), max: m.maxStrike}
	m.ring.buf = make([]Decision, 0, cfg.MaxDecisions)
	m.ring.max = cfg.MaxDecisions
	if m.now == nil {
		m.now = time.Now
	}
	if m.set == nil {
		m.set = &numbers.PrefixSet{Name: "pumping", Now: m.now}
	}
	empty := map[string]*baseline{}
	m.regions.Store(&empty)
	return m, nil
}

// SetShadow switches shadow mode on or off while the monitor serves, keeping
// what it learnt: run a new monitor in shadow mode, read its decisions, then
// switch enforcement on. Blocks decided in shadow mode stay unenforced
// until they end.
func (m *Monitor) SetShadow(on bool) { m.shadow.Store(on) }

// Blocklist returns the prefix set that range blocks go to, for the number
// policy: numbers.WithPrefixSet(m.Blocklist()).
func (m *Monitor) Blocklist() *numbers.PrefixSet { return m.set }

// ratelimitMaxWindow bounds block durations, like ratelimit.MaxWindow.
const ratelimitMaxWindow = 10 * 365 * 24 * time.Hour

// maxRegions bounds the regions learnt separately; the rest share one.
const maxRegions = 512

// regionOf returns the name of the region a number counts under: its ISO
// code; for a number outside the known ranges, the main region of its
// calling code (GB for +44); for a non-geographic number, "+" and its
// calling code.
func regionOf(n numbers.Number) string {
	if n.Region != "" && n.Region != "001" {
		return n.Region
	}
	if n.Region == "" {
		if r := phonenumbers.GetRegionCodeForCountryCode(n.CallingCode); r != "" && r != "ZZ" && r != "001" {
			return r
		}
	}
	return "+" + strconv.Itoa(n.CallingCode)
}

// region returns the baseline of region r.
func (m *Monitor) region(r string) *baseline {
	if b, ok := (*m.regions.Load())[r]; ok {
		return b
	}
	m.regionsMu.Lock()
	defer m.regionsMu.Unlock()
	old := *m.regions.Load()
	if b, ok := old[r]; ok {
		return b
	}
	if len(old) >= maxRegions {
		r = "other"
		if b, ok := old[r]; ok {
			return b
		}
	}
	next := make(map[string]*baseline, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	b := newBaseline()
	next[r] = b
	m.regions.Store(&next)
	return b
}
