package verify

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestCooldownWait(t *testing.T) {
	c, err := Cooldown{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := c.wait(i + 1); got != w {
			t.Errorf("wait(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := c.wait(1000); got != 10*time.Minute {
		t.Errorf("wait(1000) = %v", got)
	}
}

func TestCooldownReleaseRestores(t *testing.T) {
	cfg, _ := Cooldown{}.withDefaults()
	c := newCooldowns(cfg)
	now := time.Unix(1_000_000, 0)
	r1, _, ok := c.reserve("k", now)
	if !ok {
		t.Fatal("first reserve refused")
	}
	now = now.Add(30 * time.Second)
	r2, _, ok := c.reserve("k", now)
	if !ok || r2.cur.sends != 2 {
		t.Fatalf("second reserve: %+v %v", r2, ok)
	}
	c.release(r2) // back to one send at the first time
	if _, left, ok := c.reserve("k", now.Add(-time.Second)); ok || left != time.Second {
		t.Fatalf("after release: left %v ok %v", left, ok)
	}
	r3, _, ok := c.reserve("k", now)
	if !ok || r3.cur.sends != 2 {
		t.Fatalf("third reserve: %+v %v", r3, ok)
	}
	c.release(r1) // stale: r3 was recorded since r1; must not undo it
	if _, _, ok := c.reserve("k", now); ok {
		t.Fatal("stale release undid a later send")
	}
	c.reset("k")
	if c.len() != 0 {
		t.Fatal("reset kept the entry")
	}
}

func TestCooldownBounded(t *testing.T) {
	cfg, _ := Cooldown{MaxTracked: 320}.withDefaults()
	c := newCooldowns(cfg)
	now := time.Unix(1_000_000, 0)
	for i := range 10_000 {
		if _, _, ok := c.reserve(fmt.Sprint("+1555", i), now); !ok {
			t.Fatalf("fresh key %d refused", i)
		}
	}
	checkCooldownTables(t, c)
	if n := c.len(); n > 320 {
		t.Fatalf("%d entries tracked, bound is 320", n)
	}
	// Entries past Reset are the first to go, and are not cooling down.
	now = now.Add(cfg.Reset)
	if _, _, ok := c.reserve("+15550", now); !ok {
		t.Fatal("key past Reset still cooling down")
	}
}

// refCooldowns is the reference: the same rules on a map of strings.
type refCooldowns struct {
	cfg Cooldown
	m   map[string]cooldownEntry
}

func (r *refCooldowns) reserve(key string, t int64) (time.Duration, bool, cooldownEntry) {
	prev, ok := r.m[key]
	if ok && t-prev.last >= int64(r.cfg.Reset) {
		prev = cooldownEntry{}
	}
	if prev.sends > 0 {
		if left := prev.last + int64(r.cfg.wait(prev.sends)) - t; left > 0 {
			return time.Duration(left), false, prev
		}
	}
	r.m[key] = cooldownEntry{last: t, sends: prev.sends + 1}
	return r.cfg.wait(prev.sends + 1), true, prev
}

// TestCooldownModel runs random reserves, releases and resets on the
// table and on a map of strings, and requires the same answers, and a
// consistent table after every step.
func TestCooldownModel(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0))
			cfg, _ := Cooldown{Base: time.Second, Max: 8 * time.Second, Reset: 20 * time.Second}.withDefaults()
			c := newCooldowns(cfg)
			ref := &refCooldowns{cfg: cfg, m: map[string]cooldownEntry{}}
			now := time.Unix(1_000_000, 0)
			keys := 1 + rng.IntN(300)
			for step := range 5000 {
				now = now.Add(time.Duration(rng.Int64N(int64(3 * time.Second))))
				key := fmt.Sprint("+1555", rng.IntN(keys))
				switch rng.IntN(10) {
				case 0:
					c.reset(key)
					delete(ref.m, key)
				default:
					res, left, ok := c.reserve(key, now)
					wantLeft, wantOK, prev := ref.reserve(key, now.UnixNano())
					if ok != wantOK || left != wantLeft {
						t.Fatalf("step %d: reserve(%s) = %v, %v; want %v, %v", step, key, left, ok, wantLeft, wantOK)
					}
					if ok && rng.IntN(4) == 0 {
						c.release(res)
						if prev.sends == 0 {
							delete(ref.m, key)
						} else {
							ref.m[key] = prev
						}
					}
				}
				checkCooldownTables(t, c)
			}
		})
	}
}

// checkCooldownTables checks every shard: each entry is found where it
// is, and count is the number of entries.
func checkCooldownTables(t *testing.T, c *cooldowns) {
	t.Helper()
	for s := range c.shards {
		sh := &c.shards[s]
		n := 0
		for i, e := range sh.slots {
			if e.hash == 0 {
				continue
			}
			n++
			if j := sh.find(e.hash); j != i {
				t.Fatalf("shard %d: entry at %d found at %d", s, i, j)
			}
		}
		if n != sh.count {
			t.Fatalf("shard %d: count %d, %d entries", s, sh.count, n)
		}
	}
}
