package pumping

import (
	"fmt"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
)

// benchSends returns n sends to distinct GB numbers from distinct
// addresses.
func benchSends(b *testing.B, n int) []Send {
	out := make([]Send, n)
	for i := range out {
		nb, err := numbers.Parse(fmt.Sprintf("+4477%02d%06d", 11+i%80, (i*7919)%1000000), "")
		if err != nil {
			b.Fatal(err)
		}
		out[i] = Send{Number: nb, ClientIP: v4(i)}
	}
	return out
}

// BenchmarkAllow is the monitor's own work on a send: its counters in
// process memory, the judgement, the sample kept for learning.
func BenchmarkAllow(b *testing.B) {
	clock := testkit.NewClock()
	m, err := New(Config{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	sends := benchSends(b, 4096)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		s := sends[i%len(sends)]
		clock.Advance(time.Second)
		_ = m.Allow(ctx, s)
		if i%5 != 0 {
			_ = m.Confirmed(ctx, s)
		}
		i++
	}
}
