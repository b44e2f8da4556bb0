package sanitize

import (
	"strings"

	"mvdan.cc/xurls/v2"
)

// What tldKinds knows of a top-level domain.
const (
	// tldValid: a public top-level domain that xurls knows. xurls'
	// pseudo-TLDs (onion, local, example ...) are not: "now.onion" in a
	// chat is not a link.
	tldValid = 1 << iota
	// tldPseudo: one of xurls' pseudo-TLDs, which its expression matches.
	tldPseudo
	// tldCommon: in commonTLDs.
	tldCommon
)

// tldKinds maps each top-level domain, in lower case, to what it is, so
// that a label is looked up once.
var tldKinds = func() map[string]uint8 {
	m := make(map[string]uint8, len(xurls.TLDs)+len(xurls.PseudoTLDs))
	for _, t := range xurls.TLDs {
		m[strings.ToLower(t)] |= tldValid
	}
	for _, t := range xurls.PseudoTLDs {
		m[t] |= tldPseudo
	}
	for t := range commonTLDs {
		m[t] |= tldCommon
	}
	return m
}()

// tldMemo remembers the last label looked up: a link's top-level domain
// is asked about several times.
type tldMemo struct {
	label string
	k     uint8
}

func (m *tldMemo) kind(label string) uint8 {
	if label != m.label || label == "" {
		m.label, m.k = label, tldKind(label)
	}
	return m.k
}

// tldKind returns what label is as a top-level domain, in any case.
func tldKind(label string) uint8 {
	var buf [64]byte
	if len(label) > len(buf) {
		return 0
	}
	b := buf[:len(label)]
	for i := 0; i < len(label); i++ {
		c := label[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	k, ok := tldKinds[string(b)]
	if !ok && hasNonASCII(label) {
		k = tldKinds[strings.ToLower(label)]
	}
	return k
}

// commonTLDs are the top-level domains that are links even when written bare
// ("icicibank.com", "WAY2SMS.COM"): the generic ones people type without
// www., .uk, and the cheap ones phishers register in bulk. Most other TLDs
// are English words ("call", "love", "how") or country codes that are too
// ("so", "it", "my", "be", "am", "in", "me"), and a missing space after a full
// stop ("tomorrow.call", "days.so") would otherwise turn a chat into a link.
// Those need more evidence: www., a scheme, a path, a known second-level label
// (co.in, edu.sg) or an evasion.
var commonTLDs = setOf(
	"com", "net", "org", "info", "biz", "edu", "gov", "mil", "int", "mobi",
	"uk", "eu", "io", "ru", "cn", "su",
	"xyz", "top", "icu", "online", "site", "website", "club", "shop", "store",
	"app", "tk", "ml", "ga", "cf", "gq", "cc", "ws",
)

// genericSLDs are second-level labels under a country code that make the
// pair a registry suffix: "co" in "example.co.in", "edu" in "nus.edu.sg".
var genericSLDs = setOf(
	"co", "com", "net", "org", "edu", "gov", "ac", "ltd", "plc", "sch", "nhs",
	"gob", "go", "or", "ne", "mil", "nic", "biz", "info", "me", "gen",
)

// shorteners are link shorteners and redirectors: a link to them hides its
// destination, and their domains are not in commonTLDs.
var shorteners = setOf(
	"bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "is.gd",
	"v.gd", "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "t.ly", "rb.gy",
	"tiny.cc", "s.id", "lnkd.in", "bl.ink", "short.io", "tr.im", "x.co",
	"youtu.be", "wa.me", "t.me", "amzn.to", "fb.me", "db.tt", "adf.ly",
	"shorte.st", "ouo.io", "tiny.one", "qrco.de", "l.ead.me", "urlz.fr",
	"surl.li", "shorturl.asia", "clck.ru", "u.to", "2u.pm", "lnk.to", "snip.ly",
)

// notHosts are names of technologies that happen to be domain names; written
// bare they mean the technology.
var notHosts = setOf("asp.net", "vb.net", "ado.net")

// spelledDotStopLabels keep "the dot com bubble" from becoming "the.com".
var spelledDotStopLabels = setOf(
	"a", "an", "the", "this", "that", "is", "at", "my", "your", "our", "his",
	"her", "its", "on", "of", "in", "to", "and", "or", "polka",
)

// noAuthoritySchemes are the schemes xurls matches with a bare colon.
var noAuthoritySchemes = func() map[string]struct{} {
	m := make(map[string]struct{}, len(xurls.SchemesNoAuthority))
	for _, s := range xurls.SchemesNoAuthority {
		m[s] = struct{}{}
	}
	return m
}()

func setOf(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// lowerASCII returns s with ASCII letters in lower case, without allocating
// when s has none in upper case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// in reports whether the lower-case form of s is in set. It does not
// allocate; no key of these sets is longer than 64 bytes.
func in(set map[string]struct{}, s string) bool {
	var buf [64]byte
	if len(s) > len(buf) {
		return false
	}
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	_, ok := set[string(b)]
	if !ok && hasNonASCII(s) {
		_, ok = set[strings.ToLower(s)]
	}
	return ok
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}
