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
//
// The AppendKey forms append the same bytes to a buffer, for servers that
// build several keys per request into one buffer and convert it to a
// string once.

// maxPart bounds the outside-controlled part of a key; longer parts are
// replaced by a hash.
const maxPart = 128

// keyBuf is the stack buffer the Key helpers build in: longer keys are
// rare and simply grow it.
type keyBuf [64]byte

// appendPart appends s, or its hash when s is longer than maxPart.
func appendPart(dst []byte, s string) []byte {
	if len(s) <= maxPart {
		return append(dst, s...)
	}
	sum := sha256.Sum256([]byte(s))
	dst = append(dst, "sha256:"...)
	return hex.AppendEncode(dst, sum[:16])
}

// KeyIP returns the key for a client address. IPv4 addresses (including
// IPv4-mapped IPv6) are keyed whole; IPv6 addresses by their /64, because one
// subscriber usually gets a whole /64 and can rotate within it for free.
func KeyIP(addr netip.Addr) string {
	var b keyBuf
	return string(AppendKeyIP(b[:0], addr))
}

// AppendKeyIP appends KeyIP(addr) to dst.
func AppendKeyIP(dst []byte, addr netip.Addr) []byte {
	addr = addr.Unmap().WithZone("")
	dst = append(dst, "ip:"...)
	if !addr.IsValid() {
		// Requests without an address share one key, as ever.
		return append(dst, "invalid IP"...)
	}
	if addr.Is4() {
		return addr.AppendTo(dst)
	}
	p, _ := addr.Prefix(64)
	return p.AppendTo(dst)
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
func KeyPhone(e164 string) string {
	var b keyBuf
	return string(AppendKeyPhone(b[:0], e164))
}

// AppendKeyPhone appends KeyPhone(e164) to dst.
func AppendKeyPhone(dst []byte, e164 string) []byte {
	return appendPart(append(dst, "phone:"...), e164)
}

// KeyPrefix returns the key for the block of numbers sharing the first
// digits digits of an E.164 number (after the "+"): KeyPrefix("+37120012345",
// 6) is "prefix:+371200". Pumping rotates through the numbers of a range, so
// a limit per block catches what a limit per number cannot.
func KeyPrefix(e164 string, digits int) string {
	var b keyBuf
	return string(AppendKeyPrefix(b[:0], e164, digits))
}

// AppendKeyPrefix appends KeyPrefix(e164, digits) to dst.
func AppendKeyPrefix(dst []byte, e164 string, digits int) []byte {
	d := strings.TrimPrefix(e164, "+")
	if digits < len(d) && digits >= 0 {
		d = d[:digits]
	}
	return appendPart(append(dst, "prefix:+"...), d)
}

// KeyCountry returns the key for a region (an ISO 3166 code such as "LV")
// or a calling code.
func KeyCountry(region string) string {
	var b keyBuf
	return string(AppendKeyCountry(b[:0], region))
}

// AppendKeyCountry appends KeyCountry(region) to dst.
func AppendKeyCountry(dst []byte, region string) []byte {
	dst = append(dst, "country:"...)
	if !upperASCII(region) {
		return appendPart(dst, strings.ToUpper(region))
	}
	return appendPart(dst, region)
}

// upperASCII reports whether s is ASCII without lower-case letters, which
// strings.ToUpper would return unchanged.
func upperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// KeyCallingCode returns the key for a country calling code, such as 371.
func KeyCallingCode(cc int) string {
	var b keyBuf
	return string(AppendKeyCallingCode(b[:0], cc))
}

// AppendKeyCallingCode appends KeyCallingCode(cc) to dst.
func AppendKeyCallingCode(dst []byte, cc int) []byte {
	return strconv.AppendInt(append(dst, "cc:"...), int64(cc), 10)
}

// KeyRoute returns the key for an endpoint, such as KeyRoute("POST",
// "/verify/start").
func KeyRoute(method, path string) string {
	var b keyBuf
	return string(appendPart(append(b[:0], "route:"...), method+" "+path))
}

// KeyGlobal returns the key for a limit that every request shares.
func KeyGlobal(name string) string {
	var b keyBuf
	return string(appendPart(append(b[:0], "global:"...), name))
}
