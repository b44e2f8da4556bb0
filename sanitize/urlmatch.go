package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"mvdan.cc/xurls/v2"
)

// This file finds what xurls' Relaxed expression finds (web addresses with
// or without a scheme, and email addresses), with xurls' lists of schemes
// and top-level domains but without its regular expression: Go's regexp
// engine runs that expression, with its alternation of 1,500 TLDs, at
// about 3 µs a byte, so that a 160-byte message made of "a@b." would cost
// half a millisecond. The matcher below reads each byte a bounded number
// of times. It follows the expression (mvdan.cc/xurls/v2, xurls.go) rule
// for rule, with the leftmost-longest semantics xurls asks of regexp; the
// one part left out is bare IPv6 addresses, which this package rejects
// anyway. A differential test and a fuzz target compare the two.

// urlSpan is a match of findURLs: s[start:end], an email address when
// email is set.
type urlSpan struct {
	start, end int
	email      bool
}

// Lists from xurls, in lower case, and their longest entries.
var (
	unicodeTLDs = func() map[string]struct{} {
		u := map[string]struct{}{}
		for _, t := range xurls.TLDs {
			if t[0] >= utf8.RuneSelf {
				u[strings.ToLower(t)] = struct{}{}
			}
		}
		return u
	}()
	maxUnicodeTLD = maxLen(xurls.TLDs)
	authSchemes   = func() map[string]struct{} {
		m := setOf(xurls.Schemes...)
		for _, s := range xurls.SchemesUnofficial {
			m[s] = struct{}{}
		}
		return m
	}()
	maxScheme = max(maxLen(xurls.Schemes), maxLen(xurls.SchemesUnofficial), maxLen(xurls.SchemesNoAuthority))
)

func maxLen(list []string) int {
	n := 0
	for _, s := range list {
		n = max(n, len(s))
	}
	return n
}

// urlMatcher holds one token and what is known of its host runs.
type urlMatcher struct {
	s string
	// The host run last examined: a maximal run of letters, marks,
	// numbers, '-' and '.', split into labels at the dots.
	run  hostRun
	runs [2]hostRun // scratch: a run and the run after an '@'
	// The local part run (of an email address) last examined, and the end
	// of the email address it starts, or -1.
	localStart, localEnd, emailEnd int
	schemeStop                     int // see schemeURL
	label                          int // see domainFrom
	tlds                           tldMemo
}

// hostRun is a host run with, per label, whether it is a well-formed label
// (letters, marks and numbers, with inner hyphens), the end of the longest
// top-level domain it starts with (or -1), and the end of the longest
// domain name whose first label it is (or -1).
type hostRun struct {
	start, end int
	labels     []label
}

type label struct {
	start, end int
	ok         bool
	tld, chain int
}

// findURLs appends to out the matches of xurls' Relaxed expression in s,
// which holds no spaces, in order.
func findURLs(s string, out []urlSpan, m *urlMatcher) []urlSpan {
	labels0, labels1 := m.runs[0].labels[:0], m.runs[1].labels[:0]
	*m = urlMatcher{s: s, localStart: -1, localEnd: -1, tlds: m.tlds}
	m.runs[0].labels, m.runs[1].labels = labels0, labels1
	m.run.start, m.run.end = -1, -1
	for pos := 0; pos < len(s); {
		q, end, email := m.next(pos)
		if q < 0 {
			break
		}
		out = append(out, urlSpan{q, end, email})
		pos = end
	}
	return out
}

// next returns the leftmost match at or after pos, the longest of those
// that start there.
func (m *urlMatcher) next(pos int) (start, end int, email bool) {
	s := m.s
	for q := pos; q < len(s); {
		r, size := rune(s[q]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[q:])
		}
		best, isEmail := m.schemeURL(q), false
		if isIRI(r) {
			if e := m.domainFrom(q); e > 0 {
				best = max(best, m.webTail(e))
			}
		}
		if isDigit(s[q]) && (q == 0 || !isWordByte(s[q-1])) {
			if e := ipv4End(s, q); e > 0 {
				best = max(best, m.webTail(e))
			}
		}
		if isLocalByte(s[q]) {
			if e := m.emailFrom(q); e > best {
				best, isEmail = e, true
			}
		}
		if best > q {
			return q, best, isEmail
		}
		q += size
	}
	return -1, -1, false
}

// schemeURL returns the end of "scheme://path" or "scheme:path" starting
// at q, for a known scheme, or -1.
func (m *urlMatcher) schemeURL(q int) int {
	s := m.s
	if !isLetter(s[q]) {
		return -1
	}
	// Where the run of scheme characters from q stops; the run is read
	// once for all the positions in it.
	if q >= m.schemeStop {
		c := q
		for c < len(s) && (isAlnum(s[c]) || s[c] == '+' || s[c] == '-' || s[c] == '.') {
			c++
		}
		m.schemeStop = c
	}
	c := m.schemeStop
	if c == len(s) || s[c] != ':' || c-q > maxScheme {
		return -1
	}
	best := -1
	if strings.HasPrefix(s[c:], "://") && in(authSchemes, s[q:c]) {
		best = pathEnd(s, c+3)
	}
	if in(noAuthoritySchemes, s[q:c]) {
		best = max(best, pathEnd(s, c+1))
	}
	return best
}

// webTail extends a host that ends at e over a port and a path.
func (m *urlMatcher) webTail(e int) int {
	s := m.s
	if e+1 < len(s) && s[e] == ':' && isDigit(s[e+1]) {
		e += 2
		for e < len(s) && isDigit(s[e]) {
			e++
		}
	}
	if e < len(s) && s[e] == '/' {
		return max(e+1, pathEnd(s, e+1))
	}
	return e
}

// domainFrom returns the end of the longest domain name (labels, the last
// a top-level domain) that starts at q, which holds a letter, mark or
// number, or -1.
func (m *urlMatcher) domainFrom(q int) int {
	if q < m.run.start || q >= m.run.end {
		m.scanRun(&m.runs[0], q)
		m.run = m.runs[0]
		m.label = 0
	}
	ls := m.run.labels
	// The label that holds q: q only grows within a run.
	k := m.label
	if k >= len(ls) || ls[k].start > q {
		k = 0
	}
	for k < len(ls) && ls[k].end <= q {
		k++
	}
	m.label = k
	// Starting inside a label: the rest of it must end in a letter, mark
	// or number, and be followed by a dot and more.
	if k >= len(ls)-1 || q < ls[k].start || !endsIRI(m.s[q:ls[k].end]) {
		return -1
	}
	return max(ls[k+1].tld, ls[k+1].chain)
}

// emailFrom returns the end of the email address that starts at q, a
// byte of a local part, or -1.
func (m *urlMatcher) emailFrom(q int) int {
	s := m.s
	if q >= m.localEnd {
		m.localStart = q
		e := q
		for e < len(s) && isLocalByte(s[e]) {
			e++
		}
		m.localEnd = e
		m.emailEnd = -1
		if e+1 < len(s) && s[e] == '@' {
			// The domain starts right after the '@', with a whole label.
			r := &m.runs[1]
			m.scanRun(r, e+1)
			if len(r.labels) > 1 && r.labels[0].start == e+1 && r.labels[0].ok {
				m.emailEnd = max(r.labels[1].tld, r.labels[1].chain)
			}
		}
	}
	return m.emailEnd
}

// scanRun fills r with the host run around q.
func (m *urlMatcher) scanRun(r *hostRun, q int) {
	s := m.s
	a := q
	for a > 0 {
		c, size := utf8.DecodeLastRuneInString(s[:a])
		if !isHostRune(c) {
			break
		}
		a -= size
	}
	b := q
	for b < len(s) {
		c, size := utf8.DecodeRuneInString(s[b:])
		if !isHostRune(c) {
			break
		}
		b += size
	}
	r.start, r.end = a, b
	r.labels = r.labels[:0]
	for i := a; i <= b; {
		j := i
		for j < b && s[j] != '.' {
			j++
		}
		r.labels = append(r.labels, label{start: i, end: j, ok: isLabel(s[i:j]), tld: -1, chain: -1})
		i = j + 1
	}
	// The first label follows no dot: it cannot be a top-level domain.
	for k := len(r.labels) - 1; k >= 0; k-- {
		l := &r.labels[k]
		if k > 0 {
			l.tld = m.tldEnd(l.start, l.end)
		}
		if l.ok && k+1 < len(r.labels) {
			l.chain = max(r.labels[k+1].tld, r.labels[k+1].chain)
		}
	}
}

// tldEnd returns the end of the longest top-level domain at the start of
// the label s[a:b], or -1: an ASCII one followed by a word boundary, a
// Unicode one, or a punycode one ("xn--...").
func (m *urlMatcher) tldEnd(a, b int) int {
	s := m.s
	best := -1
	e := a
	for e < b && isAlnum(s[e]) {
		e++
	}
	// No top-level domain starts with a digit.
	if e > a && !isDigit(s[a]) && (e == len(s) || !isWordByte(s[e])) && m.tlds.kind(s[a:e])&(tldValid|tldPseudo) != 0 {
		best = e
	}
	if b-a > 4 && hasFoldPrefix(s, a, "xn--") {
		p := a + 4
		for p < len(s) && (isAlnum(s[p]) || s[p] == '-') {
			p++
		}
		if p > a+4 {
			best = max(best, p)
		}
	}
	if b > e && s[a] >= utf8.RuneSelf { // Unicode TLDs start with a non-ASCII letter
		for p := a; p < b && p-a < maxUnicodeTLD; {
			_, size := utf8.DecodeRuneInString(s[p:])
			p += size
			if _, ok := unicodeTLDs[strings.ToLower(s[a:p])]; ok {
				best = max(best, p)
			}
		}
	}
	return best
}

// pathEnd returns the end of the longest path (xurls' pathCont) at p, or
// -1: characters allowed in a path, brackets that are balanced, and a last
// character that may end one (not a full stop, comma, question mark ...).
func pathEnd(s string, p int) int {
	best := -1
	for p < len(s) {
		c := s[p]
		if c == '(' || c == '[' || c == '{' {
			e := bracketEnd(s, p)
			if e < 0 {
				break
			}
			p, best = e, e
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[p:])
		}
		if !isMidPath(r) {
			break
		}
		p += size
		if isEndPath(r) {
			best = p
		}
	}
	return best
}

// bracketEnd returns the end of the balanced group that opens at p, with
// path characters and at most one level of groups of the same bracket in
// it, or -1.
func bracketEnd(s string, p int) int {
	open := s[p]
	closeB := map[byte]byte{'(': ')', '[': ']', '{': '}'}[open]
	depth := 1
	for i := p + 1; i < len(s); {
		c := s[i]
		switch {
		case c == open:
			if depth == 2 {
				return -1
			}
			depth++
			i++
			continue
		case c == closeB:
			depth--
			i++
			if depth == 0 {
				return i
			}
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if !isMidPath(r) {
			return -1
		}
		i += size
	}
	return -1
}

// ipv4End returns the end of the dotted quad at q, followed by a word
// boundary, or -1.
func ipv4End(s string, q int) int {
	p := q
	for part := 0; part < 4; part++ {
		if part > 0 {
			if p >= len(s) || s[p] != '.' {
				return -1
			}
			p++
		}
		a := p
		for p < len(s) && isDigit(s[p]) && p-a < 4 {
			p++
		}
		switch n := p - a; {
		case n == 0 || n > 3:
			return -1
		case n > 1 && s[a] == '0':
			return -1
		case n == 3 && s[a:p] > "255":
			return -1
		}
	}
	if p < len(s) && isWordByte(s[p]) {
		return -1
	}
	return p
}

// isIRI reports a letter, mark or number: what a domain label is made of.
func isIRI(r rune) bool {
	if r < utf8.RuneSelf {
		return isAlnum(byte(r))
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.M, r)
}

func isHostRune(r rune) bool { return r == '.' || r == '-' || isIRI(r) }

// isLabel reports whether l is a label: letters, marks and numbers with
// hyphens only inside.
func isLabel(l string) bool {
	if l == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(l)
	return first != '-' && endsIRI(l)
}

func endsIRI(l string) bool {
	last, _ := utf8.DecodeLastRuneInString(l)
	return l != "" && last != '-'
}

// isWordByte is regexp's \b: ASCII letters, digits and '_'.
func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

func isLocalByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '-' || c == '+'
}

// isMidPath reports a character allowed inside a path, and isEndPath one
// allowed at its end (RFC 3987, as xurls reads it).
func isMidPath(r rune) bool {
	if r < utf8.RuneSelf {
		return pathChars[r]&1 != 0
	}
	return isUCS(r) || isPrivate(r)
}

func isEndPath(r rune) bool {
	if r < utf8.RuneSelf {
		return pathChars[r]&2 != 0
	}
	return isUCS(r) && !unicode.Is(unicode.Po, r) || isPrivate(r)
}

var pathChars = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		b := byte(c)
		if isAlnum(b) || strings.IndexByte("-_~%$&+=/#", b) >= 0 {
			t[c] = 3
		} else if strings.IndexByte(".!'*,;:@?\\", b) >= 0 {
			t[c] = 1
		}
	}
	return t
}()

// isUCS reports the characters RFC 3987 allows in an IRI, less separators.
func isUCS(r rune) bool {
	switch {
	case r < 0xA0 || r >= 0xD800 && r < 0xF900 || r > 0xFDCF && r < 0xFDF0 || r > 0xFFEF && r < 0x10000:
		return false
	case r >= 0x10000 && r&0xFFFF > 0xFFFD, r >= 0xE0000 && r < 0xE1000, r > 0xEFFFD:
		return false
	}
	return !unicode.Is(unicode.Z, r)
}

func isPrivate(r rune) bool {
	return r >= 0xE000 && r <= 0xF8FF || r >= 0xF0000 && r <= 0xFFFFD || r >= 0x100000 && r <= 0x10FFFD
}
