package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// Key helpers build keys with a kind prefix, so that a phone number and an
// IP never share a bucket, and with a bounded length, so that keys built from
// outside input are safe in any store. Combine them with your own namespace
// when one kind has several limits: "signup:" + KeyIP(addr).

// maxPart bounds the outside-controlled part of a key; longer parts are
// replaced by a hash.
const maxPart = 128

func part(s string) string {
	if len(s) <= maxPart {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// KeyIP returns the key for a client address. IPv4 addresses (including
// IPv4-mapped IPv6) are keyed whole; IPv6 addresses by their /64, because one
// subscriber usually gets a whole /64 and can rotate within it for free.
func KeyIP(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	if addr.Is4() || !addr.IsValid() {
		return "ip:" + addr.String()
	}
	p, _ := addr.Prefix(64)
	return "ip:" + p.String()
}

// KeyIPPrefix returns the key for the network of addr with the given prefix
// length (for example 24 for IPv4, 48 for IPv6), for limits per network.
func KeyIPPrefix(addr netip.Addr, bits int) string {
	p, err := addr.Unmap().WithZone("").Prefix(bits)
	if err != nil {
		return KeyIP(addr)
	}
	return "net:" + p.String()
}

// KeyPhone returns the key for a phone number, which should be in E.164
// form so that every way of writing the number maps to one key.
func KeyPhone(e164 string) string { return "phone:" + part(e164) }

// KeyPrefix returns the key for the block of numbers sharing the first
// digits digits of an E.164 number (after the "+"): KeyPrefix("+37120012345",
// 6) is "prefix:+371200". Pumping rotates through the numbers of a range, so
// a limit per block catches what a limit per number cannot.
func KeyPrefix(e164 string, digits int) string {
	d := strings.TrimPrefix(e164, "+")
	if digits < len(d) && digits >= 0 {
		d = d[:digits]
	}
	return "prefix:+" + part(d)
}

// KeyCountry returns the key for a region (an ISO 3166 code such as "LV")
// or a calling code.
func KeyCountry(region string) string { return "country:" + part(strings.ToUpper(region)) }

// KeyCallingCode returns the key for a country calling code, such as 371.
func KeyCallingCode(cc int) string { return "cc:" + strconv.Itoa(cc) }

// KeyRoute returns the key for an endpoint, such as KeyRoute("POST",
// "/verify/start").
func KeyRoute(method, path string) string { return "route:" + part(method+" "+path) }

// KeyGlobal returns the key for a limit that every request shares.
func KeyGlobal(name string) string { return "global:" + part(name) }
