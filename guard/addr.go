package guard

import (
	"net/http"
	"net/netip"
	"strings"
)

// Header names the resolver reads, in canonical form.
const (
	headerXFF       = "X-Forwarded-For"
	headerForwarded = "Forwarded"
)

// resolver finds the client's address. The zero resolver trusts no proxy:
// the client is the connection's peer.
type resolver struct {
	// trusted are the proxies' networks, IPv4 ones unmapped.
	trusted []netip.Prefix
	// hops, when positive, is the number of proxies in front of the app:
	// the client is the hops-th address from the right of the header.
	hops int
	// header is the canonical name of the header the proxies write.
	header string
	// list is false for a single-address header (X-Real-IP and the like).
	list bool
	// forwarded is true for RFC 7239 Forwarded.
	forwarded bool
}

// newResolver checks the proxy settings. header is "" for X-Forwarded-For.
func newResolver(cidrs []string, hops int, header string) (resolver, error) {
	r := resolver{hops: hops}
	if hops < 0 || hops > 64 {
		return r, configError("WithProxyHops: %d hops is not in 0..64", hops)
	}
	for _, c := range cidrs {
		p, err := parseTrusted(c)
		if err != nil {
			return r, configError("WithTrustedProxies: %q is not an address or CIDR prefix", c)
		}
		r.trusted = append(r.trusted, p)
	}
	if header == "" {
		header = headerXFF
	}
	r.header = http.CanonicalHeaderKey(header)
	if strings.TrimSpace(header) != header || strings.ContainsAny(header, " \t\r\n:") {
		return r, configError("WithProxyHeader: %q is not a header name", header)
	}
	r.list = r.header == headerXFF || r.header == headerForwarded
	r.forwarded = r.header == headerForwarded
	if hops > 0 && !r.list {
		return r, configError("WithProxyHops: %s holds one address; hops need X-Forwarded-For or Forwarded", r.header)
	}
	return r, nil
}

// parseTrusted parses an address or a CIDR prefix, without a zone.
func parseTrusted(s string) (netip.Prefix, error) {
	if strings.Contains(s, "%") {
		// A zoned prefix would silently match nothing.
		return netip.Prefix{}, errZone
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

type zoneError struct{}

func (zoneError) Error() string { return "zone not allowed" }

var errZone = zoneError{}

// behindProxies reports whether the resolver reads a header at all.
func (rv *resolver) behindProxies() bool { return len(rv.trusted) > 0 || rv.hops > 0 }

// isTrusted reports whether a (unmapped, without zone) is a trusted proxy.
func (rv *resolver) isTrusted(a netip.Addr) bool {
	for _, p := range rv.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr returns the client's address for r.
func (rv *resolver) clientAddr(r *http.Request) (netip.Addr, error) {
	peer, ok := parsePeer(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, ErrNoClientAddr
	}
	if !rv.behindProxies() {
		return peer, nil
	}
	if len(rv.trusted) > 0 && !rv.isTrusted(peer) {
		// Not through a proxy: whatever headers it sent are its own.
		return peer, nil
	}
	values := r.Header[rv.header]
	if !rv.list {
		// A single-address header: the last line is the proxy's.
		if len(values) == 0 {
			return netip.Addr{}, ErrNoClientAddr
		}
		if a, ok := parseHeaderAddr(strings.TrimSpace(values[len(values)-1])); ok {
			return a, nil
		}
		return netip.Addr{}, ErrNoClientAddr
	}
	return rv.fromList(values)
}

// maxItems bounds how many items of a list header the resolver looks at,
// from the right: no real request passes through more proxies, and the
// bound keeps a header of a million commas cheap.
const maxItems = 64

// fromList walks the items of every line of a list header from the right:
// the rightmost address that is not a trusted proxy's is the client's, or
// with a hop count, the hops-th from the right.
func (rv *resolver) fromList(values []string) (netip.Addr, error) {
	skip := rv.hops - 1 // items to pass over in hop mode
	walked := 0
	var leftmost netip.Addr
	var starts [maxItems]int
	for i := len(values) - 1; i >= 0; i-- {
		line := values[i]
		n, truncated := itemStarts(line, rv.forwarded, &starts)
		end := len(line)
		for k := n - 1; k >= 0; k-- {
			item := line[starts[k]:end]
			end = starts[k] - 1
			if isBlank(item) {
				// Empty items (a trailing comma, an empty line) are not hops.
				continue
			}
			if walked++; walked > maxItems {
				return netip.Addr{}, ErrNoClientAddr
			}
			a, ok := rv.parseItem(item)
			if rv.hops > 0 {
				if skip > 0 {
					skip--
					continue
				}
				if !ok {
					return netip.Addr{}, ErrNoClientAddr
				}
				return a, nil
			}
			if !ok {
				// The first untrusted item is not an address: nobody
				// trusted vouches for anything left of it.
				return netip.Addr{}, ErrNoClientAddr
			}
			if !rv.isTrusted(a) {
				return a, nil
			}
			leftmost = a
		}
		if truncated {
			// More items than the walk may look at, all trusted so far.
			return netip.Addr{}, ErrNoClientAddr
		}
	}
	if rv.hops == 0 && leftmost.IsValid() {
		// Every hop is a trusted proxy: the request comes from inside.
		return leftmost, nil
	}
	return netip.Addr{}, ErrNoClientAddr
}

// itemStarts writes the offsets where the last items of line start, in
// order, into starts, and returns how many it wrote and whether earlier
// items did not fit. Items are separated by commas; in a Forwarded header,
// commas inside quoted strings do not separate them. One pass, no
// allocation, whatever the line holds.
func itemStarts(line string, quoted bool, starts *[maxItems]int) (n int, truncated bool) {
	total := 0
	add := func(off int) {
		starts[total%maxItems] = off
		total++
	}
	add(0)
	inQuote := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quoted && inQuote && c == '\\':
			i++
		case quoted && c == '"':
			inQuote = !inQuote
		case !inQuote && c == ',':
			add(i + 1)
		}
	}
	if total <= maxItems {
		return total, false
	}
	// Rotate the ring so that the last maxItems starts are in order.
	var tmp [maxItems]int
	for k := 0; k < maxItems; k++ {
		tmp[k] = starts[(total+k)%maxItems]
	}
	*starts = tmp
	return maxItems, true
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return false
		}
	}
	return true
}

// parseItem parses one item of the list header.
func (rv *resolver) parseItem(item string) (netip.Addr, bool) {
	item = strings.Trim(item, " \t")
	if rv.forwarded {
		v, ok := forwardedFor(item)
		if !ok {
			return netip.Addr{}, false
		}
		item = v
	}
	return parseHeaderAddr(item)
}

// forwardedFor returns the value of the for parameter of one Forwarded
// element (RFC 7239 section 4), unquoted.
func forwardedFor(elem string) (string, bool) {
	var value string
	found := false
	for elem != "" {
		var pair string
		pair, elem = cutPair(elem)
		pair = strings.Trim(pair, " \t")
		name, v, ok := strings.Cut(pair, "=")
		if !ok || !isToken(name) {
			return "", false
		}
		if !strings.EqualFold(name, "for") {
			if _, ok := unquote(v); !ok {
				return "", false
			}
			continue
		}
		if found {
			return "", false // for twice in one element
		}
		if value, ok = unquote(v); !ok {
			return "", false
		}
		found = true
	}
	return value, found
}

// cutPair cuts s at the first ';' that is not inside a quoted string.
func cutPair(s string) (pair, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ';':
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// unquote returns a token as it is and a quoted string without its quotes
// and escapes.
func unquote(v string) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	if v[0] != '"' {
		return v, isToken(v)
	}
	if len(v) < 2 || v[len(v)-1] != '"' {
		return "", false
	}
	v = v[1 : len(v)-1]
	if strings.IndexByte(v, '\\') < 0 {
		return v, !strings.ContainsAny(v, "\"\x7f") && printable(v)
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' {
			if i++; i == len(v) {
				return "", false
			}
			c = v[i]
		} else if c == '"' {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), printable(b.String())
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChar[c] {
			return false
		}
	}
	return true
}

var tokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// parseHeaderAddr parses an address as proxies write it: a bare IPv4 or
// IPv6 address, possibly with a port ("192.0.2.1:443", "[2001:db8::1]:443")
// or in brackets, possibly with a zone. It returns the address unmapped,
// without its zone, and refuses the unspecified and multicast addresses,
// which no client has.
func parseHeaderAddr(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		if rest := s[end+1:]; rest != "" && !isPort(rest) {
			return netip.Addr{}, false
		}
		s = s[1:end]
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		// One colon: IPv4 with a port.
		if !isPort(s[i:]) {
			return netip.Addr{}, false
		}
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return usable(a)
}

// isPort reports whether s is ":" followed by 1 to 5 digits.
func isPort(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parsePeer parses http.Request.RemoteAddr.
func parsePeer(s string) (netip.Addr, bool) {
	if a, ok := parseIPv4Port(s); ok {
		return usable(a)
	}
	return parsePeerSlow(s)
}

// parseIPv4Port parses "a.b.c.d:port", what RemoteAddr holds for every
// IPv4 client, faster than netip.ParseAddrPort; anything else (IPv6, a
// leading zero, no port) is left to it.
func parseIPv4Port(s string) (netip.Addr, bool) {
	var ip [4]byte
	i := 0
	for k := range 4 {
		v, start := 0, i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
			if i-start > 3 {
				return netip.Addr{}, false
			}
		}
		if i == start || v > 255 || (i-start > 1 && s[start] == '0') {
			return netip.Addr{}, false
		}
		ip[k] = byte(v)
		sep := byte('.')
		if k == 3 {
			sep = ':'
		}
		if i >= len(s) || s[i] != sep {
			return netip.Addr{}, false
		}
		i++
	}
	port, start := 0, i
	for i < len(s) && '0' <= s[i] && s[i] <= '9' && i-start < 5 {
		port = port*10 + int(s[i]-'0')
		i++
	}
	if i == start || i != len(s) || port > 65535 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// parsePeerSlow parses RemoteAddr with netip.
func parsePeerSlow(s string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		// Some servers and tests set a bare address.
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Addr{}, false
		}
		return usable(a)
	}
	return usable(ap.Addr())
}

func usable(a netip.Addr) (netip.Addr, bool) {
	a = a.Unmap()
	if a.Zone() != "" {
		a = a.WithZone("")
	}
	if a.IsUnspecified() || a.IsMulticast() {
		return netip.Addr{}, false
	}
	return a, true
}
