package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore/internal/redistest"
)

// deadClient returns a client for a loopback port nothing listens on.
func deadClient(t *testing.T) *redis.Client {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// hashTag returns the part of name Redis Cluster hashes: the bytes between
// the first '{' and the next '}', when not empty, else the whole name.
func hashTag(name string) string {
	i := strings.IndexByte(name, '{')
	if i < 0 {
		return name
	}
	j := strings.IndexByte(name[i+1:], '}')
	if j <= 0 {
		return name
	}
	return name[i+1 : i+1+j]
}

func TestNewConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c.Close()
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer plain.Close()
	ring := func(honour bool) redis.UniversalClient {
		r := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: honour})
		t.Cleanup(func() { r.Close() })
		return r
	}
	cluster := func(honour bool) redis.UniversalClient {
		r := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: honour})
		t.Cleanup(func() { r.Close() })
		return r
	}
	tests := []struct {
		name    string
		client  redis.UniversalClient
		cfg     Config
		wantErr bool
	}{
		{"defaults", c, Config{}, false},
		{"nil client", nil, Config{}, true},
		{"prefix with brace", c, Config{Prefix: "a{b"}, true},
		{"prefix with closing brace", c, Config{Prefix: "a}"}, true},
		{"tag with brace", c, Config{Tag: "x}y"}, true},
		{"tag too long", c, Config{Tag: strings.Repeat("t", maxTagLen+1)}, true},
		{"tag at the bound", c, Config{Tag: strings.Repeat("t", maxTagLen)}, false},
		{"custom", c, Config{Prefix: "app:", Tag: "verify", Timeout: time.Second}, false},
		{"no timeout", c, Config{Timeout: -1}, false},
		{"Client without ContextTimeoutEnabled", plain, Config{}, true},
		{"Client without ContextTimeoutEnabled, no timeout", plain, Config{Timeout: -1}, false},
		{"Ring without ContextTimeoutEnabled", ring(false), Config{}, true},
		{"Ring without ContextTimeoutEnabled, no timeout", ring(false), Config{Timeout: -1}, false},
		{"Ring with ContextTimeoutEnabled", ring(true), Config{}, false},
		{"Cluster without ContextTimeoutEnabled", cluster(false), Config{}, true},
		{"Cluster with ContextTimeoutEnabled", cluster(true), Config{}, false},
		{"AutoPipeline", c, Config{AutoPipeline: true}, false},
		{"AutoPipeline on a Ring", ring(true), Config{AutoPipeline: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.client, tc.cfg)
			if tc.wantErr {
				if !errors.Is(err, ratelimit.ErrInvalidConfig) || !strings.HasPrefix(err.Error(), "redisstore: ") {
					t.Fatalf("err = %v, want one wrapping ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.cfg.Timeout == 0 && s.timeout != defaultTimeout {
				t.Errorf("timeout %v, want default %v", s.timeout, defaultTimeout)
			}
			if tc.cfg.Timeout < 0 && s.timeout > 0 {
				t.Errorf("timeout %v, want none", s.timeout)
			}
			name, err := s.KeyName("phone:+15005550006")
			if err != nil {
				t.Fatal(err)
			}
			wantPrefix, wantTag := tc.cfg.Prefix, tc.cfg.Tag
			if wantPrefix == "" {
				wantPrefix = defaultPrefix
			}
			if wantTag == "" {
				wantTag = defaultTag
			}
			if !strings.HasPrefix(name, wantPrefix+"{"+wantTag+"}:") || hashTag(name) != wantTag {
				t.Errorf("KeyName = %q, want prefix %q and tag %q", name, wantPrefix, wantTag)
			}
		})
	}
}

func TestKeyNameAnyBytes(t *testing.T) {
	s, err := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), Config{})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "{a}", "}", "{", "a}{b", "\x00", "\r\n*1\r\n$4\r\nPING\r\n", "phone:+15005550006",
		strings.Repeat("\xff", maxKeyLen), "ключ", "{rl}"}
	seen := map[string]string{}
	var length int
	for _, k := range keys {
		name, err := s.KeyName(k)
		if err != nil {
			t.Fatal(err)
		}
		if length == 0 {
			length = len(name)
		}
		hash, ok := strings.CutPrefix(name, defaultPrefix+"{"+defaultTag+"}:")
		if len(name) != length || hashTag(name) != defaultTag || !ok || len(hash) != 22 || strings.Trim(hash, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("KeyName(%q) = %q: want %d bytes, tag %q, then 22 base64url bytes", k, name, length, defaultTag)
		}
		if prev, ok := seen[name]; ok {
			t.Errorf("keys %q and %q share name %q", prev, k, name)
		}
		seen[name] = k
	}
}

func TestTakeRejectsBadArguments(t *testing.T) {
	// The store must reject these before any I/O: the client points at a
	// closed port, so a request that reached it would fail with
	// ErrUnavailable instead.
	s, err := New(deadClient(t), Config{TagFunc: func(k string) string {
		if strings.HasPrefix(k, "bad") {
			return "}"
		}
		return k[:1]
	}})
	if err != nil {
		t.Fatal(err)
	}
	ok := ratelimit.PerMinute(3)
	subµs := ok.WithPenalty(ratelimit.Penalty{After: 1, Within: time.Minute, For: time.Second + time.Nanosecond})
	many := make([]ratelimit.Request, maxRequests+1)
	for i := range many {
		many[i] = ratelimit.Request{Key: "k" + strconv.Itoa(i), Limit: ok}
	}
	tests := []struct {
		name string
		reqs []ratelimit.Request
		want error
	}{
		{"zero limit", []ratelimit.Request{{Key: "k", Limit: ratelimit.Limit{}}}, ratelimit.ErrInvalidConfig},
		{"negative rate", []ratelimit.Request{{Key: "k", Limit: ratelimit.Limit{Rate: -1, Period: time.Second, Burst: 1}}}, ratelimit.ErrInvalidConfig},
		{"penalty not whole µs", []ratelimit.Request{{Key: "k", Limit: subµs}}, ratelimit.ErrInvalidConfig},
		{"cost over burst", []ratelimit.Request{{Key: "k", Limit: ok, Cost: 4}}, ratelimit.ErrInvalidRequest},
		{"refund over burst", []ratelimit.Request{{Key: "k", Limit: ok, Cost: -4}}, ratelimit.ErrInvalidRequest},
		{"peek that gives back", []ratelimit.Request{{Key: "k", Limit: ok, Cost: -1, Peek: true}}, ratelimit.ErrInvalidRequest},
		{"peek that records", []ratelimit.Request{{Key: "k", Limit: ok, Peek: true, Record: true}}, ratelimit.ErrInvalidRequest},
		{"empty key", []ratelimit.Request{{Key: "", Limit: ok}}, ratelimit.ErrInvalidRequest},
		{"long key", []ratelimit.Request{{Key: strings.Repeat("k", maxKeyLen+1), Limit: ok}}, ratelimit.ErrInvalidRequest},
		{"key twice", []ratelimit.Request{{Key: "k", Limit: ok}, {Key: "k", Limit: ok}}, ratelimit.ErrInvalidRequest},
		{"too many", many, ratelimit.ErrInvalidRequest},
		{"tags differ", []ratelimit.Request{{Key: "a1", Limit: ok}, {Key: "b1", Limit: ok}}, ratelimit.ErrInvalidRequest},
		{"bad tag", []ratelimit.Request{{Key: "bad", Limit: ok}}, ratelimit.ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := decide(s, context.Background(), tc.reqs)
			if !errors.Is(err, tc.want) || errors.Is(err, ratelimit.ErrUnavailable) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if d.Allowed || len(d.Results) != len(tc.reqs) {
				t.Fatalf("decision %+v, want a denial with one result per request", d)
			}
			if len(tc.reqs) == 1 {
				r, err := s.Take(context.Background(), tc.reqs[0])
				if !errors.Is(err, tc.want) || r.Allowed {
					t.Fatalf("Take: %+v, %v, want %v", r, err, tc.want)
				}
			}
		})
	}
	if _, _, err := s.TakeAll(context.Background(), []ratelimit.Request{{Key: "a1", Limit: ok}}, nil); !errors.Is(err, ratelimit.ErrInvalidRequest) {
		t.Fatalf("a take without room for its results: %v, want ErrInvalidRequest", err)
	}
	if _, err := decide(s, context.Background(), []ratelimit.Request{{Key: "a1", Limit: ok}}); !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Fatalf("a valid take on a dead server: %v, want ErrUnavailable", err)
	}
}

func TestEmptyTake(t *testing.T) {
	s, err := New(deadClient(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TakeAll(context.Background(), nil, nil); !errors.Is(err, ratelimit.ErrInvalidRequest) {
		t.Fatalf("empty take: %v; want ErrInvalidRequest without asking Redis, as every store", err)
	}
}

func TestClosed(t *testing.T) {
	s, err := New(deadClient(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Take(context.Background(), ratelimit.Request{Key: "k", Limit: ratelimit.PerSecond(1), Cost: 1}); !errors.Is(err, ratelimit.ErrUnavailable) || r.Allowed {
		t.Fatalf("Take after Close: %+v, %v", r, err)
	}
}

func TestKeysOfAnyBytes(t *testing.T) {
	s, _ := newStore(t, Config{})
	ctx := context.Background()
	l := ratelimit.PerHour(1)
	keys := []string{"a", "{a}", "}", "{", "a}{b", "\x00", "\r\n*1\r\n$4\r\nPING\r\n", "phone:+15005550006",
		strings.Repeat("\xff", maxKeyLen), "ключ", "{rl}", "{" + s.prefix + "}"}
	for _, k := range keys {
		if r, err := s.Take(ctx, ratelimit.Request{Key: k, Limit: l, Cost: 1}); err != nil || !r.Allowed {
			t.Fatalf("first take of %q: %+v, %v", k, r, err)
		}
	}
	for _, k := range keys {
		if r, err := s.Take(ctx, ratelimit.Request{Key: k, Limit: l, Cost: 1}); err != nil || r.Allowed {
			t.Fatalf("second take of %q: %+v, %v; want denied (keys must not share state)", k, r, err)
		}
	}
}

func TestAllOrNothing(t *testing.T) {
	s, _ := newStore(t, Config{})
	ctx := context.Background()
	ip := ratelimit.Request{Key: "ip:192.0.2.1", Limit: ratelimit.PerHour(10)}
	phone := ratelimit.Request{Key: "phone:+15005550006", Limit: ratelimit.PerHour(3)}
	global := ratelimit.Request{Key: "global:sms", Limit: ratelimit.PerHour(1000)}
	for i := range 3 {
		d, err := decide(s, ctx, []ratelimit.Request{ip, phone, global})
		if err != nil || !d.Allowed {
			t.Fatalf("take %d: %+v, %v", i, d, err)
		}
		if d.Index != 1 || d.Remaining != 2-i {
			t.Fatalf("take %d: binding %d with %d remaining, want the phone with %d", i, d.Index, d.Remaining, 2-i)
		}
	}
	d, err := decide(s, ctx, []ratelimit.Request{ip, phone, global})
	if err != nil || d.Allowed || d.Index != 1 {
		t.Fatalf("4th take: %+v, %v; want denied by the phone", d, err)
	}
	if !d.Results[0].Allowed || d.Results[0].Remaining != 7 || d.Results[2].Remaining != 997 {
		t.Fatalf("4th take spent from the others: %+v", d.Results)
	}
	peek := []ratelimit.Request{ip, global}
	for i := range peek {
		peek[i].Peek = true
	}
	d, err = decide(s, ctx, peek)
	if err != nil || d.Results[0].Remaining != 7 || d.Results[1].Remaining != 997 {
		t.Fatalf("after a denied take: %+v, %v; want 7 and 997 left", d.Results, err)
	}
}

// TestExactAcrossClients is the distributed guarantee: 8 processes (here
// 8 clients with their own connections and stores) sharing one Redis never
// admit more than the limit, and a denied multi-limit take spends nothing.
func TestExactAcrossClients(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	const clients, workers, attempts = 8, 4, 40
	// A day's limit: no token comes back while the test runs.
	global := ratelimit.Request{Key: "global", Limit: ratelimit.PerDay(100)}
	perClient := ratelimit.PerDay(30)
	stores := make([]*Store, clients)
	admin := srv.Client(t)
	t.Cleanup(func() { deleteKeys(t, admin, prefix) })
	for i := range stores {
		// Half the clients send through go-redis's autopipeliner.
		s, err := New(srv.Client(t, func(o *redis.Options) { o.PoolSize = workers }), Config{Prefix: prefix, Timeout: 5 * time.Second, AutoPipeline: i%2 == 1})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	t.Run("one limit", func(t *testing.T) {
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for _, s := range stores {
			for range workers {
				wg.Go(func() {
					for range attempts {
						r, err := s.Take(context.Background(), ratelimit.Request{Key: "single", Limit: ratelimit.PerDay(100), Cost: 1})
						if err != nil {
							t.Error(err)
							return
						}
						if r.Allowed {
							admitted.Add(1)
						}
					}
				})
			}
		}
		wg.Wait()
		if got := admitted.Load(); got != 100 {
			t.Fatalf("admitted %d of %d attempts, want exactly 100", got, clients*workers*attempts)
		}
	})
	t.Run("several limits", func(t *testing.T) {
		admitted := make([]atomic.Int64, clients)
		var wg sync.WaitGroup
		for i, s := range stores {
			own := ratelimit.Request{Key: "client:" + strconv.Itoa(i), Limit: perClient}
			for range workers {
				wg.Go(func() {
					for range attempts {
						d, err := decide(s, context.Background(), []ratelimit.Request{own, global})
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							admitted[i].Add(1)
						}
					}
				})
			}
		}
		wg.Wait()
		var total int64
		for i := range admitted {
			n := admitted[i].Load()
			total += n
			r, err := stores[0].Take(context.Background(), ratelimit.Request{Key: "client:" + strconv.Itoa(i), Limit: perClient})
			if err != nil {
				t.Fatal(err)
			}
			// That take spent one more if it could: what remains must be
			// exactly what the admitted takes left, minus it.
			want := 30 - int(n)
			if r.Allowed {
				want--
			}
			if n > 30 || r.Remaining != want {
				t.Errorf("client %d: admitted %d, then %d remaining; want ≤ 30 admitted and %d remaining (denied takes spend nothing)", i, n, r.Remaining, want)
			}
		}
		if total != 100 {
			t.Fatalf("admitted %d in all, want exactly 100", total)
		}
	})
}

// TestTTLOnEveryKey writes keys through every path that writes (allowed
// takes, counted denials, penalty boxes) and checks that each has a TTL
// no longer than the state it holds needs.
func TestTTLOnEveryKey(t *testing.T) {
	s, c := newStore(t, Config{})
	ctx := context.Background()
	pen := ratelimit.Penalty{After: 2, Within: time.Minute, For: time.Minute, Reset: time.Hour}
	lims := []ratelimit.Limit{ratelimit.PerSecond(5), ratelimit.PerHour(2).WithPenalty(pen), ratelimit.PerDay(1)}
	// The longest a key may need: a full bucket of the longest limit, or a
	// box (at most the default max) plus its reset; and the store may keep
	// a key a quarter of its window (here at most a day) longer.
	longest := max(24*time.Hour, 24*time.Hour+pen.Reset) + 24*time.Hour/4
	written := map[string]bool{}
	for i := range 40 {
		k := fmt.Sprintf("k%d", i%7)
		reqs := []ratelimit.Request{{Key: k, Limit: lims[i%len(lims)]}}
		if i%5 == 0 {
			reqs = append(reqs, ratelimit.Request{Key: "shared", Limit: lims[1]})
		}
		if _, err := decide(s, ctx, reqs); err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			written[r.Key] = true
		}
	}
	// A peek at a new key writes nothing.
	if _, err := decide(s, ctx, []ratelimit.Request{{Key: "peeked", Limit: lims[0], Peek: true}}); err != nil {
		t.Fatal(err)
	}
	var names []string
	iter := c.Scan(ctx, 0, s.prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		names = append(names, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) != len(written) {
		t.Fatalf("found %d keys, want %d", len(names), len(written))
	}
	for _, name := range names {
		ttl, err := c.PTTL(ctx, name).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > longest {
			t.Errorf("key %s has TTL %v, want in (0, %v]", name, ttl, longest)
		}
	}
}

// countHook counts the commands a client sends.
type countHook struct{ cmds, pipelines atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.cmds.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		return next(ctx, cmds)
	}
}

// commandStats returns the calls of each command from INFO commandstats.
func commandStats(t *testing.T, c *redis.Client) map[string]int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		n, _ := strconv.ParseInt(calls, 10, 64)
		stats[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return stats
}

// TestOneRoundTrip counts what the client sends (a hook) and what the
// server runs (INFO commandstats): one EVALSHA per check, for one limit and
// for three; after SCRIPT FLUSH, one EVALSHA and one EVAL, then one again.
func TestOneRoundTrip(t *testing.T) {
	srv := redistest.Start(t) // its own server: commandstats must count only us
	c := srv.Client(t)
	h := &countHook{}
	c.AddHook(h)
	admin := srv.Client(t)
	s, err := New(c, Config{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	three := []ratelimit.Request{
		{Key: "ip", Limit: ratelimit.PerMinute(10)},
		{Key: "phone", Limit: ratelimit.PerHour(3)},
		{Key: "global", Limit: ratelimit.PerHour(1000)},
	}
	if _, err := s.Take(ctx, ratelimit.Request{Key: "warm", Limit: ratelimit.PerSecond(1), Cost: 1}); err != nil { // loads the script
		t.Fatal(err)
	}
	const n = 50
	check := func(t *testing.T, wantCmds, wantEvalsha, wantEval int64, f func()) {
		t.Helper()
		before, b, bp := commandStats(t, admin), h.cmds.Load(), h.pipelines.Load()
		f()
		after, a, ap := commandStats(t, admin), h.cmds.Load(), h.pipelines.Load()
		if a-b != wantCmds || ap != bp {
			t.Errorf("client sent %d commands and %d pipelines, want %d commands", a-b, ap-bp, wantCmds)
		}
		if got := after["evalsha"] - before["evalsha"]; got != wantEvalsha {
			t.Errorf("server ran %d EVALSHA, want %d", got, wantEvalsha)
		}
		if got := after["eval"] - before["eval"]; got != wantEval {
			t.Errorf("server ran %d EVAL, want %d", got, wantEval)
		}
	}
	t.Run("one limit", func(t *testing.T) {
		check(t, n, n, 0, func() {
			for i := range n {
				if _, err := s.Take(ctx, ratelimit.Request{Key: "k" + strconv.Itoa(i%5), Limit: ratelimit.PerMinute(10), Cost: 1}); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
	t.Run("three limits", func(t *testing.T) {
		check(t, n, n, 0, func() {
			for range n {
				if _, err := decide(s, ctx, three); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
	t.Run("after SCRIPT FLUSH", func(t *testing.T) {
		if err := admin.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		check(t, 3, 2, 1, func() {
			for range 2 {
				if _, err := decide(s, ctx, three); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
}

// TestTimeout stalls the server with CLIENT PAUSE and checks that a call
// gives up at the store's timeout, through each kind of client, and that
// it leaves no goroutine behind: the store starts none.
func TestTimeout(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client(t)
	ctx := context.Background()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": srv.Addr}, ContextTimeoutEnabled: true})
	t.Cleanup(func() { ring.Close() })
	tests := []struct {
		name   string
		client redis.UniversalClient
		pipe   bool
	}{
		{"Client", srv.Client(t), false},
		{"Client, AutoPipeline", srv.Client(t), true},
		{"Ring with ContextTimeoutEnabled", ring, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A store with a long timeout warms the pool and loads the
			// script, so that only the pause can slow the fast one.
			slow, err := New(tc.client, Config{Timeout: 10 * time.Second, AutoPipeline: tc.pipe})
			if err != nil {
				t.Fatal(err)
			}
			fast, err := New(tc.client, Config{Timeout: 20 * time.Millisecond, AutoPipeline: tc.pipe})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := slow.Take(ctx, ratelimit.Request{Key: "k", Limit: ratelimit.PerSecond(10), Cost: 1}); err != nil {
				t.Fatal(err)
			}
			// Long enough that only the store's timeout can end the call.
			if err := admin.Do(ctx, "CLIENT", "PAUSE", 400, "ALL").Err(); err != nil {
				t.Fatal(err)
			}
			before := runtime.NumGoroutine()
			r, err := fast.Take(ctx, ratelimit.Request{Key: "k", Limit: ratelimit.PerSecond(10), Cost: 1})
			if !errors.Is(err, ratelimit.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || r.Allowed {
				t.Fatalf("stalled server: %+v, %v; want ErrUnavailable and DeadlineExceeded", r, err)
			}
			// (The autopipeliner's batch stays in flight in a goroutine of
			// its own, one for all its commands, until the server answers.)
			if after := runtime.NumGoroutine(); after > before && !tc.pipe {
				t.Errorf("%d goroutines before the call, %d after: the call left some behind", before, after)
			}
			// The pause ends by itself; the store answers again.
			if r, err := slow.Take(ctx, ratelimit.Request{Key: "k", Limit: ratelimit.PerSecond(10), Cost: 1}); err != nil || !r.Allowed {
				t.Fatalf("after the pause: %+v, %v", r, err)
			}
		})
	}
	t.Run("caller's context", func(t *testing.T) {
		s, err := New(srv.Client(t), Config{})
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Take(cctx, ratelimit.Request{Key: "k", Limit: ratelimit.PerSecond(10), Cost: 1}); !errors.Is(err, ratelimit.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled context: %v", err)
		}
	})
}

func TestTagFunc(t *testing.T) {
	// A tag per route: keys of one route can be taken together and live on
	// one slot; different routes spread over a cluster.
	s, c := newStore(t, Config{TagFunc: func(k string) string { r, _, _ := strings.Cut(k, "|"); return r }})
	ctx := context.Background()
	d, err := decide(s, ctx, []ratelimit.Request{{Key: "verify|ip", Limit: ratelimit.PerMinute(1)}, {Key: "verify|phone", Limit: ratelimit.PerMinute(1)}})
	if err != nil || !d.Allowed {
		t.Fatalf("%+v %v", d, err)
	}
	for _, k := range []string{"verify|ip", "verify|phone"} {
		name, err := s.KeyName(k)
		if err != nil || hashTag(name) != "verify" {
			t.Fatalf("KeyName(%q) = %q, %v; want tag verify", k, name, err)
		}
		if n, err := c.Exists(ctx, name).Result(); err != nil || n != 1 {
			t.Fatalf("key %s not written: %v", name, err)
		}
	}
	if _, err := decide(s, ctx, []ratelimit.Request{{Key: "verify|ip", Limit: ratelimit.PerMinute(1)}, {Key: "login|ip", Limit: ratelimit.PerMinute(1)}}); !errors.Is(err, ratelimit.ErrInvalidRequest) {
		t.Fatalf("keys of two tags in one take: %v, want ErrInvalidRequest", err)
	}
}
