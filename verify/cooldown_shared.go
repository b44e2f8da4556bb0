package verify

import (
	"fmt"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// maxCoolBuckets bounds the token buckets of a shared cooldown: one per
// doubling of Base below Max, and one for Max. Sixteen cover Max up to
// 2^15 × Base (Base 1 s, Max 9 hours).
const maxCoolBuckets = 16

// coolBucket is one token bucket of a shared cooldown: a send spends cost
// tokens of limit, which adds cost × Interval (add) to the bucket's debt,
// and is allowed while the debt is at most slack.
type coolBucket struct {
	limit ratelimit.Limit
	cost  int
	slack time.Duration
}

// sharedBuckets returns the token buckets that make the growing wait of c
// in any ratelimit store, so that instances sharing a store share the
// cooldown, checked in the same all-or-nothing take as the limits.
//
// A wait that doubles from Base up to Max is the lower envelope of lines:
// bucket k (for each k with Base×2^k < Max, K of them) adds 2^k × Base of
// debt per send and allows a send while its debt is at most
// ((k-1)×2^k + 1) × Base; the last adds Max and allows up to
// (K+1)×Max − ((2^K−1)×Base + Max). A client that asks again as soon as it
// may is then allowed after Base, 2×Base, 4×Base, ... and Max, exactly the
// waits of the in-memory cooldown; one that waits longer finds the buckets
// partly drained, and the debt of them all is gone after
// (K+1)×Max − (2^K−1)×Base of quiet (44.5 minutes with the defaults).
//
// The buckets count time in units of the greatest common divisor of Base and
// Max (whole microseconds), so that every debt is a whole number of tokens.
func (c Cooldown) sharedBuckets() ([]coolBucket, error) {
	base, maxWait := c.Base.Round(time.Microsecond), c.Max.Round(time.Microsecond) // the stores' resolution
	if base <= 0 {
		return nil, nil
	}
	k := 0
	for base<<k < maxWait {
		k++
		if k >= maxCoolBuckets {
			return nil, fmt.Errorf("%w: shared cooldown: Max above 2^%d × Base", ErrInvalidConfig, maxCoolBuckets-1)
		}
	}
	unit := gcd(base, maxWait)
	bucket := func(add, slack time.Duration) coolBucket {
		return coolBucket{
			limit: ratelimit.Limit{Rate: 1, Period: unit, Burst: int((add + slack) / unit)},
			cost:  int(add / unit),
			slack: slack,
		}
	}
	out := make([]coolBucket, 0, k+1)
	for i := range k {
		out = append(out, bucket(base<<i, time.Duration((i-1)<<i+1)*base))
	}
	last := (base<<k - base) + maxWait // when the first wait of Max ends
	out = append(out, bucket(maxWait, time.Duration(k+1)*maxWait-last))
	for _, b := range out {
		if err := b.limit.Validate(); err != nil {
			return nil, fmt.Errorf("%w: shared cooldown: %w", ErrInvalidConfig, err)
		}
	}
	return out, nil
}

func gcd(a, b time.Duration) time.Duration {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
