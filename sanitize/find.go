package sanitize

import (
	"slices"
	"strings"
	"sync"

	"github.com/antifraud-go/antifraud/numbers"
)

// Work limits per text. Links are matched in linear time and need none.
// Each phone candidate asks numbers.Recognize which region it belongs to
// (a microsecond or so); a text may ask numberTries plus one per
// bytesPerTry bytes. Past that, candidates are judged by their shape alone
// and reported as Unverified. An SMS that is not made to reach the limit
// asks a handful.
const (
	numberTries = 3
	bytesPerTry = 64
)

// budget counts what a text may still ask of numbers.Recognize, and the
// work done so far in units of a byte scanned (a test checks it grows
// linearly with the text).
type budget struct {
	numbers int
	work    int
}

// recognizeWork is what a call of numbers.Recognize costs in work units.
const recognizeWork = 16

func (b *budget) number(cost int) bool {
	if b.numbers < cost {
		return false
	}
	b.numbers -= cost
	b.work += cost * recognizeWork
	return true
}

// match is a finding in the coordinates of the view it was found in.
type match struct {
	kind       Kind
	start, end int
	normalized string
	number     numbers.Number
	ev         trick
	unverified bool
}

// memo remembers the last answers of numbers.Recognize.
type memo struct {
	entries [8]struct {
		digits string
		n      numbers.Number
		ok     bool
	}
	next int
}

func (m *memo) get(d []byte) (numbers.Number, bool, bool) {
	for i := range m.entries {
		if e := &m.entries[i]; e.digits != "" && e.digits == string(d) {
			return e.n, e.ok, true
		}
	}
	return numbers.Number{}, false, false
}

func (m *memo) put(d string, n numbers.Number, ok bool) {
	e := &m.entries[m.next]
	e.digits, e.n, e.ok = d, n, ok
	m.next = (m.next + 1) % len(m.entries)
}

// maxPooledView is the largest text whose views' memory is kept for the
// next find.
const maxPooledView = 16 << 10

// scanState is all a find needs, kept in a pool between calls.
type scanState struct {
	v1, v2 view
	b1, b2 builder // the memory of v1's and v2's maps
	budget budget
	memo   memo
	links  linkScanner
	nums   numberScanner
}

var scanStates = sync.Pool{New: func() any { return new(scanState) }}

// release returns st to the pool, keeping the capacity of its scratch
// slices and nothing that points into a text.
func (st *scanState) release() {
	lo, no, sp, dg := st.links.out, st.nums.out, st.links.spans, st.nums.digits
	um := st.links.um
	b1, b2 := st.b1, st.b2
	clear(lo)
	clear(no)
	*st = scanState{}
	st.links.out, st.nums.out, st.links.spans, st.nums.digits = lo[:0], no[:0], sp[:0], dg[:0]
	// Keep the maps' memory, unless a long text made it large.
	if cap(b1.b) <= maxPooledView {
		st.b1 = b1
	}
	if cap(b2.b) <= maxPooledView {
		st.b2 = b2
	}
	st.links.um.runs[0].labels = um.runs[0].labels[:0]
	st.links.um.runs[1].labels = um.runs[1].labels[:0]
	scanStates.Put(st)
}

// gluedDomains adds to links the domains run into the finding after them:
// "x.com9107911", "evil.comhttp://...". Once Strip removes that finding,
// the domain stands alone as a link; found now, it needs no further round
// of Strip. It reports whether it added any.
func gluedDomains(s string, links *[]match, numbers []match) bool {
	ls := *links
	var added []match
	// Walk the findings in order; a domain glued to one starts after the
	// one before.
	lastEnd := 0
	check := func(m match) {
		p := m.start
		defer func() { lastEnd = max(lastEnd, m.end) }()
		if p == 0 || p <= lastEnd || !isLetter(s[p-1]) {
			return
		}
		k := p
		for k > lastEnd && p-k < 253 && (isAlnum(s[k-1]) || s[k-1] == '.' || s[k-1] == '-') {
			k--
		}
		host := strings.TrimLeft(s[k:p], ".-")
		dot := strings.LastIndexByte(host, '.')
		if dot <= 0 || !isLabel(host[strings.LastIndexByte(host[:dot], '.')+1:dot]) || tldKind(host[dot+1:])&tldCommon == 0 {
			return
		}
		added = append(added, match{kind: Link, start: p - len(host), end: p, ev: tGlued, normalized: hostURL("http://", host)})
	}
	i, j := 0, 0
	for i < len(ls) || j < len(numbers) {
		if j == len(numbers) || i < len(ls) && ls[i].start <= numbers[j].start {
			check(ls[i])
			i++
		} else {
			check(numbers[j])
			j++
		}
	}
	*links = append(ls, added...)
	return len(added) > 0
}

// find is the scanner behind Find and Check; hint is the region hint or
// "".
func find(text, hint string) []Finding {
	st := newScan(len(text))
	defer st.release()
	return st.find(text, hint)
}

// findWork is find, and also returns the work it did.
func findWork(text, hint string) ([]Finding, int) {
	st := newScan(len(text))
	defer st.release()
	fs := st.find(text, hint)
	return fs, st.budget.work
}

// newScan returns a scanState from the pool with the work budget of a
// text of n bytes, for one find or for the rounds of one Strip.
func newScan(n int) *scanState {
	st := scanStates.Get().(*scanState)
	st.budget = budget{numbers: numberTries + n/bytesPerTry}
	return st
}

// find scans text. Calls on one scanState share its budget and its memory
// of numbers.Recognize's answers: Strip's later rounds see the same
// numbers again.
func (st *scanState) find(text, hint string) []Finding {
	st.links.out, st.nums.out = st.links.out[:0], st.nums.out[:0]
	st.v1 = normalize(text, &st.b1)
	st.v2 = refang(st.v1.s, &st.b2)
	ls := &st.links
	ls.v1, ls.v2, ls.budget = &st.v1, &st.v2, &st.budget
	ls.scan()
	links := ls.out
	for i := range links {
		links[i].start, links[i].end = st.v2.span(links[i].start, links[i].end)
	}
	ns := &st.nums
	ns.s, ns.hint, ns.budget, ns.skip, ns.memo = st.v1.s, hint, &st.budget, links, &st.memo
	ns.scan()
	if len(links) == 0 && len(ns.out) == 0 {
		return nil
	}
	if gluedDomains(st.v1.s, &links, ns.out) {
		slices.SortFunc(links, func(a, b match) int { return a.start - b.start })
		ls.out = links
	}
	v1 := &st.v1
	out := make([]Finding, 0, len(links)+len(ns.out))
	last := 0
	add := func(m match) {
		if m.start < last || m.start >= m.end {
			return
		}
		start, end := v1.span(m.start, m.end)
		out = append(out, Finding{
			Kind: m.kind, Start: start, End: end, Text: text[start:end],
			Normalized: m.normalized, Number: m.number,
			Evasions:   (m.ev | v1.evasions(m.start, m.end)).evasion(),
			Unverified: m.unverified,
		})
		last = m.end
	}
	i, j := 0, 0
	for i < len(links) || j < len(ns.out) {
		if j == len(ns.out) || i < len(links) && links[i].start <= ns.out[j].start {
			add(links[i])
			i++
		} else {
			add(ns.out[j])
			j++
		}
	}
	return out
}
