package numbers

import (
	"math/bits"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// This file reads phone numbers as they stand in running text, where the
// writer's region is unknown: "07700 900123" is British, "98765 43210"
// Indian, "0044 20 7946 0018" international. A digit string is tried in the
// national format of every region at once, with the compiled automata of
// match.go: an index by first digit and length leaves a handful of calling
// codes, whose patterns are walked.

// maxTextDigits bounds the digits Recognize reads: an international prefix
// of up to four digits and the fifteen of E.164, with room for a national
// prefix and carrier code.
const maxTextDigits = 20

// Recognize reports whether digits, a phone number as it stands in running
// text with its separators removed (ASCII digits, perhaps after one "+"),
// is a valid number, and returns it. Unlike [Parse], which trusts its
// caller to name the region, Recognize tries every way the number may have
// been written:
//
//   - in international format: after "+", after the international prefix
//     of any region ("00", "011", "0011", ...), or as a calling code and
//     national number without either ("447700900123");
//   - in the national format of any region: after one of its national
//     prefixes ("07700 900123" in GB, "8 812 123 4567" in RU), or without
//     one where the region writes its numbers so ("98765 43210" in IN,
//     "(415) 555-2671" in US), as libphonenumber's matcher does at its
//     VALID leniency.
//
// A number is valid when it falls in a range of its region in the bundled
// metadata: its [Number.Type] is not [UnknownType]. When several readings
// are valid, hint (an ISO 3166-1 alpha-2 code, or "" for none) decides: a
// reading in the hint region's national format wins, then international
// format, then national formats with a national prefix, then without, each
// by calling code. The hint never makes a number valid that is valid in no
// region, except for the national formats that need a rewrite rule
// (Argentine mobile numbers with 15, seven-digit local numbers of Caribbean
// regions), which are read for the hint region only.
//
// Recognize allocates only for the Number it returns. It is meant for text
// scanners; use [Parse] for a number typed into a phone field.
func Recognize(digits, hint string) (Number, bool) {
	plus := strings.HasPrefix(digits, "+")
	d := digits
	if plus {
		d = d[1:]
	}
	if len(d) < 3 || len(d) > maxTextDigits || !isDigits(d) {
		return Number{}, false
	}
	x := textIndexOnce()
	if plus {
		return x.afterPlus(d)
	}
	hc := -1
	if hint != "" {
		if ref, ok := x.regionCC[hint]; ok {
			hc = ref
			if n, ok := x.national(d, hc, true); ok {
				return n, true
			}
			if n, ok := x.national(d, hc, false); ok {
				return n, true
			}
			if rw := x.rewrites[hint]; rw != nil {
				if n, ok := x.rewritten(d, hc, rw); ok {
					return n, true
				}
			}
		}
	}
	if n, ok := x.international(d); ok {
		return n, true
	}
	for _, withPrefix := range [...]bool{true, false} {
		if n, ok := x.nationalAny(d, hc, withPrefix); ok {
			return n, true
		}
	}
	return x.withoutPlus(d)
}

// afterPlus reads d, the digits after a "+" or an international prefix,
// as libphonenumber's parser does: a calling code, then a national number
// from which the calling code's national prefix is stripped when it
// applies ("+44 (0)20 ...").
func (x *textIndex) afterPlus(d string) (Number, bool) {
	if d == "" || d[0] == '0' {
		return Number{}, false
	}
	codes := metadata.CountryCodeToRegion()
	for k, cc := 1, 0; k <= 3 && k < len(d); k++ {
		cc = cc*10 + int(d[k-1]-'0')
		if _, ok := codes[cc]; !ok {
			continue
		}
		info := callingCode(cc)
		if info == nil {
			return Number{}, false
		}
		nsn, ok := x.afterCC(info, d[k:])
		if !ok || len(nsn) < 2 || len(nsn) > maxNSN {
			return Number{}, false
		}
		m, mask := info.region(nsn)
		if m == nil || m.numberType(mask, len(nsn)) == UnknownType {
			return Number{}, false
		}
		return x.textNumber(info, nsn, m, mask)
	}
	return Number{}, false
}

// afterCC returns the national number that libphonenumber's parser reads
// from digits after calling code info: digits with the national prefix of
// the main region stripped when it applies (parseHelper). ok is false when
// there are fewer than two digits, or the main region's prefix pattern
// cannot be read.
func (x *textIndex) afterCC(info *ccInfo, digits string) (string, bool) {
	m0 := info.regions[0]
	if !m0.hasNP {
		return digits, len(digits) >= 2
	}
	mask := m0.walk(digits)
	if nsn, ok := stripNationalPrefix(m0, digits, mask); ok || m0.npLiterals != nil {
		return nsn, ok
	}
	rw := x.rewrites[m0.region]
	if rw == nil || !m0.testLenOK || len(digits) < 2 {
		return "", false
	}
	rest, matched := rw.strip(digits)
	if !matched || mask&(1<<patGeneral) != 0 && m0.walk(rest)&(1<<patGeneral) == 0 || len(rest) >= len(m0.testLen) {
		return digits, true
	}
	switch m0.testLen[len(rest)] {
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
		return digits, true
	}
	return rest, true
}

// textCCSet is a set of indexes into textIndex.ccs.
type textCCSet [4]uint64

func (s *textCCSet) add(i int) { s[i/64] |= 1 << (i % 64) }

func (s textCCSet) and(t textCCSet) textCCSet {
	for i := range s {
		s[i] &= t[i]
	}
	return s
}

// textCC is what Recognize knows of one geographic calling code.
type textCC struct {
	info *ccInfo
	// prefixes are, by region, the national prefixes for parsing as
	// digit strings, carrier codes included, in the order the pattern
	// tries them; nil for a region whose pattern is more than a choice of
	// digit strings or has a transform rule (see textRewrite).
	prefixes [][]string
	// formats decides whether a number must be written with its national
	// prefix; nil when no format of the main region asks for it.
	formats []*phonenumbers.NumberFormat
	// lengths has bit n set when a region of the calling code has valid
	// national numbers of n digits.
	lengths uint32
	// mainPrefixes are the national prefixes of the main region, in the
	// order its pattern tries them, when they are plain digit strings;
	// mainRewrite is its pattern when they are not.
	mainPrefixes []string
	mainRewrite  *textRewrite

	once   sync.Once
	chunks []textChunk
}

// textIndex is built on the first call of Recognize: compiling every
// region takes about a tenth of a second.
type textIndex struct {
	ccs      []*textCC
	byCode   [1000]*textCC  // by calling code
	regionCC map[string]int // region code to index in ccs
	// sets[byStart[p][n]] holds the calling codes that may have a
	// national number of n digits that starts with the three digits p.
	byStart [1000][maxNSN + 1]uint16
	sets    []textCCSet
	// byPrefix maps a national prefix (see prefixKey) to the calling
	// codes that use it.
	byPrefix  map[uint64]textCCSet
	maxPrefix int
	idd       map[string]bool // the international prefixes of all regions
	maxIDD    int
	// rewrites holds, by region, the national prefixes that are not
	// plain digit strings or come with a transform rule.
	rewrites map[string]*textRewrite
}

var textIndexOnce = sync.OnceValue(buildTextIndex)

func buildTextIndex() *textIndex {
	x := &textIndex{
		regionCC: map[string]int{},
		byPrefix: map[uint64]textCCSet{},
		idd:      map[string]bool{},
		rewrites: map[string]*textRewrite{},
	}
	codes := make([]int, 0, 256)
	for cc, regions := range metadata.CountryCodeToRegion() {
		if len(regions) > 0 && regions[0] != "001" {
			codes = append(codes, cc)
		}
	}
	slices.Sort(codes)
	start := new([1000][maxNSN + 1]textCCSet)
	for _, cc := range codes {
		info := callingCode(cc)
		if info == nil {
			continue // not reached with the bundled metadata
		}
		i := len(x.ccs)
		if i >= len(textCCSet{})*64 {
			break // not reached: about 215 geographic calling codes
		}
		c := &textCC{info: info}
		for _, m := range info.regions {
			x.regionCC[m.region] = i
			c.lengths |= m.lengths[patGeneral]
			var lits []string
			if np := m.md.GetNationalPrefixForParsing(); np != "" {
				var exact bool
				lits, exact = textLiterals(np, 256)
				if !exact || m.md.GetNationalPrefixTransformRule() != "" {
					x.addRewrite(m)
					lits = nil
				}
			}
			c.prefixes = append(c.prefixes, lits)
			for _, p := range lits {
				if p != "" {
					key := prefixKey(p)
					s := x.byPrefix[key]
					s.add(i)
					x.byPrefix[key] = s
					x.maxPrefix = max(x.maxPrefix, len(p))
				}
			}
			// Only plain international prefixes that start with 0 ("00",
			// "011"): those with carrier codes or patterns, or without
			// the 0, would read too much as international.
			for _, p := range m.iddLiterals {
				if strings.HasPrefix(p, "0") && len(p) >= 2 {
					x.idd[p] = true
					x.maxIDD = max(x.maxIDD, len(p))
				}
			}
			// The national numbers that start with p and have n digits
			// may be valid when, after p, the general pattern and the
			// pattern of a type with n digits can still match.
			for p := range 1000 {
				st := uint16(1)
				for _, d := range [3]int{p / 100, p / 10 % 10, p % 10} {
					if st = m.trans[int(st)*10+d]; st == 0 {
						break
					}
				}
				a := m.accept[st]
				if st == 0 || a&(1<<patGeneral|1<<(16+patGeneral)) == 0 {
					continue
				}
				var lengths uint32
				for t := patGeneral + 1; t < numDescs; t++ {
					if a&(1<<t|1<<(16+t)) != 0 {
						lengths |= m.lengths[t]
					}
				}
				lengths &= m.lengths[patGeneral]
				for n := 3; n <= maxNSN; n++ {
					if lengths&(1<<n) != 0 {
						start[p][n].add(i)
					}
				}
			}
		}
		main := info.regions[0].md
		if lits, exact := textLiterals(main.GetNationalPrefixForParsing(), 256); exact && main.GetNationalPrefixTransformRule() == "" {
			c.mainPrefixes = lits
		}
		c.mainRewrite = x.rewrites[info.regions[0].region]
		for _, f := range main.GetNumberFormat() {
			if textPrefixRequired(f) {
				c.formats = main.GetNumberFormat()
				break
			}
		}
		x.ccs = append(x.ccs, c)
		x.byCode[cc] = c
	}
	ids := map[textCCSet]uint16{{}: 0}
	x.sets = []textCCSet{{}}
	for p := range start {
		for n, set := range start[p] {
			id, ok := ids[set]
			if !ok {
				id = uint16(len(x.sets))
				ids[set] = id
				x.sets = append(x.sets, set)
			}
			x.byStart[p][n] = id
		}
	}
	return x
}

// textPrefixRequired reports whether numbers of format f must be written with
// the national prefix: libphonenumber's isNationalPrefixPresentIfRequired.
func textPrefixRequired(f *phonenumbers.NumberFormat) bool {
	rule := f.GetNationalPrefixFormattingRule()
	if rule == "" || f.GetNationalPrefixOptionalWhenFormatting() {
		return false
	}
	// A rule that is the first group, perhaps in brackets ("($1)"), adds
	// no prefix.
	r := strings.TrimSuffix(strings.TrimPrefix(rule, "("), ")")
	return r != "$1"
}

// national reads d in the national format of calling code ccs[i]: after
// one of its national prefixes (withPrefix), or without one.
func (x *textIndex) national(d string, i int, withPrefix bool) (Number, bool) {
	c := x.ccs[i]
	if !withPrefix {
		return x.tryNational(c, d, d)
	}
	for k := min(x.maxPrefix, len(d)-2); k >= 1; k-- {
		if x.strips(c, d, k) {
			if n, ok := x.tryNational(c, d, d[k:]); ok {
				return n, true
			}
		}
	}
	return Number{}, false
}

// strips reports whether a region of c reads the first k digits of d as
// its national prefix, as libphonenumber's parser does: the first
// alternative of its pattern that matches is taken, and kept when d is a
// national number and the rest is not.
func (x *textIndex) strips(c *textCC, d string, k int) bool {
	for r, lits := range c.prefixes {
		for _, p := range lits {
			if !strings.HasPrefix(d, p) {
				continue
			}
			if len(p) == k {
				m := c.info.regions[r]
				if m.walk(d)&(1<<patGeneral) == 0 || m.walk(d[k:])&(1<<patGeneral) != 0 {
					return true
				}
			}
			break
		}
	}
	return false
}

// nationalAny reads d in the national format of every calling code but
// skip, in order of calling code.
func (x *textIndex) nationalAny(d string, skip int, withPrefix bool) (Number, bool) {
	if !withPrefix {
		return x.each(x.candidates(d), d, 0, skip)
	}
	for k := min(x.maxPrefix, len(d)-2); k >= 1; k-- {
		set, ok := x.byPrefix[prefixKey(d[:k])]
		if !ok {
			continue
		}
		if n, ok := x.each(set.and(x.candidates(d[k:])), d, k, skip); ok {
			return n, true
		}
	}
	return Number{}, false
}

// prefixKey packs a national prefix of up to 17 digits into a map key:
// its length and its value.
func prefixKey(p string) uint64 {
	v := uint64(len(p))
	for i := 0; i < len(p); i++ {
		v = v*10 + uint64(p[i]-'0')
	}
	return v<<5 | uint64(len(p))
}

// candidates returns the calling codes that may have nsn as a national
// number, by its first three digits and length. National numbers of two
// digits, which only a few small regions have, are left out.
func (x *textIndex) candidates(nsn string) textCCSet {
	if len(nsn) < 3 || len(nsn) > maxNSN {
		return textCCSet{}
	}
	return x.sets[x.byStart[int(nsn[0]-'0')*100+int(nsn[1]-'0')*10+int(nsn[2]-'0')][len(nsn)]]
}

// each tries d without its first k digits in the calling codes of set.
func (x *textIndex) each(set textCCSet, d string, k, skip int) (Number, bool) {
	for w, word := range set {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			if i := w*64 + b; i != skip {
				if c := x.ccs[i]; k == 0 || x.strips(c, d, k) {
					if n, ok := x.tryNational(c, d, d[k:]); ok {
						return n, true
					}
				}
			}
		}
	}
	return Number{}, false
}

// tryNational checks that nsn, read from d, is a valid national number of
// c, and that it may be written so: its format does not ask for a national
// prefix, or libphonenumber finds one at the start of d.
func (x *textIndex) tryNational(c *textCC, d, nsn string) (Number, bool) {
	if len(nsn) < 2 || len(nsn) > maxNSN || c.lengths&(1<<len(nsn)) == 0 {
		return Number{}, false
	}
	m, mask := c.info.region(nsn)
	if m == nil || mask&(1<<patGeneral) == 0 || m.numberType(mask, len(nsn)) == UnknownType {
		return Number{}, false
	}
	if !x.prefixOptional(c, nsn) && !x.prefixWritten(c, d) || dialsOut(c, d) {
		return Number{}, false
	}
	return x.textNumber(c.info, nsn, m, mask)
}

// prefixWritten reports whether libphonenumber finds a national prefix at
// the start of d by the rules of c's main region
// (maybeStripNationalPrefixAndCarrierCode), as its matcher checks.
func (x *textIndex) prefixWritten(c *textCC, d string) bool {
	m := c.info.regions[0]
	general := func(s string) bool { return m.walk(s)&(1<<patGeneral) != 0 }
	if rw := c.mainRewrite; rw != nil {
		rest, ok := rw.strip(d)
		return ok && !(general(d) && !general(rest))
	}
	for _, p := range c.mainPrefixes {
		if strings.HasPrefix(d, p) {
			return !(general(d) && !general(d[len(p):]))
		}
	}
	return false
}

// dialsOut reports whether d starts, in every region of c, with the
// international prefix and a digit other than 0: then it is an
// international number there, not a national one.
func dialsOut(c *textCC, d string) bool {
	for _, m := range c.info.regions {
		out := false
		s := uint16(1)
		for i := 0; i < len(d) && !out; i++ {
			if m.accept[s]&(1<<patIntlPrefix) != 0 && d[i] != '0' {
				out = true
			}
			if s = m.trans[int(s)*10+int(d[i]-'0')]; s == 0 {
				break
			}
		}
		if !out {
			return false
		}
	}
	return true
}

// prefixOptional reports whether the format that libphonenumber would
// choose for nsn (the first whose last leading-digits pattern matches a
// prefix and whose pattern matches the whole) lets nsn be written without
// the national prefix.
func (x *textIndex) prefixOptional(c *textCC, nsn string) bool {
	if c.formats == nil {
		return true
	}
	c.once.Do(c.compileFormats)
	for _, ch := range c.chunks {
		if i, ok := ch.choose(nsn); ok {
			return !textPrefixRequired(ch.formats[i])
		}
	}
	return true
}

// formatsPerChunk is how many formats one automaton decides: each needs
// two of the sixteen patterns buildDFA takes.
const formatsPerChunk = 8

// textChunk decides between a few consecutive formats of a calling code
// with one automaton, in which pattern 2i is the last leading-digits
// pattern of format i (nil: none, any digits lead) and 2i+1 its pattern.
type textChunk struct {
	formats []*phonenumbers.NumberFormat
	dfa     *regionMatcher // only trans and accept are used
	leading uint16         // bit 2i set when format i has a leading-digits pattern
	regexes []*regexp.Regexp
}

// compileFormats compiles c.formats into chunks. A format whose patterns
// the automaton cannot take is decided with regular expressions instead.
func (c *textCC) compileFormats() {
	for start := 0; start < len(c.formats); start += formatsPerChunk {
		ch := textChunk{formats: c.formats[start:min(start+formatsPerChunk, len(c.formats))]}
		progs := make([]*syntax.Prog, 2*len(ch.formats))
		pats := make([]string, 2*len(ch.formats))
		ok := true
		for i, f := range ch.formats {
			if ld := f.GetLeadingDigitsPattern(); len(ld) > 0 {
				pats[2*i] = "^(?:" + ld[len(ld)-1] + ")"
				ch.leading |= 1 << (2 * i)
				progs[2*i], ok = textProg(ld[len(ld)-1], ok)
			}
			pats[2*i+1] = "^(?:" + f.GetPattern() + ")$"
			progs[2*i+1], ok = textProg(f.GetPattern(), ok)
		}
		if ok {
			m := &regionMatcher{}
			if m.buildDFA(progs, maxDFAStates) {
				ch.dfa = m
			}
		}
		if ch.dfa == nil {
			ch.regexes = make([]*regexp.Regexp, len(pats))
			for i, p := range pats {
				if p != "" {
					// libphonenumber fails on a pattern Go cannot
					// compile too; it then matches nothing.
					ch.regexes[i], _ = regexp.Compile(p)
				}
			}
		}
		c.chunks = append(c.chunks, ch)
	}
}

// textProg compiles a metadata pattern for buildDFA, which takes no
// anchors.
func textProg(pattern string, ok bool) (*syntax.Prog, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth {
			return nil, false
		}
	}
	return prog, ok
}

// choose returns the index of the first format of the chunk that nsn takes.
func (ch *textChunk) choose(nsn string) (int, bool) {
	if ch.dfa == nil {
		for i := range ch.formats {
			l, w := ch.regexes[2*i], ch.regexes[2*i+1]
			if (ch.leading&(1<<(2*i)) == 0 || l != nil && l.MatchString(nsn)) && w != nil && w.MatchString(nsn) {
				return i, true
			}
		}
		return 0, false
	}
	m := ch.dfa
	s := uint16(1)
	seen := m.accept[1] // leading patterns: a match at any prefix counts
	for i := 0; i < len(nsn) && s != 0; i++ {
		if s = m.trans[int(s)*10+int(nsn[i]-'0')]; s != 0 {
			seen |= m.accept[s]
		}
	}
	var whole uint32
	if s != 0 {
		whole = m.accept[s]
	}
	for i := range ch.formats {
		lead := ch.leading&(1<<(2*i)) == 0 || seen&(1<<(2*i)) != 0
		if lead && whole&(1<<(2*i+1)) != 0 {
			return i, true
		}
	}
	return 0, false
}

// international reads d after the international prefix of any region.
func (x *textIndex) international(d string) (Number, bool) {
	for k := min(x.maxIDD, len(d)-3); k >= 2; k-- {
		if !x.idd[d[:k]] || d[k] == '0' {
			continue
		}
		if n, ok := x.afterPlus(d[k:]); ok {
			return n, true
		}
	}
	return Number{}, false
}

// withoutPlus reads d as a calling code and a national number, as
// libphonenumber does when the calling code is its default region's and
// the whole is not a national number there, or is too long for one.
func (x *textIndex) withoutPlus(d string) (Number, bool) {
	if d[0] == '0' {
		return Number{}, false
	}
	cc := 0
	for k := 1; k <= 3 && k < len(d); k++ {
		cc = cc*10 + int(d[k-1]-'0')
		if c := x.byCode[cc]; c != nil {
			nsn := d[k:]
			if len(nsn) > maxNSN || c.lengths&(1<<len(nsn)) == 0 {
				return Number{}, false
			}
			m, mask := c.info.region(nsn)
			if m == nil || m.numberType(mask, len(nsn)) == UnknownType {
				return Number{}, false
			}
			// libphonenumber reads a leading calling code so only when
			// the whole is no national number of a region of it.
			for _, r := range c.info.regions {
				if r.walk(d)&(1<<patGeneral) == 0 || len(d) >= 32 || r.lengths[patGeneral]>>len(d) == 0 {
					return x.textNumber(c.info, nsn, m, mask)
				}
			}
			return Number{}, false
		}
	}
	return Number{}, false
}

// textRewrite is a region's national prefix for parsing as a regular
// expression, for the national formats that the digit strings of
// textCC.prefixes miss: local numbers that the region completes with an
// area code, and prefixes with a transform rule (Argentine mobile numbers
// written with 15).
type textRewrite struct {
	prefix    *regexp.Regexp
	transform string
	general   *regexp.Regexp
}

func (x *textIndex) addRewrite(m *regionMatcher) {
	prefix, err := regexp.Compile("^(?:" + m.md.GetNationalPrefixForParsing() + ")")
	if err != nil {
		return
	}
	general, err := regexp.Compile("^(?:" + m.md.GetGeneralDesc().GetNationalNumberPattern() + ")$")
	if err != nil {
		return
	}
	x.rewrites[m.region] = &textRewrite{prefix, m.md.GetNationalPrefixTransformRule(), general}
}

// strip returns d without its national prefix, transformed by the rule
// when the rule's last group matched, or false when the prefix pattern
// does not match at the start.
func (rw *textRewrite) strip(d string) (string, bool) {
	loc := rw.prefix.FindStringSubmatchIndex(d)
	if loc == nil {
		return "", false
	}
	if last := len(loc) - 2; rw.transform != "" && last > 0 && loc[last] >= 0 {
		return string(rw.prefix.ExpandString(nil, rw.transform, d, loc)) + d[loc[1]:], true
	}
	return d[loc[1]:], true
}

// rewritten reads d in the national format of a region with a textRewrite,
// as libphonenumber's parser does.
func (x *textIndex) rewritten(d string, i int, rw *textRewrite) (Number, bool) {
	nsn, ok := rw.strip(d)
	if !ok || nsn == d || rw.general.MatchString(d) && !rw.general.MatchString(nsn) {
		return Number{}, false
	}
	return x.tryNational(x.ccs[i], d, nsn)
}

// textNumber returns the Number of calling code info and national number
// nsn, valid in region m whose walk of nsn gave mask: what Parse returns
// for its E.164 form, built without reading that form again. ok is false
// when that form would not read back as this number (Parse would strip a
// national prefix from nsn).
func (x *textIndex) textNumber(info *ccInfo, nsn string, m *regionMatcher, mask uint16) (Number, bool) {
	if got, ok := x.afterCC(info, nsn); !ok || got != nsn {
		return Number{}, false
	}
	cc := info.cc
	var buf [24]byte
	b := append(buf[:0], '+')
	b = strconv.AppendInt(b, int64(cc), 10)
	ccEnd := len(b)
	b = append(b, nsn...)
	if len(b)-1 > maxE164Digits {
		return Number{}, false
	}
	e164 := string(b)
	l := new(lazyNumber)
	l.setParsed(cc, nsn)
	l.fast, l.rm, l.mask, l.nsnLen = true, m, mask, uint8(len(nsn))
	l.state.Store(uint32(m.numberType(mask, len(nsn))) + 1)
	return Number{
		E164:            e164,
		CallingCode:     cc,
		Region:          m.region,
		NationalNumber:  e164[ccEnd:],
		NonGeographic:   m.region == "001",
		NANPOutsideUSCA: cc == 1 && m.region != "US" && m.region != "CA",
		lazy:            l,
	}, true
}

// textLiterals returns the digit strings that pattern matches, when there
// are at most limit of them; alternatives at the top that match infinitely
// many strings or use anchors are left out, and exact is then false.
func textLiterals(pattern string, limit int) (lits []string, exact bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	alts := []*syntax.Regexp{re}
	if re.Op == syntax.OpAlternate {
		alts = re.Sub
	}
	exact = true
	for _, a := range alts {
		s, ok := textExpand(a, limit)
		if !ok || len(lits)+len(s) > limit {
			exact = false
			continue
		}
		lits = append(lits, s...)
	}
	return lits, exact
}

// textExpand returns the strings of digits that re matches, or false when they
// are more than limit, are not all digits or need an anchor.
func textExpand(re *syntax.Regexp, limit int) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		b := make([]byte, 0, len(re.Rune))
		for _, r := range re.Rune {
			if r < '0' || r > '9' {
				return nil, false
			}
			b = append(b, byte(r))
		}
		return []string{string(b)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if r < '0' || r > '9' {
					return nil, false
				}
				out = append(out, string(rune(r)))
			}
		}
		return out, true
	case syntax.OpCapture:
		return textExpand(re.Sub[0], limit)
	case syntax.OpQuest:
		// Greedy, as the regular expression tries them.
		s, ok := textExpand(re.Sub[0], limit)
		return append(s, ""), ok && len(s) < limit
	case syntax.OpRepeat:
		if re.Max < 0 || re.Max > 8 {
			return nil, false
		}
		s, ok := textExpand(re.Sub[0], limit)
		if !ok {
			return nil, false
		}
		var out []string
		cur := []string{""}
		for n := 0; n <= re.Max; n++ {
			if n >= re.Min {
				out = slices.Concat(cur, out) // greedy: more repetitions first
			}
			if n == re.Max {
				break
			}
			if cur = textProduct(cur, s, limit); cur == nil {
				return nil, false
			}
		}
		return out, len(out) <= limit
	case syntax.OpConcat:
		cur := []string{""}
		for _, sub := range re.Sub {
			s, ok := textExpand(sub, limit)
			if !ok {
				return nil, false
			}
			if cur = textProduct(cur, s, limit); cur == nil {
				return nil, false
			}
		}
		return cur, true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := textExpand(sub, limit)
			if !ok || len(out)+len(s) > limit {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, true
	}
	return nil, false
}

func textProduct(a, b []string, limit int) []string {
	if len(a)*len(b) > limit {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}
