package guard_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/ratelimit"
)

func TestClientAddr(t *testing.T) {
	proxies := guard.WithTrustedProxies("10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.7")
	fwd := guard.WithProxyHeader("Forwarded")
	tests := []struct {
		name   string
		opts   []guard.Option
		remote string
		header map[string][]string
		want   string // "" for ErrNoClientAddr
	}{
		{"direct", nil, "203.0.113.5:1234", nil, "203.0.113.5"},
		{"direct ignores XFF", nil, "203.0.113.5:1234", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.5"},
		{"direct IPv6 with zone", nil, "[fe80::1%eth0]:1234", nil, "fe80::1"},
		{"direct v4-mapped", nil, "[::ffff:203.0.113.5]:1234", nil, "203.0.113.5"},
		{"direct bare address", nil, "203.0.113.5", nil, "203.0.113.5"},
		{"unix socket", nil, "@", nil, ""},
		{"empty", nil, "", nil, ""},
		{"unspecified", nil, "0.0.0.0:1", nil, ""},

		{"spoofed XFF from an untrusted peer", []guard.Option{proxies}, "203.0.113.5:1234",
			map[string][]string{"X-Forwarded-For": {"10.1.1.1"}}, "203.0.113.5"},
		{"spoofed Forwarded from an untrusted peer", []guard.Option{proxies, fwd}, "203.0.113.5:1234",
			map[string][]string{"Forwarded": {"for=198.51.100.1"}}, "203.0.113.5"},
		{"one proxy", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"rightmost untrusted, not leftmost", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1, 10.2.2.2"}}, "198.51.100.1"},
		{"across every XFF line", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1", "10.3.3.3,10.2.2.2"}}, "198.51.100.1"},
		{"spoofed first line", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"10.9.9.9", "198.51.100.1"}}, "198.51.100.1"},
		{"v4-mapped in XFF", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.1"}}, "198.51.100.1"},
		{"v4-mapped proxy is trusted", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, ::ffff:10.4.4.4"}}, "198.51.100.1"},
		{"v4-mapped peer is trusted", []guard.Option{proxies}, "[::ffff:10.0.0.1]:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"zone in XFF", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"fe80::1%25eth0, fe80::2%eth0"}}, "fe80::2"},
		{"port in XFF", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1:8080"}}, "198.51.100.1"},
		{"bracketed IPv6 with port in XFF", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"[2001:db8::5]:8080"}}, "2001:db8::5"},
		{"trusted IPv6 proxy", []guard.Option{proxies}, "[2001:db8:ffff::1]:1234",
			map[string][]string{"X-Forwarded-For": {"2001:db8:1::5"}}, "2001:db8:1::5"},
		{"garbage rightmost", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, nonsense"}}, ""},
		{"garbage left of the client", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"nonsense, 198.51.100.1"}}, "198.51.100.1"},
		{"no header from a proxy", []guard.Option{proxies}, "10.0.0.1:1234", nil, ""},
		{"empty items", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, ,", ""}}, "198.51.100.1"},
		{"all trusted: the origin", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"10.5.5.5, 10.6.6.6"}}, "10.5.5.5"},
		{"unspecified in XFF", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"0.0.0.0"}}, ""},

		{"Forwarded", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {`for=198.51.100.1;proto=https, for="[2001:db8:ffff::9]:80";by=10.0.0.1`}}, "198.51.100.1"},
		{"Forwarded IPv6 quoted", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {`For="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"Forwarded comma in a quoted value", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {`for=198.51.100.1;host="a,for=10.9.9.9"`}}, "198.51.100.1"},
		{"Forwarded ignores XFF", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {"for=198.51.100.1"}, "X-Forwarded-For": {"198.51.100.2"}}, "198.51.100.1"},
		{"XFF ignores Forwarded", []guard.Option{proxies}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {"for=198.51.100.2"}, "X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"Forwarded unknown", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {"for=unknown"}}, ""},
		{"Forwarded obfuscated", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {"for=_hidden, for=198.51.100.1"}}, "198.51.100.1"},
		{"Forwarded without for", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {"proto=https"}}, ""},
		{"Forwarded for twice", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {"for=198.51.100.1;for=198.51.100.2"}}, ""},
		{"Forwarded unterminated quote", []guard.Option{proxies, fwd}, "10.0.0.1:1234",
			map[string][]string{"Forwarded": {`for="198.51.100.1`}}, ""},

		{"hops 1", []guard.Option{guard.WithProxyHops(1)}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1"}}, "198.51.100.1"},
		{"hops 2", []guard.Option{guard.WithProxyHops(2)}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1", "203.0.113.9"}}, "198.51.100.1"},
		{"hops: too few items", []guard.Option{guard.WithProxyHops(2)}, "10.0.0.1:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, ""},
		{"hops with trusted peer", []guard.Option{guard.WithProxyHops(1), proxies}, "203.0.113.5:1234",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.5"},

		{"single-address header", []guard.Option{proxies, guard.WithProxyHeader("X-Real-IP")}, "10.0.0.1:1234",
			map[string][]string{"X-Real-Ip": {"198.51.100.1"}}, "198.51.100.1"},
		{"single-address header, last line", []guard.Option{proxies, guard.WithProxyHeader("x-real-ip")}, "10.0.0.1:1234",
			map[string][]string{"X-Real-Ip": {"1.1.1.1", "198.51.100.1"}}, "198.51.100.1"},
		{"single-address header spoofed", []guard.Option{proxies, guard.WithProxyHeader("X-Real-IP")}, "203.0.113.5:1234",
			map[string][]string{"X-Real-Ip": {"198.51.100.1"}}, "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts...)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.header {
				r.Header[k] = v
			}
			got, err := e.g.ClientAddr(r)
			if tt.want == "" {
				if !errors.Is(err, guard.ErrNoClientAddr) {
					t.Fatalf("got %v, %v; want ErrNoClientAddr", got, err)
				}
				return
			}
			if err != nil || got != netip.MustParseAddr(tt.want) {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// A header of a hundred thousand items costs a bounded walk, and does not
// let the walk reach past it.
func TestClientAddrLongHeader(t *testing.T) {
	e := newEnv(t, guard.WithTrustedProxies("10.0.0.0/8"))
	long := make([]byte, 0, 1<<20)
	for range 100_000 {
		long = append(long, "10.1.1.1,"...)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1,"+string(long)+"10.1.1.1")
	if _, err := e.g.ClientAddr(r); !errors.Is(err, guard.ErrNoClientAddr) {
		t.Fatalf("%v", err)
	}
	e = newEnv(t, guard.WithTrustedProxies("10.0.0.0/8"), guard.WithProxyHeader("Forwarded"))
	r.Header.Set("Forwarded", `for="`+string(long)+`"`)
	if _, err := e.g.ClientAddr(r); !errors.Is(err, guard.ErrNoClientAddr) {
		t.Fatalf("%v", err)
	}
}

// Behind a proxy, the limits key on the client, not on the proxy.
func TestLimitBehindProxy(t *testing.T) {
	e := newEnv(t, guard.WithTrustedProxies("10.0.0.0/8"))
	h := e.g.Limit("api", guard.PerAddr(ratelimit.PerMinute(1)))(ok)
	for i, client := range []string{"198.51.100.1", "198.51.100.2"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header.Set("X-Forwarded-For", client)
		if rec := do(h, r); rec.Code != 200 {
			t.Fatalf("client %d: %d", i, rec.Code)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if rec := do(h, r); rec.Code != 429 {
		t.Fatalf("same client again: %d", rec.Code)
	}
}
