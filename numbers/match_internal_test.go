package numbers

import (
	"runtime"
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
			if !m.testLenOK {
				t.Logf("%s: no length table", m.region)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d regions, %d states (largest %s: %d), heap +%d KiB", regions, states, maxRegion, maxStates, (int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024)
}
