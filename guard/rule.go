package guard

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// Rule is one limit of a check, keyed by something about the request: its
// client address, its phone number, the number's block or country, the
// route, or nothing (one bucket for all). Build rules with PerAddr,
// PerPhone, PerBlock, PerCountry, PerUser, PerRoute and Global. A Rule is
// a comparable value; the zero Rule is invalid.
//
// All the rules of one check are taken together, all or nothing: a
// request refused by the per-address rule spends nothing from the
// per-phone one.
//
// Keys are namespaced by the route name given to the check, so two routes
// with a PerPhone rule count separately; Global rules are shared by every
// route that has a Global rule with the same limit.
type Rule struct {
	kind  ruleKind
	limit ratelimit.Limit
	drop  int
}

type ruleKind uint8

const (
	ruleAddr ruleKind = iota + 1
	rulePhone
	ruleBlock
	ruleCountry
	ruleUser
	ruleRoute
	ruleGlobal
	ruleRefusals // the refusals of an address, added by the guard itself
)

var ruleNames = [...]string{
	ruleAddr: "addr", rulePhone: "phone", ruleBlock: "block", ruleCountry: "country",
	ruleUser: "user", ruleRoute: "route", ruleGlobal: "global", ruleRefusals: "refusals",
}

func (k ruleKind) String() string {
	if int(k) < len(ruleNames) && ruleNames[k] != "" {
		return ruleNames[k]
	}
	return "invalid"
}

// needsNumber reports whether the rule keys on a phone number.
func (k ruleKind) needsNumber() bool { return k == rulePhone || k == ruleBlock || k == ruleCountry }

// PerAddr limits requests per client address: IPv4 addresses whole, IPv6
// addresses by their /64, which one subscriber usually holds entirely and
// can rotate through for free. See WithTrustedProxies for how the address
// is found.
func PerAddr(lim ratelimit.Limit) Rule { return Rule{kind: ruleAddr, limit: lim} }

// PerPhone limits requests per phone number (its E.164 form, however it was
// typed). In CheckOutbound it is the limit per destination.
func PerPhone(lim ratelimit.Limit) Rule { return Rule{kind: rulePhone, limit: lim} }

// PerBlock limits requests per block of numbers: the number without its
// last drop digits (1 to 12). PerBlock(3, ...) counts blocks of 1,000
// numbers, such as +1415555xxxx: pumping walks through a range the
// carrier shares revenue on, which a limit per number never sees.
func PerBlock(drop int, lim ratelimit.Limit) Rule {
	return Rule{kind: ruleBlock, limit: lim, drop: drop}
}

// PerCountry limits requests per destination country: the number's region
// (such as "GB"), or its calling code for numbers that belong to no
// region (+882, +883 ...).
func PerCountry(lim ratelimit.Limit) Rule { return Rule{kind: ruleCountry, limit: lim} }

// PerUser limits requests per user of the app, as named by the function
// given to WithUser (in middleware) or by Outbound.User. Requests without a
// user are not counted by this rule: limit them by address.
func PerUser(lim ratelimit.Limit) Rule { return Rule{kind: ruleUser, limit: lim} }

// PerRoute limits all the requests of the route together, whatever their
// source.
func PerRoute(lim ratelimit.Limit) Rule { return Rule{kind: ruleRoute, limit: lim} }

// Global limits all the requests of every route that has a Global rule
// with the same limit: a ceiling on what the whole app spends.
func Global(lim ratelimit.Limit) Rule { return Rule{kind: ruleGlobal, limit: lim} }

// keyNS begins every key the guard writes.
const keyNS = "guard:"

// refusedNS begins the keys of the refusals limit (WithRefusalLimit).
const refusedNS = "guard:refused:"

// maxPart bounds the outside-controlled part of a key (a user name): a
// longer one is replaced by its hash.
const maxPart = 64

// appendAddrKey appends the key of a client address: the address itself
// for IPv4, its /64 for IPv6, in the same form as ratelimit.KeyIP.
func appendAddrKey(b []byte, a netip.Addr) []byte {
	b = append(b, "ip:"...)
	if a.Is4() {
		return a.AppendTo(b)
	}
	p, _ := a.Prefix(64)
	return p.AppendTo(b)
}

// appendCountryKey appends the number's region, or its calling code when
// it has none.
func appendCountryKey(b []byte, n *numbers.Number) []byte {
	if n.Region != "" && n.Region != "001" {
		return append(b, n.Region...)
	}
	return strconv.AppendInt(append(b, '+'), int64(n.CallingCode), 10)
}

// appendBlockKey appends the number without its last drop digits (at least
// one digit is kept).
func appendBlockKey(b []byte, n *numbers.Number, drop int) []byte {
	digits := len(n.E164) - 1 - drop
	return append(b, n.E164[:1+max(1, digits)]...)
}

// appendPart appends s, or its hash when it is longer than maxPart.
func appendPart(b []byte, s string) []byte {
	if len(s) <= maxPart {
		return append(b, s...)
	}
	sum := sha256.Sum256([]byte(s))
	b = append(b, "sha256:"...)
	return hex.AppendEncode(b, sum[:16])
}
