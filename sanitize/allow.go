package sanitize

import (
	"fmt"
	"strings"

	"github.com/antifraud-go/antifraud/numbers"
)

// WithAllow lets the app's own destinations through: a message that links
// to the app's site or gives its support number is not phishing. Each item
// is a domain ("example.com", which also allows its subdomains, such as
// www.example.com and links.example.com), a phone number in E.164
// ("+14155550100") or a short code ("12345"). An allowed finding is left in
// the text by [Policy.Strip] and not refused by [Policy.Check];
// [Policy.Find] still reports it.
//
// Only plain findings are allowed. A link or address written with an
// evasion (defanged, lookalike characters, invisible characters, a host
// hidden behind userinfo, punycode or mixed scripts, a shortener) is a
// call to action even when it points at an allowed domain: that is how a
// phisher dresses a link as yours. Links are matched on the host a browser
// would visit, on label boundaries (example.com.evil.test is not
// example.com).
func WithAllow(items ...string) Option {
	return func(c *config) { c.allow = append(c.allow, items...) }
}

// allowList is a policy's WithAllow items, checked.
type allowList struct {
	domains []string // lower case, no trailing dot
	numbers []string // E.164 or short-code digits
}

func newAllowList(items []string) (*allowList, error) {
	if len(items) == 0 {
		return nil, nil
	}
	a := &allowList{}
	for _, it := range items {
		s := strings.TrimSpace(it)
		switch {
		case s == "":
			return nil, fmt.Errorf("sanitize: WithAllow: empty item: %w", ErrInvalidConfig)
		case s[0] == '+':
			n, err := numbers.Parse(s, "")
			if err != nil || n.E164 != s {
				return nil, fmt.Errorf("sanitize: WithAllow: %s is not a phone number in E.164: %w", quote(s), ErrInvalidConfig)
			}
			a.numbers = append(a.numbers, s)
		case allDigits(s):
			if len(s) < 3 || len(s) > 8 {
				return nil, fmt.Errorf("sanitize: WithAllow: %s: a short code has 3 to 8 digits; write a phone number in E.164: %w", quote(s), ErrInvalidConfig)
			}
			a.numbers = append(a.numbers, s)
		default:
			d := strings.TrimSuffix(strings.ToLower(s), ".")
			if !validDomain(d) {
				return nil, fmt.Errorf("sanitize: WithAllow: %s is not a domain, an E.164 number or a short code: %w", quote(s), ErrInvalidConfig)
			}
			a.domains = append(a.domains, d)
		}
	}
	return a, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validDomain accepts an ASCII host name of at least two labels: the
// allow-list is written by the app, in the form a browser would show.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// allows reports whether f is one of the app's own destinations.
func (a *allowList) allows(f *Finding) bool {
	if a == nil || f.Evasions != 0 || f.Unverified {
		return false
	}
	switch f.Kind {
	case Link:
		return a.domain(linkHost(f.Normalized))
	case Email:
		at := strings.LastIndexByte(f.Normalized, '@')
		return at >= 0 && a.domain(f.Normalized[at+1:])
	case Phone:
		return f.Number.E164 != "" && a.number(f.Number.E164)
	case ShortCode:
		return a.number(f.Normalized)
	}
	return false
}

func (a *allowList) domain(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range a.domains {
		if host == d || len(host) > len(d) && host[len(host)-len(d)-1] == '.' && strings.HasSuffix(host, d) {
			return true
		}
	}
	return false
}

func (a *allowList) number(n string) bool {
	for _, x := range a.numbers {
		if n == x {
			return true
		}
	}
	return false
}

// linkHost returns the host of a normalised link ("http://example.com/x"):
// after the scheme, before the port, path, query or fragment. Normalised
// links carry no userinfo.
func linkHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if strings.ContainsRune(u, '@') {
		return "" // not normalised as documented: allow nothing
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 && !strings.Contains(u, "]") {
		u = u[:i]
	}
	return u
}
