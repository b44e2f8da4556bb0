package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxToken bounds the text handed to xurls at once. A longer run without
// spaces is cut into pieces of this size; a link that reaches the end of a
// piece is taken to go on to the end of the run.
const maxToken = 2048

// linkScanner finds links and emails in a refanged view.
type linkScanner struct {
	v1, v2 *view // the normalised text and its refanged view
	budget *budget
	out    []match
	spans  []urlSpan  // scratch for findURLs
	um     urlMatcher // scratch for findURLs
}

// evasionsAt returns the evasions within v2's bytes [a, b), including those
// of the normalisation underneath.
func (ls *linkScanner) evasionsAt(a, b int) trick {
	ev := ls.v2.evasions(a, b)
	if len(ls.v1.marks) > 0 {
		x, y := ls.v2.span(a, b)
		ev |= ls.v1.evasions(x, y)
	}
	return ev
}

// tokenBreaks are the bytes that end a token: no URL has them unescaped.
var tokenBreaks = func() (t [256]bool) {
	for _, c := range " \t\n\r\f\v\x00\"<>`" {
		t[c] = true
	}
	return t
}()

func isTokenBreak(c byte) bool { return tokenBreaks[c] }

// scan finds the links and emails in ls.v2, in order.
func (ls *linkScanner) scan() {
	s := ls.v2.s
	for i := 0; i < len(s); {
		if isTokenBreak(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isTokenBreak(s[j]) && j-i < maxToken {
			j++
		}
		for j < len(s) && j > i && !utf8.RuneStart(s[j]) {
			j-- // cut a long token on a character boundary
		}
		if j == i {
			j = i + 1
		}
		n := len(ls.out)
		ls.token(i, j)
		i = j
		// A link that runs to the cut goes on to the end of the token.
		if len(ls.out) > n && ls.out[len(ls.out)-1].end == j && j < len(s) && !isTokenBreak(s[j]) {
			for i < len(s) && !isTokenBreak(s[i]) {
				i++
			}
			ls.out[len(ls.out)-1].end = i
		}
	}
}

// token looks for links in s[a:b], a run without spaces.
func (ls *linkScanner) token(a, b int) {
	if !hasLinkByte(ls.v2.s[a:b]) {
		return
	}
	for a < b {
		cut, ok := ls.worthParsing(a, b)
		if !ok {
			return
		}
		if cut == 0 {
			cut = b
		}
		n := len(ls.out)
		ls.parse(a, cut)
		if cut < b && len(ls.out) > n && ls.out[len(ls.out)-1].end == cut {
			ls.out[len(ls.out)-1].ev |= tGlued
		}
		if cut == b {
			return
		}
		a = cut
	}
}

// hasLinkByte reports whether tok has a '.', ':' or '@', without which it
// holds no link.
func hasLinkByte(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c == '.' || c == ':' || c == '@' {
			return true
		}
	}
	return false
}

// worthParsing decides cheaply whether s[a:b] may hold a link that the
// acceptance rules would keep, so that xurls runs on few tokens. When a
// domain is glued to the word after it ("www.example.com1win"), it returns
// where to cut the token.
func (ls *linkScanner) worthParsing(a, b int) (cut int, ok bool) {
	ls.budget.work += b - a
	s := ls.v2.s
	tok := s[a:b]
	if strings.Contains(tok, "://") || strings.IndexByte(tok, '@') >= 0 || hasNoAuthorityScheme(tok) {
		return 0, true
	}
	// Walk the host-like runs: letters, digits, '-' and '.'.
	for i := a; i < b; {
		if !labelByte(s[i]) {
			i++
			continue
		}
		j := i
		dots := 0
		for j < b && (labelByte(s[j]) || s[j] == '-' || s[j] == '.') {
			if s[j] == '.' {
				dots++
			}
			j++
		}
		if dots > 0 {
			if c, ok := ls.hostRunWorthParsing(i, j, b); ok {
				return c, true
			}
		}
		i = j
	}
	return 0, false
}

// hostRunWorthParsing checks each label of the run s[i:j] as a possible TLD.
func (ls *linkScanner) hostRunWorthParsing(i, j, tokEnd int) (cut int, ok bool) {
	s := ls.v2.s
	run := s[i:j]
	var next byte
	if j < tokEnd {
		next = s[j]
	}
	path := next == '/' || next == '?' || next == '#' || next == ':'
	labelStart := 0
	prevStart := -1
	tld := false
	for k := 0; k <= len(run); k++ {
		if k < len(run) && run[k] != '.' {
			continue
		}
		if prevStart >= 0 && labelStart < k {
			label := run[labelStart:k]
			last := k == len(run) || k == len(run)-1
			valid := !isDigit(label[0]) && ls.um.tlds.kind(label)&tldValid != 0
			tld = tld || valid || path && last && isDigit(label[0])
			if k == len(run) && !valid {
				if n := gluedTLD(label, hasFoldPrefix(run, 0, "www.")); n > 0 {
					return i + labelStart + n, true
				}
			}
		}
		prevStart = labelStart
		labelStart = k + 1
	}
	return 0, tld
}

// gluedTLD returns the length of a common TLD at the start of label when the
// label runs on into other text: "com1win", "netUN". Without www. it needs a
// change from lower to upper case to be sure.
func gluedTLD(label string, www bool) int {
	for n := 2; n <= 4 && n < len(label); n++ {
		c, p := label[n], label[n-1]
		caseChange := 'a' <= p && p <= 'z' && 'A' <= c && c <= 'Z'
		digit := '0' <= c && c <= '9'
		if (caseChange || www && (digit || c == '-')) && tldKind(label[:n])&tldCommon != 0 {
			return n
		}
	}
	return 0
}

// hasNoAuthorityScheme reports whether tok has a scheme that takes no "//",
// such as "tel:" or "mailto:".
func hasNoAuthorityScheme(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] != ':' {
			continue
		}
		k := i
		for k > 0 && isLetter(tok[k-1]) && i-k < 8 {
			k--
		}
		if k < i && in(noAuthoritySchemes, tok[k:i]) {
			return true
		}
	}
	return false
}

// accept decides whether host (bytes [a, b) of v2, without scheme) is a link
// worth removing. A scheme always is; without one, the TLD has to be common,
// or there must be other evidence: www., a path, a known second-level label,
// a shortener, an evasion.
func (ls *linkScanner) accept(host string, scheme, path bool, a, b int) bool {
	if scheme {
		return true
	}
	host = strings.TrimSuffix(host, ".")
	dot := strings.LastIndexByte(host, '.')
	if dot <= 0 || dot == len(host)-1 {
		return false
	}
	if len(host) <= 15 && isIPv4(host) {
		return path // "10.0.0.1/login", not "version 1.2.3.4"
	}
	tld := host[dot+1:]
	kind := ls.um.tlds.kind(tld)
	if kind&tldValid == 0 {
		return false
	}
	if in(shorteners, host) {
		return true
	}
	first := host
	if i := strings.IndexByte(host, '.'); i >= 0 {
		first = host[:i]
	}
	if in(setWWW, first) {
		return true
	}
	if !path && in(notHosts, host) {
		return false
	}
	asciiTLD := !hasNonASCII(tld)
	ev := ls.evasionsAt(a, b)
	if ev&(tDefanged|tFullwidth|tInvisible) != 0 && asciiTLD {
		return true
	}
	if path && ev&(tSpacedDot|tSpelledDot) == 0 {
		return true // a path is evidence, unless the dot itself is in doubt
	}
	sldStart := strings.LastIndexByte(host[:dot], '.') + 1
	sld := host[sldStart:dot]
	if ev&tSpelledDot != 0 {
		// "example dot com", but not "the dot com bubble".
		return (kind&tldCommon != 0 || len(tld) == 2) && !in(spelledDotStopLabels, first)
	}
	if kind&tldCommon != 0 {
		return true
	}
	if len(tld) == 2 && sldStart > 0 && in(genericSLDs, sld) {
		return true
	}
	if !asciiTLD && !hasASCIILetter(host) {
		return true // an internationalised domain written in its own script
	}
	return false
}

var setWWW = setOf("www", "www1", "www2", "www3", "wap")

func hasASCIILetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if isLetter(s[i]) {
			return true
		}
	}
	return false
}

// isIPv4 reports four dot-separated groups of one to three digits.
func isIPv4(host string) bool {
	parts, n := 1, 0
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case c == '.':
			if n == 0 {
				return false
			}
			parts, n = parts+1, 0
		case isDigit(c) && n < 3:
			n++
		default:
			return false
		}
	}
	return parts == 4 && n > 0
}

// parse finds the links in s[a:b] as xurls' Relaxed expression does and
// keeps the matches the rules accept.
func (ls *linkScanner) parse(a, b int) {
	ls.budget.work += b - a
	s := ls.v2.s
	tok := s[a:b]
	ls.spans = findURLs(tok, ls.spans[:0], &ls.um)
	last := 0
	for _, m := range ls.spans {
		ms, me, email := m.start, m.end, m.email
		if ms < last {
			continue // inside the previous match's extension
		}
		if f, ok := ls.classify(a, tok, ms, me, email); ok {
			last = f.end
			f.start += a
			f.end += a
			f.ev |= ls.evasionsAt(f.start, f.end)
			ls.out = append(ls.out, f)
		}
	}
}

// classify turns an xurls match tok[ms:me] into a finding, or rejects it.
// base is the offset of tok in ls.v2.s.
func (ls *linkScanner) classify(base int, tok string, ms, me int, email bool) (match, bool) {
	text := tok[ms:me]
	// scheme://[userinfo@]host[:port][/path]
	if i := strings.Index(text, "://"); i > 0 && isScheme(text[:i]) {
		scheme := lowerASCII(text[:i+3])
		rest := text[i+3:]
		auth := rest
		if k := strings.IndexAny(rest, "/?#"); k >= 0 {
			auth = rest[:k]
		}
		tail := rest[len(auth):]
		var ev trick
		if k := strings.LastIndexByte(auth, '@'); k >= 0 {
			ev |= tUserinfo
			auth = auth[k+1:]
		}
		host, port := splitPort(auth)
		ev |= hostEvasions(host)
		return match{kind: Link, start: ms, end: me, ev: ev,
			normalized: hostURL(scheme, host, port, tail)}, true
	}
	if email {
		at := strings.LastIndexByte(text, '@')
		local, domain := text[:at], text[at+1:]
		if looksLikeHost(local) {
			// "www.paypal.com@example.com": a browser goes to example.com.
			end := extendPath(tok, me)
			if !ls.accept(domain, false, end > me, base+ms+at+1, base+me) {
				return match{}, false
			}
			return match{kind: Link, start: ms, end: end, ev: tUserinfo | hostEvasions(domain),
				normalized: hostURL("http://", domain, tok[me:end])}, true
		}
		return match{kind: Email, start: ms, end: me, ev: hostEvasions(domain),
			normalized: hostURL(local+"@", domain)}, true
	}
	if k := strings.IndexByte(text, ':'); k > 0 && in(noAuthoritySchemes, text[:k]) {
		return match{kind: Link, start: ms, end: me,
			normalized: strings.ToLower(text[:k]) + text[k:]}, true
	}
	// A bare host, IP address or IPv6 address.
	if text[0] == '[' || strings.Count(text, ":") > 1 {
		return match{}, false
	}
	hostEnd := strings.IndexAny(text, "/?#:")
	if hostEnd < 0 {
		hostEnd = len(text)
	}
	host := text[:hostEnd]
	end := me
	if hostEnd == len(text) {
		end = extendPath(tok, me)
	}
	hasPath := hostEnd < len(text) || end > me
	if !ls.accept(host, false, hasPath, base+ms, base+ms+hostEnd) {
		return match{}, false
	}
	ev := hostEvasions(host)
	if in(shorteners, strings.TrimSuffix(host, ".")) {
		ev |= tShortener
	}
	return match{kind: Link, start: ms, end: end, ev: ev,
		normalized: hostURL("http://", host, tok[ms+hostEnd:end])}, true
}

func isScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.' {
			return false
		}
	}
	return true
}

func splitPort(auth string) (host, port string) {
	if k := strings.LastIndexByte(auth, ':'); k >= 0 && !strings.Contains(auth[k:], "]") {
		return auth[:k], auth[k:]
	}
	return auth, ""
}

// looksLikeHost reports whether an email's local part is itself a host name
// (www.paypal.com, paypal.com), the userinfo trick without a scheme.
func looksLikeHost(local string) bool {
	if strings.HasPrefix(lowerASCII(local), "www.") {
		return true
	}
	dot := strings.LastIndexByte(local, '.')
	return dot > 0 && tldKind(local[dot+1:])&tldCommon != 0
}

// extendPath extends a bare host match ending at me over a query, fragment or
// (after the userinfo trick) path that xurls leaves out, as in
// "example.com?n=QJKG".
func extendPath(tok string, me int) int {
	if me >= len(tok) || (tok[me] != '?' && tok[me] != '#' && tok[me] != '/') {
		return me
	}
	end := me + 1
	for end < len(tok) && !isTokenBreak(tok[end]) {
		end++
	}
	for end > me+1 && strings.IndexByte(".,;:!?'\")]}", tok[end-1]) >= 0 {
		end--
	}
	if end == me+1 && tok[me] != '/' {
		return me
	}
	return end
}

// hostEvasions flags punycode labels and mixed scripts in a host.
func hostEvasions(host string) trick {
	var ev trick
	for i := 0; i < len(host); i++ {
		if (i == 0 || host[i-1] == '.') && hasFoldPrefix(host, i, "xn--") {
			ev |= tPunycode
		}
	}
	if hasNonASCII(host) && mixedScript(host) {
		ev |= tMixedScript
	}
	return ev
}

// mixedScript reports whether host mixes Latin, Greek, Cyrillic or Armenian
// letters, the scripts whose letters pass for each other.
func mixedScript(host string) bool {
	var seen [4]bool
	for _, r := range host {
		if r < utf8.RuneSelf {
			if isLetter(byte(r)) {
				seen[0] = true
			}
			continue
		}
		switch {
		case unicode.Is(unicode.Latin, r):
			seen[0] = true
		case unicode.Is(unicode.Greek, r):
			seen[1] = true
		case unicode.Is(unicode.Cyrillic, r):
			seen[2] = true
		case unicode.Is(unicode.Armenian, r):
			seen[3] = true
		}
	}
	n := 0
	for _, b := range seen {
		if b {
			n++
		}
	}
	return n > 1
}
