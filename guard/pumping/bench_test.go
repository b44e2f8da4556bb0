package pumping

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// benchSends returns n sends to distinct numbers of several countries,
// spread over their mobile ranges, from distinct addresses.
func benchSends(b *testing.B, n int) []Send {
	formats := []string{"+447%d%02d%06d", "+4915%d%02d%06d", "+336%d%02d%06d", "+2348%d%02d%06d", "+639%d%02d%06d"}
	out := make([]Send, 0, n)
	for i := 0; len(out) < n; i++ {
		f := formats[i%len(formats)]
		nb, err := numbers.Parse(fmt.Sprintf(f, 1+i%9, (i*37)%100, (i*7919)%1000000), "")
		if err != nil || nb.Type() == numbers.UnknownType {
			continue
		}
		out = append(out, Send{Number: nb, ClientIP: v4(i)})
	}
	return out
}

// startLimits builds the five limits of a verification start, as verify
// does: their keys in one string.
func startLimits(reqs []ratelimit.Request, s *Send) []ratelimit.Request {
	var buf [192]byte
	b := buf[:0]
	var ends [5]int
	parts := [5]string{"verify:start:phone:", "verify:start:ip:", "verify:start:prefix:", "verify:start:country:", "global:verify:start"}
	vals := [5]string{s.Number.E164, "", s.Number.E164[:len(s.Number.E164)-3], s.Number.Region, ""}
	for i := range parts {
		b = append(b, parts[i]...)
		if i == 1 {
			b = s.ClientIP.AppendTo(b)
		} else {
			b = append(b, vals[i]...)
		}
		ends[i] = len(b)
	}
	keys := string(b)
	lims := [5]ratelimit.Limit{ratelimit.PerHour(5), ratelimit.PerHour(20).WithBurst(10), ratelimit.PerHour(20).WithBurst(10),
		ratelimit.PerHour(200).WithBurst(50), ratelimit.PerHour(1000).WithBurst(100)}
	start := 0
	for i := range parts {
		reqs = append(reqs, ratelimit.Request{Key: keys[start:ends[i]], Limit: lims[i]})
		start = ends[i]
	}
	return reqs
}

// BenchmarkSend is a verification start's take on a memory store: the
// five limits of verify alone, and the same take with the monitor's
// counters and its judgement. The difference is what the monitor adds to
// a send. Sends rotate over 8,192 numbers of five countries, from as many
// addresses, 10 simulated seconds apart; four in five are confirmed, in
// batches outside the timed part (a confirmation is an event of its own).
func BenchmarkSend(b *testing.B) {
	for _, monitor := range []bool{false, true} {
		name := "limits"
		if monitor {
			name = "limits+monitor"
		}
		b.Run(name, func(b *testing.B) {
			clock := testkit.NewClock()
			lim := newLimiter(b, clock)
			m, err := New(lim, Config{Now: clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			sends := benchSends(b, 8192)
			reqs := make([]ratelimit.Request, 0, 32)
			results := make([]ratelimit.Result, 32)
			ctx := context.Background()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				s := sends[i%len(sends)]
				clock.Advance(10 * time.Second)
				reqs = startLimits(reqs[:0], &s)
				if monitor {
					reqs = m.AppendRequests(reqs, s)
				}
				d, err := lim.AllowAll(ctx, reqs, results)
				if err != nil {
					b.Fatal(err)
				}
				if monitor && d.Allowed {
					_ = m.Judge(ctx, s, d.Results[5:])
				}
				i++
				if i%32 == 0 {
					b.StopTimer()
					for j := i - 32; j < i; j++ {
						if j%5 != 0 && monitor {
							_ = m.Confirmed(ctx, sends[j%len(sends)])
						}
					}
					b.StartTimer()
				}
			}
		})
	}
}

// BenchmarkConfirmed is a confirmation: its own take on the store, and
// what the monitor learns from it. Sends rotate as in BenchmarkSend, and
// four in five are confirmed; the sends are made in batches outside the
// timed part.
func BenchmarkConfirmed(b *testing.B) {
	clock := testkit.NewClock()
	lim := newLimiter(b, clock)
	m, err := New(lim, Config{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	sends := benchSends(b, 8192)
	ctx := context.Background()
	send := func(from int) []Send {
		var out []Send
		for j := from; j < from+40; j++ {
			clock.Advance(10 * time.Second)
			s := sends[j%len(sends)]
			_ = m.Sent(ctx, s)
			if j%5 != 0 {
				out = append(out, s)
			}
		}
		return out
	}
	batch := send(0)
	i, next := 0, 40
	b.ReportAllocs()
	for b.Loop() {
		if i == len(batch) {
			b.StopTimer()
			batch, i = send(next), 0
			next += 40
			b.StartTimer()
		}
		clock.Advance(time.Second)
		_ = m.Confirmed(ctx, batch[i])
		i++
	}
}

// BenchmarkOwn is the monitor's own work on a send, without the store:
// building its requests, and judging results where every counter holds
// just this send.
func BenchmarkOwn(b *testing.B) {
	clock := testkit.NewClock()
	m, err := New(newLimiter(b, clock), Config{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	sends := benchSends(b, 8192)
	reqs := make([]ratelimit.Request, 0, 32)
	results := make([]ratelimit.Result, 32)
	for i := range results {
		results[i].Remaining = counterBurst - unit
	}
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		s := sends[i%len(sends)]
		clock.Advance(10 * time.Second)
		reqs = m.AppendRequests(reqs[:0], s)
		_ = m.Judge(ctx, s, results)
		i++
	}
}

// BenchmarkConfirmedIn is what a new range block pays to find the numbers
// confirmed in the range, with MaxTracked's default of them remembered.
func BenchmarkConfirmedIn(b *testing.B) {
	clock := testkit.NewClock()
	m, err := New(newLimiter(b, clock), Config{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	now := clock.Now().UnixNano()
	m.mu.Lock()
	for i := range m.conf.max - 1 {
		m.remember(fmt.Sprintf("+4477%08d", i*997%100000000), now)
	}
	m.mu.Unlock()
	b.ReportAllocs()
	for b.Loop() {
		m.mu.Lock()
		_ = m.confirmedIn("+44771234", now)
		m.mu.Unlock()
	}
}

// BenchmarkVerifyStart is verify.Service's Start on a memory store, with
// its limits alone and with the monitor in the same take
// (verify.Config.Monitor): the difference is what the monitor adds to a
// send as an app wires it. Sends rotate over 8,192 numbers of five
// countries, from as many addresses, 10 simulated seconds apart; four in
// five are approved (Check, which tells the monitor) in batches outside the
// timed part: a confirmation is an event of its own. (Under callgrind,
// --toggle-collect='*verify.(*Service).Start' counts the Starts alone.)
func BenchmarkVerifyStart(b *testing.B) {
	for _, monitor := range []bool{false, true} {
		name := "limits"
		if monitor {
			name = "limits+monitor"
		}
		b.Run(name, func(b *testing.B) {
			clock := testkit.NewClock()
			lim := newLimiter(b, clock)
			limits := verify.DefaultLimits()
			limits.Country = ratelimit.PerHour(100000).WithBurst(1000)
			limits.Global = ratelimit.PerHour(100000).WithBurst(1000)
			cfg := verify.Config{Now: clock.Now, Limits: &limits}
			if monitor {
				m, err := New(lim, Config{Now: clock.Now})
				if err != nil {
					b.Fatal(err)
				}
				if cfg.Policy, err = numbers.ModeratePolicy().With(numbers.WithPrefixSet(m.Blocklist())); err != nil {
					b.Fatal(err)
				}
				cfg.Monitor = m.ForVerify()
			}
			svc, err := verify.New(&codeSender{}, lim, cfg)
			if err != nil {
				b.Fatal(err)
			}
			sends := benchSends(b, 8192)
			ctx := context.Background()
			i, refused := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				s := &sends[i%len(sends)]
				clock.Advance(10 * time.Second)
				if _, err := svc.Start(ctx, verify.StartRequest{Phone: s.Number.E164, ClientIP: s.ClientIP}); err != nil {
					refused++
				}
				i++
				if i%32 == 0 {
					b.StopTimer()
					for j := i - 32; j < i; j++ {
						if j%5 != 0 {
							s := &sends[j%len(sends)]
							_, _ = svc.Check(ctx, verify.CheckRequest{Phone: s.Number.E164, Code: "123456", ClientIP: s.ClientIP})
						}
					}
					b.StartTimer()
				}
			}
			b.ReportMetric(float64(refused)/float64(i), "refused/op")
		})
	}
}

// BenchmarkCheck is Check on a send while an address (another one) is
// blocked: what every send pays then.
func BenchmarkCheck(b *testing.B) {
	m, clock, _ := newTest(b, Config{})
	m.decide(clock.Now().UnixNano(), &Send{Number: num(b, "+447711123456"), ClientIP: v4(1)},
		trip{scope: ScopeAddress, key: addrKey(v4(1)), signal: SignalUnconfirmed, level: 9, threshold: 5, leak: time.Hour, region: "GB"})
	s := Send{Number: num(b, "+447711123457"), ClientIP: v4(2)}
	b.ReportAllocs()
	for b.Loop() {
		if m.Check(s) != nil {
			b.Fatal("refused")
		}
	}
}
