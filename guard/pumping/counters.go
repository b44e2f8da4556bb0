package pumping

import (
	"context"
	"sync"
	"time"
)

// unit is how many tokens one send weighs in a counter. Confirmations give
// back a non-integer number of sends (1+β), so counters count in quarters.
const unit = 4

// maxLevel is the most sends a counter holds; beyond it, it saturates. Every
// threshold is far below it.
const maxLevel = 1024

// counterOp is one operation on a leaky counter: spend cost tokens (never
// denied, saturating at the counter's cap), give back -cost tokens, or read
// the level when cost is 0.
type counterOp struct {
	key  string
	kind kind
	cost int
}

// counterStore keeps the monitor's leaky counters. apply runs ops at now and
// writes each counter's level after the op, in tokens, into levels.
//
// This is the seam to the ratelimit store: a leaky counter is a GCRA bucket
// (Rate 1 per kind's interval, Burst maxLevel×unit) whose spend is never
// denied, and a give-back moves its TAT back.
type counterStore interface {
	apply(ctx context.Context, now int64, ops []counterOp, levels []int32) error
}

// memCounters is a counterStore in process memory, bounded by maxKeys: when
// full, counters that have drained are dropped first, then the one that
// drains soonest.
type memCounters struct {
	mu      sync.Mutex
	tat     map[string]int64
	maxKeys int
}

func newMemCounters(maxKeys int) *memCounters {
	return &memCounters{tat: make(map[string]int64), maxKeys: maxKeys}
}

func (m *memCounters) apply(_ context.Context, now int64, ops []counterOp, levels []int32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range ops {
		op := &ops[i]
		iv := int64(kinds[op.kind].interval())
		tat, ok := m.tat[op.key]
		tat = max(tat, now)
		if op.cost != 0 {
			tat = min(max(tat+int64(op.cost)*iv, now), now+iv*maxLevel*unit)
			if tat == now {
				delete(m.tat, op.key)
			} else {
				if !ok && len(m.tat) >= m.maxKeys {
					m.evict(now)
				}
				m.tat[op.key] = tat
			}
		}
		levels[i] = int32((tat - now + iv - 1) / iv)
	}
	return nil
}

// evict makes room for one key.
func (m *memCounters) evict(now int64) {
	victim, soonest := "", int64(0)
	for k, t := range m.tat {
		if t <= now {
			delete(m.tat, k)
			return
		}
		if victim == "" || t < soonest {
			victim, soonest = k, t
		}
	}
	delete(m.tat, victim)
}

// kind is one family of counters.
type kind uint8

const (
	kindNumber  kind = iota // the number itself: repeats
	kindRun                 // the number without its last digit: sequential runs
	kindRange2              // without its last 2 digits (100 numbers)
	kindRange3              // 3 digits (1,000)
	kindRange4              // 4 digits (10,000)
	kindRange5              // 5 digits (100,000)
	kindRange6              // 6 digits (1,000,000: a carrier's allocation)
	kindCountry             // the destination's region
	kindAddress             // the client address (IPv4, IPv6 /64)
	kindNetwork             // the network the app names (carrier, ASN)
	kindPair                // client address × destination region: new countries
	kindSpread              // countries asked from one address beyond the first
	kindDay                 // confirmations per region per day, for the country floor
	numKinds
)

// kindInfo describes a family of counters.
type kindInfo struct {
	tag string // key tag
	// leak is how long one send takes to drain away.
	leak time.Duration
}

func (k kindInfo) interval() time.Duration { return k.leak / unit }

var kinds = [numKinds]kindInfo{
	kindNumber:  {"n", 6 * time.Hour},
	kindRun:     {"p1", 10 * time.Minute},
	kindRange2:  {"p2", 6 * time.Hour},
	kindRange3:  {"p3", 6 * time.Hour},
	kindRange4:  {"p4", 6 * time.Hour},
	kindRange5:  {"p5", 6 * time.Hour},
	kindRange6:  {"p6", 6 * time.Hour},
	kindCountry: {"c", time.Hour},
	kindAddress: {"a", time.Hour},
	kindNetwork: {"w", time.Hour},
	kindPair:    {"ac", 6 * time.Hour},
	kindSpread:  {"an", 24 * time.Hour},
	// A day counter must barely drain in the 15 days it is read: it loses
	// one confirmation every 3 days, which the floor of 20 hides.
	kindDay: {"d", 72 * time.Hour},
}
