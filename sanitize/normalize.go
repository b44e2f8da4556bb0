package sanitize

import (
	"math"
	"sort"
	"unicode"
	"unicode/utf8"
)

// view is a normalised copy of a text with a map back to the text's bytes.
// Scanning a view instead of the text lets one set of ASCII rules see through
// fullwidth forms, other scripts' digits and invisible characters, while
// every match can still be reported at its place in the original.
type view struct {
	s string
	// start[i] and end[i] are the source span of the character that produced
	// s[i]. Both are nil when s is the source itself.
	start, end []int32
	// marks are the places where normalisation changed something, in order.
	marks []mark
}

// mark records an evasion at byte pos of a view: the byte produced by a
// fullwidth character or a foreign digit, or, for invisible characters, the byte that
// followed the deleted characters.
type mark struct {
	pos int
	ev  trick
}

// span maps the view's bytes [a, b) to the source's bytes.
func (v *view) span(a, b int) (int, int) {
	if v.start == nil || a >= b {
		return a, b
	}
	return int(v.start[a]), int(v.end[b-1])
}

// evasions returns the evasions marked within [a, b). Invisible characters
// count only between the first and the last byte, not at the edges.
func (v *view) evasions(a, b int) trick {
	i := sort.Search(len(v.marks), func(i int) bool { return v.marks[i].pos >= a })
	var ev trick
	for ; i < len(v.marks) && v.marks[i].pos < b; i++ {
		m := v.marks[i]
		if m.ev == tInvisible && m.pos == a {
			continue
		}
		ev |= m.ev
	}
	return ev
}

// builder accumulates a view.
type builder struct {
	b          []byte
	start, end []int32
	marks      []mark
}

// reset empties w for a view of about size bytes, keeping its memory.
func (w *builder) reset(size int) {
	w.b, w.start, w.end, w.marks = w.b[:0], w.start[:0], w.end[:0], w.marks[:0]
	if cap(w.b) < size {
		w.b = make([]byte, 0, size)
		w.start = make([]int32, 0, size)
		w.end = make([]int32, 0, size)
	}
}

func (w *builder) emit(c byte, from, to int) {
	w.b = append(w.b, c)
	w.start = append(w.start, int32(from))
	w.end = append(w.end, int32(to))
}

func (w *builder) copy(src string, from, to int) {
	for i := from; i < to; i++ {
		w.emit(src[i], from, to)
	}
}

// plain appends src[from:to], bytes that map to themselves.
func (w *builder) plain(src string, from, to int) {
	w.b = append(w.b, src[from:to]...)
	for i := from; i < to; i++ {
		w.start = append(w.start, int32(i))
		w.end = append(w.end, int32(i+1))
	}
}

func (w *builder) mark(ev trick) {
	if n := len(w.marks); n > 0 && w.marks[n-1].pos == len(w.b) && w.marks[n-1].ev == ev {
		return
	}
	w.marks = append(w.marks, mark{len(w.b), ev})
}

func (w *builder) view() view {
	return view{s: string(w.b), start: w.start, end: w.end, marks: w.marks}
}

// normalize maps fullwidth ASCII to ASCII, dot-like characters to '.', other
// scripts' decimal digits to ASCII digits, Unicode spaces to ' ' and dashes
// to '-', deletes invisible characters, and turns each byte of invalid UTF-8
// into a NUL, which no rule treats as part of a match. An ASCII text is its
// own view.
//
// A text of 2 GiB or more, which no message is, is its own view: the map
// holds 32-bit offsets.
//
// The view's map is held in w, which it must not outlive.
func normalize(text string, w *builder) view {
	i := firstChange(text)
	if i == len(text) || len(text) > math.MaxInt32 {
		return view{s: text}
	}
	w.reset(len(text))
	w.plain(text, 0, i)
	for i < len(text) {
		if text[i] < utf8.RuneSelf {
			j := i + 1
			for j < len(text) && text[j] < utf8.RuneSelf {
				j++
			}
			w.plain(text, i, j)
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		j := i + n
		if r == utf8.RuneError && n == 1 {
			w.emit(0, i, j)
			i = j
			continue
		}
		switch classify(r) {
		case invisible:
			w.mark(tInvisible)
		case fullwidth:
			w.mark(tFullwidth)
			w.emit(byte(r-0xFEE0), i, j)
		case dotLike:
			w.mark(tFullwidth)
			w.emit('.', i, j)
		case space:
			w.emit(' ', i, j)
		case dash:
			w.emit('-', i, j)
		case digit:
			d, _ := digitValue(r)
			w.mark(tUnicodeDigits)
			w.emit('0'+d, i, j)
		default:
			w.copy(text, i, j)
		}
		i = j
	}
	return w.view()
}

// firstChange returns the offset of the first character that normalize
// would change, or len(text). Most messages, even with a '£' or an 'ü' in
// them, need no change and are scanned in place.
func firstChange(text string) int {
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if n == 1 || classify(r) != keep {
			return i
		}
		i += n
	}
	return len(text)
}

// What normalize does with a non-ASCII character.
const (
	keep      = iota // copied as it is
	invisible        // deleted
	fullwidth        // fullwidth ASCII, to ASCII
	dotLike          // ideographic and other full stops, to '.'
	space            // to ' '
	dash             // to '-'
	digit            // to an ASCII digit
)

func classify(r rune) int {
	switch {
	case isInvisible(r):
		return invisible
	case r >= 0xFF01 && r <= 0xFF5E:
		return fullwidth
	case r == 0x3002 || r == 0xFF61 || r == 0xFE52 || r == 0x2024: // ideographic, halfwidth ideographic, small and one-dot-leader full stops
		return dotLike
	case unicode.IsSpace(r):
		return space
	case r >= 0x2010 && r <= 0x2015 || r == 0x2212 || r == 0xFE63:
		return dash
	case unicode.IsDigit(r):
		return digit
	}
	return keep
}

// isInvisible reports whether r is drawn as nothing: format characters (zero
// width space and joiners, soft hyphen, bidi controls, BOM, tags), variation
// selectors and the blank fillers that render empty.
func isInvisible(r rune) bool {
	switch {
	case r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0,
		r >= 0x180B && r <= 0x180F,
		r >= 0xFE00 && r <= 0xFE0F,
		r >= 0xE0100 && r <= 0xE01EF:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// digitValue returns the value of a decimal digit from any script. Unicode
// keeps each script's digits 0-9 in a row, and the Nd table's ranges start
// at a zero.
func digitValue(r rune) (byte, bool) {
	t := unicode.Nd
	if r <= 0xFFFF {
		rs := t.R16
		k := sort.Search(len(rs), func(k int) bool { return rune(rs[k].Hi) >= r })
		if k < len(rs) && rune(rs[k].Lo) <= r && rs[k].Stride == 1 {
			return byte((r - rune(rs[k].Lo)) % 10), true
		}
		return 0, false
	}
	rs := t.R32
	k := sort.Search(len(rs), func(k int) bool { return rune(rs[k].Hi) >= r })
	if k < len(rs) && rune(rs[k].Lo) <= r && rs[k].Stride == 1 {
		return byte((r - rune(rs[k].Lo)) % 10), true
	}
	return 0, false
}
