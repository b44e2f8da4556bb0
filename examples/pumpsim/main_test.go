package main

import (
	"reflect"
	"testing"
	"time"
)

// TestTargets runs the default mix through the static defense and the
// monitor, and checks the monitor against the targets of issue 13.
func TestTargets(t *testing.T) {
	p := defaults()
	if testing.Short() {
		p.duration = 24 * time.Hour
	}
	st, err := run(&p, "static")
	if err != nil {
		t.Fatal(err)
	}
	ad, err := run(&p, "adaptive")
	if err != nil {
		t.Fatal(err)
	}
	s, a := st.summary(), ad.summary()
	t.Logf("static: %.2f%% blocked, %.2f%% legit refused; monitor: %.2f%% blocked, %.2f%% legit refused, max %d sends per range",
		s.blockedPct, s.legitPct, a.blockedPct, a.legitPct, a.rangeMax)
	if a.blockedPct < targetBlocked || a.legitPct > targetLegit || a.rangeMax > targetRange {
		t.Errorf("monitor: %.2f%% of attack sends blocked (want >= %v), %.2f%% legit users refused (want <= %v), %d sends to a range before its first block (want <= %d)",
			a.blockedPct, targetBlocked, a.legitPct, targetLegit, a.rangeMax, targetRange)
	}
	// The static baseline is what the monitor must beat: the slow drip
	// goes through it.
	if s.blockedPct > 60 {
		t.Errorf("static defense blocks %.2f%%: the attacks no longer test anything", s.blockedPct)
	}
}

// TestDeterministic checks that a run depends on its seed only.
func TestDeterministic(t *testing.T) {
	p := defaults()
	p.warmup, p.duration = 6*time.Hour, 6*time.Hour
	a, err := run(&p, "adaptive")
	if err != nil {
		t.Fatal(err)
	}
	b, err := run(&p, "adaptive")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.summary(), b.summary()) || a.decisions != b.decisions {
		t.Errorf("two runs of seed %d differ: %+v (%d decisions) and %+v (%d)", p.seed, a.summary(), a.decisions, b.summary(), b.decisions)
	}
	p.seed++
	c, err := run(&p, "adaptive")
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.summary(), c.summary()) {
		t.Error("seeds 1 and 2 give the same run")
	}
}
