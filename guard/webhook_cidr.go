package guard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// AllowFrom returns middleware that lets through only requests whose
// client address is in one of prefixes ("192.0.2.0/24", "2001:db8::/32",
// or a single address), and answers the others 403 without calling the
// handler: the guide's "IP allow lists", for the endpoints that only known
// machines call, such as an admin endpoint that resets the kill switch or
// the webhooks of the app's own PBX.
//
// clientAddr finds a request's client; pass a Guard's ClientAddr, so that
// the allow list sees the client behind the trusted proxies and not the
// proxy. Nil means the connection's address (RemoteAddr), right only for
// an app that clients reach directly. A request whose address cannot be
// found is refused. Addresses are compared unmapped (::ffff:192.0.2.1 is
// 192.0.2.1) and without an IPv6 zone.
//
// Twilio sends its webhooks from addresses it does not publish as a fixed
// list: check their signature (Webhook), not their address.
func AllowFrom(clientAddr func(*http.Request) (netip.Addr, error), prefixes ...string) (func(http.Handler) http.Handler, error) {
	if len(prefixes) == 0 {
		return nil, fmt.Errorf("guard: AllowFrom: no prefix: %w", ErrInvalidConfig)
	}
	list := make([]netip.Prefix, 0, len(prefixes))
	for _, s := range prefixes {
		p, err := parseAllowed(s)
		if err != nil {
			return nil, fmt.Errorf("guard: AllowFrom: %q: %v: %w", s, err, ErrInvalidConfig)
		}
		list = append(list, p)
	}
	if clientAddr == nil {
		clientAddr = remoteAddr
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, err := clientAddr(r)
			if err == nil && allowed(list, a) {
				next.ServeHTTP(w, r)
				return
			}
			ProblemFor(errSourceNotAllowed).ServeHTTP(w, r)
		})
	}, nil
}

// parseAllowed reads a prefix or a single address, unmapped, without a
// zone, masked.
func parseAllowed(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, errors.New("zone not allowed")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() {
		// ::ffff:192.0.2.0/120 is 192.0.2.0/24.
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("an IPv4-mapped prefix shorter than /96")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func allowed(list []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// remoteAddr is the connection's address.
func remoteAddr(r *http.Request) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("guard: RemoteAddr %q is not an IP address", r.RemoteAddr)
	}
	return a, nil
}
