package redis

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// The benchmarks compare a check with a go-redis PING against the same
// server in the same run (op=ping is the baseline):
//
//	go test -run '^$' -bench 'Redis' -count 6 ./ratelimit/redis > bench.txt
//	benchstat -col /op bench.txt
//
// guard=on is a client without ContextTimeoutEnabled, for which the store
// enforces its timeout with a goroutine; guard=off is one with it.

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

type benchOp func(ctx context.Context, s *Store, c *goredis.Client, i int) error

var benchOps = []struct {
	name string
	op   benchOp
}{
	{"ping", func(ctx context.Context, _ *Store, c *goredis.Client, _ int) error {
		return c.Ping(ctx).Err()
	}},
	{"take1", func(ctx context.Context, s *Store, _ *goredis.Client, i int) error {
		_, err := s.Take(ctx, benchKeyNames[i%benchKeys], benchLimit, 1)
		return err
	}},
	{"take3", func(ctx context.Context, s *Store, _ *goredis.Client, i int) error {
		_, err := s.TakeAll(ctx, []ratelimit.Request{
			{Key: benchKeyNames[i%benchKeys], Limit: benchLimit},
			{Key: benchKeyNames[(i+1)%benchKeys], Limit: benchLimit},
			{Key: "global", Limit: benchLimit},
		})
		return err
	}},
}

func benchStore(b *testing.B, guard bool) (*Store, *goredis.Client) {
	s, c := newStore(b, Config{}, func(o *goredis.Options) { o.ContextTimeoutEnabled = !guard })
	if s.guard != guard {
		b.Fatalf("guard = %v, want %v", s.guard, guard)
	}
	// Load the script so that no run pays for the NOSCRIPT fallback.
	if _, err := s.Take(context.Background(), "warm", benchLimit, 1); err != nil {
		b.Fatal(err)
	}
	return s, c
}

// BenchmarkRedisSequential runs one check at a time.
func BenchmarkRedisSequential(b *testing.B) {
	for _, guard := range []string{"on", "off"} {
		s, c := benchStore(b, guard == "on")
		for _, o := range benchOps {
			b.Run("guard="+guard+"/op="+o.name, func(b *testing.B) {
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
	for _, guard := range []string{"on", "off"} {
		s, c := benchStore(b, guard == "on")
		for _, o := range benchOps {
			b.Run("guard="+guard+"/op="+o.name, func(b *testing.B) {
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
