package sanitize

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/antifraud-go/antifraud/numbers"
)

// Phone numbers are found in three steps. A scanner cuts runs out of the
// text: blocks of digits (or of digits and lookalike letters) joined by
// short separators. A run is then split into candidates: the whole run, or
// its parts between slashes and line breaks, or, when a part is longer
// than a phone number, the longest stretches that read as one. A candidate
// is a phone number by what it says (numbers.Recognize: valid in some
// region, whatever the region) and by how it is written (enough digits,
// grouped as phone numbers are, a word such as "call" or "whatsapp" before
// it), unless what surrounds it says it is something else: a price, a
// date, a reference or an order number, a code.

// Bounds on one run: longer runs are cut, so that each candidate is short.
const (
	maxRunGroups = 24
	maxRunDigits = 32
	maxRunBytes  = 80
	maxSeparator = 3
)

// Digits a phone number has, with its national or international prefix.
const (
	minPhoneDigits   = 7  // a local number: "555-1234", "6744 1233"
	shapePhoneDigits = 9  // enough to be a phone number by its length alone
	maxNationalDigit = 15 // a national prefix and the longest national number
	maxIntlDigits    = 18 // an international prefix and the 15 digits of E.164
)

// sepKind is what joins a group to the one before it.
type sepKind uint8

const (
	sepNone    sepKind = iota
	sepSpace           // spaces
	sepDash            // a dash, perhaps with spaces
	sepDot             // a dot
	sepBracket         // a bracket: "(020) 7946"
	sepSlash           // a slash: two numbers, or two endings of one
	sepLine            // a line break
)

// group is one block of digits in a run: plain digits, or a word of digits
// and lookalike letters ("O8OO").
type group struct {
	start, end   int
	digits       int // real digits
	lookalikes   int
	sep          sepKind // before this group
	gluedLeft    bool    // a letter touches the first digit
	gluedRight   bool    // a letter touches the last digit
	vanityLetter bool    // a vanity word ("FLOWERS")
}

func (g group) size() int { return g.digits + g.lookalikes }

// run is a candidate number: groups joined by separators.
type run struct {
	start, end int
	groups     []group
}

// numberScanner finds phone numbers and short codes in a normalised view.
type numberScanner struct {
	s      string
	hint   string // region hint, for the E.164 form only
	budget *budget
	memo   *memo
	skip   []match // links, in order: numbers inside them are theirs
	out    []match
	groups [maxRunGroups + 1]group // scratch for the run being read
	// The digits of the groups being split, after a '+' when the run has
	// one, and where each group's digits start (the '+' belongs to the
	// first group).
	digits []byte
	offs   [maxRunGroups + 2]int
	plus   bool
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// numberStart marks the bytes a number may start with: digits and the
// letters that pass for them.
var numberStart = func() (t [256]bool) {
	for _, c := range "0123456789OolI" {
		t[c] = true
	}
	return t
}()

func isLookalike(c byte) bool { return c == 'O' || c == 'o' || c == 'l' || c == 'I' }

// letterBefore reports whether a letter (ASCII or not) ends just before i.
func letterBefore(s string, i int) bool {
	if i <= 0 {
		return false
	}
	c := s[i-1]
	if c < utf8.RuneSelf {
		return isLetter(c)
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r)
}

// letterAt reports whether a letter (ASCII or not) starts at i.
func letterAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	if c < utf8.RuneSelf {
		return isLetter(c)
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// scan finds the numbers in s, outside the links.
func (ns *numberScanner) scan() {
	s := ns.s
	skip := 0
	for i := 0; i < len(s); {
		for skip < len(ns.skip) && ns.skip[skip].end <= i {
			skip++
		}
		if skip < len(ns.skip) && ns.skip[skip].start <= i {
			i = ns.skip[skip].end
			continue
		}
		limit := len(s)
		if skip < len(ns.skip) {
			limit = ns.skip[skip].start
		}
		for i < limit && !numberStart[s[i]] {
			i++
		}
		if i == limit {
			continue
		}
		if !isDigit(s[i]) && letterBefore(s, i) {
			i++
			continue
		}
		g, ok := groupAt(s, i, limit)
		if !ok {
			i++
			continue
		}
		r := ns.runFrom(g, limit)
		ns.evaluate(&r)
		i = max(r.end, r.groups[len(r.groups)-1].end)
	}
}

// groupAt returns the group that starts at i, if one does: a word made of
// digits and lookalike letters with at least one digit of each, or else a
// run of digits.
func groupAt(s string, i, limit int) (group, bool) {
	c := s[i]
	if !isDigit(c) && !isLookalike(c) {
		return group{}, false
	}
	wordStart := !letterBefore(s, i) && (i == 0 || !isDigit(s[i-1]))
	if wordStart {
		j, digits, looks := i, 0, 0
		for j < limit && (isDigit(s[j]) || isLookalike(s[j])) {
			if isDigit(s[j]) {
				digits++
			} else {
				looks++
			}
			j++
		}
		if digits > 0 && looks > 0 && !letterAt(s, j) && (j >= len(s) || !isDigit(s[j])) {
			return group{start: i, end: j, digits: digits, lookalikes: looks}, true
		}
	}
	if !isDigit(c) {
		return group{}, false
	}
	j := i
	for j < limit && isDigit(s[j]) {
		j++
	}
	return group{start: i, end: j, digits: j - i,
		gluedLeft: letterBefore(s, i), gluedRight: letterAt(s, j)}, true
}

// separator reads the separator at pos: up to three spaces, dashes, dots,
// brackets and slashes, or one line break with spaces around it. A full
// stop before a space ends a sentence, and a comma a list item: neither
// joins groups.
func separator(s string, pos, limit int) (int, sepKind) {
	k := pos
	kind := sepSpace
	lines := 0
	for k < limit && k-pos < maxSeparator+1 {
		switch s[k] {
		case ' ', '\t':
		case '-':
			kind = max(kind, sepDash)
		case '.':
			if k+1 < limit && (s[k+1] == ' ' || s[k+1] == '\n' || s[k+1] == '\r') {
				return pos, sepNone
			}
			kind = max(kind, sepDot)
		case '(', ')':
			kind = max(kind, sepBracket)
		case '/':
			kind = max(kind, sepSlash)
		case '\r':
			if k+1 >= limit || s[k+1] != '\n' {
				return pos, sepNone
			}
			k++
			fallthrough
		case '\n':
			lines++
			kind = sepLine
		default:
			goto done
		}
		k++
	}
done:
	if k == pos || lines > 1 || k-pos > maxSeparator+lines {
		return pos, sepNone
	}
	return k, kind
}

// runFrom extends the group g over separators and further groups.
func (ns *numberScanner) runFrom(g group, limit int) run {
	s := ns.s
	groups := append(ns.groups[:0:len(ns.groups)], g)
	start := g.start
	// A leading "+" or "(" belongs to the number.
	for start > 0 && (s[start-1] == '+' || s[start-1] == '(') && g.start-start < 2 {
		start--
	}
	digits := g.size()
	pos := g.end
	full := false
	for !groups[len(groups)-1].gluedRight {
		if len(groups) == maxRunGroups {
			full = true
			break
		}
		k, kind := separator(s, pos, limit)
		if k == pos || k >= limit {
			break
		}
		ng, ok := groupAt(s, k, limit)
		if !ok {
			if vs, ve, ok := vanityTail(s, pos, k, limit); ok && digits >= 3 && digits <= 8 &&
				(s[pos] == '-' || tollFree(s, start, pos)) {
				groups = append(groups, group{start: vs, end: ve, vanityLetter: true, sep: kind})
				pos = ve
			}
			break
		}
		if ng.gluedLeft {
			break
		}
		if digits+ng.size() > maxRunDigits || ng.end-start > maxRunBytes {
			full = true
			break
		}
		ng.sep = kind
		groups = append(groups, ng)
		digits += ng.size()
		pos = ng.end
	}
	if full {
		// Cut the run after its last line break or slash, so that the
		// next run starts with a number rather than inside one.
		for k := len(groups) - 1; k > 0; k-- {
			if groups[k].sep == sepLine || groups[k].sep == sepSlash {
				groups = groups[:k]
				pos = groups[k-1].end
				break
			}
		}
	}
	return run{start: start, end: pos, groups: groups}
}

// vanityTail matches the letters of a vanity number after the separators
// s[pos:k]: upper-case words joined by '-', such as "FLOWERS" or
// "CALL-NOW", ten characters at most.
func vanityTail(s string, pos, k, limit int) (int, int, bool) {
	if k-pos != 1 || (s[pos] != '-' && s[pos] != ' ') {
		return 0, 0, false
	}
	j, letters, chars := k, 0, 0
	for j < limit {
		c := s[j]
		switch {
		case 'A' <= c && c <= 'Z':
			letters++
		case isDigit(c):
		case c == '-' && j > k && j+1 < limit && isAlnum(s[j+1]) && s[j-1] != '-':
			j++
			continue
		default:
			goto done
		}
		chars++
		j++
	}
done:
	if letters < 3 || chars > 10 || letterAt(s, j) || (j < len(s) && isDigit(s[j])) {
		return 0, 0, false
	}
	if strings.Trim(s[k:j], "X") == "" {
		return 0, 0, false // "07808 XXXXXX": a hidden number, not a word
	}
	return k, j, true
}

// insert adds m to ns.out[from:], keeping that tail in order.
func (ns *numberScanner) insert(m match, from int) {
	k := len(ns.out)
	for k > from && ns.out[k-1].start > m.start {
		k--
	}
	ns.out = append(ns.out, match{})
	copy(ns.out[k+1:], ns.out[k:])
	ns.out[k] = m
}

// tollFree reports whether s[a:b] ends in a toll-free code, the usual
// start of a vanity number written with spaces ("1 800 FLOWERS").
func tollFree(s string, a, b int) bool {
	var d [4]byte
	n := 0
	for i := b - 1; i >= a && n < len(d); i-- {
		if isDigit(s[i]) {
			d[n] = s[i]
			n++
		}
	}
	if n < 3 {
		return false
	}
	switch string([]byte{d[2], d[1], d[0]}) {
	case "800", "808", "888", "877", "866", "855", "844", "833", "300":
		return true
	}
	return false
}

var keypad = [26]byte{
	'2', '2', '2', '3', '3', '3', '4', '4', '4', '5', '5', '5', '6', '6', '6',
	'7', '7', '7', '7', '8', '8', '8', '9', '9', '9', '9',
}

// evaluate turns a run into phone numbers and short codes.
func (ns *numberScanner) evaluate(r *run) {
	if size := r.groups[0].size(); len(r.groups) == 1 && size < 5 {
		return // too short for a short code or a phone number
	}
	if ns.priceOrReference(r.start) {
		// "£1.50 08704050406": the price is not part of the number.
		n := 1
		if len(r.groups) > 1 && ns.s[r.groups[0].end] == '.' && r.groups[1].end-r.groups[1].start <= 2 {
			n = 2
		}
		if n >= len(r.groups) || r.groups[n].vanityLetter {
			return
		}
		r.groups = r.groups[n:]
		r.start = r.groups[0].start
	}
	if masked(ns.s, r) {
		return // "07808 XXXXXX": the reader's own number, hidden
	}
	digits, looks := 0, 0
	for _, g := range r.groups {
		looks += g.lookalikes
		if !g.vanityLetter {
			digits += g.digits
		}
	}
	if looks > 0 && looks >= digits {
		return // words, not a number
	}
	if isDate(ns.s, r.groups) {
		return
	}
	if digits+looks < minPhoneDigits && !r.groups[len(r.groups)-1].vanityLetter && !hasShortCode(ns.s, r.groups) {
		return // too short for a phone number, and no short code in it
	}
	found := len(ns.out)
	ctx := ns.context(r)
	gs := r.groups
	if gs[len(gs)-1].vanityLetter {
		// Leave the vanity letters out for a first try: "0800 123 4567 NOW".
		gs = gs[:len(gs)-1]
		if len(gs) > 0 && ns.split(r, gs, ctx) == 0 {
			ns.vanity(r, ctx)
		}
	} else {
		ns.split(r, gs, ctx)
	}
	ns.shortCodes(r, found, ctx)
}

// masked reports whether the run is a number with part of it hidden by
// placeholders: "07808 XXXXXX", "07xxxxxxxxx", "0776***1234".
func masked(s string, r *run) bool {
	first, last := r.groups[0], r.groups[len(r.groups)-1]
	hidden := func(c byte) bool { return c == 'x' || c == 'X' || c == '*' }
	// Glued: two placeholders or more.
	n := 0
	for k := last.end; k < len(s) && hidden(s[k]); k++ {
		n++
	}
	for k := first.start - 1; k >= 0 && hidden(s[k]); k-- {
		n++
	}
	if n >= 2 {
		return true
	}
	// After a space: a word of four placeholders or more.
	if last.end+1 < len(s) && s[last.end] == ' ' {
		k := last.end + 1
		for k < len(s) && hidden(s[k]) {
			k++
		}
		return k-last.end-1 >= 4 && !letterAt(s, k)
	}
	return false
}

// split finds the phone numbers among the groups gs of r and returns how
// many it found: the whole, or else each part between slashes and line
// breaks, or else the longest stretches of a part that read as numbers.
// A run that is a date, a version, an amount or a reference as a whole is
// not searched for numbers in its parts.
func (ns *numberScanner) split(r *run, gs []group, ctx context) int {
	n := len(ns.out)
	ns.plus = r.start < gs[0].start && ns.s[r.start] == '+'
	if ctx.counter && !ns.plus {
		return 0
	}
	if priced(ns.s, gs) {
		// "0871277810910p/min", "087187262701.50gbp": a number run into
		// its price.
		ns.gluedPrice(r, gs)
		return len(ns.out) - n
	}
	if isDate(ns.s, gs) || !ns.plus && dotted(ns.s, gs) {
		return 0
	}
	ns.readDigits(gs)
	if ns.candidate(r, gs, 0, len(gs), ctx, false) {
		return len(ns.out) - n
	}
	a := 0
	for i := 1; i <= len(gs); i++ {
		if i < len(gs) && gs[i].sep != sepSlash && gs[i].sep != sepLine {
			continue
		}
		if (a > 0 || i < len(gs)) && ns.candidate(r, gs, a, i, ctx, false) {
			a = i
			continue
		}
		ns.stretches(r, gs, a, i, ctx)
		a = i
	}
	return len(ns.out) - n
}

// readDigits fills ns.digits and ns.offs for the groups gs.
func (ns *numberScanner) readDigits(gs []group) {
	b := ns.digits[:0]
	if ns.plus {
		b = append(b, '+')
	}
	for k, g := range gs {
		if k > 0 {
			ns.offs[k] = len(b)
		}
		for i := g.start; i < g.end; i++ {
			switch c := ns.s[i]; {
			case isDigit(c):
				b = append(b, c)
			case g.vanityLetter && 'A' <= c && c <= 'Z':
				b = append(b, keypad[c-'A'])
			case c == 'O' || c == 'o':
				b = append(b, '0')
			case c == 'l' || c == 'I':
				b = append(b, '1')
			}
		}
	}
	ns.offs[0] = 0
	ns.offs[len(gs)] = len(b)
	ns.digits = b
}

// Tries per start of a stretch: valid numbers, longest first, then one by
// its shape. They bound the work of a run to a few tries a group.
const stretchTries = 2

// stretches reads the groups gs[a:b] from the left, taking at each step
// the longest stretch that is a valid phone number, or else the longest
// that is one by its shape. Digits spaced out one by one ("0 7 7 0 0 9 0
// 0 1 2 3") are not cut apart.
func (ns *numberScanner) stretches(r *run, gs []group, a, b int, ctx context) {
	for i := a; i < b; {
		// The ends a stretch from i may have: group boundaries that do not
		// cut spaced digits, within the length of a phone number.
		top := i + 1
		for top < b && ns.offs[top+1]-ns.offs[i] <= maxIntlDigits {
			top++
		}
		next := i + 1
		tries := 0
		for j := top; j > i && tries < stretchTries; j-- {
			if j < b && spacedAt(gs, j) {
				continue
			}
			if ns.offs[j]-ns.offs[i] < minPhoneDigits {
				break
			}
			tries++
			if ns.candidate(r, gs, i, j, ctx, true) {
				next = j
				break
			}
		}
		if next == i+1 && ns.candidate(r, gs, i, ns.shapeEnd(gs, i, b), ctx, false) {
			next = ns.shapeEnd(gs, i, b)
		}
		for next < b && spacedAt(gs, next) {
			next++
		}
		i = next
	}
}

// spacedAt reports whether groups j-1 and j are digits spaced out one by
// one: cutting between them would cut a number apart.
func spacedAt(gs []group, j int) bool {
	return gs[j].sep == sepSpace && gs[j].size() == 1 && gs[j-1].size() == 1
}

// shapeEnd returns the end of the longest stretch from i that a phone
// number may span by its shape: fifteen digits, or more for digits spaced
// out one by one, which are one number however many there are.
func (ns *numberScanner) shapeEnd(gs []group, i, b int) int {
	j := i + 1
	for j < b && (spacedAt(gs, j) || ns.offs[j+1]-ns.offs[i] <= maxNationalDigit) {
		j++
	}
	return j
}

// candidate decides whether the groups gs[i:j] of r are a phone number
// and, if they are, reports it. With valid set, only a number that some
// region accepts is taken.
func (ns *numberScanner) candidate(r *run, gs []group, i, j int, ctx context, valid bool) bool {
	ns.budget.work++
	s := ns.s
	plus := i == 0 && ns.plus
	lo := ns.offs[i]
	if i == 0 && plus {
		lo = 1
	}
	d := ns.digits[ns.offs[i]:ns.offs[j]]
	n := ns.offs[j] - lo
	sub := gs[i:j]
	if n < minPhoneDigits {
		return false
	}
	intl := plus || hasIDD(d)
	spaced := j-i >= 4 && spacedAt(gs, i+1) && spacedAt(gs, j-1)
	if n > maxNationalDigit && !intl && !spaced || n > maxIntlDigits && !spaced {
		return false
	}
	if isDate(s, sub) || !plus && dotted(s, sub) || placeholderDigits(d) {
		return false
	}
	var ev trick
	glued := sub[0].gluedLeft && !ctx.gluedCall || sub[len(sub)-1].gluedRight
	if sub[0].gluedLeft || sub[len(sub)-1].gluedRight {
		ev |= tGlued
	}
	for _, g := range sub {
		if g.lookalikes > 0 {
			ev |= tLookalike
		}
	}
	if spaced {
		ev |= tSpacedDigits
	}
	// How it is written.
	switch {
	case glued:
		// Run into words: only a number some region accepts.
	case n >= shapePhoneDigits, ctx.call, plus:
	case !grouped(sub):
		return false
	}
	start := sub[0].start
	if i == 0 {
		start = r.start
	}
	num, checked := ns.recognize(d)
	switch {
	case !checked:
		// Past the work limit: taken for its shape, unverified.
	case num.E164 != "":
	case glued || valid:
		return false
	case n < shapePhoneDigits && !ctx.call && !plus:
		return false // "1234 5678" with nothing around it, valid nowhere
	}
	m := match{kind: Phone, start: start, end: sub[len(sub)-1].end, ev: ev, number: num, unverified: !checked}
	m.normalized = num.E164
	if m.normalized == "" {
		m.normalized = string(d)
	}
	ns.out = append(ns.out, m)
	return true
}

// recognize asks numbers.Recognize about d while the text's budget lasts,
// or remembers what it said; checked is false when the budget is spent.
func (ns *numberScanner) recognize(d []byte) (n numbers.Number, checked bool) {
	if n, _, ok := ns.memo.get(d); ok {
		return n, true
	}
	if !ns.budget.number(1) {
		return numbers.Number{}, false
	}
	ds := string(d)
	n, ok := numbers.Recognize(ds, ns.hint)
	ns.memo.put(ds, n, ok)
	return n, true
}

// priced reports whether the groups end in a unit of price run into
// them: "10p/min", "1.50gbp", "150ppm".
func priced(s string, gs []group) bool {
	last := gs[len(gs)-1]
	if !last.gluedRight || len(gs) > 2 || len(gs) == 2 && (last.sep != sepDot || last.size() > 2) {
		return false
	}
	j := last.end
	for j < len(s) && isLetter(s[j]) {
		j++
	}
	return in(priceUnits, s[last.end:j])
}

var priceUnits = setOf("p", "ppm", "pm", "pmin", "pence", "gbp", "pw", "pmsg", "ppmsg", "min", "mins", "pmt", "perweek",
	"rs", "inr", "usd", "eur", "cents", "c")

// gluedPrice reads a number run into a price: the longest prefix of its
// first group that is a valid number and leaves a price that does not
// start with 0 ("08712778109|10p/min", "08718726270|1.50gbp").
func (ns *numberScanner) gluedPrice(r *run, gs []group) bool {
	g := gs[0]
	start := g.start
	if r.start < g.start && ns.s[r.start] == '+' {
		start = r.start
	}
	if g.lookalikes > 0 || g.digits < 10 || ns.s[start] != '0' && ns.s[start] != '+' {
		return false
	}
	for n := min(g.digits-1, 13); n >= 9; n-- {
		if ns.s[g.start+n] == '0' && !(len(gs) == 2 && n == g.digits-1) {
			continue // "0p/min" is no price
		}
		num, checked := ns.recognize([]byte(ns.s[start : g.start+n]))
		if !checked {
			// Past the work limit: the number and its price, unverified.
			ns.out = append(ns.out, match{kind: Phone, start: start, end: gs[len(gs)-1].end, ev: tGlued,
				normalized: ns.s[start:g.end], unverified: true})
			return true
		}
		if num.E164 != "" {
			ns.out = append(ns.out, match{kind: Phone, start: start, end: g.start + n, ev: tGlued,
				normalized: num.E164, number: num})
			return true
		}
	}
	return false
}

// hasIDD reports whether d starts with an international prefix: "00" or
// "011" and a digit that may start a calling code.
func hasIDD(d []byte) bool {
	return len(d) > 3 && d[0] == '0' && (d[1] == '0' && d[2] != '0' || d[1] == '1' && d[2] == '1' && d[3] != '0')
}

// grouped reports whether a number of seven or eight digits is written as
// local phone numbers are: "555-1234", "6744 1233", "(02) 1234 5678":
// groups of two digits or more joined by spaces, dashes or brackets, the
// last of four. Groups of three after the first are thousands
// ("25 000 000").
func grouped(gs []group) bool {
	if len(gs) < 2 || len(gs) > 4 || gs[len(gs)-1].size() != 4 {
		return false
	}
	for _, g := range gs {
		if g.sep != sepNone && g.sep != sepSpace && g.sep != sepDash && g.sep != sepBracket || g.size() < 2 {
			return false
		}
	}
	return true
}

// dotted reports groups joined by dots that are not written as phone
// numbers are: a decimal number ("3.14159265358"), a version, an address
// or an amount ("1.2.3", "10.0.19041.1234", "192.168.100.200",
// "1.234.567"). Phone numbers with dots have three groups or more, and
// a long first group ("0871750.77.11") or all but the first of three
// digits or more ("415.555.2671").
func dotted(s string, gs []group) bool {
	for _, g := range gs[1:] {
		if g.sep != sepDot {
			return false
		}
	}
	switch first := gs[0]; {
	case len(gs) < 2:
		return false
	case len(gs) == 2:
		// A decimal number, unless a long first group starts with the 0
		// of a national prefix: "08714342399.2stop".
		return first.size() <= 3 || s[first.start] != '0'
	case first.size() > 3:
		return false
	}
	short, long := false, false
	for i, g := range gs {
		short = short || i > 0 && g.size() < 3
		long = long || g.size() > 3
	}
	return len(gs) == 2 || short || !long
}

// placeholderDigits reports digits that count up or down or repeat one
// digit ("123456789", "0000000000"): an example or a test, not a number.
func placeholderDigits(d []byte) bool {
	if len(d) > 0 && d[0] == '+' {
		d = d[1:]
	}
	up, down, same := true, true, true
	for i := 1; i < len(d); i++ {
		diff := int(d[i]) - int(d[i-1])
		up = up && (diff == 1 || diff == -9)
		down = down && (diff == -1 || diff == 9)
		same = same && diff == 0
	}
	return up || down || same
}

// vanity tries the run with its letters as keypad digits, dropping up to four
// surplus letters ("1-800-FLOWERS", "1-800-MY-APPLE"). Past the work
// limit, the run is taken for its shape, unverified.
func (ns *numberScanner) vanity(r *run, ctx context) {
	if ctx.counter {
		return
	}
	ns.plus = r.start < r.groups[0].start && ns.s[r.start] == '+'
	ns.readDigits(r.groups)
	cand := string(ns.digits)
	for drop := 0; drop <= 4 && len(cand)-drop >= minPhoneDigits; drop++ {
		num, checked := ns.recognize([]byte(cand[:len(cand)-drop]))
		if !checked {
			ns.out = append(ns.out, match{kind: Phone, start: r.start, end: r.end, ev: tVanity,
				normalized: cand, unverified: true})
			return
		}
		if num.E164 != "" {
			ns.out = append(ns.out, match{kind: Phone, start: r.start, end: r.end, ev: tVanity,
				normalized: num.E164, number: num})
			return
		}
	}
}

// priceOrReference reports whether the run at i follows a currency sign or a
// '#': "£1000000", "#123456789".
func (ns *numberScanner) priceOrReference(i int) bool {
	k := i
	if k > 0 && ns.s[k-1] == ' ' {
		k--
	}
	if k == 0 {
		return false
	}
	if ns.s[k-1] == '#' {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(ns.s[:k])
	return unicode.Is(unicode.Sc, r)
}

// isDate reports whether the groups read as a date, a timestamp or a span
// of years: a year (19xx or 20xx) with groups of one or two digits, three
// groups of one or two digits joined by '/' or '.', or years only
// ("1990-2020").
func isDate(s string, gs []group) bool {
	years, small := 0, 0
	for _, g := range gs {
		switch n := g.end - g.start; {
		case g.lookalikes > 0 || g.vanityLetter:
			return false
		case n <= 2:
			small++
		case n == 4 && (s[g.start:g.start+2] == "19" || s[g.start:g.start+2] == "20"):
			years++
		}
	}
	switch {
	case len(gs) >= 2 && years == len(gs):
		return true
	case len(gs) < 3:
		return false
	case years == 1 && small == len(gs)-1:
		return true
	case small == len(gs) && len(gs) == 3:
		return gs[1].sep == sepSlash || gs[1].sep == sepDot
	}
	return false
}

// shortCodeGroup reports whether g may be a short code: five or six digits,
// not glued to letters, not starting with 0.
func shortCodeGroup(s string, g group) bool {
	n := g.end - g.start
	return g.lookalikes == 0 && !g.vanityLetter && !g.gluedLeft && !g.gluedRight && n >= 5 && n <= 6 && s[g.start] != '0'
}

func hasShortCode(s string, gs []group) bool {
	for _, g := range gs {
		if shortCodeGroup(s, g) {
			return true
		}
	}
	return false
}

// shortCodes reports the groups of five or six digits that a call to action
// points at: "txt WIN to 87121", "send STOP to 85069". Groups inside the
// phone numbers found from ns.out[found:] on are theirs.
func (ns *numberScanner) shortCodes(r *run, found int, ctx context) {
	if !ctx.sms || ctx.counter {
		return
	}
	phones := ns.out[found:]
	for _, g := range r.groups {
		if !shortCodeGroup(ns.s, g) {
			continue
		}
		covered := false
		for _, p := range phones {
			covered = covered || p.start < g.end && g.start < p.end
		}
		if covered || ns.priceOrReference(g.start) {
			continue
		}
		ns.insert(match{kind: ShortCode, start: g.start, end: g.end, normalized: ns.s[g.start:g.end]}, found)
	}
}

// smsVerbs are the words that make a short code a call to action.
var smsVerbs = setOf("txt", "text", "texting", "send", "sms", "reply", "call",
	"ring", "dial", "msg", "message", "shortcode", "tx", "textin", "sending")

// wordsBefore calls f with the words before i, nearest first, within the
// sentence, at most n words and 64 bytes, until f returns false. Numbers
// and punctuation between the words are skipped, so that "call 0800 123
// 4567 or 0800 765 4321" reaches "call" from the second number.
//
// Links in skip (in order) are passed over: their words are not the
// sentence's, and Strip replaces them.
func wordsBefore(s string, i, n int, skip []match, f func(string) bool) {
	words := 0
	j := i
	k := sort.Search(len(skip), func(k int) bool { return skip[k].end >= i }) - 1
	for j > 0 && words < n && i-j < 64 {
		for k >= 0 && skip[k].start >= j {
			k--
		}
		if k >= 0 && skip[k].end >= j {
			j = skip[k].start
			k--
			continue
		}
		c := s[j-1]
		if c == '.' || c == '!' || c == '?' || c == '\n' {
			if j-2 < 0 || !isDigit(s[j-2]) {
				return
			}
		}
		if !isLetter(c) {
			j--
			continue
		}
		e := j
		for j > 0 && isLetter(s[j-1]) {
			j--
		}
		if !f(s[j:e]) {
			return
		}
		words++
	}
}

// context is what the words around a run say about it.
type context struct {
	call      bool // a call to action or a word for a phone precedes it
	counter   bool // a word for a reference, an order, a code or an amount does
	sms       bool // an SMS verb does, within eight words: "txt WIN to 87121"
	gluedCall bool // the call to action is glued to it: "Call09061701461"
}

// context reads the words before the run, nearest first. Filler words
// ("no.", "number", "is", "your") are passed over; the first other word
// decides when it names a reference, an order, a code or an amount
// ("order no. 12345678"); a call to action or a word for a phone anywhere
// in the window makes it a call ("call our customer services on ...").
func (ns *numberScanner) context(r *run) context {
	var ctx context
	first := true
	noun := false
	decided := false
	ns.budget.work += min(r.start, 64)
	wordsBefore(ns.s, r.start, 8, ns.skip, func(w string) bool {
		k := kindOfWord(w)
		ctx.sms = ctx.sms || k&wordSMS != 0
		if decided {
			return !ctx.sms
		}
		switch {
		case k&wordNoun != 0:
			noun = true
			return true
		case k&wordFiller != 0:
			return true
		case k&wordCall != 0:
			ctx.call, decided = true, true
		case first && k&wordCounter != 0:
			ctx.counter, decided = true, true
		default:
			first = false
		}
		return !decided || !ctx.sms
	})
	ctx.call = ctx.call || noun && !ctx.counter
	if g := r.groups[0]; g.gluedLeft {
		j := g.start
		for j > 0 && isLetter(ns.s[j-1]) && g.start-j <= maxKeyword {
			j--
		}
		ctx.gluedCall = kindOfWord(ns.s[j:g.start])&wordCall != 0
	}
	return ctx
}

// What a word says about the number after it; see keywords.
const (
	wordCall    = 1 << iota // callWords
	wordCounter             // counterWords
	wordNoun                // numberNouns
	wordFiller              // fillerWords
	wordSMS                 // smsVerbs
)

// keywords holds the words of callWords, counterWords, numberNouns,
// fillerWords and smsVerbs with what each says, so that a word is looked
// up once.
var keywords = func() map[string]uint8 {
	m := map[string]uint8{}
	for kind, set := range map[uint8]map[string]struct{}{
		wordCall: callWords, wordCounter: counterWords, wordNoun: numberNouns, wordFiller: fillerWords, wordSMS: smsVerbs,
	} {
		for w := range set {
			m[w] |= kind
		}
	}
	return m
}()

// maxKeyword is the length of the longest keyword.
const maxKeyword = 16

// kindOfWord returns what the ASCII word w says about a number after it.
func kindOfWord(w string) uint8 {
	if len(w) > maxKeyword {
		return 0
	}
	var buf [maxKeyword]byte
	b := buf[:len(w)]
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return keywords[string(b)]
}

// pointingWord returns the first word of text that points at a number
// after it ("call", "txt", "no"), or "".
func pointingWord(text string) string {
	for i := 0; i < len(text); {
		if !isLetter(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isLetter(text[j]) {
			j++
		}
		if w := text[i:j]; kindOfWord(w)&(wordCall|wordNoun|wordSMS) != 0 {
			return w
		}
		i = j
	}
	return ""
}

// numberNouns name a number without saying which kind: a phone number
// unless a word before them says otherwise ("order no."). "Number" itself
// is too common to say so, and is the default replacement of a phone
// number ("[number removed]"), which must not make a call to action of the
// number after it.
var numberNouns = setOf("no", "num", "nos", "nr", "nbr")

// fillerWords come between a word and the number it is about.
var fillerWords = setOf("is", "was", "are", "of", "the", "your", "ur", "my", "our", "a", "an", "for", "at", "on",
	"to", "me", "us", "it", "this", "that", "with", "and", "or", "pls", "please", "plz", "now", "new", "s")

// callWords ask the reader to call, text or write to a number, or name a
// phone, in the languages of SMS phishing seen so far: English, with
// Hinglish, Malay and Indonesian, Spanish, French, German, Portuguese and
// Italian forms of the same verbs.
var callWords = setOf(
	// English
	"call", "calls", "calling", "ring", "phone", "fone", "tel", "telephone", "mobile", "mob", "cell", "cellphone",
	"contact", "whatsapp", "wa", "dial", "text", "txt", "sms", "msg", "message", "reply", "helpline",
	"hotline", "freephone", "freefone", "landline", "hp", "ph", "callback",
	// Hinglish, Malay, Indonesian
	"sampark", "karein", "kare", "karo", "hubungi", "telp", "nombor", "nomor",
	// Spanish, Portuguese, Italian
	"llama", "llame", "llamar", "llamanos", "ligue", "ligar", "liga", "chiama", "chiamare", "contatto", "contato",
	"telefono", "telefone", "numero",
	// French, German
	"appelez", "appeler", "appelle", "contactez", "composez", "anrufen", "ruf", "rufen", "kontakt", "telefon",
	"nummer",
)

// counterWords say a number is something else: a reference, an order, an
// account, a code, an amount, a measure.
var counterWords = setOf(
	"order", "orders", "ref", "reference", "invoice", "inv", "tracking", "track", "awb", "consignment", "shipment",
	"parcel", "account", "acct", "ac", "transaction", "txn", "trx", "booking", "pnr", "ticket", "case", "otp",
	"code", "pin", "password", "passcode", "serial", "imei", "id", "policy", "member", "membership",
	"receipt", "confirmation", "voucher", "coupon", "box", "flight", "train", "seat", "room", "vehicle", "reg",
	"registration", "roll", "batch", "sku", "item", "model", "version", "ver", "build", "balance", "bal", "amount",
	"amt", "total", "rs", "inr", "usd", "eur", "gbp", "aed", "sgd", "rm", "price", "cost",
	"points", "pts", "score", "rank", "year", "page", "chapter", "isbn", "zip", "postcode", "pincode",
	// payment references
	"utr", "rrn", "upi", "imps", "neft", "rtgs", "ifsc", "iban", "swift", "crn", "cif", "folio", "gstin", "aadhaar",
	"pan", "kyc", "card", "wallet", "loan", "emi", "meeting",
)
