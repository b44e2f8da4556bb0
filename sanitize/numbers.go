package sanitize

import (
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers/v2"
)

// Bounds on one run of digits and separators: longer runs are cut, so each
// call into libphonenumber sees a short string.
const (
	maxRunGroups = 12
	maxRunDigits = 24
	maxRunBytes  = 64
	maxSeparator = 3
	findTries    = 16
)

// group is one block of digits in a run: plain digits, or a word of digits
// and lookalike letters ("O8OO").
type group struct {
	start, end   int
	digits       int // real digits
	lookalikes   int
	gluedLeft    bool // a letter touches the first digit
	gluedRight   bool // a letter touches the last digit
	vanityLetter bool // a vanity word ("FLOWERS")
}

// run is a candidate number: groups joined by separators.
type run struct {
	start, end int
	groups     []group
}

// numberScanner finds phone numbers and short codes in a normalised view.
type numberScanner struct {
	s      string
	region string
	budget *budget
	skip   []match // links, in order: numbers inside them are theirs
	out    []match
	groups [maxRunGroups + 1]group // scratch for the run being read
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

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

func isSeparator(c byte) bool {
	switch c {
	case ' ', '-', '.', '(', ')', '/':
		return true
	}
	return false
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
		c := s[i]
		if !isDigit(c) && (!isLookalike(c) || letterBefore(s, i)) {
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
		i = r.end
		if last := r.groups[len(r.groups)-1]; last.end > i {
			i = last.end
		}
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

// runFrom extends the group g over separators and further groups.
func (ns *numberScanner) runFrom(g group, limit int) run {
	s := ns.s
	groups := append(ns.groups[:0:len(ns.groups)], g)
	start := g.start
	// A leading "+" or "(" belongs to the number.
	for start > 0 && (s[start-1] == '+' || s[start-1] == '(') && g.start-start < 2 {
		start--
	}
	digits := g.digits
	pos := g.end
	for !groups[len(groups)-1].gluedRight && len(groups) < maxRunGroups {
		k := pos
		for k < limit && isSeparator(s[k]) && k-pos < maxSeparator {
			k++
		}
		if k == pos || k >= limit {
			break
		}
		ng, ok := groupAt(s, k, limit)
		if !ok {
			if vs, ve, ok := vanityTail(s, pos, k, limit); ok && digits >= 3 && digits <= 8 &&
				(s[pos] == '-' || tollFree(s, start, pos)) {
				groups = append(groups, group{start: vs, end: ve, vanityLetter: true})
				pos = ve
			}
			break
		}
		if ng.gluedLeft || digits+ng.digits > maxRunDigits || ng.end-start > maxRunBytes {
			break
		}
		groups = append(groups, ng)
		digits += ng.digits
		pos = ng.end
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
	var d []byte
	for i := b - 1; i >= a && len(d) < 4; i-- {
		if isDigit(s[i]) {
			d = append(d, s[i])
		}
	}
	if len(d) < 3 {
		return false
	}
	code := string([]byte{d[2], d[1], d[0]})
	switch code {
	case "800", "808", "888", "877", "866", "855", "844", "833", "300":
		return true
	}
	return false
}

var keypad = [26]byte{
	'2', '2', '2', '3', '3', '3', '4', '4', '4', '5', '5', '5', '6', '6', '6',
	'7', '7', '7', '7', '8', '8', '8', '9', '9', '9', '9',
}

// candidate returns the run's text with lookalike and vanity letters turned
// into digits, for libphonenumber.
func (ns *numberScanner) candidate(r *run, end int) string {
	b := []byte(ns.s[r.start:end])
	for _, g := range r.groups {
		if g.start >= end {
			break
		}
		switch {
		case g.lookalikes > 0:
			for k := g.start; k < g.end; k++ {
				switch ns.s[k] {
				case 'O', 'o':
					b[k-r.start] = '0'
				case 'l', 'I':
					b[k-r.start] = '1'
				}
			}
		case g.vanityLetter:
			for k := g.start; k < g.end && k < end; k++ {
				if c := ns.s[k]; 'A' <= c && c <= 'Z' {
					b[k-r.start] = keypad[c-'A']
				}
			}
		}
	}
	return string(b)
}

// evaluate turns a run into phone numbers and short codes.
func (ns *numberScanner) evaluate(r *run) {
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
	if isDate(ns.s, r) {
		return
	}
	// Leave the vanity letters out for a first try: "0800 123 4567 NOW".
	end := r.end
	vanity := r.groups[len(r.groups)-1].vanityLetter
	if vanity {
		end = r.groups[len(r.groups)-2].end
	}
	n := len(ns.out)
	found := false
	if digits+looks >= 7 {
		found = ns.phone(r, end, looks > 0)
	}
	if !found && vanity {
		ns.vanity(r)
	}
	ns.shortCodes(r, n)
}

// phone finds the numbers in the run up to end and reports whether it did.
func (ns *numberScanner) phone(r *run, end int, lookalike bool) bool {
	cand := ns.candidate(r, end)
	var ev Evasion
	if lookalike {
		ev |= Lookalike
	}
	if r.groups[0].gluedLeft || r.groups[len(r.groups)-1].gluedRight {
		ev |= Glued
	}
	if !ns.budget.number(1) {
		ns.out = append(ns.out, match{kind: Phone, start: r.start, end: end, ev: ev, unverified: true})
		return true
	}
	if num, ok := ns.validate(cand); ok {
		ns.out = append(ns.out, match{kind: Phone, start: r.start, end: end, ev: ev,
			normalized: phonenumbers.Format(num, phonenumbers.E164)})
		return true
	}
	found := false
	if hasInnerNumber(r) && ns.budget.number(findTries) {
		for m := range phonenumbers.FindNumbersWithLeniency(cand, ns.region, phonenumbers.VALID, findTries) {
			ns.out = append(ns.out, match{kind: Phone, start: r.start + m.Start(), end: r.start + m.End(), ev: ev,
				normalized: phonenumbers.Format(m.Number(), phonenumbers.E164)})
			found = true
		}
	}
	if found {
		return true
	}
	// A number run into a price or a code: "0871277810910p/min",
	// "087187262701.50gbp". Try the longest prefix that is a valid number.
	g := r.groups[0]
	if g.lookalikes == 0 && g.digits >= 12 && (ns.s[g.start] == '0' || r.start < g.start && ns.s[r.start] == '+') {
		for n := min(g.digits-1, 13); n >= 9; n-- {
			if !ns.budget.number(1) {
				break
			}
			if num, ok := ns.validate(ns.s[r.start : g.start+n]); ok {
				ns.out = append(ns.out, match{kind: Phone, start: r.start, end: g.start + n, ev: ev | Glued,
					normalized: phonenumbers.Format(num, phonenumbers.E164)})
				return true
			}
		}
	}
	return false
}

// hasInnerNumber reports whether a part of the run, a few of its groups,
// has the seven digits or more of a phone number: "0207 946 0018 / 07700
// 900123" has, "87121 18" has not.
func hasInnerNumber(r *run) bool {
	n := len(r.groups)
	if r.groups[n-1].vanityLetter {
		n--
	}
	first, last := 0, 0
	for i := 1; i < n; i++ {
		last += r.groups[i].digits + r.groups[i].lookalikes
	}
	if last >= 7 {
		return true
	}
	for i := 0; i < n-1; i++ {
		first += r.groups[i].digits + r.groups[i].lookalikes
	}
	return first >= 7
}

// vanity tries the run with its letters as keypad digits, dropping up to four
// surplus letters ("1-800-FLOWERS", "1-800-MY-APPLE").
func (ns *numberScanner) vanity(r *run) bool {
	cand := ns.candidate(r, r.end)
	for drop := 0; drop <= 4 && len(cand)-drop >= 7; drop++ {
		c := cand[:len(cand)-drop]
		if !isDigit(c[len(c)-1]) || !ns.budget.number(1) {
			continue
		}
		if num, ok := ns.validate(c); ok {
			ns.out = append(ns.out, match{kind: Phone, start: r.start, end: r.end, ev: Vanity,
				normalized: phonenumbers.Format(num, phonenumbers.E164)})
			return true
		}
	}
	return false
}

// validate parses a candidate made only of digits, separators and '+' (never
// letters, which libphonenumber would read as keypad digits) and checks it as
// phonenumbers.FindNumbers does at VALID leniency.
func (ns *numberScanner) validate(cand string) (*phonenumbers.PhoneNumber, bool) {
	num, err := phonenumbers.ParseAndKeepRawInput(cand, ns.region)
	if err != nil || !phonenumbers.VALID.Verify(num, cand) {
		return nil, false
	}
	return num, true
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

// isDate reports whether the run reads as a date or a timestamp: a year
// (19xx or 20xx) with groups of one or two digits, or three groups of one or
// two digits joined by '/' or '.'.
func isDate(s string, r *run) bool {
	gs := r.groups
	if len(gs) < 3 {
		return false
	}
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
	if years == 1 && small == len(gs)-1 {
		return true
	}
	if small == len(gs) && len(gs) == 3 {
		sep := s[gs[0].end]
		return sep == '/' || sep == '.'
	}
	return false
}

// shortCodes reports the groups of five or six digits that a call to action
// points at: "txt WIN to 87121", "send STOP to 85069". Groups inside the
// phone numbers found from ns.out[found:] on are theirs.
func (ns *numberScanner) shortCodes(r *run, found int) {
	phones := ns.out[found:]
	for _, g := range r.groups {
		if g.lookalikes > 0 || g.vanityLetter || g.gluedLeft || g.gluedRight {
			continue
		}
		covered := false
		for _, p := range phones {
			covered = covered || p.start < g.end && g.start < p.end
		}
		if covered {
			continue
		}
		if n := g.end - g.start; n < 5 || n > 6 || ns.s[g.start] == '0' {
			continue
		}
		if ns.priceOrReference(g.start) || !smsVerbBefore(ns.s, g.start) {
			continue
		}
		ns.insert(match{kind: ShortCode, start: g.start, end: g.end, normalized: ns.s[g.start:g.end]}, found)
	}
}

// smsVerbs are the words that make a short code a call to action.
var smsVerbs = setOf("txt", "text", "texting", "send", "sms", "reply", "call",
	"ring", "dial", "msg", "message", "shortcode", "tx", "textin", "sending")

// smsVerbBefore looks back from i, within the sentence and at most eight words,
// for a word in smsVerbs.
func smsVerbBefore(s string, i int) bool {
	words := 0
	j := i
	for j > 0 && words < 8 && i-j < 64 {
		c := s[j-1]
		if c == '.' || c == '!' || c == '?' || c == '\n' {
			if j-2 < 0 || !isDigit(s[j-2]) {
				return false
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
		if in(smsVerbs, s[j:e]) {
			return true
		}
		words++
	}
	return false
}
