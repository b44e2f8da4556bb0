package pumping

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Scope is what a block covers.
type Scope uint8

const (
	// ScopeRange is a block of numbers: "+" and the leading digits. It
	// goes to the Blocklist, which the number policy consults.
	ScopeRange Scope = iota + 1
	// ScopeAddress is a client address: an IPv4 address or an IPv6 /64.
	ScopeAddress
	// ScopeNetwork is a network the app named in Send.Network.
	ScopeNetwork
	// ScopeCountry is a whole destination region (ISO code, or "+" and a
	// calling code): the brake when ranges do not explain the damage.
	ScopeCountry
)

// String returns "range", "address", "network" or "country".
func (s Scope) String() string {
	switch s {
	case ScopeRange:
		return "range"
	case ScopeAddress:
		return "address"
	case ScopeNetwork:
		return "network"
	case ScopeCountry:
		return "country"
	}
	return "scope?"
}

// Signal says what a decision saw.
type Signal string

// The signals.
const (
	// SignalUnconfirmed: more unconfirmed sends than the threshold.
	SignalUnconfirmed Signal = "unconfirmed"
	// SignalRun: distinct numbers of one block of ten within minutes, as
	// a script walking sequential numbers asks for.
	SignalRun Signal = "run"
	// SignalCountries: one address asking for codes to more countries than
	// the threshold without confirming any.
	SignalCountries Signal = "countries"
	// SignalNeighbours: several ranges inside a wider range were blocked
	// within Config.WidenWithin, as a pumper moving from range to range of
	// its carrier's allocation makes; the wider range is blocked.
	SignalNeighbours Signal = "neighbours"
	// SignalRanges: many ranges of one region were blocked within the
	// hour, as a pumper hopping across a whole country makes; the region
	// is braked.
	SignalRanges Signal = "ranges"
	// SignalRefused: a block kept being hit while it held, so it was
	// extended to the next step before it ended.
	SignalRefused Signal = "refused"
)

// Decision records why something was blocked: what a user reads to trust
// the monitor, or to undo it.
type Decision struct {
	// Time is when the decision was made.
	Time time.Time
	// Scope and Key name what is blocked: a range "+4477009001", an
	// address "203.0.113.7" or "2001:db8::/64", a network, a region "GB".
	Scope Scope
	Key   string
	// Signal is what tripped.
	Signal Signal
	// Level is the count that tripped: unconfirmed sends (net of
	// confirmations, see the package doc), distinct numbers of a run,
	// countries of an address.
	Level int
	// Threshold is the threshold the level reached.
	Threshold int
	// Baseline is where the threshold came from.
	Baseline Baseline
	// Strike is 1 for a first block, 2 for the next one within
	// Config.StrikeMemory, and so on.
	Strike int
	// For is how long the block lasts, and Until when it ends.
	For   time.Duration
	Until time.Time
	// Shadow is true when the monitor runs in shadow mode: nothing was
	// blocked.
	Shadow bool
	// Region is the destination region of the send that tripped it.
	Region string
	// Masked is the number of the send that tripped it, masked.
	Masked string
}

// Baseline is what a decision's threshold was made of.
type Baseline struct {
	// Floor is the configured floor (see Floors).
	Floor int
	// Learnt is the threshold learnt from the levels confirmed sends saw
	// (0 until there are enough of them).
	Learnt int
	// Conversion is the region's learnt conversion rate (confirmed ÷
	// sent) and GiveBack the weight of a confirmation it gives (see the
	// package doc).
	Conversion float64
	GiveBack   float64
	// BestDay and Confirmed24h are, for a country brake, the most
	// confirmations to the region in a day of the last 14 and those of
	// the last 24 hours: authgear's threshold is max(20, 0.2 × BestDay,
	// 0.2 × Confirmed24h).
	BestDay, Confirmed24h int
	// Explained is, for a country brake, the unconfirmed sends of the
	// region accounted for by its blocked ranges.
	Explained int
}

// Block is a block in force (or, in shadow mode, one that would be).
type Block struct {
	// Scope and Key name what is blocked, as in Decision.
	Scope Scope
	Key   string
	// Signal is what tripped it.
	Signal Signal
	// Strike is its escalation step, from 1.
	Strike int
	// Until is when it ends.
	Until time.Time
	// Shadow is true when it is not enforced.
	Shadow bool
}

// decisionRing keeps the last decisions.
type decisionRing struct {
	buf  []Decision
	next int
	max  int
}

func (r *decisionRing) add(d Decision) {
	if len(r.buf) < r.max {
		r.buf = append(r.buf, d)
		return
	}
	if r.max == 0 {
		return
	}
	r.buf[r.next] = d
	r.next = (r.next + 1) % r.max
}

func (r *decisionRing) list() []Decision {
	out := make([]Decision, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// Decisions returns the last decisions, oldest first (at most
// Config.MaxDecisions of them).
func (m *Monitor) Decisions() []Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ring.list()
}

// record keeps d, and reports it to the hook and the logger. m.mu must not
// be held.
func (m *Monitor) record(d Decision) {
	m.mu.Lock()
	m.ring.add(d)
	m.mu.Unlock()
	if m.onDec != nil {
		m.onDec(d)
	}
	if m.logger != nil {
		m.logger.LogAttrs(context.Background(), slog.LevelInfo, "pumping: block",
			slog.String("scope", d.Scope.String()), slog.String("key", d.Key),
			slog.String("signal", string(d.Signal)), slog.Int("level", d.Level),
			slog.Int("threshold", d.Threshold), slog.Int("strike", d.Strike),
			slog.Duration("for", d.For), slog.Bool("shadow", d.Shadow), slog.String("to", d.Masked))
	}
}

// Blocks returns the blocks in force, sorted by scope and key.
func (m *Monitor) Blocks() []Block {
	now := m.now().UnixNano()
	m.mu.Lock()
	out := make([]Block, 0, len(m.blocks))
	for _, b := range m.blocks {
		if b.until > now {
			out = append(out, b.public())
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Block) int {
		if a.Scope != b.Scope {
			return int(a.Scope) - int(b.Scope)
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}
