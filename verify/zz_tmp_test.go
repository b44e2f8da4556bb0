package verify

import (
	"context"
	"testing"
	"time"
)

func BenchmarkTmpColdParts(b *testing.B) {
	ctx := context.Background()
	nums := benchNumbers()
	guard := benchService(b, nopSender{})
	own := benchService(b, nopSender{})
	dsts := benchDestinations(b, own)
	sender := benchTwilio(b)
	var tEv, tCool, tKeys, tTake, tNow time.Duration
	i := 0
	for b.Loop() {
		k := i % len(nums)
		ip := benchIPs[i%len(benchIPs)]
		if _, err := guard.Start(ctx, StartRequest{Phone: nums[k], ClientIP: ip}); err != nil {
			b.Fatal(err)
		}
		if err := sender.SendCode(ctx, SendRequest{To: nums[k], Channel: SMS}); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		_ = own.event("start", SMS, dsts[k])
		t1 := time.Now()
		now := own.now()
		t2 := time.Now()
		own.cool.reserve(dsts[k].key, now)
		t3 := time.Now()
		var buf [192]byte
		bb := buf[:0]
		for j := range own.startPhone {
			bb = own.appendKey(bb, own.startPhone[j].kind, dsts[k], ip)
		}
		_ = string(bb)
		t4 := time.Now()
		if err := own.take(ctx, own.startPhone, dsts[k], ip, false); err != nil {
			b.Fatal(err)
		}
		t5 := time.Now()
		tEv += t1.Sub(t0)
		tNow += t2.Sub(t1)
		tCool += t3.Sub(t2)
		tKeys += t4.Sub(t3)
		tTake += t5.Sub(t4)
		i++
	}
	n := float64(i)
	b.ReportMetric(float64(tEv)/n, "event-ns")
	b.ReportMetric(float64(tNow)/n, "now-ns")
	b.ReportMetric(float64(tCool)/n, "cool-ns")
	b.ReportMetric(float64(tKeys)/n, "keys-ns")
	b.ReportMetric(float64(tTake)/n, "take-ns")
}
