package pumping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

var ctx = context.Background()

func num(t testing.TB, s string) numbers.Number {
	t.Helper()
	n, err := numbers.Parse(s, "")
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return n
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// newLimiter returns a Limiter over a memory store on clock.
func newLimiter(t testing.TB, clock *testkit.Clock) *ratelimit.Limiter {
	t.Helper()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: clock.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := ratelimit.New(store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lim.Close(context.Background()) })
	return lim
}

// newTest returns a monitor on a fake clock and its decisions.
func newTest(t testing.TB, cfg Config) (*Monitor, *testkit.Clock, *[]Decision) {
	t.Helper()
	clock := testkit.NewClock()
	var mu sync.Mutex
	var decs []Decision
	cfg.Now = clock.Now
	cfg.OnDecision = func(d Decision) {
		mu.Lock()
		decs = append(decs, d)
		mu.Unlock()
	}
	m, err := New(newLimiter(t, clock), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, clock, &decs
}

// gbRange returns the GB mobile number "+447711" + middle + 4-digit suffix i.
func gb(t testing.TB, middle string, i int) numbers.Number {
	return num(t, fmt.Sprintf("+447711%s%04d", middle, i))
}

// v4 returns a distinct residential-looking address for i.
func v4(i int) netip.Addr { return netip.AddrFrom4([4]byte{81, byte(i >> 16), byte(i >> 8), byte(i)}) }

func TestUnconfirmedRangeIsBlocked(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(m.Blocklist()))
	if err != nil {
		t.Fatal(err)
	}
	// Random numbers of one block of 10,000, from rotating addresses,
	// none confirmed: the third send trips Range4 (floor 3).
	suffixes := []int{1234, 8812, 5093, 7301, 2640}
	var blocked error
	sent := 0
	for i, sfx := range suffixes {
		clock.Advance(time.Minute)
		err := m.Allow(ctx, Send{Number: gb(t, "12", sfx), ClientIP: v4(i)})
		if err != nil {
			blocked = err
			break
		}
		sent++
	}
	if sent != 2 {
		t.Fatalf("sent %d before the block, want 2", sent)
	}
	var be *BlockedError
	if !errors.As(blocked, &be) || !errors.Is(blocked, ErrBlocked) {
		t.Fatalf("Allow = %v, want a *BlockedError", blocked)
	}
	if be.Block.Scope != ScopeRange || be.Block.Key != "+44771112" || be.Block.Strike != 1 {
		t.Errorf("block = %+v, want range +44771112 strike 1", be.Block)
	}
	if len(*decs) != 1 {
		t.Fatalf("%d decisions, want 1", len(*decs))
	}
	d := (*decs)[0]
	if d.Signal != SignalUnconfirmed || d.Level != 3 || d.Threshold != 3 || d.Baseline.Floor != 3 ||
		d.For != 15*time.Minute || d.Region != "GB" || !strings.Contains(d.Masked, "*") {
		t.Errorf("decision = %+v", d)
	}
	// The policy refuses every number of the block now, and only those.
	if dec := policy.Check(gb(t, "12", 9999), numbers.SMS); dec.Allowed || dec.Reason != numbers.ReasonPrefixBlocked {
		t.Errorf("policy on a blocked number: %+v", dec)
	}
	if dec := policy.Check(gb(t, "13", 1234), numbers.SMS); !dec.Allowed {
		t.Errorf("policy on a neighbouring block: %+v", dec)
	}
	// The block ends after 15 minutes.
	clock.Advance(15 * time.Minute)
	if dec := policy.Check(gb(t, "12", 9999), numbers.SMS); !dec.Allowed {
		t.Errorf("policy after the block: %+v", dec)
	}
}

func TestConfirmedRangeIsNotBlocked(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// Forty users of one block, 85% of whom confirm: never blocked.
	for i := range 40 {
		clock.Advance(10 * time.Minute)
		s := Send{Number: gb(t, "12", 100*i+7), ClientIP: v4(i)}
		if err := m.Allow(ctx, s); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%7 != 3 {
			clock.Advance(40 * time.Second)
			if err := m.Confirmed(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(*decs) != 0 {
		t.Errorf("decisions: %+v", *decs)
	}
}

func TestRepeatsAreNotANewNumber(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// One user asking five times for the same number from one address is
	// not a pumped range, nor a pumping address.
	s := Send{Number: gb(t, "12", 4242), ClientIP: v4(1)}
	for range 5 {
		clock.Advance(2 * time.Minute)
		if err := m.Allow(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if len(*decs) != 0 {
		t.Errorf("decisions: %+v", *decs)
	}
}

func TestSequentialRun(t *testing.T) {
	// Range floors high enough (as the thresholds learnt for a dense app
	// are) that only the run signal trips.
	f := DefaultFloors()
	f.Ranges = [numRanges]int{10, 10, 10, 10, 10}
	m, clock, decs := newTest(t, Config{Floors: f})
	// A script walking adjacent numbers: the third number of one block of
	// ten trips a run, which blocks the 1,000 numbers around it.
	var err error
	n := 0
	for i := 500; i < 510; i++ {
		clock.Advance(2 * time.Second)
		if err = m.Allow(ctx, Send{Number: gb(t, "12", i), ClientIP: v4(i)}); err != nil {
			break
		}
		n++
	}
	if n != 2 {
		t.Fatalf("sent %d, want 2 (%v)", n, err)
	}
	d := (*decs)[0]
	if d.Signal != SignalRun || d.Key != "+447711120" || d.Level != 3 {
		t.Errorf("decision = %+v, want a run blocking +447711120", d)
	}
	// A slow walk (an hour between numbers) is no run: only the range
	// counters see it.
	m2, clock2, decs2 := newTest(t, Config{Floors: f})
	for i := 500; i < 503; i++ {
		clock2.Advance(time.Hour)
		if err := m2.Allow(ctx, Send{Number: gb(t, "12", i), ClientIP: v4(i)}); err != nil {
			t.Fatalf("slow walk refused at %d: %v", i, err)
		}
	}
	if len(*decs2) != 0 {
		t.Errorf("slow walk: %+v", *decs2)
	}
}

// pumped counts the numbers pump used, so that it never repeats one.
var pumped int

// pump sends unconfirmed codes to random-looking numbers of block middle
// until one is refused, and returns the sends that went out.
func pump(t *testing.T, m *Monitor, clock *testkit.Clock, middle string, every time.Duration, max int) (int, error) {
	t.Helper()
	for i := range max {
		clock.Advance(every)
		pumped++
		err := m.Allow(ctx, Send{Number: gb(t, middle, (pumped*7919+13)%10000), ClientIP: v4(1000 + pumped)})
		if err != nil {
			return i, err
		}
	}
	return max, nil
}

func TestEscalation(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	if n, _ := pump(t, m, clock, "12", time.Minute, 10); n != 2 {
		t.Fatalf("first block after %d sends", n)
	}
	// A pumper that keeps hitting the blocked range gets no send through:
	// the block is extended to its next steps before it ends.
	for i := range 200 {
		clock.Advance(2 * time.Minute)
		s := Send{Number: gb(t, "12", (i*31+7)%10000), ClientIP: v4(5000 + i)}
		if _, ok := m.Blocked(s); !ok {
			t.Fatalf("after %v the range is not blocked; decisions %+v", time.Duration(i+1)*2*time.Minute, *decs)
		}
		m.Refused(s)
	}
	var fors []time.Duration
	for _, d := range *decs {
		fors = append(fors, d.For)
	}
	want := []time.Duration{15 * time.Minute, time.Hour, 12 * time.Hour, 24 * time.Hour}
	if fmt.Sprint(fors) != fmt.Sprint(want) {
		t.Errorf("block steps %v, want %v", fors, want)
	}
	if d := (*decs)[1]; d.Signal != SignalRefused || d.Strike != 2 {
		t.Errorf("extension %+v", d)
	}
}

func TestProbationAfterABlock(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	pump(t, m, clock, "12", time.Minute, 10)
	// The block ends unseen; a legit user of the range then confirms: no
	// new block. The second unconfirmed send blocks it again, for an hour.
	clock.Advance(16 * time.Minute)
	u := Send{Number: gb(t, "12", 4444), ClientIP: v4(77)}
	if err := m.Allow(ctx, u); err != nil {
		t.Fatalf("first send after the block: %v", err)
	}
	clock.Advance(30 * time.Second)
	if err := m.Confirmed(ctx, u); err != nil {
		t.Fatal(err)
	}
	if n, _ := pump(t, m, clock, "12", time.Minute, 10); n != 2 {
		t.Errorf("%d sends before the second block, want 2", n)
	}
	if len(*decs) != 2 || (*decs)[1].Strike != 2 || (*decs)[1].For != time.Hour {
		t.Errorf("decisions %+v", *decs)
	}
	// A week without blocks: the next block starts at 15 minutes again.
	clock.Advance(8 * 24 * time.Hour)
	pump(t, m, clock, "12", time.Minute, 10)
	if last := (*decs)[len(*decs)-1]; last.Strike != 1 || last.For != 15*time.Minute {
		t.Errorf("after a week: %+v", last)
	}
}

func TestShadow(t *testing.T) {
	m, clock, decs := newTest(t, Config{Shadow: true})
	if n, err := pump(t, m, clock, "12", time.Minute, 10); n != 10 || err != nil {
		t.Fatalf("shadow refused after %d: %v", n, err)
	}
	if len(*decs) == 0 || !(*decs)[0].Shadow {
		t.Fatalf("decisions %+v", *decs)
	}
	if len(m.Blocklist().Entries()) != 0 {
		t.Errorf("shadow mode wrote to the blocklist: %v", m.Blocklist().Entries())
	}
	b, ok := m.Blocked(Send{Number: gb(t, "12", 1)})
	if !ok || !b.Shadow || b.Key != "+44771112" {
		t.Errorf("Blocked = %+v, %v", b, ok)
	}
	if bs := m.Blocks(); len(bs) != 1 || !bs[0].Shadow {
		t.Errorf("Blocks = %+v", bs)
	}
}

func TestAddressBlock(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// A script rotating through one IPv6 /64, to numbers of many
	// countries' ranges so that no range trips first.
	net := netip.MustParsePrefix("2001:db8:1:2::/64")
	regions := []string{"+447711%06d", "+4915112%06d", "+3361234%04d", "+234803%07d", "+639171%06d", "+8613812%06d"}
	var err error
	sent := 0
	for i := 0; i < 20 && err == nil; i++ {
		clock.Advance(time.Minute)
		a := net.Addr().As16()
		a[15], a[14] = byte(i), byte(i*7)
		n := num(t, fmt.Sprintf(regions[i%len(regions)], 1000+i*977))
		if err = m.Allow(ctx, Send{Number: n, ClientIP: netip.AddrFrom16(a)}); err == nil {
			sent++
		}
	}
	var be *BlockedError
	if !errors.As(err, &be) || be.Block.Scope != ScopeAddress || be.Block.Key != "2001:db8:1:2::/64" {
		t.Fatalf("after %d sends: %v; decisions %+v", sent, err, *decs)
	}
	// Every address of the /64 is refused by Check; others are not.
	if err := m.Check(Send{Number: gb(t, "99", 1), ClientIP: addr("2001:db8:1:2:ffff::1")}); !errors.Is(err, ErrBlocked) {
		t.Errorf("Check in the /64: %v", err)
	}
	if err := m.Check(Send{Number: gb(t, "99", 1), ClientIP: addr("2001:db8:1:3::1")}); err != nil {
		t.Errorf("Check outside the /64: %v", err)
	}
	// Unblock by any address of the /64.
	lifted, err := m.Unblock(ctx, ScopeAddress, "2001:db8:1:2::42")
	if err != nil || !lifted {
		t.Fatalf("Unblock = %v, %v", lifted, err)
	}
	if err := m.Check(Send{Number: gb(t, "99", 1), ClientIP: addr("2001:db8:1:2::1")}); err != nil {
		t.Errorf("Check after Unblock: %v", err)
	}
}

func TestCountries(t *testing.T) {
	f := DefaultFloors()
	f.Address = 10 // so that only the countries signal trips
	m, clock, decs := newTest(t, Config{Floors: f})
	// One address asking for codes in five countries, confirming none:
	// the fifth is one too many (three beyond the first are allowed).
	ip := v4(9)
	ns := []string{"+447711123456", "+4915112345678", "+33612345678", "+2348031234567", "+639171234567"}
	var err error
	for i, s := range ns {
		clock.Advance(time.Minute)
		if err = m.Allow(ctx, Send{Number: num(t, s), ClientIP: ip}); err != nil {
			if i != 4 {
				t.Fatalf("refused at %d: %v", i, err)
			}
		}
	}
	if len(*decs) != 1 || (*decs)[0].Signal != SignalCountries || (*decs)[0].Scope != ScopeAddress || (*decs)[0].Level != 4 {
		t.Fatalf("decisions %+v", *decs)
	}
	if !errors.Is(err, ErrBlocked) {
		t.Errorf("fifth country: %v", err)
	}
}

func TestBusyAddressThatConverts(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// A carrier NAT address: 200 users in an evening, a new one every 30
	// seconds, 80% of whom confirm about a minute after their code.
	nat := addr("100.64.7.1")
	var late []Send
	for i := range 200 {
		clock.Advance(30 * time.Second)
		for _, s := range late {
			_ = m.Confirmed(ctx, s)
		}
		late = late[:0]
		s := Send{Number: num(t, fmt.Sprintf("+4477%02d%06d", 11+i%8, 123456+i*1301)), ClientIP: nat}
		if err := m.Allow(ctx, s); err != nil {
			t.Fatalf("user %d refused: %v", i, err)
		}
		if i%5 != 4 {
			late = append(late, s)
		}
	}
	if len(*decs) != 0 {
		t.Errorf("decisions %+v", *decs)
	}
}

func TestWidening(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// A pumper hopping between blocks of 10,000 of one allocation of a
	// million numbers: after the third block, the allocation is blocked.
	for _, mid := range []string{"12", "47", "83"} {
		pump(t, m, clock, mid, time.Minute, 10)
	}
	var keys []string
	for _, d := range *decs {
		keys = append(keys, string(d.Signal)+" "+d.Key)
	}
	want := "[unconfirmed +44771112 unconfirmed +44771147 unconfirmed +44771183 neighbours +447711]"
	if fmt.Sprint(keys) != want {
		t.Errorf("decisions %v, want %v", keys, want)
	}
	if _, ok := m.Blocked(Send{Number: gb(t, "55", 1)}); !ok {
		t.Error("a fourth block of the allocation is not blocked")
	}
}

func TestCountryBrake(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// A regular user of GB, confirmed before the attack.
	regular := Send{Number: num(t, "+447900123456"), ClientIP: v4(1)}
	if err := m.Allow(ctx, regular); err != nil {
		t.Fatal(err)
	}
	if err := m.Confirmed(ctx, regular); err != nil {
		t.Fatal(err)
	}
	// A spray of numbers all over GB's mobile ranges, one per range: no
	// range trips, the region does.
	var err error
	i := 0
	for ; i < 500 && err == nil; i++ {
		clock.Advance(20 * time.Second)
		n := num(t, fmt.Sprintf("+447%d%02d%06d", 4+i%6, i%97, (i*7919)%1000000))
		err = m.Allow(ctx, Send{Number: n, ClientIP: v4(100 + i)})
	}
	var be *BlockedError
	if !errors.As(err, &be) || be.Block.Scope != ScopeCountry || be.Block.Key != "GB" {
		t.Fatalf("after %d sends: %v", i, err)
	}
	if i > 110 {
		t.Errorf("brake after %d sends", i)
	}
	d := (*decs)[len(*decs)-1]
	if d.Threshold != 50 || d.Baseline.Floor != 50 || d.For != 10*time.Minute {
		t.Errorf("brake decision %+v", d)
	}
	// The brake refuses new numbers of GB, not the confirmed one, and not
	// other countries.
	if err := m.Check(Send{Number: num(t, "+447911654321"), ClientIP: v4(2)}); !errors.Is(err, ErrBlocked) {
		t.Errorf("new GB number: %v; blocks %+v", err, m.Blocks())
	}
	if err := m.Check(regular); err != nil {
		t.Errorf("confirmed GB number: %v", err)
	}
	if err := m.Check(Send{Number: num(t, "+4915112345678"), ClientIP: v4(2)}); err != nil {
		t.Errorf("DE number: %v", err)
	}
}

func TestLearntThresholds(t *testing.T) {
	// A dense app: a code every 10 seconds to one block of 10,000 numbers,
	// 85% confirmed a minute later, so that a dozen codes are always
	// waiting for their confirmation. The floors alone would block the
	// block at once. Run in shadow mode for the first hours, the monitor
	// learns how high its legitimate traffic drives the counters.
	m, clock, decs := newTest(t, Config{Shadow: true})
	var waiting []Send
	send := func(i int) error {
		clock.Advance(10 * time.Second)
		if len(waiting) >= 6 {
			_ = m.Confirmed(ctx, waiting[0])
			waiting = waiting[1:]
		}
		s := Send{Number: gb(t, "12", (i*7919)%10000), ClientIP: v4(i)}
		err := m.Allow(ctx, s)
		if err == nil && i%7 != 0 {
			waiting = append(waiting, s)
		}
		return err
	}
	for i := range 2000 {
		if err := send(i); err != nil {
			t.Fatalf("shadow mode refused: %v", err)
		}
	}
	if len(*decs) == 0 {
		t.Fatal("the floors alone never tripped: the traffic is not dense enough to test anything")
	}
	b := m.region("GB")
	b.mu.Lock()
	learnt := b.threshold(learnRange4)
	b.mu.Unlock()
	if learnt <= int32(DefaultFloors().Ranges[2]) {
		t.Fatalf("learnt Range4 threshold %d, not above the floor", learnt)
	}
	m.SetShadow(false)
	clock.Advance(24 * time.Hour) // shadow blocks gone
	*decs = nil
	for i := 2000; i < 4000; i++ {
		if err := send(i); err != nil {
			t.Fatalf("send %d refused: %v (learnt %d)", i, err, learnt)
		}
	}
	// The same block pumped, once what legit users left in it drained:
	// blocked within the learnt threshold.
	clock.Advance(3 * 24 * time.Hour)
	n, err := pump(t, m, clock, "12", 10*time.Second, 100)
	if err == nil || n > int(learnt) {
		t.Errorf("pumping a dense block: %d sends before the block (learnt %d), %v", n, learnt, err)
	}
}

func TestUnblockRange(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	pump(t, m, clock, "12", time.Minute, 10)
	lifted, err := m.Unblock(ctx, ScopeRange, "+44 7711 12")
	if err != nil || !lifted {
		t.Fatalf("Unblock = %v, %v", lifted, err)
	}
	if len(m.Blocklist().Entries()) != 0 || len(m.Blocks()) != 0 {
		t.Errorf("still blocked: %v %v", m.Blocklist().Entries(), m.Blocks())
	}
	// Pardoned: the range is not blocked again for StrikeMemory.
	if n, err := pump(t, m, clock, "12", time.Minute, 20); n != 20 {
		t.Errorf("pardoned range refused after %d: %v (%+v)", n, err, *decs)
	}
	if _, err := m.Unblock(ctx, ScopeRange, "+44x"); err == nil {
		t.Error("Unblock of a bad range: no error")
	}
	if lifted, _ := m.Unblock(ctx, ScopeCountry, "gb"); lifted {
		t.Error("Unblock of GB lifted something")
	}
}

func TestConfig(t *testing.T) {
	bad := []Config{
		{Floors: Floors{Run: 0, Ranges: [numRanges]int{1}}},
		{Floors: func() Floors { f := DefaultFloors(); f.Ranges[2] = 10000; return f }()},
		{Durations: []time.Duration{time.Minute, -time.Second}},
		{Durations: []time.Duration{}},
		{Brakes: []time.Duration{0}},
		{StrikeMemory: -1},
		{MaxBlocks: -1},
	}
	lim := newLimiter(t, testkit.NewClock())
	for i, cfg := range bad {
		if _, err := New(lim, cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%d: New(%+v) = %v, want ErrInvalidConfig", i, cfg, err)
		}
	}
	if _, err := New(nil, Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil Limiter: %v", err)
	}
	if _, err := New(lim, Config{}); err != nil {
		t.Errorf("zero Config: %v", err)
	}
}

func TestBounded(t *testing.T) {
	m, clock, _ := newTest(t, Config{MaxTracked: 1000, MaxBlocks: 64, MaxDecisions: 16})
	// A flood of addresses and ranges, none confirmed, in many
	// countries: every table stays within its bound.
	for i := range 20000 {
		clock.Advance(time.Second)
		n := num(t, fmt.Sprintf("+4477%02d%06d", 11+i%80, (i*7919)%1000000))
		_ = m.Allow(ctx, Send{Number: n, ClientIP: v4(i)})
		m.Refused(Send{Number: n, ClientIP: v4(i)})
		if i%3 == 0 {
			_ = m.Confirmed(ctx, Send{Number: n, ClientIP: v4(i)})
		}
	}
	m.mu.Lock()
	nb, ns, nf, nc := len(m.blocks), len(m.strikes), len(m.family), m.conf.n
	m.mu.Unlock()
	if nb > 64 || ns > 1000 || nf > 1000 || nc > 1000 || len(m.pend.m) > 1000 || len(m.Decisions()) > 16 {
		t.Errorf("blocks %d strikes %d family %d confirmed %d pending %d decisions %d",
			nb, ns, nf, nc, len(m.pend.m), len(m.Decisions()))
	}
	// Range blocks, and the confirmed numbers each lets through.
	ranges, allows := 0, 0
	for _, e := range m.Blocklist().Entries() {
		if e.Allow {
			allows++
		} else {
			ranges++
		}
	}
	m.mu.Lock()
	held := 0
	for _, b := range m.blocks {
		held += len(b.allows)
	}
	m.mu.Unlock()
	if ranges > 64 || allows > held {
		t.Errorf("blocklist holds %d ranges and %d allow entries; the blocks hold %d", ranges, allows, held)
	}
}

func TestConcurrent(t *testing.T) {
	m, clock, _ := newTest(t, Config{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				clock.Advance(time.Second)
				s := Send{Number: gb(t, fmt.Sprintf("%02d", g), i*37%10000), ClientIP: v4(g*1000 + i)}
				if m.Allow(ctx, s) != nil {
					m.Refused(s)
				}
				if i%2 == 0 {
					_ = m.Confirmed(ctx, s)
				}
				_ = m.Check(s)
				_, _ = m.Blocked(s)
				_ = m.Blocks()
			}
		}()
	}
	wg.Wait()
}

func TestLog(t *testing.T) {
	var buf testkit.Buffer
	m, clock, _ := newTest(t, Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	pump(t, m, clock, "12", time.Minute, 10)
	out := buf.String()
	if !strings.Contains(out, "pumping: block") || !strings.Contains(out, "key=+44771112") {
		t.Errorf("log: %s", out)
	}
	if strings.Contains(out, "+447711120") && !strings.Contains(out, "*") {
		t.Errorf("a whole number in the log: %s", out)
	}
	for _, full := range []string{"+44771112", "+447711128"} {
		_ = full
	}
}

func TestPoissonLevel(t *testing.T) {
	for _, c := range []struct {
		lambda float64
		want   int32
	}{{0, 1}, {0.00005, 1}, {0.001, 2}, {0.05, 3}, {0.5, 6}, {2, 10}} {
		if got := poissonLevel(c.lambda, 1e-4); got != c.want {
			t.Errorf("poissonLevel(%v) = %d, want %d", c.lambda, got, c.want)
		}
	}
}

func TestNormalizeKey(t *testing.T) {
	for _, c := range []struct {
		scope    Scope
		in, want string
	}{
		{ScopeRange, "+44 7711-12", "+44771112"},
		{ScopeRange, "44771112", "+44771112"},
		{ScopeAddress, "2001:db8::1", "2001:db8::/64"},
		{ScopeAddress, "2001:db8::/48", "2001:db8::/64"},
		{ScopeAddress, "::ffff:203.0.113.7", "203.0.113.7"},
		{ScopeAddress, "fe80::1%eth0", "fe80::/64"},
		{ScopeCountry, "gb", "GB"},
		{ScopeCountry, "+44", "+44"},
		{ScopeNetwork, "23415", "23415"},
	} {
		got, err := normalizeKey(c.scope, c.in)
		if err != nil || got != c.want {
			t.Errorf("normalizeKey(%v, %q) = %q, %v; want %q", c.scope, c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		scope Scope
		in    string
	}{{ScopeRange, "+0123"}, {ScopeRange, "+"}, {ScopeRange, "+1234567890123456"}, {ScopeAddress, "1.2.3"},
		{ScopeCountry, "GBR"}, {ScopeCountry, "+0"}, {ScopeCountry, "+1000"}, {ScopeNetwork, ""}, {Scope(9), "x"}} {
		if _, err := normalizeKey(c.scope, c.in); err == nil {
			t.Errorf("normalizeKey(%v, %q): no error", c.scope, c.in)
		}
	}
}

func TestNetworkBlock(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// Sends to one carrier's numbers all over the country (no range
	// trips), none confirmed: the network is blocked at its floor of 20.
	var err error
	i := 0
	for ; i < 40 && err == nil; i++ {
		clock.Advance(time.Minute)
		n := num(t, fmt.Sprintf("+447%d%02d%06d", 4+i%6, i*13%97, (i*7919)%1000000))
		err = m.Allow(ctx, Send{Number: n, ClientIP: v4(i), Network: "234-15"})
	}
	var be *BlockedError
	if !errors.As(err, &be) || be.Block.Scope != ScopeNetwork || be.Block.Key != "234-15" || i != 20 {
		t.Fatalf("after %d sends: %v; decisions %+v", i, err, *decs)
	}
	if err := m.Check(Send{Number: num(t, "+447911123456"), Network: "234-15"}); !errors.Is(err, ErrBlocked) {
		t.Errorf("Check on the network: %v", err)
	}
	if err := m.Check(Send{Number: num(t, "+447911123456"), Network: "234-10"}); err != nil {
		t.Errorf("Check on another network: %v", err)
	}
	// A long network name is hashed, the same way for Check and Unblock.
	long := strings.Repeat("carrier ", 20)
	if k, _ := normalizeKey(ScopeNetwork, long); !strings.HasPrefix(k, "sha256:") {
		t.Errorf("long network key %q", k)
	}
}

func TestHopBrake(t *testing.T) {
	m, clock, decs := newTest(t, Config{})
	// A pumper hopping to a new block of 10,000 anywhere in the country
	// as soon as its block is refused: once 20 blocks of the region fell
	// within the hour, the region is braked.
	blocks := 0
	var err error
	for i := 0; i < 2000 && blocks < 40; i++ {
		clock.Advance(5 * time.Second)
		n := num(t, fmt.Sprintf("+447%d%02d%02d%04d", 4+blocks%6, blocks*37%100, blocks*11%100, i*7%10000))
		err = m.Allow(ctx, Send{Number: n, ClientIP: v4(i)})
		var be *BlockedError
		if errors.As(err, &be) {
			if be.Block.Scope == ScopeCountry {
				break
			}
			blocks++
		}
	}
	last := (*decs)[len(*decs)-1]
	if last.Scope != ScopeCountry || last.Signal != SignalRanges || last.Key != "GB" {
		t.Fatalf("after %d range blocks: last decision %+v (%v)", blocks, last, err)
	}
	if blocks < 19 || blocks > 25 { // the count drains 20 an hour
		t.Errorf("braked after %d range blocks", blocks)
	}
}

func TestInstancesShareCounters(t *testing.T) {
	// Two instances of an app behind a load balancer, one store: a
	// pumper's sends alternate between them. The counters are shared, so
	// the range is blocked after as many sends as with one instance, and
	// the other instance blocks it at the first send it sees after that.
	clock := testkit.NewClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	limA, _ := ratelimit.New(store)
	limB, _ := ratelimit.New(store)
	a, err := New(limA, Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(limB, Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mons := []*Monitor{a, b}
	sent := 0
	var err2 error
	for i := range 10 {
		clock.Advance(time.Minute)
		if err2 = mons[i%2].Allow(ctx, Send{Number: gb(t, "12", i*1013), ClientIP: v4(i)}); err2 != nil {
			break
		}
		sent++
	}
	if sent != 2 || !errors.Is(err2, ErrBlocked) {
		t.Fatalf("sent %d across two instances, then %v", sent, err2)
	}
	// a refused the third; b has not blocked anything yet, and refuses
	// its next send to the range.
	if len(b.Blocks()) != 0 || len(a.Blocks()) != 1 {
		t.Fatalf("blocks: a %v, b %v", a.Blocks(), b.Blocks())
	}
	if err := b.Allow(ctx, Send{Number: gb(t, "12", 7777), ClientIP: v4(99)}); !errors.Is(err, ErrBlocked) {
		t.Errorf("b's first send after a's block: %v", err)
	}
}

func TestInTake(t *testing.T) {
	clock := testkit.NewClock()
	lim := newLimiter(t, clock)
	m, err := New(lim, Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The app's own limit in the same take: one code per address a day.
	perAddr := func(s Send) ratelimit.Request {
		return ratelimit.Request{Key: ratelimit.KeyIP(s.ClientIP), Limit: ratelimit.PerDay(1)}
	}
	take := func(s Send) (ratelimit.Decision, error) {
		reqs := m.AppendRequests([]ratelimit.Request{perAddr(s)}, s)
		if len(reqs) < 8 {
			t.Fatalf("%d requests", len(reqs))
		}
		for _, r := range reqs[1:] {
			if !r.Record || r.Cost != unit || !strings.HasPrefix(r.Key, keyNS) {
				t.Fatalf("monitor request %+v", r)
			}
		}
		return lim.AllowAll(ctx, reqs, nil)
	}
	// Two sends to a block of 10,000 pass; a third is refused by Judge.
	for i := range 3 {
		clock.Advance(time.Minute)
		s := Send{Number: gb(t, "12", 1000+i*3001), ClientIP: v4(i)}
		d, err := take(s)
		if err != nil || !d.Allowed {
			t.Fatalf("take %d: %+v %v", i, d, err)
		}
		err = m.Judge(ctx, s, d.Results[1:])
		if (err != nil) != (i == 2) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// A take the app's limit denies spends none of the monitor's
	// counters: the same address again, to a fresh block, three times.
	for i := range 3 {
		s := Send{Number: gb(t, "34", 1000+i*3001), ClientIP: v4(0)}
		if d, _ := take(s); d.Allowed {
			t.Fatal("the address's second code was allowed")
		}
	}
	s := Send{Number: gb(t, "34", 7), ClientIP: v4(77)}
	d, err := take(s)
	if err != nil || !d.Allowed {
		t.Fatal(err)
	}
	if err := m.Judge(ctx, s, d.Results[1:]); err != nil {
		t.Errorf("first send the block's counter saw: %v", err)
	}
	if err := m.Judge(ctx, s, nil); err == nil {
		t.Error("Judge without results: no error")
	}
}

func TestLayout(t *testing.T) {
	for _, s := range []Send{
		{Number: num(t, "+447711123456"), ClientIP: v4(1), Network: "234-15"},
		{Number: num(t, "+447711123456")},
		{Number: num(t, "+6831234"), ClientIP: addr("2001:db8::1")}, // Niue: 4 digits, no range
		{Number: num(t, "+35312345678"), Network: "x"},
	} {
		p := new(plan)
		bl := builder{p: p}
		bl.build(&s, regionOf(s.Number), unit, kindCost{k: kindPair, cost: unit})
		at, n := layout(&s)
		if at != p.at || n != p.n {
			t.Errorf("%v: layout %v %d, build %v %d", s.Number, at, n, p.at, p.n)
		}
	}
}

// TestConfirmedNumberPassesRangeBlock: a number confirmed before its range
// was blocked, or confirmed since for a code sent before the block, stays
// allowed by the number policy; the rest of the range does not.
func TestConfirmedNumberPassesRangeBlock(t *testing.T) {
	m, clock, _ := newTest(t, Config{})
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(m.Blocklist()))
	if err != nil {
		t.Fatal(err)
	}
	// A user of the range confirmed yesterday.
	user := Send{Number: gb(t, "12", 4321), ClientIP: v4(1)}
	if err := m.Allow(ctx, user); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := m.Confirmed(ctx, user); err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour)
	// Another user is sent a code; then the range is pumped and blocked
	// before that user types it.
	late := Send{Number: gb(t, "12", 5555), ClientIP: v4(2)}
	if err := m.Allow(ctx, late); err != nil {
		t.Fatal(err)
	}
	if n, err := pump(t, m, clock, "12", 10*time.Second, 10); !errors.Is(err, ErrBlocked) {
		t.Fatalf("pumped %d sends, then %v", n, err)
	}
	if d := policy.Check(gb(t, "12", 9876), numbers.SMS); d.Reason != numbers.ReasonPrefixBlocked {
		t.Fatalf("a number of the pumped range: %v", d)
	}
	if d := policy.Check(user.Number, numbers.SMS); !d.Allowed {
		t.Errorf("the confirmed user: %v", d)
	}
	if d := policy.Check(late.Number, numbers.SMS); d.Allowed {
		t.Errorf("a user who has not confirmed yet is allowed: %v", d)
	}
	clock.Advance(30 * time.Second)
	if err := m.Confirmed(ctx, late); err != nil {
		t.Fatal(err)
	}
	if d := policy.Check(late.Number, numbers.SMS); !d.Allowed {
		t.Errorf("the user who confirmed after the block: %v", d)
	}
	// The allow entries end with the block.
	bs := m.Blocks()
	if len(bs) != 1 {
		t.Fatalf("blocks %+v", bs)
	}
	allows := 0
	for _, e := range m.Blocklist().Entries() {
		if e.Allow {
			allows++
			if !e.Expires.Equal(bs[0].Until) {
				t.Errorf("allow entry %+v ends at %v, the block at %v", e, e.Expires, bs[0].Until)
			}
		}
	}
	if allows != 2 {
		t.Errorf("%d allow entries, want 2: %+v", allows, m.Blocklist().Entries())
	}
}

func TestPackNumber(t *testing.T) {
	for _, s := range []string{"+1", "+447711123456", "+999999999999999", "+100000000000000"} {
		k, ok := packNumber(s)
		if !ok || unpackNumber(k) != s {
			t.Errorf("packNumber(%q) = %x, %v; unpacked %q", s, k, ok, unpackNumber(k))
		}
	}
	for _, s := range []string{"", "+", "44", "+1234567890123456", "+44a", "+-1"} {
		if _, ok := packNumber(s); ok {
			t.Errorf("packNumber(%q) ok", s)
		}
	}
}

// TestAllowOutlivesNarrowBlock: a confirmed number under a long block of a
// wide range and a short block of a narrow one stays allowed until the
// long one ends, and a block lifted early takes its allow entries with it.
func TestAllowOutlivesNarrowBlock(t *testing.T) {
	m, clock, _ := newTest(t, Config{})
	x := Send{Number: gb(t, "12", 4321), ClientIP: v4(1)}
	if err := m.Allow(ctx, x); err != nil {
		t.Fatal(err)
	}
	if err := m.Confirmed(ctx, x); err != nil {
		t.Fatal(err)
	}
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(m.Blocklist()))
	if err != nil {
		t.Fatal(err)
	}
	level := int32(50)
	at := func(key string) trip {
		level += 10 // over the probation of the key's last block
		return trip{scope: ScopeRange, key: key, signal: SignalUnconfirmed, level: level, threshold: 3, leak: time.Hour, region: "GB"}
	}
	// The wide range on its second strike (an hour), then the narrow one
	// on its first (15 minutes).
	now := clock.Now().UnixNano()
	m.decide(now, &x, at("+447711"))
	clock.Advance(16 * time.Minute)
	m.decide(clock.Now().UnixNano(), &x, at("+447711"))
	clock.Advance(time.Minute)
	m.decide(clock.Now().UnixNano(), &x, at("+4477111243"))
	var wide time.Time
	for _, b := range m.Blocks() {
		if b.Key == "+447711" {
			wide = b.Until
		}
	}
	for _, e := range m.Blocklist().Entries() {
		if e.Allow && !e.Expires.Equal(wide) {
			t.Errorf("allow entry %+v, want it to end with the wide block at %v", e, wide)
		}
	}
	clock.Advance(20 * time.Minute) // the narrow block is over
	if d := policy.Check(x.Number, numbers.SMS); !d.Allowed {
		t.Errorf("the confirmed number under the wide block: %v", d)
	}
	if d := policy.Check(gb(t, "12", 4322), numbers.SMS); d.Allowed {
		t.Error("its neighbour is allowed")
	}
	if ok, err := m.Unblock(ctx, ScopeRange, "+447711"); !ok || err != nil {
		t.Fatalf("Unblock: %v %v", ok, err)
	}
	if es := m.Blocklist().Entries(); len(es) != 0 {
		t.Errorf("after Unblock the blocklist holds %+v", es)
	}
}

func TestConfirmedIn(t *testing.T) {
	m, clock, _ := newTest(t, Config{})
	now := clock.Now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range []string{"+447711124321", "+447799000001", "+14155550100", "+6831234", "+33612345678"} {
		m.remember(e, now)
	}
	m.remember("+447711120000", now-int64(8*24*time.Hour)) // confirmed too long ago
	for rg, want := range map[string]string{
		"+4477":     "[+447711124321 +447799000001]", // shorter than a bucket
		"+447711":   "[+447711124321]",
		"+4477111":  "[+447711124321]",
		"+1415":     "[+14155550100]",
		"+14155":    "[+14155550100]",
		"+1416":     "[]",
		"+683":      "[+6831234]",
		"+68312":    "[+6831234]",
		"+6831234":  "[+6831234]",
		"+68312345": "[]",
		"+3":        "[+33612345678]",
	} {
		var got []string
		for _, k := range m.confirmedIn(rg, now) {
			got = append(got, unpackNumber(k))
		}
		slices.Sort(got)
		if fmt.Sprint(got) != want {
			t.Errorf("confirmedIn(%s) = %v, want %v", rg, got, want)
		}
	}
}
