package redisstore

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore/internal/redistest"
)

// The benchmarks compare a check with a go-redis PING and with
// github.com/go-redis/redis_rate (the most used Go limiter on Redis, also
// a GCRA in Lua) against the same server, in the same run. Loopback
// figures swing with the machine's load, so only ratios between
// sub-benchmarks of one pass mean anything, and passes must be
// interleaved (one binary, run again and again), not -count, which runs
// each sub-benchmark N times in a row:
//
//	go test -c -o /tmp/redisstore.test ./ratelimit/redisstore
//	for i in $(seq 10); do /tmp/redisstore.test -test.run '^$' -test.bench 'Redis' -test.benchtime 0.3s; done > bench.txt
//	benchstat -col /op bench.txt
//
// The client is a *redis.Client with ContextTimeoutEnabled (the store
// requires it) and go-redis's defaults otherwise. keys=1 is one hot key,
// keys=10000 spreads the takes over ten thousand. srv-µs/call is the
// server's own time per script call (or per PING), from INFO
// commandstats: what one Redis spends on each check.

const benchKeys = 10_000

var benchKeyNames = func() []string {
	k := make([]string, benchKeys)
	for i := range k {
		k[i] = "ip:198.51." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	return k
}()

// benchLimit is never exhausted in a benchmark, so every take writes.
var benchLimit = ratelimit.Limit{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}

var benchPeerLimit = redis_rate.Limit{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}

// benchEnv is what one kind of client needs for every op.
type benchEnv struct {
	store  *Store
	client redis.UniversalClient
	peer   *redis_rate.Limiter
	admin  *redis.Client
	srv    *redistest.Server
	piped  *Store
}

type benchOp func(ctx context.Context, e *benchEnv, key, key2 string) error

var benchOps = []struct {
	name string
	// stat is the command whose server time the op reports.
	stat string
	op   benchOp
}{
	{"ping", "ping", func(ctx context.Context, e *benchEnv, _, _ string) error {
		return e.client.Ping(ctx).Err()
	}},
	{"redis_rate", "evalsha", func(ctx context.Context, e *benchEnv, key, _ string) error {
		_, err := e.peer.Allow(ctx, key, benchPeerLimit)
		return err
	}},
	{"take1", "evalsha", func(ctx context.Context, e *benchEnv, key, _ string) error {
		_, err := e.store.Take(ctx, ratelimit.Request{Key: key, Limit: benchLimit})
		return err
	}},
	{"take1-autopipeline", "evalsha", func(ctx context.Context, e *benchEnv, key, _ string) error {
		_, err := e.piped.Take(ctx, ratelimit.Request{Key: key, Limit: benchLimit})
		return err
	}},
	{"take3", "evalsha", func(ctx context.Context, e *benchEnv, key, key2 string) error {
		reqs := [3]ratelimit.Request{
			{Key: key, Limit: benchLimit},
			{Key: key2, Limit: benchLimit},
			{Key: "global", Limit: benchLimit},
		}
		var results [3]ratelimit.Result
		_, _, err := e.store.TakeAll(ctx, reqs[:], results[:])
		return err
	}},
}

// benchSetup returns the environment of the benchmarks.
func benchSetup(b *testing.B) *benchEnv {
	srv := redistest.Shared(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { c.Close() })
	// A timeout that a loaded machine cannot trip: 16 goroutines on two
	// busy cores see stalls of over 100ms now and then.
	s, err := New(c, Config{Prefix: testPrefix(b), Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	admin := srv.Client(b)
	b.Cleanup(func() {
		deleteKeys(b, admin, s.prefix)
		deleteKeys(b, admin, "rate:")
	})
	e := &benchEnv{store: s, client: c, peer: redis_rate.NewLimiter(c), admin: admin, srv: srv}
	if e.piped, err = New(c, Config{Prefix: s.prefix, AutoPipeline: true, Timeout: time.Second}); err != nil {
		b.Fatal(err)
	}
	// Load both scripts so that no run pays for the NOSCRIPT fallback.
	for _, o := range benchOps {
		if err := o.op(context.Background(), e, "warm", "warm2"); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// serverTime returns the calls and total µs of command cmd from INFO
// commandstats.
func serverTime(b *testing.B, admin *redis.Client, cmd string) (calls, usec float64) {
	info, err := admin.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			f, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "calls":
				calls = f
			case "usec":
				usec = f
			}
		}
	}
	return calls, usec
}

// reportServer runs f, the loop of b, and reports the server's µs per
// call of cmd (INFO commandstats: wall time inside the server, which a
// loaded machine inflates), and the CPU time per op of the server's main
// thread and of this process (which load inflates much less).
func reportServer(b *testing.B, srv *redistest.Server, admin *redis.Client, cmd string, f func()) {
	c0, u0 := serverTime(b, admin, cmd)
	s0, sok := srv.CPUTime()
	p0, pok := processCPU()
	f()
	b.StopTimer()
	s1, _ := srv.CPUTime()
	p1, _ := processCPU()
	c1, u1 := serverTime(b, admin, cmd)
	if c1 > c0 {
		b.ReportMetric((u1-u0)/(c1-c0), "srv-µs/call")
	}
	if sok {
		b.ReportMetric(float64(s1-s0)/float64(b.N), "srv-cpu-ns/op")
	}
	if pok {
		b.ReportMetric(float64(p1-p0)/float64(b.N), "cli-cpu-ns/op")
	}
}

// BenchmarkRedisSequential runs one check at a time.
func BenchmarkRedisSequential(b *testing.B) {
	e := benchSetup(b)
	{
		for _, keys := range []int{1, benchKeys} {
			for _, o := range benchOps {
				b.Run("keys="+strconv.Itoa(keys)+"/op="+o.name, func(b *testing.B) {
					b.ReportAllocs()
					ctx := context.Background()
					i := 0
					reportServer(b, e.srv, e.admin, o.stat, func() {
						for b.Loop() {
							k := i % keys
							if err := o.op(ctx, e, benchKeyNames[k], benchKeyNames[(k+1)%benchKeys]); err != nil {
								b.Fatal(err)
							}
							i++
						}
					})
				})
			}
		}
	}
}

// BenchmarkRedisParallel16 keeps 16 checks in flight.
func BenchmarkRedisParallel16(b *testing.B) {
	e := benchSetup(b)
	{
		for _, keys := range []int{1, benchKeys} {
			for _, o := range benchOps {
				b.Run("keys="+strconv.Itoa(keys)+"/op="+o.name, func(b *testing.B) {
					b.ReportAllocs()
					procs := runtime.GOMAXPROCS(0)
					b.SetParallelism((16 + procs - 1) / procs)
					var next atomic.Int64
					reportServer(b, e.srv, e.admin, o.stat, func() {
						b.RunParallel(func(pb *testing.PB) {
							ctx := context.Background()
							i := int(next.Add(1)) * 7919
							for pb.Next() {
								k := i % keys
								if err := o.op(ctx, e, benchKeyNames[k], benchKeyNames[(k+1)%benchKeys]); err != nil {
									b.Error(err)
									return
								}
								i++
							}
						})
					})
				})
			}
		}
	}
}

// BenchmarkOutage is a check while Redis is down and the breaker is open
// (a hook fails every call that reaches the client, the probes among
// them): the store alone, and a Limiter failing closed, open, and to a
// memory store. The target is well under a microsecond.
//
//	go test -run '^$' -bench Outage -count 10 ./ratelimit/redisstore
func BenchmarkOutage(b *testing.B) {
	f := &fakeServer{}
	f.fail.Store(true)
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	c.AddHook(f)
	b.Cleanup(func() { c.Close() })
	s, err := New(c, Config{})
	if err != nil {
		b.Fatal(err)
	}
	for range defaultBreakAfter {
		s.Take(context.Background(), oneReq)
	}
	if !s.breaker.open.Load() {
		b.Fatal("breaker closed")
	}
	memory, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	limiter := func(opts ...ratelimit.Option) *ratelimit.Limiter {
		l, err := ratelimit.New(s, opts...)
		if err != nil {
			b.Fatal(err)
		}
		return l
	}
	closed, open, fallback := limiter(), limiter(ratelimit.WithFailOpen()), limiter(ratelimit.WithFallback(memory))
	ctx := context.Background()
	ops := []struct {
		name string
		op   func(key string) error
	}{
		{"store", func(key string) error {
			_, err := s.Take(ctx, ratelimit.Request{Key: key, Limit: benchLimit})
			return err
		}},
		{"closed", func(key string) error {
			_, err := closed.Allow(ctx, key, benchLimit)
			if err == nil {
				return errors.New("allowed")
			}
			return nil
		}},
		{"open", func(key string) error {
			_, err := open.Allow(ctx, key, benchLimit)
			return err
		}},
		{"fallback", func(key string) error {
			_, err := fallback.Allow(ctx, key, benchLimit)
			return err
		}},
		{"memory", func(key string) error { // the fallback alone, for scale
			_, err := memory.Take(ctx, ratelimit.Request{Key: key, Limit: benchLimit})
			return err
		}},
	}
	for _, o := range ops {
		b.Run("op="+o.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := o.op(benchKeyNames[i%benchKeys]); err != nil && o.name != "store" {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
