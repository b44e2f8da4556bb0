package numbers

import (
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// This file replaces, on the hot path, the regular expressions that
// libphonenumber runs to find a number's region and type. The metadata
// patterns of a region (the general description, one per number type, the
// leading digits of regions that share a calling code, the national prefix
// for parsing and the international prefix) all describe sets of digit
// strings. They are compiled together, on first use of the calling code,
// into one deterministic automaton over the ten digits (subset construction
// over regexp/syntax's programs), whose states say which patterns match
// there. One walk of the national number gives every pattern's answer; the
// rules of libphonenumber's getNumberTypeHelper and
// getRegionCodeForNumberFromRegionList are then applied to the bits.
// Calling codes whose patterns do not compile into a small enough automaton
// (or whose metadata is incomplete) use libphonenumber's own functions.

// Pattern bits of a regionMatcher. The first eleven are full matches of
// the national number; the last three are prefix matches (some prefix of
// the digits, the empty one included, matches).
const (
	patGeneral = iota
	patPremiumRate
	patTollFree
	patSharedCost
	patVoIP
	patPersonal
	patPager
	patUAN
	patVoicemail
	patFixedLine
	patMobile
	numDescs

	patLeadingDigits  = numDescs     // leading digits of a region that shares its calling code
	patNationalPrefix = numDescs + 1 // national prefix for parsing
	patIntlPrefix     = numDescs + 2 // international prefix
	numPatterns       = numDescs + 3

	prefixBits = 1<<patLeadingDigits | 1<<patNationalPrefix | 1<<patIntlPrefix
)

// maxDFAStates bounds the automaton of one region; a region that needs more
// (none of the bundled metadata: the largest, BD, needs about 500) is left
// to libphonenumber, with the rest of its calling code.
const maxDFAStates = 1 << 15 // state ids fit in trans's uint16

// regionMatcher answers libphonenumber's pattern questions for one region
// (or one non-geographic calling code).
type regionMatcher struct {
	region string
	md     *phonenumbers.PhoneMetadata
	// trans[s*10+d] is the state after digit d in state s; state 0 is
	// dead, state 1 the start.
	trans []uint16
	// accept[s] has bit p set when pattern p matches the digits read so
	// far, and bit 16+p when pattern p can still match after more digits.
	accept []uint32
	// lengths[p] has bit n set when desc p allows national numbers of n
	// digits (all bits when it does not restrict lengths).
	lengths         [numDescs]uint32
	sameFixedMobile bool
	hasLeading      bool
	hasNP           bool // a national prefix for parsing exists
	// testLen is testNumberLength(n digits, md, UNKNOWN) for n < len.
	testLen   [maxNSN + 2]phonenumbers.ValidationResult
	testLenOK bool
	// npLiterals are the alternatives of the national prefix for parsing
	// when it is a choice of plain digit strings with no transform rule.
	npLiterals []string
	// iddLiterals are the alternatives of the international prefix when
	// it is a choice of plain digit strings.
	iddLiterals []string
	ccString    string // strconv.Itoa(calling code)
	code        int    // the calling code
}

// maxNSN is libphonenumber's longest national significant number.
const maxNSN = 17

// walk reads digits and returns the full-match bits of the final state with
// the prefix bits of every state on the way.
func (m *regionMatcher) walk(digits string) uint16 {
	s := uint16(1)
	seen := uint16(m.accept[1])
	for i := 0; i < len(digits); i++ {
		d := digits[i] - '0'
		if d > 9 {
			return seen & prefixBits
		}
		s = m.trans[int(s)*10+int(d)]
		if s == 0 {
			return seen & prefixBits
		}
		seen |= uint16(m.accept[s])
	}
	return uint16(m.accept[s])&^prefixBits | seen&prefixBits
}

// leads reports whether the leading digits pattern matches a prefix of
// digits, reading no further than needed.
func (m *regionMatcher) leads(digits string) bool {
	const match, live = 1 << patLeadingDigits, 1 << (16 + patLeadingDigits)
	s := uint16(1)
	for i := 0; ; i++ {
		a := m.accept[s]
		if a&match != 0 {
			return true
		}
		if a&live == 0 || i == len(digits) {
			return false
		}
		d := digits[i] - '0'
		if d > 9 {
			return false
		}
		if s = m.trans[int(s)*10+int(d)]; s == 0 {
			return false
		}
	}
}

// numberType is libphonenumber's getNumberTypeHelper for a national number
// of n digits whose walk gave mask.
func (m *regionMatcher) numberType(mask uint16, n int) Type {
	var ok uint16
	if n < 32 {
		for p := range numDescs {
			if m.lengths[p]&(1<<n) != 0 {
				ok |= 1 << p
			}
		}
	}
	mask &= ok
	has := func(p int) bool { return mask&(1<<p) != 0 }
	switch {
	case !has(patGeneral):
		return UnknownType
	case has(patPremiumRate):
		return PremiumRate
	case has(patTollFree):
		return TollFree
	case has(patSharedCost):
		return SharedCost
	case has(patVoIP):
		return VoIP
	case has(patPersonal):
		return PersonalNumber
	case has(patPager):
		return Pager
	case has(patUAN):
		return UAN
	case has(patVoicemail):
		return Voicemail
	case has(patFixedLine):
		if m.sameFixedMobile || has(patMobile) {
			return FixedLineOrMobile
		}
		return FixedLine
	case !m.sameFixedMobile && has(patMobile):
		return Mobile
	}
	return UnknownType
}

// ccInfo is what the fast path knows of one calling code.
type ccInfo struct {
	cc      int
	regions []*regionMatcher // in libphonenumber's order; the first is the main one
	names   []string         // the region codes, to check the metadata was not swapped
	// possible[n] is IsPossibleNumberWithReason for n national digits.
	possible [maxNSN + 3]phonenumbers.ValidationResult
}

// region is libphonenumber's GetRegionCodeForNumber: the matcher of the
// region nsn belongs to (nil for none) and the walk of nsn in it.
func (c *ccInfo) region(nsn string) (*regionMatcher, uint16) {
	if len(c.regions) == 1 {
		m := c.regions[0]
		return m, m.walk(nsn)
	}
	for _, m := range c.regions {
		if m.hasLeading {
			if m.leads(nsn) {
				return m, m.walk(nsn)
			}
		} else if mask := m.walk(nsn); m.numberType(mask, len(nsn)) != UnknownType {
			return m, mask
		}
	}
	return nil, 0
}

var (
	ccTable [1000]struct {
		once sync.Once
		info *ccInfo // nil: use libphonenumber
	}
	regionCCOnce sync.Once
	regionCC     map[string]regionRef
)

type regionRef struct {
	cc, idx int
}

// callingCode returns the fast-path data of calling code cc, or nil.
func callingCode(cc int) *ccInfo {
	if cc <= 0 || cc >= len(ccTable) {
		return nil
	}
	e := &ccTable[cc]
	e.once.Do(func() { e.info = buildCC(cc) })
	if e.info == nil {
		return nil
	}
	// metadata.Use (meant for tests) can swap libphonenumber's metadata;
	// then the compiled data is stale.
	if r := metadata.CountryCodeToRegion()[cc]; len(r) == 0 || unsafe.SliceData(r) != unsafe.SliceData(e.info.names) {
		return nil
	}
	return e.info
}

// regionMatcherFor returns the matcher of a supported region code, or nil.
func regionMatcherFor(region string) *regionMatcher {
	regionCCOnce.Do(func() {
		regionCC = make(map[string]regionRef)
		for cc, rs := range metadata.CountryCodeToRegion() {
			for i, r := range rs {
				if r != "001" {
					regionCC[r] = regionRef{cc, i}
				}
			}
		}
	})
	ref, ok := regionCC[region]
	if !ok {
		return nil
	}
	c := callingCode(ref.cc)
	if c == nil || ref.idx >= len(c.regions) || c.regions[ref.idx].region != region {
		return nil
	}
	return c.regions[ref.idx]
}

func buildCC(cc int) (info *ccInfo) {
	defer func() {
		if recover() != nil {
			info = nil
		}
	}()
	names := metadata.CountryCodeToRegion()[cc]
	if len(names) == 0 {
		return nil
	}
	c := &ccInfo{cc: cc, names: names}
	for _, r := range names {
		var md *phonenumbers.PhoneMetadata
		if r == "001" {
			if len(names) != 1 {
				return nil
			}
			md, _ = metadata.NonGeoMetadata(cc)
		} else {
			if !phonenumbers.GetSupportedRegions()[r] {
				return nil
			}
			md, _ = metadata.RegionMetadata(r)
			if md != nil && int(md.GetCountryCode()) != cc {
				return nil
			}
		}
		if md == nil {
			return nil
		}
		m := compileRegion(r, cc, md, maxDFAStates)
		if m == nil {
			return nil
		}
		c.regions = append(c.regions, m)
	}
	// IsPossibleNumberWithReason looks only at the calling code and the
	// length of the national number: ask it once per length.
	for n := 1; n < len(c.possible); n++ {
		var nn uint64
		for range n {
			nn = nn*10 + 1
		}
		cc32 := int32(cc)
		c.possible[n] = phonenumbers.IsPossibleNumberWithReason(&phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn})
	}
	c.possible[0] = c.possible[1] // not reached: a national number has a digit
	return c
}

func descsOf(md *phonenumbers.PhoneMetadata) [numDescs]*phonenumbers.PhoneNumberDesc {
	return [numDescs]*phonenumbers.PhoneNumberDesc{
		patGeneral:     md.GetGeneralDesc(),
		patPremiumRate: md.GetPremiumRate(),
		patTollFree:    md.GetTollFree(),
		patSharedCost:  md.GetSharedCost(),
		patVoIP:        md.GetVoip(),
		patPersonal:    md.GetPersonalNumber(),
		patPager:       md.GetPager(),
		patUAN:         md.GetUan(),
		patVoicemail:   md.GetVoicemail(),
		patFixedLine:   md.GetFixedLine(),
		patMobile:      md.GetMobile(),
	}
}

// compileRegion builds the matcher of one region, or returns nil when the
// fast path cannot answer for it exactly.
func compileRegion(region string, cc int, md *phonenumbers.PhoneMetadata, maxStates int) *regionMatcher {
	m := &regionMatcher{
		region:          region,
		md:              md,
		sameFixedMobile: md.GetSameMobileAndFixedLinePattern(),
		ccString:        strconv.Itoa(cc),
		code:            cc,
	}
	var pats [numPatterns]string
	var use [numPatterns]bool
	for p, d := range descsOf(md) {
		if d == nil {
			return nil // libphonenumber would panic
		}
		pats[p], use[p] = d.GetNationalNumberPattern(), true
		if len(d.PossibleLength) == 0 {
			m.lengths[p] = ^uint32(0)
		} else {
			for _, l := range d.PossibleLength {
				if l >= 0 && l < 32 {
					m.lengths[p] |= 1 << l
				}
			}
		}
	}
	if ld := md.GetLeadingDigits(); ld != "" {
		pats[patLeadingDigits], use[patLeadingDigits], m.hasLeading = ld, true, true
	}
	if np := md.GetNationalPrefixForParsing(); np != "" {
		pats[patNationalPrefix], use[patNationalPrefix], m.hasNP = np, true, true
		if parts := strings.Split(np, "|"); md.GetNationalPrefixTransformRule() == "" && !slices.ContainsFunc(parts, func(p string) bool { return !isDigits(p) }) {
			m.npLiterals = parts
		}
	}
	pats[patIntlPrefix], use[patIntlPrefix] = md.GetInternationalPrefix(), true
	if parts := strings.Split(md.GetInternationalPrefix(), "|"); !slices.ContainsFunc(parts, func(p string) bool { return !isDigits(p) }) {
		m.iddLiterals = parts
	}

	var progs [numPatterns]*syntax.Prog
	for p := range pats {
		if !use[p] {
			continue
		}
		re, err := syntax.Parse(pats[p], syntax.Perl)
		if err != nil {
			return nil
		}
		prog, err := syntax.Compile(re.Simplify())
		if err != nil {
			return nil
		}
		progs[p] = prog
	}
	if !m.buildDFA(progs[:], maxStates) {
		return nil
	}
	m.testLenOK = m.buildTestLength()
	return m
}

// buildTestLength fills testLen with libphonenumber's
// testNumberLength(number, md, UNKNOWN), which depends on the length only.
func (m *regionMatcher) buildTestLength() bool {
	g := m.md.GetGeneralDesc()
	pl := g.PossibleLength
	if len(pl) == 0 || !slices.IsSorted(pl) {
		return false
	}
	for n := range m.testLen {
		m.testLen[n] = testLength(int32(n), pl, g.PossibleLengthLocalOnly)
	}
	return true
}

func testLength(n int32, pl, local []int32) phonenumbers.ValidationResult {
	if pl[0] == -1 {
		return phonenumbers.INVALID_LENGTH
	}
	if slices.Contains(local, n) {
		return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
	}
	switch {
	case pl[0] == n:
		return phonenumbers.IS_POSSIBLE
	case pl[0] > n:
		return phonenumbers.TOO_SHORT
	case pl[len(pl)-1] < n:
		return phonenumbers.TOO_LONG
	case slices.Contains(pl[1:], n):
		return phonenumbers.IS_POSSIBLE
	}
	return phonenumbers.INVALID_LENGTH
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// thread is an NFA state: a pattern and an instruction of its program.
type thread uint32

func mkThread(p, pc int) thread { return thread(p<<24 | pc) }
func (t thread) pattern() int   { return int(t >> 24) }
func (t thread) pc() int        { return int(t & (1<<24 - 1)) }

// buildDFA runs the subset construction. It returns false when a program
// has an instruction it does not handle or the automaton grows too big.
func (m *regionMatcher) buildDFA(progs []*syntax.Prog, maxStates int) bool {
	type dstate struct {
		threads []thread
	}
	ids := map[string]int32{}
	var states []dstate
	m.trans = make([]uint16, 20)
	m.accept = make([]uint32, 2)
	states = append(states, dstate{}, dstate{}) // 0 dead, 1 start
	failed := false

	// closure adds the epsilon closure of t to set and returns the
	// patterns that reach a match.
	var closure func(set map[thread]bool, t thread) uint16
	closure = func(set map[thread]bool, t thread) uint16 {
		if set[t] {
			return 0
		}
		set[t] = true
		prog := progs[t.pattern()]
		in := &prog.Inst[t.pc()]
		p := t.pattern()
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			return closure(set, mkThread(p, int(in.Out))) | closure(set, mkThread(p, int(in.Arg)))
		case syntax.InstCapture, syntax.InstNop:
			return closure(set, mkThread(p, int(in.Out)))
		case syntax.InstMatch:
			return 1 << p
		case syntax.InstFail:
			return 0
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			return 0
		default: // InstEmptyWidth: an anchor inside a pattern
			if p == patNationalPrefix || p == patIntlPrefix {
				// These two only decide whether the fast parser
				// leaves the input to libphonenumber: matching more
				// often than the real pattern is safe.
				return closure(set, mkThread(p, int(in.Out)))
			}
			failed = true
			return 0
		}
	}
	// intern returns the id of the state made of the consuming threads of
	// set, adding it if new.
	intern := func(set map[thread]bool, acc uint16) int32 {
		var ts []thread
		a := uint32(acc)
		for t := range set {
			switch progs[t.pattern()].Inst[t.pc()].Op {
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				a |= 1 << (16 + t.pattern())
				ts = append(ts, t)
			case syntax.InstMatch:
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			return 0
		}
		slices.Sort(ts)
		key := unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(ts))), len(ts)*4)
		if id, ok := ids[key]; ok {
			return id
		}
		id := int32(len(states))
		ids[string([]byte(key))] = id
		states = append(states, dstate{threads: ts})
		m.trans = append(m.trans, make([]uint16, 10)...)
		m.accept = append(m.accept, a)
		return id
	}

	start := map[thread]bool{}
	var acc uint16
	for p, prog := range progs {
		if prog != nil {
			acc |= closure(start, mkThread(p, prog.Start))
		}
	}
	// The start state is always state 1, even when nothing can match.
	var ts []thread
	a := uint32(acc)
	for t := range start {
		switch progs[t.pattern()].Inst[t.pc()].Op {
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			a |= 1 << (16 + t.pattern())
			ts = append(ts, t)
		case syntax.InstMatch:
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	states[1].threads = ts
	m.accept[1] = a
	ids[unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(ts))), len(ts)*4)] = 1
	if len(ts) == 0 {
		ids = map[string]int32{}
	}

	for s := 1; s < len(states); s++ {
		if failed || len(states) > maxStates {
			return false
		}
		for d := range 10 {
			next := map[thread]bool{}
			var acc uint16
			for _, t := range states[s].threads {
				in := &progs[t.pattern()].Inst[t.pc()]
				if in.Op != syntax.InstMatch && in.MatchRune(rune('0'+d)) {
					acc |= closure(next, mkThread(t.pattern(), int(in.Out)))
				}
			}
			m.trans[s*10+d] = uint16(intern(next, acc))
		}
	}
	if failed || len(states) > maxStates {
		return false
	}
	m.trans = slices.Clip(m.trans)
	m.accept = slices.Clip(m.accept)
	return true
}
