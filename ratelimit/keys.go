package ratelimit

import (
	"net/netip"

	"github.com/antifraud-go/antifraud/internal/keys"
)

// Key helpers build keys with a kind prefix, so that a phone number and an
// IP never share a bucket, and with a bounded length (an outside part
// longer than 128 bytes is replaced by its hash), so that keys built from
// outside input are safe in any store. Combine them with your own
// namespace when one kind has several limits: "signup:" + KeyIP(addr).
// The keys they build never change between releases: a changed key would
// be a reset limit for every user of a shared store.

// keyBuf is the stack buffer the Key helpers build in: longer keys are
// rare and simply grow it.
type keyBuf [64]byte

// KeyIP returns the key for a client address. IPv4 addresses (including
// IPv4-mapped IPv6) are keyed whole; IPv6 addresses by their /64, because one
// subscriber usually gets a whole /64 and can rotate within it for free.
func KeyIP(addr netip.Addr) string {
	var b keyBuf
	return string(keys.AppendIP(b[:0], addr))
}

// KeyIPPrefix returns the key for the network of addr with the given prefix
// length (for example 24 for IPv4, 48 for IPv6), for limits per network.
func KeyIPPrefix(addr netip.Addr, bits int) string {
	var b keyBuf
	return string(keys.AppendIPPrefix(b[:0], addr, bits))
}

// KeyPhone returns the key for a phone number, which should be in E.164
// form so that every way of writing the number maps to one key.
func KeyPhone(e164 string) string {
	var b keyBuf
	return string(keys.AppendPhone(b[:0], e164))
}

// KeyPrefix returns the key for the block of numbers sharing the first
// digits digits of an E.164 number (after the "+"): KeyPrefix("+37120012345",
// 6) is "prefix:+371200". Pumping rotates through the numbers of a range, so
// a limit per block catches what a limit per number cannot.
func KeyPrefix(e164 string, digits int) string {
	var b keyBuf
	return string(keys.AppendPrefix(b[:0], e164, digits))
}

// KeyCountry returns the key for a region (an ISO 3166 code such as "LV").
func KeyCountry(region string) string {
	var b keyBuf
	return string(keys.AppendCountry(b[:0], region))
}

// KeyCallingCode returns the key for a country calling code, such as 371.
func KeyCallingCode(cc int) string {
	var b keyBuf
	return string(keys.AppendCallingCode(b[:0], cc))
}

// KeyRoute returns the key for an endpoint, such as KeyRoute("POST",
// "/verify/start").
func KeyRoute(method, path string) string {
	var b keyBuf
	return string(keys.AppendRoute(b[:0], method, path))
}

// KeyGlobal returns the key for a limit that every request shares.
func KeyGlobal(name string) string {
	var b keyBuf
	return string(keys.AppendGlobal(b[:0], name))
}
