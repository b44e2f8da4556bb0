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
	// Refusals limits the numbers one client address may have refused by
	// the number policy (or by the provider's Fraud Guard or geo
	// permissions). A client that feeds the form numbers it may not use
	// is probing the policy: each refusal spends a token here, which is
	// cheaper than a send (no provider call, a larger allowance) but not
	// free. Once the allowance is spent, and while the penalty box holds
	// the address, every Start from it is answered with a [LimitError]
	// (Scope "refusals", 429), whether its number is allowed or not: the
	// prober learns nothing more about the policy, and gets no code sent.
	Refusals ratelimit.Limit
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
//	Refusals    60 an hour (burst 20); 10 denials in 10 minutes box the
//	            address for an hour, doubling up to a day
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
		Refusals: ratelimit.PerHour(60).WithBurst(20).WithPenalty(ratelimit.Penalty{
			After: 10, Within: 10 * time.Minute, For: time.Hour,
		}),
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
	for k := range numKinds {
		if lim := l.limit(k); lim != (ratelimit.Limit{}) {
			if err := lim.Validate(); err != nil {
				return l, fmt.Errorf("%w: limit %s: %w", ErrInvalidConfig, limitNames[k], err)
			}
		}
	}
	return l, nil
}

// limitKind is one of the limits of Limits.
type limitKind uint8

const (
	kindPhone limitKind = iota
	kindIP
	kindPrefix
	kindCountry
	kindGlobal
	kindRefusals
	kindCheckPhone
	kindCheckIP
	numKinds
)

// scopes are the kinds' names in errors and events, and limitNames their
// fields in Limits.
var (
	scopes     = [numKinds]string{"phone", "ip", "prefix", "country", "global", "refusals", "check_phone", "check_ip"}
	limitNames = [numKinds]string{"Phone", "IP", "Prefix", "Country", "Global", "Refusals", "CheckPhone", "CheckIP"}
)

// limit returns the Limit of kind k.
func (l *Limits) limit(k limitKind) ratelimit.Limit {
	switch k {
	case kindPhone:
		return l.Phone
	case kindIP:
		return l.IP
	case kindPrefix:
		return l.Prefix
	case kindCountry:
		return l.Country
	case kindGlobal:
		return l.Global
	case kindRefusals:
		return l.Refusals
	case kindCheckPhone:
		return l.CheckPhone
	}
	return l.CheckIP
}

// scopedLimit is one enabled limit of a take. A peek spends nothing: the
// take is refused while the limit has no token, which is how the Refusals
// limit of an address gates its Starts.
type scopedLimit struct {
	kind  limitKind
	peek  bool
	limit ratelimit.Limit
}

// enabled returns the limits of kinds that are not zero, in order.
func (l Limits) enabled(kinds ...limitKind) []scopedLimit {
	var out []scopedLimit
	for _, k := range kinds {
		if lim := l.limit(k); lim != (ratelimit.Limit{}) {
			out = append(out, scopedLimit{kind: k, peek: k == kindRefusals, limit: lim})
		}
	}
	return out
}
