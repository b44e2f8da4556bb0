package verify

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// nopSender sends nothing: a Service over it does only the guard work.
type nopSender struct{}

func (nopSender) SendCode(context.Context, SendRequest) error     { return nil }
func (nopSender) CheckCode(context.Context, string, string) error { return nil }

// benchNumbers are distinct US numbers the default policy allows, spread
// over many blocks of 1,000.
var benchNumbers = sync.OnceValue(func() []string {
	policy := numbers.ModeratePolicy()
	out := make([]string, 0, 1<<16)
	for i := 0; len(out) < cap(out); i++ {
		s := fmt.Sprintf("+1415%03d%04d", 200+i%800, i/800)
		if n, err := numbers.Parse(s, ""); err == nil && policy.Check(n, numbers.SMS).Allowed {
			out = append(out, s)
		}
	}
	return out
})

var benchIPs = func() []netip.Addr {
	out := make([]netip.Addr, 1<<10)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
	}
	return out
}()

// stepClock is a clock that moves one second per reading, so that a number
// comes back (after 65,536 others) long after its cooldown has drained. The
// limiter's store reads it once per take.
func stepClock() func() time.Time {
	var t atomic.Int64
	base := time.Now()
	return func() time.Time { return base.Add(time.Duration(t.Add(1)) * time.Second) }
}

// benchService is a Service with every start limit on (high enough never to
// deny), the default cooldown and policy, over sender, on a memory store.
func benchService(b *testing.B, sender Sender) *Service { return benchServiceShared(b, sender, false) }

// benchServiceShared is benchService, with the cooldown in the store when
// shared is set.
func benchServiceShared(b *testing.B, sender Sender, shared bool) *Service {
	b.Helper()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: stepClock()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close(context.Background()) })
	lim, err := ratelimit.New(store)
	if err != nil {
		b.Fatal(err)
	}
	high := ratelimit.PerSecond(1_000_000).WithBurst(1 << 40)
	svc, err := New(sender, lim, Config{
		Limits: &Limits{Phone: high, IP: high, Prefix: high, Country: high, Global: high, Refusals: high},
		Now:    stepClock(), SharedCooldown: shared,
	})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

func benchTwilio(b *testing.B) *TwilioSender {
	b.Helper()
	srv := verifytest.NewServer(verifytest.WithNow(stepClock())) // Verify's 5-per-10-minutes never binds
	b.Cleanup(srv.Close)
	s, err := NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStart measures, as separate sub-benchmarks for benchstat: the
// guard work of Start (a Service over a sender that does nothing), one
// round trip of TwilioSender.SendCode to verifytest over loopback, and both
// together.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	nums := benchNumbers()
	start := func(b *testing.B, svc *Service) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := svc.Start(ctx, StartRequest{Phone: nums[i%len(nums)], ClientIP: benchIPs[i%len(benchIPs)]}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.Run("guard", func(b *testing.B) { start(b, benchService(b, nopSender{})) })
	b.Run("guard-shared", func(b *testing.B) { start(b, benchServiceShared(b, nopSender{}, true)) })
	b.Run("own", func(b *testing.B) {
		// This package's part of guard, on numbers parsed beforehand: what
		// GuardShare's own-ns/op measures.
		svc := benchService(b, nopSender{})
		dsts := benchDestinations(b, svc)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := i % len(dsts)
			ownStart(b, svc, dsts[k], benchIPs[i%len(benchIPs)])
			i++
		}
	})
	b.Run("roundtrip", func(b *testing.B) {
		s := benchTwilio(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := s.SendCode(ctx, SendRequest{To: nums[i%len(nums)], Channel: numbers.SMS}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("start", func(b *testing.B) { start(b, benchService(b, benchTwilio(b))) })
}

// BenchmarkGuardShare runs, alternately in one loop on the same inputs: the
// whole guard of Start (over a sender that does nothing); this package's own
// part of it (cooldown, one multi-limit take, keys, event) on a number parsed
// beforehand; and one round trip of TwilioSender.SendCode to verifytest over
// loopback. It reports each cost, and each guard cost as a percentage of the
// round trip, from one run on one machine state:
//
//	guard-%    all of Start's guard work: parse, policy, cooldown, limits
//	own-%      cooldown, limits, keys and event, without parse and policy
//	numbers-%  the difference: numbers.Parse and Policy.Check
func BenchmarkGuardShare(b *testing.B) {
	ctx := context.Background()
	nums := benchNumbers()
	guard := benchService(b, nopSender{})
	own := benchService(b, nopSender{})
	dsts := benchDestinations(b, own)
	sender := benchTwilio(b)
	var guardNS, ownNS, tripNS time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % len(nums)
		ip := benchIPs[i%len(benchIPs)]
		t0 := time.Now()
		if _, err := guard.Start(ctx, StartRequest{Phone: nums[k], ClientIP: ip}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		ownStart(b, own, dsts[k], ip)
		t2 := time.Now()
		if err := sender.SendCode(ctx, SendRequest{To: nums[k], Channel: numbers.SMS}); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		guardNS += t1.Sub(t0)
		ownNS += t2.Sub(t1)
		tripNS += t3.Sub(t2)
		i++
	}
	if i > 0 && tripNS > 0 {
		n := float64(i)
		b.ReportMetric(float64(guardNS)/n, "guard-ns/op")
		b.ReportMetric(float64(ownNS)/n, "own-ns/op")
		b.ReportMetric(float64(tripNS)/n, "roundtrip-ns/op")
		b.ReportMetric(100*float64(guardNS)/float64(tripNS), "guard-%")
		b.ReportMetric(100*float64(ownNS)/float64(tripNS), "own-%")
		b.ReportMetric(100*float64(guardNS-ownNS)/float64(tripNS), "numbers-%")
	}
}

// benchDestinations parses benchNumbers for svc.
func benchDestinations(b *testing.B, svc *Service) []destination {
	nums := benchNumbers()
	dsts := make([]destination, len(nums))
	for i, n := range nums {
		d, _, err := svc.parseDestination(n, "", numbers.SMS)
		if err != nil {
			b.Fatal(err)
		}
		dsts[i] = d
	}
	return dsts
}

// ownStart does what Start does once the number is parsed and checked:
// the event, and the limits with the cooldown.
func ownStart(b *testing.B, svc *Service, dst destination, ip netip.Addr) {
	_ = svc.event("start", numbers.SMS, dst, ip)
	if _, err := svc.guardStart(context.Background(), dst, ip, nil); err != nil {
		b.Fatal(err)
	}
}
