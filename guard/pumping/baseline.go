package pumping

import (
	"math"
	"sync"
	"time"
)

// learnt is one of the signals whose threshold is learnt from the levels
// that confirmed (so, legitimate) sends saw.
type learnt uint8

const (
	learnRun    learnt = iota
	learnRange2        // to learnRange6: the ranges, in order
	learnRange3
	learnRange4
	learnRange5
	learnRange6
	learnCountry
	learnAddress
	learnNetwork
	numLearnt
)

// histBuckets is the number of level buckets of a histogram: levels 0 to
// histBuckets-2 exactly, and one bucket for every higher level.
const histBuckets = 64

// hist is a histogram of small integer levels whose weights decay, so that
// it describes the last days of traffic rather than all of it.
type hist struct {
	w [histBuckets]float32
	n float32 // sum of w
}

// add adds a level of weight w.
func (h *hist) add(level int32, w float32) {
	b := min(max(level, 0), histBuckets-1)
	h.w[b] += w
	h.n += w
}

func (h *hist) scale(f float32) {
	for i := range h.w {
		h.w[i] *= f
	}
	h.n *= f
}

// quantile returns the smallest level at or under which a fraction q of
// the weight lies.
func (h *hist) quantile(q float32) int32 {
	target, sum := q*h.n, float32(0)
	for i, w := range h.w {
		sum += w
		if sum >= target {
			return int32(i)
		}
	}
	return histBuckets - 1
}

// baseline is what the monitor learnt about one destination region (or, for
// the address, network and spread signals, about all traffic): its
// conversion, and how high legitimate traffic drives each counter.
type baseline struct {
	mu sync.Mutex
	// sent and confirmed are decayed counts of the sends and
	// confirmations this process saw, for the conversion rate.
	sent, confirmed float64
	hist            [numLearnt]hist
	// Counts decay lazily: what is added now weighs w, which doubles
	// every halfLife after origin, and every count is read divided by w.
	// When w grows large, every count is divided by it and it starts
	// again at 1.
	origin int64
	w      float64
	at     int64 // when w was last computed
	// learnt caches the thresholds the histograms give; -1 when stale.
	learnt [numLearnt]int32
	beta   float64 // cached give-back per confirmation, in sends beyond the 1 sent
	nLearn int     // confirmations learnt from, to refresh the cache every 32

	// The region's state for decisions.
	explained float64 // sends of the region's blocked ranges, leaking like the country counter
	explAt    int64
	diffuse   float64 // sends to fresh ranges while over the country threshold, leaking
	diffAt    int64
	hops      float64 // ranges blocked for the first time, leaking 10 an hour
	hopsAt    int64
	floorAt   int64 // when bestDay and day24h were read
	bestDay   int32 // most confirmations in one of the last 14 days
	day24h    int32 // confirmations in the last 24 hours, estimated from two days
}

// halfLife is how fast a baseline forgets: traffic a week old weighs half.
const halfLife = 7 * 24 * time.Hour

// minSamples is how many confirmations (decayed) a histogram needs before
// its quantile is trusted over the floors.
const minSamples = 200

// prior is the conversion the monitor assumes before it has seen traffic,
// with the weight of priorWeight sends.
const (
	prior       = 0.8
	priorWeight = 50
)

func newBaseline() *baseline {
	b := &baseline{}
	b.stale()
	return b
}

func (b *baseline) stale() {
	for i := range b.learnt {
		b.learnt[i] = -1
	}
	b.beta = -1
}

// age brings the weight of new counts to now, at most once a minute.
// b.mu must be held.
func (b *baseline) age(now int64) {
	if b.origin == 0 {
		b.origin, b.at, b.w = now, now, 1
		return
	}
	if now-b.at < int64(time.Minute) {
		return
	}
	b.at = now
	b.w = math.Exp2(float64(now-b.origin) / float64(halfLife))
	if b.w < 1<<20 {
		return
	}
	f := 1 / b.w
	b.sent *= f
	b.confirmed *= f
	for i := range b.hist {
		b.hist[i].scale(float32(f))
	}
	b.origin, b.w = now, 1
}

// weight returns the weight of a count made now.
func (b *baseline) weight() float64 { return max(b.w, 1) }

// n returns the decayed number of samples of signal s.
func (b *baseline) n(s learnt) float64 { return float64(b.hist[s].n) / b.weight() }

// conversion returns the learnt conversion rate, between 0.05 and 1.
func (b *baseline) conversion() float64 {
	w := b.weight()
	p := (b.confirmed/w + prior*priorWeight) / (b.sent/w + priorWeight)
	return min(max(p, 0.05), 1)
}

// giveBack returns β: how many sends beyond its own one a confirmation
// takes off the counters. With conversion p, legitimate traffic adds 1 per
// send and takes 1+β per confirmation, so it drifts down whenever
// p(1+β) > 1; β = 5(1-p)/p keeps it drifting down at four times the pace
// at which its unconfirmed sends push it up, while a range whose
// conversion falls below 1/(1+β) (53% when p is 85%) climbs.
func (b *baseline) giveBack() float64 {
	if b.beta < 0 {
		p := b.conversion()
		b.beta = min(max(5*(1-p)/p, 0.5), 9)
	}
	return b.beta
}

// threshold returns the learnt threshold of signal s: zero until enough
// confirmations have been seen, then the larger of two estimates made from
// the levels confirmed sends found, each of which counts the send itself
// and the unconfirmed sends around it:
//
//   - a Poisson model of the background: with λ the mean number of
//     unconfirmed sends a confirmed send found besides itself, the
//     smallest level that legitimate traffic reaches with probability
//     under 1 in 10,000 (λ is known after a few dozen confirmations);
//   - for traffic that is not Poisson (a busy carrier NAT, a popular
//     range), a margin over the 99.5th percentile of the levels, once
//     there are enough confirmations to know it.
func (b *baseline) threshold(s learnt) int32 {
	if t := b.learnt[s]; t >= 0 {
		return t
	}
	h := &b.hist[s]
	t := int32(0)
	if b.n(s) >= minPoisson {
		t = poissonLevel(h.mean()-1, 1e-4) + 1
	}
	if b.n(s) >= minSamples {
		q := h.quantile(0.995)
		t = max(t, q+max(2, q/2)+1)
	}
	b.learnt[s] = t
	return t
}

// minPoisson is how many confirmations (decayed) the Poisson estimate needs.
const minPoisson = 30

// mean returns the mean level.
func (h *hist) mean() float64 {
	if h.n == 0 {
		return 0
	}
	sum := 0.0
	for i, w := range h.w {
		sum += float64(i) * float64(w)
	}
	return sum / float64(h.n)
}

// poissonLevel returns the smallest k such that a Poisson variable of mean
// lambda reaches k with probability under eps.
func poissonLevel(lambda, eps float64) int32 {
	if lambda <= 0 {
		return 1
	}
	p := math.Exp(-lambda) // P(X = 0)
	tail := 1 - p          // P(X >= 1)
	for k := int32(1); k < histBuckets; k++ {
		if tail < eps {
			return k
		}
		p *= lambda / float64(k) // P(X = k)
		tail -= p                // P(X >= k+1)
	}
	return histBuckets
}
