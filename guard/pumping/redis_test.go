package pumping

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore"
)

// startRedis starts a redis-server on a free loopback port, without
// persistence, for the test. It skips the test when redis-server is not
// installed, unless ANTIFRAUD_REQUIRE_REDIS=1.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("ANTIFRAUD_REQUIRE_REDIS") == "1" {
			t.Fatal("redis-server not found and ANTIFRAUD_REQUIRE_REDIS=1")
		}
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- true
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("redis-server did not start")
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// countHook counts the commands a client sends.
// redisMonitor is a Monitor over a Limiter on a redis-server of the test's
// own, with a hook that counts the commands sent, and its clock set to now
// (the Redis store keeps the server's time).
func redisMonitor(t *testing.T) (*ratelimit.Limiter, *Monitor, *testkit.Clock, *countHook) {
	t.Helper()
	addr := startRedis(t)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	h := &countHook{}
	c.AddHook(h)
	store, err := redisstore.New(c, redisstore.Config{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := ratelimit.New(store)
	if err != nil {
		t.Fatal(err)
	}
	clock := testkit.NewClock()
	clock.Set(time.Now())
	m, err := New(lim, Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return lim, m, clock, h
}

type countHook struct{ cmds atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.cmds.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestRedisRoundTrips counts the commands a send costs with the Redis
// store: the limits of a verification alone, and the same limits with the
// monitor's counters in the same take. Both are one command (one round
// trip); judging the send costs none; a confirmation costs one.
func TestRedisRoundTrips(t *testing.T) {
	lim, m, _, h := redisMonitor(t)
	limits := func(s Send) []ratelimit.Request {
		return []ratelimit.Request{
			{Key: "verify:start:" + ratelimit.KeyPhone(s.Number.E164), Limit: ratelimit.PerHour(5)},
			{Key: "verify:start:" + ratelimit.KeyIP(s.ClientIP), Limit: ratelimit.PerHour(20)},
			{Key: "verify:start:" + ratelimit.KeyPrefix(s.Number.E164, len(s.Number.E164)-4), Limit: ratelimit.PerHour(20)},
			{Key: "verify:start:" + ratelimit.KeyCountry(s.Number.Region), Limit: ratelimit.PerHour(200)},
			{Key: ratelimit.KeyGlobal("verify:start"), Limit: ratelimit.PerHour(1000)},
		}
	}
	ctx := context.Background()
	results := make([]ratelimit.Result, 32)
	// Warm the script cache.
	if _, err := lim.AllowAll(ctx, limits(Send{Number: gb(t, "99", 1), ClientIP: v4(1)}), results); err != nil {
		t.Fatal(err)
	}
	count := func(f func()) int64 {
		before := h.cmds.Load()
		f()
		return h.cmds.Load() - before
	}
	const n = 20
	alone := count(func() {
		for i := range n {
			s := Send{Number: gb(t, "13", i*101), ClientIP: v4(i)}
			if _, err := lim.AllowAll(ctx, limits(s), results); err != nil {
				t.Fatal(err)
			}
		}
	})
	var judged int64
	with := count(func() {
		for i := range n {
			s := Send{Number: num(t, fmt.Sprintf("+4477%02d%06d", 11+i, 123456+i)), ClientIP: v4(100 + i)}
			reqs := m.AppendRequests(limits(s), s)
			d, err := lim.AllowAll(ctx, reqs, results)
			if err != nil || !d.Allowed {
				t.Fatalf("take: %v %+v", err, d)
			}
			judged += count(func() {
				if err := m.Judge(ctx, s, d.Results[5:]); err != nil {
					t.Fatalf("judge %d: %v", i, err)
				}
			})
		}
	})
	if alone != n || with != n || judged != 0 {
		t.Errorf("%d sends: %d commands for the limits alone, %d with the monitor's counters, of which %d to judge; want %d, %d, 0",
			n, alone, with, judged, n, n)
	}
	if got := count(func() {
		if err := m.Confirmed(ctx, Send{Number: num(t, "+447711123456"), ClientIP: v4(100)}); err != nil {
			t.Fatal(err)
		}
	}); got != 1 {
		t.Errorf("a confirmation: %d commands, want 1", got)
	}
	// The counters behave as in memory: a block of 10,000 numbers pumped
	// is blocked at its third send.
	for i := range 3 {
		s := Send{Number: gb(t, "99", 1000+i*2027), ClientIP: v4(500 + i)}
		d, err := lim.AllowAll(ctx, m.AppendRequests(limits(s), s), results)
		if err != nil {
			t.Fatal(err)
		}
		err = m.Judge(ctx, s, d.Results[5:])
		if (err != nil) != (i == 2) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if bs := m.Blocks(); len(bs) != 1 || bs[0].Key != "+44771199" {
		t.Errorf("blocks %+v", bs)
	}
}
