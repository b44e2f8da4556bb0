package pumping_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/antifraud-go/antifraud/guard/pumping"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// A pumper drips codes to random numbers of one block of 10,000, from a
// new address each time, and confirms none. The monitor refuses the third,
// blocks the block in the number policy, and says why.
func Example() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	// The monitor's counters live in the store of the app's limits.
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: clock})
	if err != nil {
		panic(err)
	}
	limiter, err := ratelimit.New(store)
	if err != nil {
		panic(err)
	}
	mon, err := pumping.New(limiter, pumping.Config{Now: clock})
	if err != nil {
		panic(err)
	}
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(mon.Blocklist()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i, s := range []string{"+447711120316", "+447711128907", "+447711124455", "+447711121280"} {
		now = now.Add(3 * time.Minute)
		n, _ := numbers.Parse(s, "")
		if !policy.Check(n, numbers.SMS).Allowed {
			continue
		}
		ip := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
		var be *pumping.BlockedError
		if err := mon.Allow(ctx, pumping.Send{Number: n, ClientIP: ip}); errors.As(err, &be) {
			fmt.Println("refused:", be.Block.Scope, be.Block.Key)
			continue
		}
		fmt.Println("sent to", n) // a Number prints masked
	}
	d := mon.Decisions()[0]
	fmt.Printf("%s %s: %d unconfirmed sends, threshold %d (floor %d), blocked for %v\n",
		d.Signal, d.Key, d.Level, d.Threshold, d.Baseline.Floor, d.For)
	n, _ := numbers.Parse("+447711129999", "")
	fmt.Println("policy:", policy.Check(n, numbers.SMS).Reason)
	// Output:
	// sent to +44******0316
	// sent to +44******8907
	// refused: range +44771112
	// unconfirmed +44771112: 3 unconfirmed sends, threshold 3 (floor 3), blocked for 15m0s
	// policy: prefix_blocked
}
