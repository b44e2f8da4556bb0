package guard

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// xffReference is the rightmost-untrusted walk written the plain way:
// every line split at every comma.
func xffReference(rv *resolver, lines []string) (netip.Addr, bool) {
	var items []string
	for _, l := range lines {
		items = append(items, strings.Split(l, ",")...)
	}
	var leftmost netip.Addr
	walked := 0
	for i := len(items) - 1; i >= 0; i-- {
		if isBlank(items[i]) {
			continue
		}
		if walked++; walked > maxItems {
			return netip.Addr{}, false
		}
		a, ok := parseHeaderAddr(strings.Trim(items[i], " \t"))
		if !ok {
			return netip.Addr{}, false
		}
		if !rv.isTrusted(a) {
			return a, true
		}
		leftmost = a
	}
	return leftmost, leftmost.IsValid()
}

// FuzzClientAddr feeds X-Forwarded-For and Forwarded lines to the
// resolver: it never panics, returns only usable addresses (unmapped,
// without a zone, not unspecified), never reads a header from an untrusted
// peer, and agrees with the plain X-Forwarded-For walk.
func FuzzClientAddr(f *testing.F) {
	for _, s := range [][3]string{
		{"10.0.0.1:1", "198.51.100.1, 10.2.2.2", "198.51.100.9"},
		{"10.0.0.1:1", "::ffff:198.51.100.1,[2001:db8::1]:80", ""},
		{"203.0.113.5:1", "10.0.0.1", "1.1.1.1"},
		{"10.0.0.1:1", `for=198.51.100.1;proto=https, for="[2001:db8::1]:80"`, `for=_x;by="a,b"`},
		{"[::ffff:10.0.0.1]:1", "fe80::1%eth0", `For="\"quoted\""`},
		{"@", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	xff, err := newResolver([]string{"10.0.0.0/8", "2001:db8:ffff::/48"}, 0, "")
	if err != nil {
		f.Fatal(err)
	}
	fwd, err := newResolver([]string{"10.0.0.0/8", "2001:db8:ffff::/48"}, 0, "Forwarded")
	if err != nil {
		f.Fatal(err)
	}
	hops, err := newResolver(nil, 2, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, line1, line2 string) {
		peer, peerOK := parsePeer(remote)
		if slow, slowOK := parsePeerSlow(remote); peer != slow || peerOK != slowOK {
			t.Fatalf("RemoteAddr %q: fast path %v %v, netip %v %v", remote, peer, peerOK, slow, slowOK)
		}
		for _, rv := range []*resolver{&xff, &fwd, &hops} {
			r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
			r.Header[rv.header] = []string{line1, line2}
			a, err := rv.clientAddr(r)
			if err != nil {
				continue
			}
			if !a.IsValid() || a.Is4In6() || a.Zone() != "" || a.IsUnspecified() {
				t.Fatalf("%s %q %q: unusable %v", rv.header, line1, line2, a)
			}
			if !peerOK {
				t.Fatalf("an address (%v) for an unusable peer %q", a, remote)
			}
			if len(rv.trusted) > 0 && !rv.isTrusted(peer) && a != peer {
				t.Fatalf("untrusted peer %v, header read: %v", peer, a)
			}
		}
		if !peerOK || !xff.isTrusted(peer) {
			return
		}
		r := &http.Request{RemoteAddr: remote, Header: http.Header{headerXFF: {line1, line2}}}
		got, err := xff.clientAddr(r)
		want, ok := xffReference(&xff, []string{line1, line2})
		if (err == nil) != ok || got != want {
			t.Fatalf("%q %q: got %v %v, reference %v %v", line1, line2, got, err, want, ok)
		}
	})
}

func TestParseIPv4Port(t *testing.T) {
	for _, s := range []string{
		"192.0.2.1:80", "0.0.0.0:1", "255.255.255.255:65535", "1.2.3.4:0", "1.2.3.4:00080",
		"256.1.1.1:1", "01.2.3.4:1", "1.2.3:4", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:123456",
		"1.2.3.4:1x", "1..3.4:1", "[::1]:80", "::ffff:1.2.3.4", "1.2.3.4 :1", "",
	} {
		fast, fok := parsePeer(s)
		slow, sok := parsePeerSlow(s)
		if fast != slow || fok != sok {
			t.Errorf("%q: fast %v %v, netip %v %v", s, fast, fok, slow, sok)
		}
	}
}
