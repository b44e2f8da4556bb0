package pumping

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

var planPool = sync.Pool{New: func() any { return new(plan) }}

var errNoNumber = errors.New("pumping: send without a number")

// Allow is for apps that send codes themselves: it refuses a send to s
// that a block covers (as [Monitor.Check]), records the send about to be
// made, and refuses it too when it trips a signal, with a *BlockedError
// (a number confirmed within StrikeMemory passes every block).
// It costs one operation on the store. Call it once the number policy and
// the limits allowed the send, just before sending. A store that cannot
// answer gives the Limiter's error (wrapping ratelimit.ErrUnavailable),
// or, with ratelimit.WithFailOpen, counters read as empty.
func (m *Monitor) Allow(ctx context.Context, s Send) error {
	if err := m.Check(s); err != nil {
		return err
	}
	bl, err := m.sent(ctx, s)
	if err != nil {
		return err
	}
	return m.refusal(bl, &s)
}

// refusal returns the error that refuses a send to s, which block bl (nil
// for none) covers: none for a block in shadow mode, or for a number
// confirmed within StrikeMemory, which passes every block.
func (m *Monitor) refusal(bl *block, s *Send) error {
	if bl == nil || bl.shadow {
		return nil
	}
	m.mu.Lock()
	ok := m.confirmedBefore(s.Number.E164, m.now().UnixNano())
	m.mu.Unlock()
	if ok {
		return nil
	}
	return &BlockedError{Block: bl.public()}
}

// AppendRequests appends to reqs the monitor's requests for a send to s,
// for a take the caller makes with its own limits: all or nothing, in one
// round trip with a shared store. They are Record requests, which never
// deny the take, and their keys share one new string. Once the take is
// allowed, pass their results to [Monitor.Judge] before sending; a denied
// take spends nothing and needs no Judge.
func (m *Monitor) AppendRequests(reqs []ratelimit.Request, s Send) []ratelimit.Request {
	if len(s.Number.E164) < 2 {
		return reqs
	}
	p := planPool.Get().(*plan)
	bl := builder{p: p}
	bl.build(&s, regionOf(s.Number), unit, kindCost{k: kindPair, cost: unit})
	n := len(reqs)
	reqs = slices.Grow(reqs, p.n)[:n+p.n]
	for i := range p.n {
		r := &reqs[n+i]
		op := &p.ops[i]
		r.Key, r.Limit, r.Cost, r.Record, r.Peek = op.key, kindLimits[op.kind], op.cost, true, false
		op.key = ""
	}
	planPool.Put(p)
	return reqs
}

// Judge reads the results of the requests AppendRequests appended for s
// (results[0] is the first of them) and decides, as Allow does: it returns
// a *BlockedError when a block covers the send or the send trips a signal
// (unless its number was confirmed within StrikeMemory), and the caller
// must not send. It costs no store operation on the common
// path (see the package doc for the rare ones).
func (m *Monitor) Judge(ctx context.Context, s Send, results []ratelimit.Result) error {
	if len(s.Number.E164) < 2 {
		return errNoNumber
	}
	if err := m.Check(s); err != nil {
		return err
	}
	return m.judgeResults(ctx, &s, results)
}

// judgeResults is Judge once Check has passed s.
func (m *Monitor) judgeResults(ctx context.Context, sp *Send, results []ratelimit.Result) error {
	s := *sp
	at, n := layout(&s)
	if len(results) < n {
		return fmt.Errorf("pumping: Judge: %d results for %d requests", len(results), n)
	}
	var lv levels
	for k, i := range at {
		if i >= 0 {
			lv.has[k] = true
			lv.tok[k] = int32(counterBurst - results[i].Remaining)
		}
	}
	bl, err := m.judge(ctx, m.now().UnixNano(), &s, regionOf(s.Number), &lv)
	if err != nil {
		return err
	}
	return m.refusal(bl, &s)
}

// Sent records a code sent to s, for apps that learn of sends after the
// fact (verify's Started hook). It costs one operation on the store. A
// signal that trips blocks what it names for later sends; the send itself
// was made.
func (m *Monitor) Sent(ctx context.Context, s Send) error {
	_, err := m.sent(ctx, s)
	return err
}

// sent records a send and judges it; it returns the block that covers it,
// if one does now.
func (m *Monitor) sent(ctx context.Context, s Send) (*block, error) {
	if len(s.Number.E164) < 2 {
		return nil, errNoNumber
	}
	now := m.now().UnixNano()
	region := regionOf(s.Number)
	p := planPool.Get().(*plan)
	defer planPool.Put(p)
	bl := builder{p: p}
	bl.build(&s, region, unit, kindCost{k: kindPair, cost: unit})
	err := m.store.apply(ctx, p.ops[:p.n], p.lv[:p.n])
	p.dropKeys()
	if err != nil {
		return nil, err
	}
	lv := p.levels()
	return m.judge(ctx, now, &s, region, &lv)
}

// Confirmed records a code to s confirmed. It costs one operation on the
// store: the confirmation takes 1+β sends off every counter of the send
// (β from the region's learnt conversion, see the package doc). What the
// send found when this process saw it made teaches the monitor what
// legitimate traffic looks like.
func (m *Monitor) Confirmed(ctx context.Context, s Send) error {
	if len(s.Number.E164) < 2 {
		return errNoNumber
	}
	now := m.now().UnixNano()
	region := regionOf(s.Number)
	b := m.region(region)
	b.mu.Lock()
	b.age(now)
	b.confirmed += b.weight()
	beta := b.giveBack()
	b.mu.Unlock()
	g := int(math.Round(unit * (1 + beta)))
	p := planPool.Get().(*plan)
	defer planPool.Put(p)
	bl := builder{p: p}
	day := now / int64(24*time.Hour)
	bl.build(&s, region, -g, kindCost{k: kindSpread, cost: -unit}, kindCost{k: kindDay, cost: unit, day: day})
	err := m.store.apply(ctx, p.ops[:p.n], p.lv[:p.n])
	p.dropKeys()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.remember(s.Number.E164, now)
	m.mu.Unlock()
	// What the send found, if this process saw it made.
	sm, seen := m.pend.take(m.conf.hash(s.Number.E164), now)
	if seen {
		// A code sent before its range was blocked, confirmed since:
		// the number stays allowed.
		m.allowUnder(&s, now, sm.at)
	}
	if fresh(p) {
		// A confirmation in a fresh range: not diffuse damage.
		b.mu.Lock()
		if b.diffuse > 0 {
			b.leakDiffuse(now)
			b.diffuse = max(b.diffuse-(1+beta), 0)
		}
		b.mu.Unlock()
	}
	if seen {
		m.learn(b, sm, now)
	}
	return nil
}

// learn adds what a confirmed send found when it was sent, sm, to the
// baselines.
func (m *Monitor) learn(b *baseline, sm sample, now int64) {
	b.mu.Lock()
	for l := learnRun; l <= learnCountry; l++ {
		if sm.lv[l] > 0 {
			b.hist[l].add(int32(sm.lv[l]), float32(b.weight()))
		}
	}
	if b.nLearn++; b.nLearn%32 == 0 {
		b.stale()
	}
	b.mu.Unlock()
	gb := m.global
	gb.mu.Lock()
	gb.age(now)
	for l := learnAddress; l < numLearnt; l++ {
		if sm.lv[l] > 0 {
			gb.hist[l].add(int32(sm.lv[l]), float32(gb.weight()))
		}
	}
	if gb.nLearn++; gb.nLearn%32 == 0 {
		gb.stale()
	}
	gb.mu.Unlock()
}

// pendingTTL is how long the levels of a send are kept for its
// confirmation: codes expire after 10 minutes.
const pendingTTL = 15 * time.Minute

// sample is what a send found: the levels its signals were compared with,
// 0 when it had no such signal.
type sample struct {
	at int64
	lv [numLearnt]int16
}

// pending keeps the samples of recent sends until they are confirmed. It is
// bounded: when full, expired samples go first, then a sixteenth at random.
type pending struct {
	mu  sync.Mutex
	m   map[uint64]sample
	max int
}

func (p *pending) put(h uint64, sm sample) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= p.max {
		n := max(p.max/16, 1)
		for k, o := range p.m {
			if sm.at-o.at >= int64(pendingTTL) || n > 0 {
				delete(p.m, k)
				n--
			}
		}
	}
	p.m[h] = sm
}

func (p *pending) take(h uint64, now int64) (sample, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sm, ok := p.m[h]
	if ok {
		delete(p.m, h)
	}
	return sm, ok && now-sm.at < int64(pendingTTL)
}

// Refused tells the monitor that a send to s was refused before it was
// made: by the number policy (a blocked range among others), by a limit,
// or by Check. It costs no store operation. A block that keeps being hit
// by distinct numbers while it holds is what a pumper looping over its
// list does, so such a block is extended to its next step before it ends,
// instead of letting the pumper back in for one more round.
func (m *Monitor) Refused(s Send) {
	if len(s.Number.E164) < 2 {
		return
	}
	now := m.now().UnixNano()
	h := m.conf.hash(s.Number.E164)
	var keys [maxDrop]string
	n := 0
	for d := 2; d <= maxDrop; d++ {
		if rg, ok := rangeOf(&s, d); ok {
			keys[n] = blockKey(ScopeRange, rg)
			n++
		}
	}
	var ext []trip
	m.mu.Lock()
	for _, bk := range keys[:n] {
		b, ok := m.blocks[bk]
		if !ok || b.until <= now || b.lastRefused == h {
			continue
		}
		b.refusals++
		b.lastRefused = h
		if st, ok := m.strikes[bk]; ok && !st.hit {
			st.hit = true
			m.strikes[bk] = st
		}
		// Extend once the block is half over and has been hit by at
		// least two distinct numbers.
		if b.refusals >= 2 && now-b.start >= (b.until-b.start)/2 {
			ext = append(ext, trip{scope: b.scope, key: b.key, signal: SignalRefused, level: int32(b.refusals), threshold: 2, region: b.region})
			m.dropBlock(bk, b) // decide makes the next step
		}
	}
	m.mu.Unlock()
	for _, t := range ext {
		m.decide(now, &s, t)
	}
}

// thresholds of one send, worked out under the baseline's lock.
type thresholds struct {
	run, learntRun   int32
	rng              [numRanges]int32 // thresholds of the ranges of rangeKinds
	floorRng         [numRanges]int32
	learntRng        [numRanges]int32
	country, learntC int32
	conversion, beta float64
	explained        int32
}

func (m *Monitor) thresholds(b *baseline, now int64) thresholds {
	var t thresholds
	f := &m.floors
	t.learntRun = b.threshold(learnRun)
	t.run = max(int32(f.Run), t.learntRun)
	for i := range numRanges {
		t.floorRng[i] = int32(f.Ranges[i])
		t.learntRng[i] = b.threshold(learnRange2 + learnt(i))
		t.rng[i] = max(t.floorRng[i], t.learntRng[i])
	}
	t.learntC = b.threshold(learnCountry)
	t.country = max(int32(f.Country), t.learntC)
	t.conversion, t.beta = b.conversion(), b.giveBack()
	if b.explained > 0 {
		left := b.explained - float64(now-b.explAt)/float64(kinds[kindCountry].leak)
		b.explained, b.explAt = max(left, 0), now
	}
	t.explained = int32(b.explained)
	return t
}

// judge reads the levels of a send's counters and blocks what tripped. It
// returns the block that covers the send, if one does now.
func (m *Monitor) judge(ctx context.Context, now int64, s *Send, region string, p *levels) (*block, error) {
	b := m.region(region)
	b.mu.Lock()
	b.age(now)
	t := m.thresholds(b, now)
	b.mu.Unlock()

	// A number asked for again is not another number of its range: its
	// own repeats are taken off the range and address levels.
	rep := int32(0)
	if n, ok := p.level(kindNumber); ok {
		rep = max(n-1, 0)
	}
	sm := sample{at: now}
	var hit *block
	note := func(bl *block, _ bool) {
		if bl != nil && hit == nil {
			hit = bl
		}
	}
	base := Baseline{Conversion: t.conversion, GiveBack: t.beta}

	// Ranges: the widest that tripped, counting a run as a trip of the
	// block of 1,000 around it.
	hot := false
	var tr trip
	for i, r := range rangeKinds {
		lv, ok := p.level(r.k)
		if !ok {
			continue
		}
		lv = max(lv-rep, 1)
		if i > 0 && m.nFamily.Load() > 0 {
			// Sends that blocked narrower ranges explain are not
			// counted again.
			rg, _ := rangeOf(s, r.drop)
			lv = max(lv-m.explainedIn(rg, lv, now), 1)
		}
		sm.lv[learnRange2+learnt(i)] = int16(lv)
		th := t.rng[i]
		if lv >= 2 && 2*lv >= th {
			hot = true
		}
		if lv >= th {
			key, _ := rangeOf(s, r.drop)
			tr = trip{scope: ScopeRange, key: key, signal: SignalUnconfirmed,
				level: lv, threshold: th, leak: kinds[r.k].leak, region: region}
			tr.base = base
			tr.base.Floor, tr.base.Learnt = int(t.floorRng[i]), int(t.learntRng[i])
		}
	}
	if lv := m.runs.add(s.Number.E164, now); lv > 0 {
		sm.lv[learnRun] = int16(lv)
		key, ok := rangeOf(s, 3)
		if !ok {
			key, ok = rangeOf(s, 2)
		}
		if lv >= t.run && ok {
			if tr.key == "" || len(key) < len(tr.key) {
				tr = trip{scope: ScopeRange, key: key, signal: SignalRun,
					level: lv, threshold: t.run, leak: runWindow, region: region}
				tr.base = base
				tr.base.Floor, tr.base.Learnt = m.floors.Run, int(t.learntRun)
			}
		}
	}
	if tr.key != "" && m.nPardon.Load() > 0 && m.pardoned(s, now) {
		tr = trip{}
	}
	if tr.key != "" {
		bl, made := m.decide(now, s, tr)
		note(bl, made)
		if made {
			b.mu.Lock()
			b.explained += float64(tr.level)
			b.explAt = now
			b.stale()
			b.mu.Unlock()
		}
	}
	// In shadow mode the sends to ranges that would be blocked go on: they
	// are accounted for by those blocks, not by the country.
	covered := 0
	if m.shadow.Load() {
		if covered = m.coveredRange(s, now); covered > 0 {
			m.explainMore(s, covered, now)
		}
	}
	if !hot || covered > 0 {
		b.mu.Lock()
		if !hot {
			b.sent += b.weight()
		}
		if covered > 0 {
			b.explained++
		}
		b.mu.Unlock()
	}

	// The country brake, when the region's unconfirmed sends are not
	// those of its blocked ranges and are spread over fresh ranges: a
	// pumper spraying numbers all over a country, which no range can
	// catch. Sends to fresh ranges are counted once the region is halfway
	// to its threshold, and confirmations take them off again.
	if lv, ok := p.level(kindCountry); ok {
		sm.lv[learnCountry] = int16(lv)
		if 2*(lv-t.explained) >= t.country {
			if err := m.brake(ctx, now, s, region, b, t, base, lv, widest(&sm) <= 1, note); err != nil {
				return hit, err
			}
		}
	}

	// The client address and the network.
	g := m.global
	g.mu.Lock()
	g.age(now)
	la, ln := g.threshold(learnAddress), g.threshold(learnNetwork)
	g.mu.Unlock()
	if lv, ok := p.level(kindAddress); ok {
		lv = max(lv-rep, 1)
		sm.lv[learnAddress] = int16(lv)
		// An address busy with traffic that converts (carrier NAT, an
		// office) may have more unconfirmed sends: up to half of those
		// it sent to this region lately.
		vol, _ := p.level(kindPair)
		th := max(int32(m.floors.Address), la, vol/2)
		if lv >= th {
			ab := base
			ab.Floor, ab.Learnt = m.floors.Address, int(la)
			note(m.decide(now, s, trip{scope: ScopeAddress, key: addrKey(s.ClientIP), signal: SignalUnconfirmed,
				level: lv, threshold: th, leak: kinds[kindAddress].leak, base: ab, region: region}))
		}
		// A country new for an address that has other unconfirmed sends.
		if p.has[kindPair] && p.tok[kindPair] <= unit && lv >= 2 {
			if err := m.spread(ctx, now, s, region, int32(m.floors.Countries), base, note); err != nil {
				return hit, err
			}
		}
	}
	if lv, ok := p.level(kindNetwork); ok {
		sm.lv[learnNetwork] = int16(lv)
		th := max(int32(m.floors.Network), ln)
		if lv >= th {
			nb := base
			nb.Floor, nb.Learnt = m.floors.Network, int(ln)
			note(m.decide(now, s, trip{scope: ScopeNetwork, key: string(appendNetwork(nil, s.Network)),
				signal: SignalUnconfirmed, level: lv, threshold: th, leak: kinds[kindNetwork].leak, base: nb, region: region}))
		}
	}
	m.pend.put(m.conf.hash(s.Number.E164), sm)
	return hit, nil
}

// widest returns the level of the widest range of a sample.
func widest(sm *sample) int16 {
	for l := learnRange6; l >= learnRange2; l-- {
		if sm.lv[l] > 0 {
			return sm.lv[l]
		}
	}
	return 0
}

// fresh reports whether the widest range of a confirmation's plan is
// empty after it.
func fresh(p *plan) bool {
	for k := kindRange6; k >= kindRange2; k-- {
		if i := p.at[k]; i >= 0 {
			return p.lv[i] == 0
		}
	}
	return false
}

// brake counts a send to a hot region, and brakes the region when its
// unconfirmed sends beyond those of its blocked ranges and the sends to
// fresh ranges both reach its threshold.
func (m *Monitor) brake(ctx context.Context, now int64, s *Send, region string, b *baseline, t thresholds, base Baseline,
	lv int32, fresh bool, note func(*block, bool)) error {
	if err := m.countryFloor(ctx, now, region, b); err != nil {
		return err
	}
	b.mu.Lock()
	th := max(t.country, b.authgear())
	diffuse := b.leakDiffuse(now)
	if fresh && 2*(lv-t.explained) >= th {
		b.diffuse++
		diffuse++
	}
	cb := base
	cb.Floor, cb.Learnt, cb.Explained = m.floors.Country, int(t.learntC), int(t.explained)
	cb.BestDay, cb.Confirmed24h = int(b.bestDay), int(b.day24h)
	b.mu.Unlock()
	if lv-t.explained >= th && int32(diffuse) >= th {
		note(m.decide(now, s, trip{scope: ScopeCountry, key: region, signal: SignalUnconfirmed,
			level: lv - t.explained, threshold: th, leak: kinds[kindCountry].leak, base: cb, region: region}))
	}
	return nil
}

// spread counts one more country for s's address, and blocks the address
// when it asked for more than th countries beyond its first.
func (m *Monitor) spread(ctx context.Context, now int64, s *Send, region string, th int32, base Baseline, note func(*block, bool)) error {
	p := planPool.Get().(*plan)
	defer planPool.Put(p)
	p.reset()
	p.n = 1
	p.ops[0] = counterOp{key: keyNS + kinds[kindSpread].tag + ":" + addrKey(s.ClientIP), kind: kindSpread, cost: unit}
	p.at[kindSpread] = 0
	err := m.store.apply(ctx, p.ops[:1], p.lv[:1])
	p.dropKeys()
	if err != nil {
		return err
	}
	lv := (p.lv[0] + unit - 1) / unit
	if lv > th {
		base.Floor, base.Learnt = m.floors.Countries, int(th)
		note(m.decide(now, s, trip{scope: ScopeAddress, key: addrKey(s.ClientIP), signal: SignalCountries,
			level: lv, threshold: th, leak: kinds[kindSpread].leak, base: base, region: region}))
	}
	return nil
}

// hopBrake is how many ranges of one region blocked for the first time
// within about an hour brake the region: a pumper hopping from range to
// range faster than blocks can follow.
const hopBrake = 20

// hops counts a new block of a range of t.region, and brakes the region
// when its ranges fall one after the other.
func (m *Monitor) hops(now int64, s *Send, t trip) {
	b := m.region(t.region)
	b.mu.Lock()
	left := b.hops - float64(now-b.hopsAt)/float64(time.Hour/hopBrake)
	b.hops, b.hopsAt = max(left, 0)+1, now
	n := b.hops
	b.mu.Unlock()
	if n >= hopBrake {
		m.decide(now, s, trip{scope: ScopeCountry, key: t.region, signal: SignalRanges, level: int32(n),
			threshold: hopBrake, leak: time.Hour / hopBrake, base: t.base, region: t.region})
	}
}

// leakDiffuse drains the region's count of sends to fresh ranges while it
// was over its threshold, and returns it. b.mu must be held.
func (b *baseline) leakDiffuse(now int64) float64 {
	left := b.diffuse - float64(now-b.diffAt)/float64(kinds[kindCountry].leak)
	b.diffuse, b.diffAt = max(left, 0), now
	return b.diffuse
}

// floorEvery is how often the confirmations per day of a region are read
// again from the store for authgear's floor.
const floorEvery = 10 * time.Minute

// countryFloor reads the region's confirmations of the last 15 days, when
// the cached ones are older than floorEvery.
func (m *Monitor) countryFloor(ctx context.Context, now int64, region string, b *baseline) error {
	b.mu.Lock()
	fresh := b.floorAt != 0 && now-b.floorAt < int64(floorEvery)
	b.mu.Unlock()
	if fresh {
		return nil
	}
	const days = 15
	var ops [days]counterOp
	var lv [days]int32
	today := now / int64(24*time.Hour)
	for i := range ops {
		ops[i] = counterOp{key: keyNS + kinds[kindDay].tag + ":" + region + ":" + itoa(today-int64(i)), kind: kindDay}
	}
	if err := m.store.apply(ctx, ops[:], lv[:]); err != nil {
		return err
	}
	best := int32(0)
	for i := range lv {
		// A day's counter has drained a little since that day.
		lv[i] = (lv[i] + unit - 1) / unit
		if i < 14 {
			best = max(best, lv[i])
		}
	}
	frac := float64(now%int64(24*time.Hour)) / float64(24*time.Hour)
	b.mu.Lock()
	b.floorAt = now
	b.bestDay = best
	b.day24h = lv[0] + int32(float64(lv[1])*(1-frac))
	b.mu.Unlock()
	return nil
}

// authgear returns authgear's daily threshold for the region: max(20,
// 0.2 × best day in 14, 0.2 × confirmed in 24 h). b.mu must be held.
func (b *baseline) authgear() int32 {
	return max(20, b.bestDay/5, b.day24h/5)
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}
