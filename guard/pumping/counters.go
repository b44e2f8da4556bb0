package pumping

import (
	"context"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// unit is how many tokens one send weighs in a counter. Confirmations give
// back a non-integer number of sends (1+β), so counters count in quarters.
const unit = 4

// maxLevel is the most sends a counter holds; beyond it, it saturates. Every
// threshold is far below it.
const maxLevel = 1024

// counterOp is one operation on a leaky counter: spend cost tokens (never
// denied, saturating when the counter is full), give back -cost tokens, or
// read the level when cost is 0.
type counterOp struct {
	key  string
	kind kind
	cost int
}

// counters keeps the monitor's leaky counters in a ratelimit store,
// through a Limiter: a counter is a GCRA bucket (see kindLimits) whose spends are
// Record requests (never denied, saturating when the bucket is empty),
// whose give-backs are negative costs and whose reads are peeks; its level
// is what the bucket has spent, Burst - Remaining.
type counters struct{ lim *ratelimit.Limiter }

// takeBuf is the requests and results of one take of the monitor's own.
type takeBuf struct {
	reqs    [maxOps + 15]ratelimit.Request
	results [maxOps + 15]ratelimit.Result
}

var takePool = sync.Pool{New: func() any { return new(takeBuf) }}

// apply runs ops in one take and writes each counter's level after its
// op, in tokens, into levels.
func (c counters) apply(ctx context.Context, ops []counterOp, levels []int32) error {
	tb := takePool.Get().(*takeBuf)
	defer func() {
		for i := range ops {
			tb.reqs[i].Key = ""
		}
		takePool.Put(tb)
	}()
	reqs := tb.reqs[:len(ops)]
	for i := range ops {
		reqs[i] = request(&ops[i])
	}
	d, err := c.lim.AllowAll(ctx, reqs, tb.results[:len(ops)])
	if err != nil {
		return err
	}
	for i := range ops {
		levels[i] = int32(counterBurst - d.Results[i].Remaining)
	}
	return nil
}

// request returns the ratelimit request of a counter operation.
func request(op *counterOp) ratelimit.Request {
	r := ratelimit.Request{Key: op.key, Limit: kindLimits[op.kind], Cost: op.cost}
	switch {
	case op.cost > 0:
		r.Record = true
	case op.cost == 0:
		r.Peek = true
	}
	return r
}

// counterBurst is the size of every counter's bucket, in tokens.
const counterBurst = maxLevel * unit

// kindLimits are the limits of the counters of each kind: one token leaks
// every kinds[k].interval().
var kindLimits = func() (l [numKinds]ratelimit.Limit) {
	for k := range l {
		l[k] = ratelimit.Limit{Rate: 1, Period: kinds[k].interval(), Burst: counterBurst}
	}
	return l
}()

// kind is one family of counters.
type kind uint8

const (
	kindNumber  kind = iota // the number itself: repeats
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
