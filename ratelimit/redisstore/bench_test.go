package redisstore

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore/internal/redistest"
)

// The benchmarks compare a check with a go-redis PING against the same
// server in the same run (op=ping is the baseline):
//
//	go test -run '^$' -bench 'Redis' -count 6 ./ratelimit/redisstore > bench.txt
//	benchstat -col /op bench.txt
//
// client=default is a *redis.Client as most applications make it, without
// ContextTimeoutEnabled, for which the store enforces its timeout with a
// goroutine per call; client=ctx is one with ContextTimeoutEnabled.

const benchKeys = 10_000

var benchKeyNames = func() []string {
	k := make([]string, benchKeys)
	for i := range k {
		k[i] = "ip:198.51." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	return k
}()

// benchLimit is never exhausted in a benchmark, so every take writes.
var benchLimit = ratelimit.Limit{Rate: 1_000_000, Period: 1_000_000_000, Burst: 1_000_000}

type benchOp func(ctx context.Context, s *Store, c redis.UniversalClient, i int) error

var benchOps = []struct {
	name string
	op   benchOp
}{
	{"ping", func(ctx context.Context, _ *Store, c redis.UniversalClient, _ int) error {
		return c.Ping(ctx).Err()
	}},
	{"take1", func(ctx context.Context, s *Store, _ redis.UniversalClient, i int) error {
		_, err := s.Take(ctx, ratelimit.Request{Key: benchKeyNames[i%benchKeys], Limit: benchLimit, Cost: 1})
		return err
	}},
	{"take3", func(ctx context.Context, s *Store, _ redis.UniversalClient, i int) error {
		_, err := decide(s, ctx, []ratelimit.Request{
			{Key: benchKeyNames[i%benchKeys], Limit: benchLimit},
			{Key: benchKeyNames[(i+1)%benchKeys], Limit: benchLimit},
			{Key: "global", Limit: benchLimit},
		})
		return err
	}},
}

var benchClients = []string{"default", "ctx"}

// benchStore returns a store over the named kind of client, and a client
// for PING over the same kind.
func benchStore(b *testing.B, kind string) (*Store, redis.UniversalClient) {
	srv := redistest.Shared(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: kind == "ctx"})
	b.Cleanup(func() { c.Close() })
	s, err := New(c, Config{Prefix: testPrefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { deleteKeys(b, srv.Client(b), s.prefix) })
	if s.guard != (kind == "default") {
		b.Fatalf("guard = %v for %s", s.guard, kind)
	}
	// Load the script so that no run pays for the NOSCRIPT fallback.
	if _, err := s.Take(context.Background(), ratelimit.Request{Key: "warm", Limit: benchLimit, Cost: 1}); err != nil {
		b.Fatal(err)
	}
	return s, c
}

// BenchmarkRedisSequential runs one check at a time.
func BenchmarkRedisSequential(b *testing.B) {
	for _, kind := range benchClients {
		s, c := benchStore(b, kind)
		for _, o := range benchOps {
			b.Run("client="+kind+"/op="+o.name, func(b *testing.B) {
				b.ReportAllocs()
				ctx := context.Background()
				i := 0
				for b.Loop() {
					if err := o.op(ctx, s, c, i); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkRedisParallel16 keeps 16 checks in flight.
func BenchmarkRedisParallel16(b *testing.B) {
	for _, kind := range benchClients {
		s, c := benchStore(b, kind)
		for _, o := range benchOps {
			b.Run("client="+kind+"/op="+o.name, func(b *testing.B) {
				b.ReportAllocs()
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((16 + procs - 1) / procs)
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					i := int(next.Add(1)) * 7919
					for pb.Next() {
						if err := o.op(ctx, s, c, i); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
			})
		}
	}
}
