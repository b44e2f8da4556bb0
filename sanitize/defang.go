package sanitize

import (
	"math"
	"strings"
)

// refang undoes the ways phishers write a link so that it does not look like
// one: hxxp://, example[.]com, example(dot)com, "example dot com",
// "www . example . com", [:], [at]. It works on a normalised view and returns
// a view of it (so spans map back through both), with each rewrite marked by
// its evasion. Nothing is allocated when there is nothing to rewrite.
//
// The view's map is held in w, which it must not outlive.
func refang(s string, w *builder) view {
	if len(s) > math.MaxInt32 {
		return view{s: s}
	}
	started := false
	last := 0 // s[last:i] is still to be copied into w
	start := func(i int) {
		if !started {
			w.reset(len(s))
			started = true
		}
		w.plain(s, last, i)
	}
	for i := 0; i < len(s); {
		for i < len(s) && !refangTrigger[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		n, rep, ev := 0, "", trick(0)
		switch s[i] {
		case ' ':
			if i+1 == len(s) || !maybeSpacedDefang(s[i+1:]) {
				break
			}
			n, rep = bracketed(s, i)
			ev = tDefanged
			if n == 0 {
				n, rep, ev = spacedDot(s, i)
			}
		case '[', '(', '{':
			n, rep = bracketed(s, i)
			ev = tDefanged
		case '.':
			if i+1 < len(s) && s[i+1] != ' ' {
				break
			}
			if n = dotThenSpace(s, i); n > 0 {
				rep, ev = ".", tSpacedDot
			}
		case 'h', 'H':
			if i+1 < len(s) && s[i+1] != 'x' && s[i+1] != 'X' && s[i+1] != '*' {
				break
			}
			if hxxp(s, i) {
				start(i)
				w.mark(tDefanged)
				w.emit(s[i], i, i+1)
				w.emit('t', i+1, i+2)
				w.emit('t', i+2, i+3)
				i += 3
				last = i
				continue
			}
		}
		if n == 0 {
			i++
			continue
		}
		start(i)
		w.mark(ev)
		for k := 0; k < len(rep); k++ {
			w.emit(rep[k], i, i+n)
		}
		i += n
		last = i
	}
	if !started {
		return view{s: s}
	}
	start(len(s))
	return w.view()
}

// refangTrigger marks the bytes at which a rewrite can start.
var refangTrigger = func() (t [256]bool) {
	for _, c := range " [({.hH" {
		t[c] = true
	}
	return t
}()

// maybeSpacedDefang is a quick test of the text after a space for what
// bracketed and spacedDot look for.
func maybeSpacedDefang(rest string) bool {
	c := rest[0]
	if c == ' ' && len(rest) > 1 {
		c = rest[1]
	}
	switch c {
	case '.', '[', '(', '{', 'd', 'D':
		return true
	}
	return false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// labelByte reports whether c can be part of a host label: an ASCII letter
// or digit, or part of a non-ASCII character.
func labelByte(c byte) bool { return isAlnum(c) || c >= 0x80 }

// hasFoldPrefix reports whether s[i:] starts with the lower-case ASCII word.
func hasFoldPrefix(s string, i int, word string) bool {
	if len(s)-i < len(word) {
		return false
	}
	for k := 0; k < len(word); k++ {
		c := s[i+k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[k] {
			return false
		}
	}
	return true
}

// skipSpaces skips at most max spaces from i.
func skipSpaces(s string, i, max int) int {
	for k := 0; k < max && i < len(s) && s[i] == ' '; k++ {
		i++
	}
	return i
}

// bracketed matches a defanged separator at i: an optional space, an opening
// bracket, ".", "dot", ":", "://", "/", "@" or "at", the matching closing
// bracket and an optional space, between the parts of a link. It returns the
// length matched and what it stands for.
func bracketed(s string, i int) (int, string) {
	if i == 0 {
		return 0, ""
	}
	prev := s[i-1]
	j := i
	if s[j] == ' ' {
		j++
	}
	if j >= len(s) {
		return 0, ""
	}
	var closing byte
	switch s[j] {
	case '[':
		closing = ']'
	case '(':
		closing = ')'
	case '{':
		closing = '}'
	default:
		return 0, ""
	}
	j = skipSpaces(s, j+1, 1)
	var rep string
	switch {
	case hasFoldPrefix(s, j, "dot"):
		rep, j = ".", j+3
	case hasFoldPrefix(s, j, "at"):
		rep, j = "@", j+2
	case hasFoldPrefix(s, j, "://"):
		rep, j = "://", j+3
	case j < len(s) && (s[j] == '.' || s[j] == ':' || s[j] == '/' || s[j] == '@'):
		rep, j = s[j:j+1], j+1
	default:
		return 0, ""
	}
	j = skipSpaces(s, j, 1)
	if j >= len(s) || s[j] != closing {
		return 0, ""
	}
	j++
	end := skipSpaces(s, j, 1)
	if end >= len(s) {
		return 0, ""
	}
	next := s[end]
	switch rep {
	case ".", "@":
		if !labelByte(prev) || !labelByte(next) {
			return 0, ""
		}
	case ":", "://":
		if !isLetter(prev) || !(next == '/' || labelByte(next)) {
			return 0, ""
		}
	case "/":
		if !labelByte(prev) || !labelByte(next) {
			return 0, ""
		}
	}
	return end - i, rep
}

// spacedDot matches at a space: "example dot com" (a spelled dot) and
// "example . com" (a spaced dot), and "www .example" after www or an
// unfinished scheme host.
func spacedDot(s string, i int) (int, string, trick) {
	if i == 0 || !labelByte(s[i-1]) {
		return 0, "", 0
	}
	j := skipSpaces(s, i, 2)
	var ev trick
	switch {
	case hasFoldPrefix(s, j, "dot") && j+3 < len(s) && s[j+3] == ' ':
		ev, j = tSpelledDot, j+3
	case j < len(s) && s[j] == '.':
		ev, j = tSpacedDot, j+1
	default:
		return 0, "", 0
	}
	after := skipSpaces(s, j, 2)
	if after >= len(s) || !labelByte(s[after]) {
		return 0, "", 0
	}
	if ev == tSpelledDot && after == j {
		return 0, "", 0 // "dotcom", "dots"
	}
	if ev == tSpacedDot && after == j && !hostContinues(s, i) {
		return 0, "", 0 // "end .Next" is a typo, not a link
	}
	return after - i, ".", ev
}

// dotThenSpace matches "www. example", "http://wap. example.com" and
// "example.com/index. php?id=1": a dot followed by spaces where the host
// before it cannot be complete, or inside a path when what follows goes on
// as a path.
func dotThenSpace(s string, i int) int {
	if i == 0 || !labelByte(s[i-1]) || i+1 >= len(s) || s[i+1] != ' ' {
		return 0
	}
	after := skipSpaces(s, i+1, 2)
	if after >= len(s) || !labelByte(s[after]) || !hostContinues(s, i) && !pathContinues(s, i, after) {
		return 0
	}
	return after - i
}

// pathContinues reports whether the dot at i ends a word in the path of a
// link ("example.com/index.") and the word at after goes on with a query,
// fragment or further path ("php?id=1").
func pathContinues(s string, i, after int) bool {
	k := after
	for k < len(s) && (isAlnum(s[k]) || s[k] == '_' || s[k] == '-') {
		k++
	}
	if k == after || k == len(s) || strings.IndexByte("?#/&=", s[k]) < 0 {
		return false
	}
	// Back to the start of the word, at most 256 bytes: a slash after a
	// dotted host.
	slash, dot := false, false
	for j := i - 1; j >= 0 && i-j < 256 && !isTokenBreak(s[j]); j-- {
		switch s[j] {
		case '/':
			slash = true
		case '.':
			dot = dot || slash
		}
	}
	return dot
}

// hostContinues reports whether the label ending at i is "www" or the first
// label after a scheme's "://": a host that cannot end there.
func hostContinues(s string, i int) bool {
	k := i
	for k > 0 && (labelByte(s[k-1]) || s[k-1] == '-') {
		k--
	}
	if i-k == 3 && hasFoldPrefix(s, k, "www") {
		return true
	}
	return k >= 3 && s[k-3:k] == "://"
}

// hxxp matches "hxxp", "hXXp" and "h**p" (and the https forms) followed by
// ":" or "[": the defanged scheme. Only the two middle letters change.
func hxxp(s string, i int) bool {
	if i > 0 && isAlnum(s[i-1]) || len(s)-i < 5 {
		return false
	}
	a, b := s[i+1], s[i+2]
	if !(a == 'x' || a == 'X' || a == '*') || !(b == 'x' || b == 'X' || b == '*') {
		return false
	}
	if s[i+3] != 'p' && s[i+3] != 'P' {
		return false
	}
	j := i + 4
	if j < len(s) && (s[j] == 's' || s[j] == 'S') {
		j++
	}
	return j < len(s) && (s[j] == ':' || s[j] == '[' || s[j] == '(')
}
