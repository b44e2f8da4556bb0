package ratelimit

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/internal/keys"
	"github.com/antifraud-go/antifraud/ratelimit/internal/core"
)

var long = strings.Repeat("9", keys.MaxPart+1)

// keyCases pin the keys the helpers build: a changed key is a reset limit
// for every user of a shared store after an upgrade.
var keyCases = []struct {
	name   string
	key    string
	append func([]byte) []byte
	want   string
}{
	{"IPv4", KeyIP(netip.MustParseAddr("192.0.2.1")), func(b []byte) []byte { return keys.AppendIP(b, netip.MustParseAddr("192.0.2.1")) }, "ip:192.0.2.1"},
	{"IPv4-mapped", KeyIP(netip.MustParseAddr("::ffff:192.0.2.1")), func(b []byte) []byte { return keys.AppendIP(b, netip.MustParseAddr("::ffff:192.0.2.1")) }, "ip:192.0.2.1"},
	{"IPv6 by /64", KeyIP(netip.MustParseAddr("2001:db8:1:2:3:4:5:6%eth0")), func(b []byte) []byte { return keys.AppendIP(b, netip.MustParseAddr("2001:db8:1:2:3:4:5:6%eth0")) }, "ip:2001:db8:1:2::/64"},
	{"no address", KeyIP(netip.Addr{}), func(b []byte) []byte { return keys.AppendIP(b, netip.Addr{}) }, "ip:invalid IP"},
	{"phone", KeyPhone("+37120012345"), func(b []byte) []byte { return keys.AppendPhone(b, "+37120012345") }, "phone:+37120012345"},
	{"long phone hashed", KeyPhone(long), func(b []byte) []byte { return keys.AppendPhone(b, long) }, "phone:sha256:" + hashPart(long)},
	{"prefix", KeyPrefix("+37120012345", 6), func(b []byte) []byte { return keys.AppendPrefix(b, "+37120012345", 6) }, "prefix:+371200"},
	{"prefix longer than number", KeyPrefix("+3712", 6), func(b []byte) []byte { return keys.AppendPrefix(b, "+3712", 6) }, "prefix:+3712"},
	{"prefix negative digits", KeyPrefix("+3712", -1), func(b []byte) []byte { return keys.AppendPrefix(b, "+3712", -1) }, "prefix:+3712"},
	{"country", KeyCountry("lv"), func(b []byte) []byte { return keys.AppendCountry(b, "lv") }, "country:LV"},
	{"country upper", KeyCountry("LV"), func(b []byte) []byte { return keys.AppendCountry(b, "LV") }, "country:LV"},
	{"country unicode", KeyCountry("ǆ"), func(b []byte) []byte { return keys.AppendCountry(b, "ǆ") }, "country:Ǆ"},
	{"calling code", KeyCallingCode(371), func(b []byte) []byte { return keys.AppendCallingCode(b, 371) }, "cc:371"},
	{"route", KeyRoute("POST", "/verify/start"), func(b []byte) []byte { return keys.AppendRoute(b, "POST", "/verify/start") }, "route:POST /verify/start"},
	{"long route hashed", KeyRoute("GET", long), nil, "route:sha256:" + hashPart("GET "+long)},
	{"global", KeyGlobal("verify"), func(b []byte) []byte { return keys.AppendGlobal(b, "verify") }, "global:verify"},
	{"IP prefix", KeyIPPrefix(netip.MustParseAddr("192.0.2.77"), 24), func(b []byte) []byte { return keys.AppendIPPrefix(b, netip.MustParseAddr("192.0.2.77"), 24) }, "net:192.0.2.0/24"},
	{"IP prefix out of range", KeyIPPrefix(netip.MustParseAddr("192.0.2.77"), 33), nil, "ip:192.0.2.77"},
}

func hashPart(s string) string { return strings.TrimPrefix(string(keys.AppendPart(nil, s)), "sha256:") }

func TestKeys(t *testing.T) {
	for _, tt := range keyCases {
		t.Run(tt.name, func(t *testing.T) {
			if tt.key != tt.want {
				t.Fatalf("key %q, want %q", tt.key, tt.want)
			}
			if tt.append == nil {
				return
			}
			if got := string(tt.append([]byte("ns:"))); got != "ns:"+tt.want {
				t.Fatalf("append form %q, want %q", got, "ns:"+tt.want)
			}
		})
	}
	if h := hashPart(long); len(h) != 32 {
		t.Fatalf("hash part %q, want 32 hex digits", h)
	}
}

var keySink string

// TestKeysAllocateOnce: a key costs its string and nothing else, and an
// append form into a large enough buffer costs nothing.
func TestKeysAllocateOnce(t *testing.T) {
	ip := netip.MustParseAddr("2001:db8::1")
	buf := make([]byte, 0, 64)
	tests := []struct {
		name string
		f    func()
		want float64
	}{
		{"KeyIP", func() { keySink = KeyIP(ip) }, 1},
		{"KeyPhone", func() { keySink = KeyPhone("+37120012345") }, 1},
		{"KeyCountry", func() { keySink = KeyCountry("LV") }, 1},
		{"keys.AppendIP", func() { buf = keys.AppendIP(buf[:0], ip) }, 0},
		{"keys.AppendPrefix", func() { buf = keys.AppendPrefix(buf[:0], "+37120012345", 6) }, 0},
		{"keys.AppendCallingCode", func() { buf = keys.AppendCallingCode(buf[:0], 371) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.f); got != tt.want {
				t.Fatalf("%v allocations, want %v", got, tt.want)
			}
		})
	}
}

// FuzzKeys builds keys from arbitrary input: never a panic; the append
// forms agree with the string forms; keys of bounded parts stay within
// core.MaxKeyLen.
func FuzzKeys(f *testing.F) {
	f.Add([]byte{192, 0, 2, 1}, "+37120012345", 6, "lv", 371)
	f.Add([]byte("0123456789abcdef"), long, -1, "ǆ\xff", -5)
	f.Add([]byte{}, "", 0, "", 0)
	f.Fuzz(func(t *testing.T, ip []byte, s string, digits int, region string, cc int) {
		var addr netip.Addr
		switch len(ip) {
		case 4:
			addr = netip.AddrFrom4([4]byte(ip))
		case 16:
			addr = netip.AddrFrom16([16]byte(ip)).WithZone(s)
		}
		for _, k := range []struct {
			key    string
			append []byte
		}{
			{KeyIP(addr), keys.AppendIP([]byte("x"), addr)},
			{KeyPhone(s), keys.AppendPhone([]byte("x"), s)},
			{KeyPrefix(s, digits), keys.AppendPrefix([]byte("x"), s, digits)},
			{KeyCountry(region), keys.AppendCountry([]byte("x"), region)},
			{KeyCallingCode(cc), keys.AppendCallingCode([]byte("x"), cc)},
		} {
			if "x"+k.key != string(k.append) {
				t.Fatalf("append form %q, key %q", k.append, k.key)
			}
			if len(k.key) == 0 || len(k.key) > core.MaxKeyLen {
				t.Fatalf("key %q of length %d", k.key, len(k.key))
			}
		}
	})
}
