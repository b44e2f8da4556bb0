package verify_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// nopSender sends nothing: a Service over it does only the guard work.
type nopSender struct{}

func (nopSender) SendCode(context.Context, verify.SendRequest) error { return nil }
func (nopSender) CheckCode(context.Context, string, string) error    { return nil }

// benchNumbers are distinct numbers in distinct blocks of 1,000, cycled so
// that neither the cooldown nor the fake's send window refuses a send.
var benchNumbers = func() []string {
	out := make([]string, 1<<16)
	for i := range out {
		out[i] = fmt.Sprintf("+1415%03d%04d", i%1000, i/1000)
	}
	return out
}()

var benchIPs = func() []netip.Addr {
	out := make([]netip.Addr, 1<<10)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
	}
	return out
}()

// benchService is a Service with every start limit on (high enough never to
// deny), the default cooldown and the numbers policy, over sender.
func benchService(b *testing.B, sender verify.Sender) *verify.Service {
	b.Helper()
	lim, err := ratelimit.New(newStepStore(time.Now))
	if err != nil {
		b.Fatal(err)
	}
	high := ratelimit.PerSecond(1_000_000)
	svc, err := verify.New(verify.Config{
		Sender: sender, Limiter: lim,
		Limits: &verify.Limits{Phone: high, IP: high, Prefix: high, Country: high, Global: high},
	})
	if err != nil {
		b.Fatal(err)
	}
	verify.UseFakeNumbers(svc)
	return svc
}

func twilioSender(b *testing.B) (*verify.TwilioSender, *verifytest.Server) {
	b.Helper()
	srv := verifytest.NewServer()
	b.Cleanup(srv.Close)
	s, err := verify.NewTwilioSender(srv.VerifyV2(), verifytest.ServiceSID)
	if err != nil {
		b.Fatal(err)
	}
	return s, srv
}

// BenchmarkStart compares the guard work of Service.Start (policy, cooldown,
// limits, with a sender that does nothing) with one round trip of
// TwilioSender.SendCode to verifytest over loopback, and with both together.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	b.Run("guard", func(b *testing.B) {
		svc := benchService(b, nopSender{})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := svc.Start(ctx, verify.StartRequest{Phone: benchNumbers[i%len(benchNumbers)], ClientIP: benchIPs[i%len(benchIPs)]}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("roundtrip", func(b *testing.B) {
		s, _ := twilioSender(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := s.SendCode(ctx, verify.SendRequest{To: benchNumbers[i%len(benchNumbers)], Channel: verify.SMS}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("start", func(b *testing.B) {
		s, _ := twilioSender(b)
		svc := benchService(b, s)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := svc.Start(ctx, verify.StartRequest{Phone: benchNumbers[i%len(benchNumbers)], ClientIP: benchIPs[i%len(benchIPs)]}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkGuardShare runs the guard and a round trip alternately in one loop
// and reports the guard's cost as a percentage of the round trip's
// (guard-%), so that the ratio comes from one run on one machine state. The
// target is at most 5.
func BenchmarkGuardShare(b *testing.B) {
	ctx := context.Background()
	s, _ := twilioSender(b)
	guard := benchService(b, nopSender{})
	var guardNS, tripNS time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n, ip := benchNumbers[i%len(benchNumbers)], benchIPs[i%len(benchIPs)]
		t0 := time.Now()
		if _, err := guard.Start(ctx, verify.StartRequest{Phone: n, ClientIP: ip}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := s.SendCode(ctx, verify.SendRequest{To: n, Channel: verify.SMS}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		guardNS += t1.Sub(t0)
		tripNS += t2.Sub(t1)
		i++
	}
	if i > 0 && tripNS > 0 {
		b.ReportMetric(float64(guardNS)/float64(i), "guard-ns/op")
		b.ReportMetric(float64(tripNS)/float64(i), "roundtrip-ns/op")
		b.ReportMetric(100*float64(guardNS)/float64(tripNS), "guard-%")
	}
}
