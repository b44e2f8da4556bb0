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

	"github.com/antifraud-go/antifraud/internal/testkit"
)

// clockConfig is a MemoryConfig on clock without housekeeping.
func clockConfig(c *testkit.Clock) MemoryConfig {
	return MemoryConfig{Now: c.Now, SweepInterval: -1}
}

// clockStore is a store on clock without housekeeping.
func clockStore(t *testing.T, c *testkit.Clock) *MemoryStore { return newStore(t, clockConfig(c)) }

// spend is a Take of key on l of cost n.
func spend(m *MemoryStore, key string, l Limit, n int) (Result, error) {
	return m.Take(context.Background(), Request{Key: key, Limit: l, Cost: n})
}

// decide runs s.TakeAll into new results and returns the Decision a
// Limiter would make of them.
func decide(s Store, reqs []Request) (Decision, error) {
	results := make([]Result, len(reqs))
	allowed, b, err := s.TakeAll(context.Background(), reqs, results)
	if err != nil {
		return Decision{Results: results}, err
	}
	var d Decision
	setDecision(&d, allowed, results, b)
	return d, nil
}

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
		{"zero", MemoryConfig{}, false, defaultShards},
		{"rounded up", MemoryConfig{Shards: 5}, false, 8},
		{"scaled with MaxKeys", MemoryConfig{MaxKeys: 1 << 24}, false, 1024},
		{"small MaxKeys", MemoryConfig{MaxKeys: 100}, false, 1},
		{"tiny MaxKeys", MemoryConfig{MaxKeys: 1, Shards: 16}, false, 1},
		{"negative shards", MemoryConfig{Shards: -1}, true, 0},
		{"too many shards", MemoryConfig{Shards: 1<<16 + 1}, true, 0},
		{"negative MaxKeys", MemoryConfig{MaxKeys: -1}, true, 0},
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
				want = defaultMaxKeys
			}
			if total != want {
				t.Fatalf("shards hold %d keys in all, want MaxKeys %d", total, want)
			}
		})
	}
}

// stepModel is the reference: Step on a map of states.
type stepModel struct{ states map[string]state }

func (sm *stepModel) takeAll(now int64, reqs []Request) Decision {
	states := make([]state, len(reqs))
	for i, r := range reqs {
		states[i] = sm.states[r.Key]
	}
	results := make([]Result, len(reqs))
	allowed, b := step(now, reqs, nil, states, results)
	for i, r := range reqs {
		sm.states[r.Key] = states[i]
	}
	var d Decision
	setDecision(&d, allowed, results, b)
	return d
}

// randomRequest returns a request for key on l: plain, a peek, a record or
// a refund, of any valid cost up to 3 either way.
func randomRequest(rng *rand.Rand, key string, l Limit) Request {
	r := Request{Key: key, Limit: l, Cost: rng.IntN(min(l.Burst, 3) + 1)}
	switch rng.IntN(10) {
	case 0:
		r.Peek = true
	case 1:
		r.Record = true
	case 2:
		r.Cost = -1 - rng.IntN(min(l.Burst, 3))
		r.Record = rng.IntN(2) == 0
	}
	return r
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
	seeds := uint64(4)
	if testkit.Long() {
		seeds = 40
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed))
			clock := testkit.NewClock()
			cfg := clockConfig(clock)
			cfg.Shards = 1 + rng.IntN(4)
			m := newStore(t, cfg)
			model := &stepModel{states: map[string]state{}}
			keys := 1 + rng.IntN(12)
			ctx := context.Background()
			for step := 0; step < 3000; step++ {
				switch rng.IntN(20) {
				case 0:
					clock.Advance(time.Duration(rng.Int64N(int64(2 * time.Minute))))
				case 1:
					m.Sweep()
				default:
					clock.Advance(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
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
					reqs = append(reqs, randomRequest(rng, k, l))
				}
				want := model.takeAll(clock.UnixNano(), reqs)
				if len(reqs) == 1 {
					got, err := m.Take(ctx, reqs[0])
					if err != nil {
						t.Fatal(err)
					}
					if got != want.Results[0] {
						t.Fatalf("step %d: Take(%+v) = %+v, Step says %+v", step, reqs[0], got, want.Result)
					}
					continue
				}
				got, err := decide(m, reqs)
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
	clock := testkit.NewClock()
	m := clockStore(t, clock)
	reqs := []Request{
		{Key: "ip:192.0.2.1", Limit: PerMinute(10)},
		{Key: "phone:+37120012345", Limit: PerHour(3)},
		{Key: "prefix:+371200", Limit: PerHour(50)},
		{Key: "global:verify", Limit: PerHour(1000)},
	}
	for i := 0; i < 3; i++ {
		d, err := decide(m, reqs)
		if err != nil || !d.Allowed {
			t.Fatalf("take %d: %+v, %v", i, d, err)
		}
	}
	d, err := decide(m, reqs)
	if err != nil || d.Allowed || d.Index != 1 || d.RetryAfter != 20*time.Minute {
		t.Fatalf("4th take: %+v, %v; want denied by the phone limit, retry 20m", d, err)
	}
	// Nothing was spent by the denied take: the IP still has 7.
	r, err := spend(m, "ip:192.0.2.1", PerMinute(10), 7)
	if err != nil || !r.Allowed || r.Remaining != 0 {
		t.Fatalf("ip after denied take: %+v, %v; want 7 left to spend", r, err)
	}
}

// TestMemoryTakeAllManyKeys covers takes of each size of scratch space:
// on the stack, in the second frame, on the heap.
func TestMemoryTakeAllManyKeys(t *testing.T) {
	for _, n := range []int{takeAllStack, takeAllStack + 1, takeAllMid, takeAllMid + 1, 2*takeAllMid + 3} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			m := clockStore(t, testkit.NewClock())
			reqs := make([]Request, n)
			for i := range reqs {
				reqs[i] = Request{Key: "k" + strconv.Itoa(i), Limit: PerHour(1)}
			}
			for want, take := range []bool{true, false} {
				d, err := decide(m, reqs)
				if err != nil || d.Allowed != take || len(d.Results) != len(reqs) {
					t.Fatalf("take %d: %+v, %v", want, d, err)
				}
			}
			// The lock-free path: keys held, a take denied by the last one.
			reqs[n-1].Cost = -1 // gives one back to the last key only
			if d, err := decide(m, reqs); err != nil || d.Allowed {
				t.Fatalf("take with the others empty: %+v, %v", d, err)
			}
			// All or nothing: the denied take gave nothing back.
			last := []Request{{Key: reqs[n-1].Key, Limit: PerHour(1)}}
			if d, err := decide(m, last); err != nil || d.Allowed {
				t.Fatalf("the last key after a denied take that gave back to it: %+v, %v", d, err)
			}
		})
	}
}

func TestMemoryTakeErrors(t *testing.T) {
	m := clockStore(t, testkit.NewClock())
	ctx := context.Background()
	tests := []struct {
		name string
		r    Request
		want error
	}{
		{"empty key", Request{Key: "", Limit: PerSecond(1)}, ErrInvalidRequest},
		{"long key", Request{Key: string(make([]byte, 513)), Limit: PerSecond(1)}, ErrInvalidRequest},
		{"zero limit", Request{Key: "k"}, ErrInvalidConfig},
		{"cost over burst", Request{Key: "k", Limit: PerSecond(3), Cost: 4}, ErrInvalidRequest},
		{"refund over burst", Request{Key: "k", Limit: PerSecond(3), Cost: -4}, ErrInvalidRequest},
		{"peek that gives back", Request{Key: "k", Limit: PerSecond(3), Cost: -1, Peek: true}, ErrInvalidRequest},
		{"peek that records", Request{Key: "k", Limit: PerSecond(3), Peek: true, Record: true}, ErrInvalidRequest},
		{"penalty box not whole µs", Request{Key: "k", Limit: PerSecond(3).WithPenalty(Penalty{After: 1, Within: time.Second, For: 1500 * time.Nanosecond})}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.Take(ctx, tt.r); !errors.Is(err, tt.want) {
				t.Fatalf("Take: %v, want %v", err, tt.want)
			}
			buf := []Result{garbage}
			if _, _, err := m.TakeAll(ctx, []Request{tt.r}, buf); !errors.Is(err, tt.want) || buf[0] != garbage {
				t.Fatalf("TakeAll: %v, want %v and the buffer untouched", err, tt.want)
			}
		})
	}
	if _, _, err := m.TakeAll(ctx, nil, nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("TakeAll(nil): %v, want ErrInvalidRequest", err)
	}
	two := []Request{{Key: "k", Limit: PerSecond(1)}, {Key: "k", Limit: PerSecond(1)}}
	if _, _, err := m.TakeAll(ctx, two, make([]Result, 2)); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("TakeAll with a key twice: %v, want ErrInvalidRequest", err)
	}
	if _, _, err := m.TakeAll(ctx, two[:1], nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("TakeAll without results: %v, want ErrInvalidRequest", err)
	}
	if m.keyCount() != 0 {
		t.Fatalf("invalid takes stored %d keys", m.keyCount())
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
			r, err := spend(m, "hot", PerDay(100), 1)
			if err != nil {
				panic(err)
			}
			return r.Allowed
		}},
		{"TakeAll", func(m *MemoryStore, i int) bool {
			var buf [3]Result
			allowed, _, err := m.TakeAll(context.Background(), []Request{
				{Key: "hot", Limit: PerDay(100)},
				{Key: "other" + strconv.Itoa(i%7), Limit: PerDay(1000)},
				{Key: "count", Limit: PerDay(10), Record: true},
			}, buf[:])
			if err != nil {
				panic(err)
			}
			return allowed
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newStore(t, MemoryConfig{Now: testkit.NewClock().Now, SweepInterval: -1, Shards: 4})
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
				if _, err := decide(m, reqs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMemoryHousekeepingReclaims(t *testing.T) {
	clock := testkit.NewClock()
	m := clockStore(t, clock)
	const n = 20_000
	for i := 0; i < n; i++ {
		if _, err := spend(m, "k"+strconv.Itoa(i), PerMinute(10), 1); err != nil {
			t.Fatal(err)
		}
	}
	// One key keeps a penalty state that outlives the others.
	boxed := PerMinute(1).WithPenalty(Penalty{After: 1, Within: time.Minute, For: time.Minute, Reset: time.Hour})
	for i := 0; i < 3; i++ {
		spend(m, "boxed", boxed, 1)
	}
	if got := m.keyCount(); got != n+1 {
		t.Fatalf("Len = %d, want %d", got, n+1)
	}
	if got := m.Sweep(); got != 0 {
		t.Fatalf("Sweep reclaimed %d live keys", got)
	}
	// PerMinute(10) after one take refills in 6s.
	clock.Advance(6 * time.Second)
	if got := m.Sweep(); got != n {
		t.Fatalf("Sweep reclaimed %d, want %d", got, n)
	}
	if got := m.keyCount(); got != 1 {
		t.Fatalf("Len after sweep = %d, want 1 (the boxed key)", got)
	}
	if r, _ := spend(m, "boxed", boxed, 1); !r.Penalized {
		t.Fatalf("boxed key after sweep: %+v, want still penalized", r)
	}
	slots := 0
	for i := range m.shards {
		slots += len(m.shards[i].tbl.Load().slots)
	}
	if slots > len(m.shards)*minSlots {
		t.Fatalf("%d slots left for 1 key: storage did not shrink", slots)
	}
	clock.Advance(2 * time.Hour)
	m.Sweep()
	if got := m.keyCount(); got != 0 {
		t.Fatalf("Len = %d after the penalty expired, want 0", got)
	}
	for i := range m.shards {
		if len(m.shards[i].tbl.Load().slots) != 0 || m.shards[i].ext != nil {
			t.Fatalf("shard %d keeps storage when empty", i)
		}
	}
}

func TestMemoryBackgroundHousekeeping(t *testing.T) {
	clock := testkit.NewClock()
	swept := make(chan int, 100)
	m := newStore(t, MemoryConfig{
		Now:           clock.Now,
		SweepInterval: time.Millisecond,
		Hooks:         MemoryHooks{Swept: func(reclaimed, live int) { swept <- reclaimed }},
	})
	spend(m, "k", PerSecond(1), 1)
	clock.Advance(time.Second)
	for r := range swept {
		if r == 1 {
			break
		}
	}
	if m.keyCount() != 0 {
		t.Fatalf("Len = %d after housekeeping", m.keyCount())
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
	if _, err := spend(m, "k", PerSecond(1), 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Take after Close: %v, want ErrUnavailable", err)
	}
	if _, err := decide(m, []Request{{Key: "k", Limit: PerSecond(1)}}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("TakeAll after Close: %v, want ErrUnavailable", err)
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
// that it never holds more than MaxKeys, that new keys are served, and
// that a key that spent its burst is not forgotten.
func TestMemoryKeyFloodBounded(t *testing.T) {
	clock := testkit.NewClock()
	var full, evicted atomic.Int64
	m := newStore(t, MemoryConfig{
		Now: clock.Now, SweepInterval: -1, MaxKeys: 1000, Shards: 4,
		Hooks: MemoryHooks{Full: func() { full.Add(1) }, Evicted: func() { evicted.Add(1) }},
	})
	victim := PerHour(2)
	// The victim spends its burst: its state lives for an hour.
	for i := 0; i < 2; i++ {
		if r, _ := spend(m, "victim", victim, 1); !r.Allowed {
			t.Fatal("victim denied its burst")
		}
	}
	for i := 0; i < 20_000; i++ {
		clock.Advance(time.Millisecond)
		r, err := spend(m, "flood"+strconv.Itoa(i), PerMinute(1), 1)
		if err != nil {
			t.Fatal(err)
		}
		if n := m.keyCount(); n > 1000 {
			t.Fatalf("store holds %d keys, MaxKeys 1000", n)
		}
		if !r.Allowed {
			t.Fatalf("a new key was denied: %+v", r)
		}
	}
	if r, _ := spend(m, "victim", victim, 1); r.Allowed {
		t.Fatalf("flooding reset the victim's limit: %+v", r)
	}
	if evicted.Load() == 0 || full.Load() != 0 {
		t.Fatalf("full=%d evicted=%d", full.Load(), evicted.Load())
	}
}

// TestMemoryEvictionOrder: a full shard forgets keys spent once before
// keys spent more often, the soonest to expire first, and keys in a
// penalty box last; and it forgets a batch at once.
func TestMemoryEvictionOrder(t *testing.T) {
	clock := testkit.NewClock()
	var evicted atomic.Int64
	m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 64, Shards: 1,
		Hooks: MemoryHooks{Evicted: func() { evicted.Add(1) }}})
	once := func(i int) Limit { return Limit{Rate: 1, Period: time.Duration(i+1) * time.Minute, Burst: 1} }
	// 50 keys spent once, key i expiring in i+1 minutes; 10 users who
	// spent their burst of 2 over two requests; 4 keys in a box.
	for i := range 50 {
		spend(m, "once"+strconv.Itoa(i), once(i), 1)
	}
	for i := range 10 {
		for range 2 {
			spend(m, "user"+strconv.Itoa(i), PerHour(2), 1)
		}
	}
	boxed := PerHour(1).WithPenalty(Penalty{After: 1, Within: time.Hour, For: time.Hour})
	for i := range 4 {
		for range 2 {
			spend(m, "boxed"+strconv.Itoa(i), boxed, 1)
		}
	}
	if got := m.keyCount(); got != 64 {
		t.Fatalf("%d keys, want 64", got)
	}
	// A new key: the store forgets 1 + 64/16 keys, the five keys spent
	// once that expire soonest.
	if r, _ := spend(m, "new", PerHour(1), 1); !r.Allowed {
		t.Fatalf("new key denied: %+v", r)
	}
	if got, want := m.keyCount(), 64-5+1; got != want || evicted.Load() != 5 {
		t.Fatalf("%d keys after the first new key, %d evicted; want %d and 5", got, evicted.Load(), want)
	}
	for i := range 50 {
		r, _ := m.Take(context.Background(), Request{Key: "once" + strconv.Itoa(i), Limit: once(i), Cost: 1, Peek: true})
		if forgotten := r.Allowed; forgotten != (i < 5) {
			t.Fatalf("key spent once expiring in %dm: forgotten=%v", i+1, forgotten)
		}
	}
	// A flood of new keys is served, and takes the keys spent once, its
	// own included, never the users' nor the boxes.
	for i := range 1000 {
		clock.Advance(time.Millisecond)
		if r, _ := spend(m, "flood"+strconv.Itoa(i), PerHour(1), 1); !r.Allowed {
			t.Fatalf("flood key %d denied: %+v", i, r)
		}
	}
	for i := range 10 {
		if r, _ := spend(m, "user"+strconv.Itoa(i), PerHour(2), 1); r.Allowed {
			t.Fatalf("user %d forgotten by the flood: %+v", i, r)
		}
	}
	for i := range 4 {
		if r, _ := spend(m, "boxed"+strconv.Itoa(i), boxed, 1); !r.Penalized {
			t.Fatalf("boxed key %d forgotten by the flood: %+v", i, r)
		}
	}
	// Only boxes left and no room: the boxes ending soonest go, and a new
	// key is still served.
	m2 := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 64, Shards: 1})
	for i := range 64 {
		l := PerHour(1).WithPenalty(Penalty{After: 1, Within: time.Hour, For: time.Duration(i+1) * time.Hour})
		spend(m2, "boxed"+strconv.Itoa(i), l, 1)
		spend(m2, "boxed"+strconv.Itoa(i), l, 1)
	}
	if r, _ := spend(m2, "new", PerHour(1), 1); !r.Allowed {
		t.Fatalf("new key denied by a shard of boxes: %+v", r)
	}
	l0 := PerHour(1).WithPenalty(Penalty{After: 1, Within: time.Hour, For: time.Hour})
	if r, _ := spend(m2, "boxed0", l0, 1); r.Penalized {
		t.Fatalf("the box ending soonest was kept: %+v", r)
	}
	l63 := PerHour(1).WithPenalty(Penalty{After: 1, Within: time.Hour, For: 64 * time.Hour})
	if r, _ := spend(m2, "boxed63", l63, 1); !r.Penalized {
		t.Fatalf("the box ending last was forgotten: %+v", r)
	}
}

// TestMemoryTakeAllFull: a take whose own keys do not fit in their shard
// is denied on the new key, until the shard has room.
func TestMemoryTakeAllFull(t *testing.T) {
	clock := testkit.NewClock()
	var full atomic.Int64
	m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 1, Hooks: MemoryHooks{Full: func() { full.Add(1) }}})
	spend(m, "k0", PerMinute(5), 1) // expires in 12s
	for _, flag := range []string{"plain", "record"} {
		d, err := decide(m, []Request{
			{Key: "k0", Limit: PerMinute(5)},
			{Key: "new", Limit: PerMinute(1), Record: flag == "record"},
		})
		if err != nil || d.Allowed || d.Index != 1 || d.RetryAfter != 12*time.Second || d.Penalized {
			t.Fatalf("%s take with no room: %+v, %v; want denied on the new key, retry 12s", flag, d, err)
		}
		if !d.Results[0].Allowed || d.Results[0].Remaining != 4 || d.Results[0].Penalized {
			t.Fatalf("k0 result %+v: want allowed on its own, nothing spent (4 left)", d.Results[0])
		}
	}
	if full.Load() != 2 {
		t.Fatalf("Full hook called %d times, want 2", full.Load())
	}
	clock.Advance(12 * time.Second)
	if r, err := spend(m, "new", PerMinute(1), 1); err != nil || !r.Allowed {
		t.Fatalf("take after k0 expired: %+v, %v", r, err)
	}
}

func TestMemoryKeysAreHashedNotStored(t *testing.T) {
	m := clockStore(t, testkit.NewClock())
	keys := []string{"a", "\x00", "\xff\xfe", string(make([]byte, 512)), "ip:2001:db8::/64", "é"}
	for _, k := range keys {
		if r, err := spend(m, k, PerHour(1), 1); err != nil || !r.Allowed {
			t.Fatalf("Take(%q): %+v, %v", k, r, err)
		}
	}
	for _, k := range keys {
		if r, _ := spend(m, k, PerHour(1), 1); r.Allowed {
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
	clock := testkit.NewClock()
	before := heapInUse()
	m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 2 * n})
	buf := []byte("phone:+1555")
	for i := 0; i < n; i++ {
		spend(m, string(strconv.AppendInt(buf, int64(i), 10)), PerMinute(10), 1)
	}
	live := heapInUse()
	perKey := float64(int64(live)-int64(before)) / n
	clock.Advance(time.Hour)
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

// onlyStore hides every method of a Store but those of the interface.
type onlyStore struct{ Store }

// garbage is what a reused buffer holds before a take: every field of
// every result must be overwritten.
var garbage = Result{Allowed: true, Remaining: -99, RetryAfter: -1, ResetAfter: -1, Penalized: true}

// TestTakeAllParity runs the same random takes through every way of
// making a multi-limit take, each on its own store with one clock, and
// requires step's answers from all of them: a buffer reused across takes
// changes nothing but where the Results live.
func TestTakeAllParity(t *testing.T) {
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
		// when the Results are new).
		take func(t *testing.T, m *MemoryStore) func(reqs []Request) (Decision, []Result, error)
	}{
		{"MemoryStore.TakeAll", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			buf := make([]Result, 4)
			return func(reqs []Request) (Decision, []Result, error) {
				allowed, b, err := m.TakeAll(ctx, reqs, buf)
				var d Decision
				if err == nil {
					setDecision(&d, allowed, buf[:len(reqs)], b)
				}
				return d, buf, err
			}
		}},
		{"Limiter.AllowAll", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l := newLimiter(t, m)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAll(ctx, reqs, nil)
				return d, nil, err
			}
		}},
		{"Limiter.AllowAll into a buffer", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l, buf := newLimiter(t, m), make([]Result, 3, 8)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAll(ctx, reqs, buf)
				return d, buf, err
			}
		}},
		{"Limiter.AllowAll short buffer", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l := newLimiter(t, m)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAll(ctx, reqs, []Result{garbage}) // takes have 2 or 3 requests
				return d, nil, err
			}
		}},
		{"Limiter.AllowAll over another Store", func(t *testing.T, m *MemoryStore) func([]Request) (Decision, []Result, error) {
			l, buf := newLimiter(t, onlyStore{m}), make([]Result, 3)
			return func(reqs []Request) (Decision, []Result, error) {
				d, err := l.AllowAll(ctx, reqs, buf)
				return d, buf, err
			}
		}},
	}
	seeds := uint64(1)
	if testkit.Long() {
		seeds = 10
	}
	for _, way := range ways {
		t.Run(way.name, func(t *testing.T) {
			for seed := uint64(1); seed <= seeds; seed++ {
				rng := rand.New(rand.NewPCG(seed, seed))
				clock := testkit.NewClock()
				cfg := clockConfig(clock)
				cfg.Shards = 1 + rng.IntN(4)
				m := newStore(t, cfg)
				take := way.take(t, m)
				model := &stepModel{states: map[string]state{}}
				for step := 0; step < 2000; step++ {
					clock.Advance(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
					if rng.IntN(50) == 0 {
						m.Sweep()
					}
					reqs := make([]Request, 2+rng.IntN(2))
					for i := range reqs {
						reqs[i] = randomRequest(rng, "k"+strconv.Itoa(i*4+rng.IntN(4)), randomLimit(rng))
					}
					want := model.takeAll(clock.UnixNano(), reqs)
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

// TestMemoryExactUnderChurn runs single and multi-key takes on a few hot
// keys from many goroutines while other goroutines flood the store with
// new keys (so its one shard keeps rebuilding to evict) and sweep it: no
// spend may be lost or made twice, so each hot key admits exactly its
// burst (the clock moves too little to refill any).
func TestMemoryExactUnderChurn(t *testing.T) {
	clock := testkit.NewClock()
	m := newStore(t, MemoryConfig{Now: clock.Now, SweepInterval: -1, MaxKeys: 128, Shards: 1})
	const hot, burst = 4, 4000
	hotLimit := PerDay(burst)
	ctx := context.Background()
	var admitted [hot]atomic.Int64
	// Spend each hot key twice first, so that it ranks above the flood.
	for k := range hot {
		for range 2 {
			if r, _ := spend(m, "hot"+strconv.Itoa(k), hotLimit, 1); r.Allowed {
				admitted[k].Add(1)
			}
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var flooded atomic.Int64
	for g := range 2 { // the flood, and the sweeper
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if g == 0 {
					clock.Advance(time.Microsecond)
					spend(m, "flood"+strconv.Itoa(i), PerSecond(1000), 1)
					flooded.Add(1)
				} else {
					m.Sweep()
				}
			}
		}()
	}
	var takers sync.WaitGroup
	for g := range 6 {
		takers.Add(1)
		go func() {
			defer takers.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			var buf [3]Result
			for i := 0; i < 3000; i++ {
				a, b := rng.IntN(hot), rng.IntN(hot)
				switch rng.IntN(4) {
				case 0:
					if r, err := spend(m, "hot"+strconv.Itoa(a), hotLimit, 1); err != nil {
						panic(err)
					} else if r.Allowed {
						admitted[a].Add(1)
					}
				case 1: // two hot keys and a new one, all or nothing
					if a == b {
						b = (a + 1) % hot
					}
					ok, _, err := m.TakeAll(ctx, []Request{
						{Key: "hot" + strconv.Itoa(a), Limit: hotLimit},
						{Key: "hot" + strconv.Itoa(b), Limit: hotLimit},
						{Key: fmt.Sprintf("new%d-%d", g, i), Limit: PerSecond(1000)},
					}, buf[:])
					if err != nil {
						panic(err)
					}
					if ok {
						admitted[a].Add(1)
						admitted[b].Add(1)
					}
				case 2: // a peek and a record ride along
					ok, _, err := m.TakeAll(ctx, []Request{
						{Key: "hot" + strconv.Itoa(a), Limit: hotLimit},
						{Key: "count" + strconv.Itoa(g), Limit: PerMinute(10), Record: true},
						{Key: "peek" + strconv.Itoa(g), Limit: PerMinute(10), Peek: true},
					}, buf[:])
					if err != nil {
						panic(err)
					}
					if ok {
						admitted[a].Add(1)
					}
				case 3: // a take of cost 2, given back at once
					if r, _ := spend(m, "hot"+strconv.Itoa(a), hotLimit, 2); r.Allowed {
						spend(m, "hot"+strconv.Itoa(a), hotLimit, -2)
					}
				}
			}
		}()
	}
	takers.Wait()
	close(stop)
	wg.Wait()
	for k := range hot {
		if got := admitted[k].Load(); got != burst {
			t.Errorf("hot key %d admitted %d, want exactly its burst %d", k, got, burst)
		}
	}
	t.Logf("flood keys: %d", flooded.Load())
	if flooded.Load() < 1000 {
		t.Logf("only %d flood keys: little churn", flooded.Load())
	}
}

// TestMemoryTakesDoNotAllocate: on keys it holds, the memory store takes
// without allocating, one key or several, plain or flagged, through the
// store or a Limiter with a reused buffer.
func TestMemoryTakesDoNotAllocate(t *testing.T) {
	m := clockStore(t, testkit.NewClock())
	l, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim := PerSecond(1_000_000).WithBurst(1 << 30)
	reqs := []Request{
		{Key: "ip:192.0.2.1", Limit: lim},
		{Key: "phone:+37120012345", Limit: lim},
		{Key: "prefix:+371200", Limit: lim},
		{Key: "count:+371200", Limit: lim, Record: true},
		{Key: "refused:192.0.2.1", Limit: lim, Peek: true},
	}
	buf := make([]Result, len(reqs))
	keyBytes := []byte("ip:192.0.2.2")
	tests := []struct {
		name string
		f    func()
	}{
		{"Take", func() { m.Take(ctx, reqs[0]) }},
		// A key converted from bytes at the call stays on the stack:
		// nothing in the store makes it escape.
		{"Take of a key from bytes", func() { m.Take(ctx, Request{Key: string(keyBytes), Limit: lim}) }},
		{"Take record", func() { m.Take(ctx, reqs[3]) }},
		{"TakeAll", func() { m.TakeAll(ctx, reqs, buf) }},
		{"Limiter.Allow", func() { l.Allow(ctx, "ip:192.0.2.1", lim) }},
		{"Limiter.AllowAll", func() { l.AllowAll(ctx, reqs, buf) }},
	}
	for _, tt := range tests {
		tt.f() // the keys exist from here on
		if got := testing.AllocsPerRun(100, tt.f); got != 0 {
			t.Errorf("%s: %v allocations, want 0", tt.name, got)
		}
	}
	// A take with new keys allocates only when a table grows.
	var kb []byte
	i := 0
	newKeys := func() {
		kb = strconv.AppendInt(append(kb[:0], "phone:+3712"...), int64(i), 10)
		reqs[1].Key = string(kb) // the only allocation: the key
		i++
		m.TakeAll(ctx, reqs, buf)
	}
	if got := testing.AllocsPerRun(1000, newKeys); got > 1.1 {
		t.Errorf("TakeAll with a new key: %v allocations, want the key's and a table's now and then", got)
	}
}
