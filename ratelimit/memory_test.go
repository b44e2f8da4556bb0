package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time                  { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Add(d time.Duration)             { c.ns.Add(int64(d)) }
func (c *fakeClock) nano() int64                     { return c.ns.Load() }
func (c *fakeClock) config() MemoryConfig            { return MemoryConfig{Now: c.Now, SweepInterval: -1} }
func (c *fakeClock) store(t *testing.T) *MemoryStore { return newStore(t, c.config()) }

func newStore(t testing.TB, cfg MemoryConfig) *MemoryStore {
	t.Helper()
	m, err := NewMemoryStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return m
}

func TestNewMemoryStoreConfig(t *testing.T) {
	tests := []struct {
		name       string
		cfg        MemoryConfig
		wantErr    bool
		wantShards int
	}{
		{"zero", MemoryConfig{}, false, DefaultShards},
		{"rounded up", MemoryConfig{Shards: 5}, false, 8},
		{"scaled with MaxKeys", MemoryConfig{MaxKeys: 1 << 24}, false, 1024},
		{"small MaxKeys", MemoryConfig{MaxKeys: 100}, false, 1},
		{"tiny MaxKeys", MemoryConfig{MaxKeys: 1, Shards: 16}, false, 1},
		{"negative shards", MemoryConfig{Shards: -1}, true, 0},
		{"too many shards", MemoryConfig{Shards: 1<<16 + 1}, true, 0},
		{"negative MaxKeys", MemoryConfig{MaxKeys: -1}, true, 0},
		{"unknown WhenFull", MemoryConfig{WhenFull: 7}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.SweepInterval = -1
			m, err := NewMemoryStore(tt.cfg)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("err = %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close(context.Background())
			if len(m.shards) != tt.wantShards {
				t.Fatalf("%d shards, want %d", len(m.shards), tt.wantShards)
			}
			total := 0
			for i := range m.shards {
				total += m.shards[i].max
			}
			want := tt.cfg.MaxKeys
			if want == 0 {
				want = DefaultMaxKeys
			}
			if total != want {
				t.Fatalf("shards hold %d keys in all, want MaxKeys %d", total, want)
			}
		})
	}
}

// stepModel is the reference: Step on a map of states.
type stepModel struct{ states map[string]State }

func (sm *stepModel) takeAll(now int64, reqs []Request) Decision {
	states := make([]State, len(reqs))
	for i, r := range reqs {
		states[i] = sm.states[r.Key]
	}
	results := make([]Result, len(reqs))
	_, b := Step(now, reqs, states, results)
	for i, r := range reqs {
		sm.states[r.Key] = states[i]
	}
	return Decision{Result: results[b], Index: b, Results: results}
}

// randomLimit returns one of a few limits, some with a penalty box.
func randomLimit(rng *rand.Rand) Limit {
	limits := []Limit{
		PerSecond(10),
		PerMinute(3),
		PerMinute(60).WithBurst(1),
		PerHour(5).WithPenalty(Penalty{After: 3, Within: time.Minute, For: 30 * time.Second, Reset: 10 * time.Minute}),
		PerSecond(2).WithPenalty(Penalty{After: 2, Within: 5 * time.Second, For: 3 * time.Second, Max: 20 * time.Second, Reset: time.Minute}),
	}
	return limits[rng.IntN(len(limits))]
}

// TestMemoryParityWithStep runs random sequences of takes on a
// MemoryStore and on Step over a map, with the same clock, and requires
// identical answers, including through housekeeping and pressure.
func TestMemoryParityWithStep(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed))
			clock := newFakeClock()
			cfg := clock.config()
			cfg.Shards = 1 + rng.IntN(4)
			m := newStore(t, cfg)
			model := &stepModel{states: map[string]State{}}
			keys := 1 + rng.IntN(12)
			ctx := context.Background()
			for step := 0; step < 3000; step++ {
				switch rng.IntN(20) {
				case 0:
					clock.Add(time.Duration(rng.Int64N(int64(2 * time.Minute))))
				case 1:
					m.Sweep()
				default:
					clock.Add(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
				}
				n := 1 + rng.IntN(3)
				reqs := make([]Request, 0, n)
				used := map[string]bool{}
				for len(reqs) < n {
					k := "k" + strconv.Itoa(rng.IntN(keys))
					if used[k] {
						break
					}
					used[k] = true
					l := randomLimit(rng)
					reqs = append(reqs, Request{Key: k, Limit: l, Cost: rng.IntN(min(l.Burst, 3) + 1), Peek: rng.IntN(10) == 0})
				}
				want := model.takeAll(clock.nano(), reqs)
				if len(reqs) == 1 && !reqs[0].Peek {
					got, err := m.Take(ctx, reqs[0].Key, reqs[0].Limit, reqs[0].Cost)
					if err != nil {
						t.Fatal(err)
					}
					if got != want.Result {
						t.Fatalf("step %d: Take(%+v) = %+v, Step says %+v", step, reqs[0], got, want.Result)
					}
					continue
				}
				got, err := m.TakeAll(ctx, reqs)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("step %d: TakeAll(%+v)\n got %+v\nwant %+v", step, reqs, got, want)
				}
			}
		})
	}
}

func TestMemoryTakeAllAllOrNothing(t *testing.T) {
	clock := newFakeClock()
	m := clock.store(t)
	ctx := context.Background()
	reqs := []Request{
		{Key: "ip:192.0.2.1", Limit: PerMinute(10)},
		{Key: "phone:+37120012345", Limit: PerHour(3)},
		{Key: "prefix:+371200", Limit: PerHour(50)},
		{Key: "global:verify", Limit: PerHour(1000)},
	}
	for i := 0; i < 3; i++ {
		d, err := m.TakeAll(ctx, reqs)
		if err != nil || !d.Allowed {
			t.Fatalf("take %d: %+v, %v", i, d, err)
		}
	}
	d, err := m.TakeAll(ctx, reqs)
	if err != nil || d.Allowed || d.Index != 1 || d.RetryAfter != 20*time.Minute {
		t.Fatalf("4th take: %+v, %v; want denied by the phone limit, retry 20m", d, err)
	}
	// Nothing was spent by the denied take: the IP still has 7.
	r, err := m.Take(ctx, "ip:192.0.2.1", PerMinute(10), 7)
	if err != nil || !r.Allowed || r.Remaining != 0 {
		t.Fatalf("ip after denied take: %+v, %v; want 7 left to spend", r, err)
	}
}

func TestMemoryTakeAllManyKeys(t *testing.T) {
	m := newFakeClock().store(t)
	reqs := make([]Request, 2*takeAllStack+1)
	for i := range reqs {
		reqs[i] = Request{Key: "k" + strconv.Itoa(i), Limit: PerHour(1)}
	}
	for want, take := range []bool{true, false} {
		d, err := m.TakeAll(context.Background(), reqs)
		if err != nil || d.Allowed != take || len(d.Results) != len(reqs) {
			t.Fatalf("take %d: %+v, %v", want, d, err)
		}
	}
}

func TestMemoryTakeErrors(t *testing.T) {
	m := newFakeClock().store(t)
	ctx := context.Background()
	tests := []struct {
		name string
		key  string
		l    Limit
		n    int
		want error
	}{
		{"empty key", "", PerSecond(1), 1, ErrInvalidKey},
		{"long key", string(make([]byte, MaxKeyLen+1)), PerSecond(1), 1, ErrInvalidKey},
		{"zero limit", "k", Limit{}, 1, ErrInvalidLimit},
		{"cost over burst", "k", PerSecond(3), 4, ErrInvalidCost},
		{"negative cost", "k", PerSecond(3), -1, ErrInvalidCost},
		{"penalty box not whole µs", "k", PerSecond(3).WithPenalty(Penalty{After: 1, Within: time.Second, For: 1500 * time.Nanosecond}), 1, ErrInvalidLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.Take(ctx, tt.key, tt.l, tt.n); !errors.Is(err, tt.want) {
				t.Fatalf("Take: %v, want %v", err, tt.want)
			}
			if _, err := m.TakeAll(ctx, []Request{{Key: tt.key, Limit: tt.l, Cost: tt.n}}); !errors.Is(err, tt.want) {
				t.Fatalf("TakeAll: %v, want %v", err, tt.want)
			}
			buf := []Result{{Allowed: true}}
			if _, err := m.TakeAllInto(ctx, []Request{{Key: tt.key, Limit: tt.l, Cost: tt.n}}, buf); !errors.Is(err, tt.want) || !buf[0].Allowed {
				t.Fatalf("TakeAllInto: %v, want %v and the buffer untouched", err, tt.want)
			}
		})
	}
	if _, err := m.TakeAll(ctx, nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("TakeAll(nil): %v, want ErrInvalidKey", err)
	}
	if _, err := m.TakeAllInto(ctx, nil, nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("TakeAllInto(nil): %v, want ErrInvalidKey", err)
	}
	if _, err := m.TakeAllInto(ctx, []Request{{Key: "k", Limit: PerSecond(1)}, {Key: "k", Limit: PerSecond(1)}}, nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("TakeAllInto with a key twice: %v, want ErrInvalidKey", err)
	}
	if m.Len() != 0 {
		t.Fatalf("invalid takes stored %d keys", m.Len())
	}
}

// TestMemoryExactUnderConcurrency: N goroutines on one key with a limit of
// 100 and no refill during the test admit exactly 100.
func TestMemoryExactUnderConcurrency(t *testing.T) {
	tests := []struct {
		name string
		take func(m *MemoryStore, i int) bool
	}{
		{"Take", func(m *MemoryStore, i int) bool {
			r, err := m.Take(context.Background(), "hot", PerDay(100), 1)
			if err != nil {
				panic(err)
			}
			return r.Allowed
		}},
		{"TakeAllInto", func(m *MemoryStore, i int) bool {
			var buf [2]Result
			d, err := m.TakeAllInto(context.Background(), []Request{
				{Key: "hot", Limit: PerDay(100)},
				{Key: "other" + strconv.Itoa(i%7), Limit: PerDay(1000)},
			}, buf[:])
			if err != nil {
				panic(err)
			}
			return d.Allowed
		}},
		{"TakeAll", func(m *MemoryStore, i int) bool {
			d, err := m.TakeAll(context.Background(), []Request{
				{Key: "hot", Limit: PerDay(100)},
				{Key: "other" + strconv.Itoa(i%7), Limit: PerDay(1000)},
			})
			if err != nil {
				panic(err)
			}
			return d.Allowed
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newStore(t, MemoryConfig{Now: newFakeClock().Now, SweepInterval: -1, Shards: 4})
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 16; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						if tt.take(m, g*50+i) {
							allowed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			if got := allowed.Load(); got != 100 {
				t.Fatalf("admitted %d of 800 on a limit of 100", got)
			}
		})
	}
}

// TestMemoryTakeAllNoDeadlock runs overlapping multi-key takes in opposite
// key orders from many goroutines; locks taken in shard order cannot
// deadlock.
func TestMemoryTakeAllNoDeadlock(t *testing.T) {
	m := newStore(t, MemoryConfig{SweepInterval: -1, Shards: 8})
	keys := benchKeys(16)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; i < 500; i++ {
				perm := rng.Perm(len(keys))[:4]
				reqs := make([]Request, len(perm))
				for j, p := range perm {
					reqs[j] = Request{Key: keys[p], Limit: PerSecond(1000)}
				}
				if _, err := m.TakeAll(context.Background(), reqs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMemoryHousekeepingReclaims(t *testing.T) {
	clock := newFakeClock()
	m := clock.store(t)
	ctx := context.Background()
	const n = 20_000
	for i := 0; i < n; i++ {
		if _, err := m.Take(ctx, "k"+strconv.Itoa(i), PerMinute(10), 1); err != nil {
			t.Fatal(err)
		}
	}
	// One key keeps a penalty state that outlives the others.
	boxed := PerMinute(1).WithPenalty(Penalty{After: 1, Within: time.Minute, For: time.Minute, Reset: time.Hour})
	for i := 0; i < 3; i++ {
		m.Take(ctx, "boxed", boxed, 1)
	}
	if got := m.Len(); got != n+1 {
		t.Fatalf("Len = %d, want %d", got, n+1)
	}
	if got := m.Sweep(); got != 0 {
		t.Fatalf("Sweep reclaimed %d live keys", got)
	}
	// PerMinute(10) after one take refills in 6s.
	clock.Add(6 * time.Second)
	if got := m.Sweep(); got != n {
		t.Fatalf("Sweep reclaimed %d, want %d", got, n)
	}
	if got := m.Len(); got != 1 {
		t.Fatalf("Len after sweep = %d, want 1 (the boxed key)", got)
	}
	if r, _ := m.Take(ctx, "boxed", boxed, 1); !r.Penalized {
		t.Fatalf("boxed key after sweep: %+v, want still penalized", r)
	}
	slots := 0
	for i := range m.shards {
		slots += len(m.shards[i].slots)
	}
	if slots > len(m.shards)*minSlots {
		t.Fatalf("%d slots left for 1 key: storage did not shrink", slots)
	}
	clock.Add(2 * time.Hour)
	m.Sweep()
	if got := m.Len(); got != 0 {
		t.Fatalf("Len = %d after the penalty expired, want 0", got)
	}
	for i := range m.shards {
		if m.shards[i].slots != nil || m.shards[i].ext != nil {
			t.Fatalf("shard %d keeps storage when empty", i)
		}
	}
}

func TestMemoryBackgroundHousekeeping(t *testing.T) {
	clock := newFakeClock()
	swept := make(chan int, 100)
	m := newStore(t, MemoryConfig{
		Now:           clock.Now,
		SweepInterval: time.Millisecond,
		Hooks:         MemoryHooks{Swept: func(reclaimed, live int) { swept <- reclaimed }},
	})
	m.Take(context.Background(), "k", PerSecond(1), 1)
	clock.Add(time.Second)
	for r := range swept {
		if r == 1 {
			break
		}
	}
	if m.Len() != 0 {
		t.Fatalf("Len = %d after housekeeping", m.Len())
	}
}

func TestMemoryCloseStopsHousekeeping(t *testing.T) {
	before := runtime.NumGoroutine()
	m, err := NewMemoryStore(MemoryConfig{SweepInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.done:
	default:
		t.Fatal("housekeeping goroutine still running after Close")
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.Take(context.Background(), "k", PerSecond(1), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Take after Close: %v, want ErrClosed", err)
	}
	if _, err := m.TakeAll(context.Background(), []Request{{Key: "k", Limit: PerSecond(1)}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("TakeAll after Close: %v, want ErrClosed", err)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines after Close, %d before", after, before)
	}
}

func TestMemoryCloseHonoursContext(t *testing.T) {
	inSweep := make(chan struct{}, 1)
	m, err := NewMemoryStore(MemoryConfig{
		SweepInterval: time.Millisecond,
		Now: func() time.Time {
			select {
			case inSweep <- struct{}{}:
			default:
			}
			return time.Now()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Hold the first shard: the sweep blocks on it, so Close must give up
	// when its context is done.
	m.shards[0].mu.Lock()
	<-inSweep
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Close(ctx); !errors.Is(err, context.Canceled) {
		m.shards[0].mu.Unlock()
		t.Fatalf("Close with a done context while sweeping: %v, want context.Canceled", err)
	}
	m.shards[0].mu.Unlock()
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestMemoryKeyFloodBounded floods a small store with new keys and checks
// that it never holds more than MaxKeys, that live keys are never reset,
// and that new keys are admitted again once old ones expire.
func TestMemoryKeyFloodBounded(t *testing.T) {
	for _, policy := range []FullPolicy{FullDenyNew, FullEvictSoonest} {
		t.Run(policy.String(), func(t *testing.T) {
			clock := newFakeClock()
			var full, evicted atomic.Int64
			m := newStore(t, MemoryConfig{
				Now: clock.Now, SweepInterval: -1, MaxKeys: 1000, Shards: 4, WhenFull: policy,
				Hooks: MemoryHooks{Full: func() { full.Add(1) }, Evicted: func() { evicted.Add(1) }},
			})
			ctx := context.Background()
			victim := PerHour(2)
			// The victim spends its burst: its state lives for an hour.
			for i := 0; i < 2; i++ {
				if r, _ := m.Take(ctx, "victim", victim, 1); !r.Allowed {
					t.Fatal("victim denied its burst")
				}
			}
			for i := 0; i < 20_000; i++ {
				clock.Add(time.Millisecond)
				r, err := m.Take(ctx, "flood"+strconv.Itoa(i), PerMinute(1), 1)
				if err != nil {
					t.Fatal(err)
				}
				if n := m.Len(); n > 1000 {
					t.Fatalf("store holds %d keys, MaxKeys 1000", n)
				}
				if !r.Allowed && policy == FullEvictSoonest {
					t.Fatalf("evict-soonest denied a new key: %+v", r)
				}
				if !r.Allowed && r.RetryAfter <= 0 {
					t.Fatalf("full denial without RetryAfter: %+v", r)
				}
			}
			if r, _ := m.Take(ctx, "victim", victim, 1); r.Allowed {
				t.Fatalf("flooding reset the victim's limit: %+v", r)
			}
			switch policy {
			case FullDenyNew:
				if full.Load() == 0 || evicted.Load() != 0 {
					t.Fatalf("full=%d evicted=%d", full.Load(), evicted.Load())
				}
			case FullEvictSoonest:
				if evicted.Load() == 0 || full.Load() != 0 {
					t.Fatalf("full=%d evicted=%d", full.Load(), evicted.Load())
				}
			}
			// Keys admitted under PerMinute(1) expire a minute later: new
			// keys are admitted again.
			clock.Add(time.Minute)
			if r, _ := m.Take(ctx, "late", PerMinute(1), 1); !r.Allowed {
				t.Fatalf("new key denied after the flood expired: %+v", r)
			}
		})
	}
}

// TestMemoryEvictSoonestOrder: under FullEvictSoonest the key evicted is
// the one expiring soonest, never a fresher or penalized one.
func TestMemoryEvictSoonestOrder(t *testing.T) {
	clock := newFakeClock()
	m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 64, Shards: 1, WhenFull: FullEvictSoonest})
	ctx := context.Background()
	// Key i expires in i+1 minutes.
	for i := 0; i < 64; i++ {
		m.Take(ctx, "k"+strconv.Itoa(i), Limit{Rate: 1, Period: time.Duration(i+1) * time.Minute, Burst: 1}, 1)
	}
	m.Take(ctx, "new", PerHour(1), 1)
	if got := m.Len(); got != 64 {
		t.Fatalf("Len = %d, want 64", got)
	}
	// k0 was evicted: it is as new. k1 was not: it is still denied.
	if r, _ := m.Take(ctx, "k0", Limit{Rate: 1, Period: time.Minute, Burst: 1}, 1); !r.Allowed {
		t.Fatalf("k0 not evicted: %+v", r)
	}
	if r, _ := m.Take(ctx, "k63", Limit{Rate: 1, Period: 64 * time.Minute, Burst: 1}, 1); r.Allowed {
		t.Fatalf("k63 evicted before sooner keys: %+v", r)
	}
}

func TestMemoryTakeAllFull(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		take func(m *MemoryStore, reqs []Request) (Decision, error)
	}{
		{"TakeAll", func(m *MemoryStore, reqs []Request) (Decision, error) { return m.TakeAll(ctx, reqs) }},
		{"TakeAllInto", func(m *MemoryStore, reqs []Request) (Decision, error) {
			buf := []Result{garbage, garbage}
			return m.TakeAllInto(ctx, reqs, buf)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 64, Shards: 1})
			for i := 0; i < 64; i++ {
				m.Take(ctx, "k"+strconv.Itoa(i), PerMinute(5), 1) // expires in 12s
			}
			d, err := tt.take(m, []Request{
				{Key: "k0", Limit: PerMinute(5)},
				{Key: "new", Limit: PerMinute(1)},
			})
			if err != nil || d.Allowed || d.Index != 1 || d.RetryAfter != 12*time.Second || d.Penalized {
				t.Fatalf("take with no room: %+v, %v; want denied on the new key, retry 12s", d, err)
			}
			if !d.Results[0].Allowed || d.Results[0].Remaining != 4 || d.Results[0].Penalized {
				t.Fatalf("k0 result %+v: want allowed on its own, nothing spent (4 left)", d.Results[0])
			}
			clock.Add(12 * time.Second)
			d, err = tt.take(m, []Request{{Key: "k0", Limit: PerMinute(5)}, {Key: "new", Limit: PerMinute(1)}})
			if err != nil || !d.Allowed {
				t.Fatalf("take after expiry: %+v, %v", d, err)
			}
		})
	}
}

func TestMemoryKeysAreHashedNotStored(t *testing.T) {
	m := newFakeClock().store(t)
	ctx := context.Background()
	keys := []string{"a", "\x00", "\xff\xfe", string(make([]byte, MaxKeyLen)), "ip:2001:db8::/64", "é"}
	for _, k := range keys {
		if r, err := m.Take(ctx, k, PerHour(1), 1); err != nil || !r.Allowed {
			t.Fatalf("Take(%q): %+v, %v", k, r, err)
		}
	}
	for _, k := range keys {
		if r, _ := m.Take(ctx, k, PerHour(1), 1); r.Allowed {
			t.Fatalf("Take(%q) again allowed: keys collided or were lost", k)
		}
	}
}

// TestMemoryLiveBytesPerKey checks the memory targets at a tenth of the
// benchmark's scale: ≤ 40 bytes a key while live, < 1 MB once idle.
func TestMemoryLiveBytesPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100k keys")
	}
	const n = 100_000
	clock := newFakeClock()
	before := heapInUse()
	m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 2 * n})
	ctx := context.Background()
	buf := []byte("phone:+1555")
	for i := 0; i < n; i++ {
		m.Take(ctx, string(strconv.AppendInt(buf, int64(i), 10)), PerMinute(10), 1)
	}
	live := heapInUse()
	perKey := float64(int64(live)-int64(before)) / n
	clock.Add(time.Hour)
	m.Sweep()
	idle := int64(heapInUse()) - int64(before)
	runtime.KeepAlive(m)
	t.Logf("live %.1f B/key, idle %d B", perKey, idle)
	if perKey > 40 {
		t.Errorf("%.1f bytes per live key, want ≤ 40", perKey)
	}
	if idle > 1<<20 {
		t.Errorf("%d bytes in use once idle, want < 1 MB", idle)
	}
}

// onlyStore hides every method of a Store but those of the interface, so
// that a Limiter cannot see an IntoStore or a *MemoryStore behind it.
type onlyStore struct{ Store }

// intoStore is an IntoStore that is not a *MemoryStore.
type intoStore struct{ IntoStore }

// garbage is what a reused buffer holds before a take: every field of
// every result must be overwritten.
var garbage = Result{Allowed: true, Limit: PerDay(99), Remaining: -99, RetryAfter: -1, ResetAfter: -1, Penalized: true}

// TestTakeAllIntoParity runs the same random takes through every way of
// making a multi-limit take, each on its own store with one clock, and
// requires Step's answers from all of them: a buffer reused across takes
// changes nothing but where the Results live.
func TestTakeAllIntoParity(t *testing.T) {
	ctx := context.Background()
	newLimiter := func(t *testing.T, s Store) *Limiter {
		l, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	ways := []struct {
		name string
		// take returns the decision and the buffer it should alias (nil
		// when the Results are the store's own).
		take func(t *testing.T, m *MemoryStore) func(reqs []Request) (Decision, []Result, error)
	}{
		{"MemoryStore.TakeAll", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := m.TakeAll(ctx, reqs)
				return d, nil, err
			}
		}},
		{"MemoryStore.TakeAllInto", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			buf := make([]Result, 4)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := m.TakeAllInto(ctx, reqs, buf)
				return d, buf, err
			}
		}},
		{"MemoryStore.TakeAllInto short buffer", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := m.TakeAllInto(ctx, reqs, []Result{garbage}) // takes have 2 or 3 requests
				return d, nil, err
			}
		}},
		{"Limiter.AllowAll", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l := newLimiter(t, m)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAll(ctx, reqs...)
				return d, nil, err
			}
		}},
		{"Limiter.AllowAllInto", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l, buf := newLimiter(t, m), make([]Result, 3, 8)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAllInto(ctx, reqs, buf)
				return d, buf, err
			}
		}},
		{"Limiter.AllowAllInto over an IntoStore", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l, buf := newLimiter(t, intoStore{m}), make([]Result, 3)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAllInto(ctx, reqs, buf)
				return d, buf, err
			}
		}},
		{"Limiter.AllowAllInto over a Store", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l, buf := newLimiter(t, onlyStore{m}), make([]Result, 3)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAllInto(ctx, reqs, buf)
				return d, buf, err
			}
		}},
	}
	for _, way := range ways {
		t.Run(way.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 5; seed++ {
				rng := rand.New(rand.NewPCG(seed, seed))
				clock := newFakeClock()
				cfg := clock.config()
				cfg.Shards = 1 + rng.IntN(4)
				m := newStore(t, cfg)
				take := way.take(t, m)
				model := &stepModel{states: map[string]State{}}
				for step := 0; step < 2000; step++ {
					clock.Add(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
					if rng.IntN(50) == 0 {
						m.Sweep()
					}
					reqs := make([]Request, 2+rng.IntN(2))
					for i := range reqs {
						l := randomLimit(rng)
						reqs[i] = Request{Key: "k" + strconv.Itoa(i*4+rng.IntN(4)), Limit: l,
							Cost: rng.IntN(min(l.Burst, 3) + 1), Peek: rng.IntN(10) == 0}
					}
					want := model.takeAll(clock.nano(), reqs)
					d, buf, err := take(reqs)
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(d) != fmt.Sprint(want) {
						t.Fatalf("seed %d step %d: %+v\n got %+v\nwant %+v", seed, step, reqs, d, want)
					}
					if len(d.Results) != len(reqs) {
						t.Fatalf("%d results for %d requests", len(d.Results), len(reqs))
					}
					if buf != nil {
						if &d.Results[0] != &buf[0] {
							t.Fatal("Results do not alias the buffer")
						}
						for i := range buf {
							buf[i] = garbage
						}
					}
				}
			}
		})
	}
}
