package verify

import (
	"fmt"
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
	if n := c.len(); n > 320 {
		t.Fatalf("%d entries tracked, bound is 320", n)
	}
	// Entries past Reset are the first to go, and are not cooling down.
	now = now.Add(cfg.Reset)
	if _, _, ok := c.reserve("+15550", now); !ok {
		t.Fatal("key past Reset still cooling down")
	}
}
