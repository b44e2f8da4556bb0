package ratelimit

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// The baseline every memory-store benchmark is compared with, in the same
// run: the hand-rolled approach of keeping one x/time/rate limiter per key
// in a sync.Map. It never forgets a key.
type syncMapRate struct {
	m     sync.Map
	limit rate.Limit
	burst int
}

func newSyncMapRate(l Limit) *syncMapRate {
	return &syncMapRate{limit: rate.Every(l.Interval()), burst: l.Burst}
}

func (s *syncMapRate) allow(key string) bool {
	v, ok := s.m.Load(key)
	if !ok {
		v, _ = s.m.LoadOrStore(key, rate.NewLimiter(s.limit, s.burst))
	}
	return v.(*rate.Limiter).Allow()
}

// benchLimit admits every request of a benchmark (its burst never runs out)
// so that both sides do the work of an allowed request.
var benchLimit = Limit{Rate: 1000, Period: time.Second, Burst: 1 << 30}

func newBenchStore(b *testing.B, cfg MemoryConfig) *MemoryStore {
	b.Helper()
	cfg.SweepInterval = -1
	m, err := NewMemoryStore(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// BenchmarkHotKey takes from one key, sequentially. Target: 0 allocs and
// memory ≤ 0.7× syncmap-xrate.
func BenchmarkHotKey(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=memory", func(b *testing.B) {
		m := newBenchStore(b, MemoryConfig{})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Take(ctx, Request{Key: "ip:192.0.2.1", Limit: benchLimit, Cost: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=limiter", func(b *testing.B) {
		lim, err := New(newBenchStore(b, MemoryConfig{}))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lim.Allow(ctx, "ip:192.0.2.1", benchLimit); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=syncmap-xrate", func(b *testing.B) {
		s := newSyncMapRate(benchLimit)
		b.ReportAllocs()
		for b.Loop() {
			s.allow("ip:192.0.2.1")
		}
	})
}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "ip:10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
	}
	return keys
}

// BenchmarkParallel10kKeys takes from 10,000 keys from every P. Run with
// -cpu 2. Target: memory ≤ 0.5× syncmap-xrate.
func BenchmarkParallel10kKeys(b *testing.B) {
	ctx := context.Background()
	keys := benchKeys(10_000)
	run := func(b *testing.B, take func(string)) {
		var seed atomic.Uint32
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seed.Add(7919))
			for pb.Next() {
				i++
				if i >= len(keys) {
					i = 0
				}
				take(keys[i])
			}
		})
	}
	b.Run("impl=memory", func(b *testing.B) {
		m := newBenchStore(b, MemoryConfig{})
		run(b, func(k string) {
			if _, err := m.Take(ctx, Request{Key: k, Limit: benchLimit, Cost: 1}); err != nil {
				panic(err)
			}
		})
	})
	b.Run("impl=syncmap-xrate", func(b *testing.B) {
		s := newSyncMapRate(benchLimit)
		run(b, func(k string) { s.allow(k) })
	})
}

// BenchmarkTakeAll3 checks three limits at once against one Take. Target:
// limits=3-into ≤ 3× limits=1 (a Take). limits=3-into is the store's
// TakeAll into a reused buffer; limits=3-limiter-into is Limiter.AllowAll
// over the store into a reused buffer (what an application calls);
// limits=3 is Limiter.AllowAll allocating the Decision's Results;
// limits=5-limiter-into adds two records (the counters of an adaptive
// monitor) to the three limits; limits=1-takeall is TakeAll with one
// request, for reference.
func BenchmarkTakeAll3(b *testing.B) {
	ctx := context.Background()
	b.Run("limits=1", func(b *testing.B) {
		m := newBenchStore(b, MemoryConfig{})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Take(ctx, Request{Key: "ip:192.0.2.1", Limit: benchLimit, Cost: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limits=1-takeall", func(b *testing.B) {
		m := newBenchStore(b, MemoryConfig{})
		reqs := []Request{{Key: "ip:192.0.2.1", Limit: benchLimit}}
		var buf [1]Result
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.TakeAll(ctx, reqs, buf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limits=3", func(b *testing.B) {
		lim, err := New(newBenchStore(b, MemoryConfig{}))
		if err != nil {
			b.Fatal(err)
		}
		reqs := benchReqs3()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lim.AllowAll(ctx, reqs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limits=3-into", func(b *testing.B) {
		m := newBenchStore(b, MemoryConfig{})
		reqs := benchReqs3()
		var buf [3]Result
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.TakeAll(ctx, reqs, buf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limits=3-limiter-into", func(b *testing.B) {
		lim, err := New(newBenchStore(b, MemoryConfig{}))
		if err != nil {
			b.Fatal(err)
		}
		reqs := benchReqs3()
		var buf [3]Result
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lim.AllowAll(ctx, reqs, buf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("limits=5-limiter-into", func(b *testing.B) {
		lim, err := New(newBenchStore(b, MemoryConfig{}))
		if err != nil {
			b.Fatal(err)
		}
		reqs := append(benchReqs3(),
			Request{Key: "unconfirmed:+371200", Limit: benchLimit, Record: true},
			Request{Key: "unconfirmed:country:LV", Limit: benchLimit, Record: true})
		var buf [5]Result
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lim.AllowAll(ctx, reqs, buf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchReqs3 are the requests of BenchmarkTakeAll3: per IP, per number,
// per block of numbers.
func benchReqs3() []Request {
	return []Request{
		{Key: "ip:192.0.2.1", Limit: benchLimit},
		{Key: "phone:+37120012345", Limit: benchLimit},
		{Key: "prefix:+371200", Limit: benchLimit},
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkMillionKeys fills a store with 1,000,000 distinct keys and
// reports the heap in use per key while they live (target ≤ 40 B/key) and
// the heap left once they are idle and housekeeping has run (target < 1 MB).
// Run with -benchtime 1x.
func BenchmarkMillionKeys(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	l := PerMinute(10)
	b.Run("impl=memory", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var now atomic.Int64
			now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			before := heapInUse()
			m, err := NewMemoryStore(MemoryConfig{MaxKeys: 2 * n, SweepInterval: -1, Now: func() time.Time { return time.Unix(0, now.Load()) }})
			if err != nil {
				b.Fatal(err)
			}
			buf := []byte("phone:+1555")
			for i := range n {
				key := strconv.AppendInt(buf, int64(i), 10)
				if r, err := m.Take(ctx, Request{Key: string(key), Limit: l, Cost: 1}); err != nil || !r.Allowed {
					b.Fatalf("take %d: %+v %v", i, r, err)
				}
			}
			live := heapInUse()
			now.Add(int64(time.Hour))
			m.Sweep()
			idle := heapInUse()
			b.ReportMetric(float64(live-before)/n, "live-B/key")
			b.ReportMetric(float64(idle-before), "idle-B")
			runtime.KeepAlive(m)
			m.Close(ctx)
		}
	})
	b.Run("impl=syncmap-xrate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			before := heapInUse()
			s := newSyncMapRate(l)
			buf := []byte("phone:+1555")
			for i := range n {
				s.allow(string(strconv.AppendInt(buf, int64(i), 10)))
			}
			live := heapInUse()
			b.ReportMetric(float64(live-before)/n, "live-B/key")
			b.ReportMetric(float64(live-before), "idle-B")
			runtime.KeepAlive(s)
		}
	})
}
