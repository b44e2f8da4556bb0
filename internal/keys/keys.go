// Package keys builds the keys of the ratelimit key helpers into a byte
// slice, for this module's packages (verify, guard) that build several keys
// per request into one buffer and convert it to a string once.
//
// The bytes are those of ratelimit.KeyIP, KeyPhone and the others, which are
// built with these functions: a key must never change between releases, or
// every limit kept in a shared store is reset by an upgrade.
package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
)

// MaxPart bounds the outside-controlled part of a key; longer parts are
// replaced by a hash.
const MaxPart = 128

// AppendPart appends s, or "sha256:" and 32 hex digits of its hash when s
// is longer than MaxPart.
func AppendPart(dst []byte, s string) []byte {
	if len(s) <= MaxPart {
		return append(dst, s...)
	}
	sum := sha256.Sum256([]byte(s))
	dst = append(dst, "sha256:"...)
	return hex.AppendEncode(dst, sum[:16])
}

// AppendIP appends the key of a client address: "ip:" and the address,
// IPv6 addresses by their /64.
func AppendIP(dst []byte, addr netip.Addr) []byte {
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

// AppendIPPrefix appends the key of the network of addr with the given
// prefix length: "net:" and the prefix, or AppendIP's key when bits is out
// of range.
func AppendIPPrefix(dst []byte, addr netip.Addr, bits int) []byte {
	p, err := addr.Unmap().WithZone("").Prefix(bits)
	if err != nil {
		return AppendIP(dst, addr)
	}
	return p.AppendTo(append(dst, "net:"...))
}

// AppendPhone appends the key of a phone number: "phone:" and the number.
func AppendPhone(dst []byte, e164 string) []byte {
	return AppendPart(append(dst, "phone:"...), e164)
}

// AppendPrefix appends the key of the block of numbers sharing the first
// digits digits of an E.164 number (after the "+"): "prefix:+" and the
// digits.
func AppendPrefix(dst []byte, e164 string, digits int) []byte {
	d := strings.TrimPrefix(e164, "+")
	if digits < len(d) && digits >= 0 {
		d = d[:digits]
	}
	return AppendPart(append(dst, "prefix:+"...), d)
}

// AppendCountry appends the key of a region: "country:" and the region in
// upper case.
func AppendCountry(dst []byte, region string) []byte {
	dst = append(dst, "country:"...)
	if !upperASCII(region) {
		return AppendPart(dst, strings.ToUpper(region))
	}
	return AppendPart(dst, region)
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

// AppendCallingCode appends the key of a country calling code: "cc:" and
// the code.
func AppendCallingCode(dst []byte, cc int) []byte {
	return strconv.AppendInt(append(dst, "cc:"...), int64(cc), 10)
}

// AppendRoute appends the key of an endpoint: "route:", the method, a space
// and the path.
func AppendRoute(dst []byte, method, path string) []byte {
	dst = append(dst, "route:"...)
	if len(method)+1+len(path) <= MaxPart {
		return append(append(append(dst, method...), ' '), path...)
	}
	return AppendPart(dst, method+" "+path)
}

// AppendGlobal appends the key of a limit every request shares: "global:"
// and the name.
func AppendGlobal(dst []byte, name string) []byte {
	return AppendPart(append(dst, "global:"...), name)
}
