package verify

import (
	"fmt"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// The resend cooldown lives in the limiter's store, as token buckets checked
// in the same all-or-nothing take as the start limits: one round trip, and
// the same answers on one instance or many (see Config.Cooldown).

// Defaults of Config.Cooldown and Config.MaxCooldown.
const (
	defaultCooldown    = 30 * time.Second
	defaultMaxCooldown = 10 * time.Minute
)

// maxCoolBuckets bounds the token buckets of a cooldown: one per doubling of
// the first wait below the longest, and one for the longest. Sixteen cover
// MaxCooldown up to 2^15 × Cooldown (1 s and 9 hours).
const maxCoolBuckets = 16

// coolBucket is one token bucket of the cooldown: a send spends cost tokens
// of limit, which adds cost × Interval to the bucket's debt, and is allowed
// while the debt is at most slack.
type coolBucket struct {
	limit ratelimit.Limit
	cost  int
	slack time.Duration
}

// cooldown is a Service's resend cooldown. The zero cooldown is disabled.
type cooldown struct {
	buckets []coolBucket
}

// newCooldown returns the cooldown whose first wait is base and longest
// maxWait, with the defaults for zero values; a negative base disables it.
//
// A wait that doubles from base up to maxWait is the lower envelope of
// lines: bucket k (for each k with base×2^k < maxWait, K of them) adds
// 2^k × base of debt per send and allows a send while its debt is at most
// ((k-1)×2^k + 1) × base; the last adds maxWait and allows up to
// (K+1)×maxWait − ((2^K−1)×base + maxWait). A client that asks again as
// soon as it may is then allowed after base, 2×base, 4×base, ... and
// maxWait; one that waits longer finds the buckets partly drained, and the
// debt of them all is gone after (K+1)×maxWait − (2^K−1)×base of quiet
// (44.5 minutes with the defaults).
//
// The buckets count time in units of the greatest common divisor of base and
// maxWait (whole microseconds), so that every debt is a whole number of
// tokens.
func newCooldown(base, maxWait time.Duration) (cooldown, error) {
	if base < 0 {
		return cooldown{}, nil
	}
	if base == 0 {
		base = defaultCooldown
	}
	if maxWait == 0 {
		maxWait = max(defaultMaxCooldown, base)
	}
	base, maxWait = base.Round(time.Microsecond), maxWait.Round(time.Microsecond) // the stores' resolution
	switch {
	case base <= 0:
		return cooldown{}, fmt.Errorf("%w: Cooldown %v is below a microsecond", ErrInvalidConfig, base)
	case maxWait < base:
		return cooldown{}, fmt.Errorf("%w: MaxCooldown %v is below Cooldown %v", ErrInvalidConfig, maxWait, base)
	}
	k := 0
	for base<<k < maxWait {
		k++
		if k >= maxCoolBuckets {
			return cooldown{}, fmt.Errorf("%w: MaxCooldown is above 2^%d × Cooldown", ErrInvalidConfig, maxCoolBuckets-1)
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
	c := cooldown{buckets: make([]coolBucket, 0, k+1)}
	for i := range k {
		c.buckets = append(c.buckets, bucket(base<<i, time.Duration((i-1)<<i+1)*base))
	}
	last := (base<<k - base) + maxWait // when the first wait of maxWait ends
	c.buckets = append(c.buckets, bucket(maxWait, time.Duration(k+1)*maxWait-last))
	for _, b := range c.buckets {
		if err := b.limit.Validate(); err != nil {
			return cooldown{}, fmt.Errorf("%w: cooldown: %w", ErrInvalidConfig, err)
		}
	}
	return c, nil
}

// wait returns how long after a take whose results for the buckets are
// results the next send is allowed: once every bucket's debt (the time until
// it is full again) is down to its slack.
func (c *cooldown) wait(results []ratelimit.Result) time.Duration {
	var d time.Duration
	for j, b := range c.buckets {
		d = max(d, results[j].ResetAfter-b.slack)
	}
	return d
}

func gcd(a, b time.Duration) time.Duration {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
