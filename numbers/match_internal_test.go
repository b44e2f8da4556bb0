package numbers

import (
	"runtime"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// TestCompileAllRegions compiles every calling code and reports the size
// of the automata; every calling code of the bundled metadata must take the
// fast path.
func TestCompileAllRegions(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	states, regions := 0, 0
	maxStates, maxRegion := 0, ""
	for cc := range metadata.CountryCodeToRegion() {
		c := callingCode(cc)
		if c == nil {
			t.Errorf("calling code %d: no fast path", cc)
			continue
		}
		for _, m := range c.regions {
			regions++
			n := len(m.accept)
			states += n
			if n > maxStates {
				maxStates, maxRegion = n, m.region
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// The heap growth is only meaningful when no other test compiled a
	// calling code first (go test -run TestCompileAllRegions -v).
	t.Logf("%d regions, %d states (largest %s: %d), heap +%d KiB", regions, states, maxRegion, maxStates, (int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024)
}

// TestStateCap: a region whose automaton would exceed the cap is not
// compiled, so its calling code falls back to libphonenumber.
func TestStateCap(t *testing.T) {
	md, _ := metadata.RegionMetadata("US")
	if m := compileRegion("US", 1, md, 10); m != nil {
		t.Fatalf("compiled with %d states over a cap of 10", len(m.accept))
	}
	if m := compileRegion("US", 1, md, maxDFAStates); m == nil {
		t.Fatal("US does not compile")
	}
	if callingCode(0) != nil || callingCode(999) != nil || callingCode(1000) != nil || callingCode(-1) != nil {
		t.Error("fast path data for an unknown calling code")
	}
}

// TestConcurrentFirstUse: the first uses of a calling code from many
// goroutines at once (run with -race).
func TestConcurrentFirstUse(t *testing.T) {
	inputs := []struct{ s, region string }{
		{"+1 876 234 5678", ""}, {"(415) 555-2671", "US"}, {"+44 7911 123456", ""}, {"07911 123456", "GB"},
		{"+7 912 345 67 89", ""}, {"+61 412 345 678", ""}, {"+262 692 12 34 56", ""}, {"+590 690 00 12 34", ""},
	}
	var wg sync.WaitGroup
	for range 8 {
		for _, in := range inputs {
			wg.Go(func() {
				n, err := Parse(in.s, in.region)
				if err != nil {
					t.Error(err)
					return
				}
				_ = n.Type()
			})
		}
	}
	wg.Wait()
	for _, in := range inputs {
		checkSame(t, in.s, in.region)
	}
}
