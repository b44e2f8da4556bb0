package verify

import (
	"fmt"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// Limits are the rate limits a [Service] applies. A zero Limit disables that
// limit. Every Start takes one token from each start limit in a single
// all-or-nothing call, so a request refused by the per-IP limit spends none
// of the number's allowance; every Check does the same with the check
// limits.
type Limits struct {
	// Phone limits codes sent to one number (or email address).
	Phone ratelimit.Limit
	// IP limits codes requested by one client address (IPv6 by /64).
	IP ratelimit.Limit
	// Prefix limits codes sent to one block of numbers: the number
	// without its last PrefixDrop digits. Pumping walks through a range.
	Prefix ratelimit.Limit
	// PrefixDrop is how many trailing digits the per-prefix key drops.
	// Zero means 3: blocks of 1,000 numbers.
	PrefixDrop int
	// Country limits codes sent to one region (or calling code).
	Country ratelimit.Limit
	// Global limits all codes sent by the Service.
	Global ratelimit.Limit
	// CheckPhone limits code checks for one number.
	CheckPhone ratelimit.Limit
	// CheckIP limits code checks from one client address.
	CheckIP ratelimit.Limit
}

// DefaultLimits returns the limits a Service uses when Config.Limits is nil.
// They suit a small or medium app; raise Country and Global for more traffic.
//
//	Phone       5 an hour (burst 5)
//	IP          20 an hour (burst 10); 10 denials in 10 minutes box the
//	            address for 15 minutes, doubling up to a day
//	Prefix      20 an hour per block of 1,000 numbers (burst 10)
//	Country     200 an hour (burst 50)
//	Global      1,000 an hour (burst 100)
//	CheckPhone  10 an hour (burst 5)
//	CheckIP     30 an hour (burst 10)
func DefaultLimits() Limits {
	return Limits{
		Phone: ratelimit.PerHour(5),
		IP: ratelimit.PerHour(20).WithBurst(10).WithPenalty(ratelimit.Penalty{
			After: 10, Within: 10 * time.Minute, For: 15 * time.Minute,
		}),
		Prefix:     ratelimit.PerHour(20).WithBurst(10),
		PrefixDrop: 3,
		Country:    ratelimit.PerHour(200).WithBurst(50),
		Global:     ratelimit.PerHour(1000).WithBurst(100),
		CheckPhone: ratelimit.PerHour(10).WithBurst(5),
		CheckIP:    ratelimit.PerHour(30).WithBurst(10),
	}
}

func (l Limits) validate() (Limits, error) {
	if l.PrefixDrop == 0 {
		l.PrefixDrop = 3
	}
	if l.PrefixDrop < 0 || l.PrefixDrop > 12 {
		return l, fmt.Errorf("%w: PrefixDrop %d out of 0..12", ErrInvalidConfig, l.PrefixDrop)
	}
	for _, f := range []struct {
		name string
		lim  ratelimit.Limit
	}{
		{"Phone", l.Phone}, {"IP", l.IP}, {"Prefix", l.Prefix}, {"Country", l.Country},
		{"Global", l.Global}, {"CheckPhone", l.CheckPhone}, {"CheckIP", l.CheckIP},
	} {
		if f.lim == (ratelimit.Limit{}) {
			continue
		}
		if err := f.lim.Validate(); err != nil {
			return l, fmt.Errorf("%w: limit %s: %w", ErrInvalidConfig, f.name, err)
		}
	}
	return l, nil
}
