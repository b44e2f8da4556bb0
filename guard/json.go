package guard

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a JSON body: a 64 KiB body of
// brackets must not cost a deep recursion.
const maxJSONDepth = 256

// maxFields is the most fields one body read extracts.
const maxFields = 8

// jsonFields extracts the string values at paths from the JSON document
// doc, which must be a single object. Each path is a list of object keys
// from the top. It validates the whole document, and refuses what a
// decoder downstream could read differently from the guard:
//
//   - a key on a path twice in one object, compared as encoding/json
//     matches keys to struct fields (case-insensitively, with Unicode
//     simple folding), since decoders keep the last duplicate;
//   - a value at the end of a path that is not a string (null counts as
//     absent).
//
// Strings are decoded as encoding/json decodes them (escapes, surrogate
// pairs, invalid UTF-8 replaced by U+FFFD). A value that needs no decoding
// is a string over doc's bytes, which the caller must never write again.
func jsonFields(doc []byte, paths [][]string, vals []string) (found uint64, err error) {
	s := jsonScanner{b: doc, paths: paths, vals: vals}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return 0, badRequest("the JSON body must be an object")
	}
	var all uint64 = 1<<len(paths) - 1
	if err := s.value(all, 0); err != nil {
		return 0, err
	}
	s.ws()
	if s.i != len(s.b) {
		return 0, badRequest("malformed JSON body: data after the object")
	}
	return s.found, nil
}

type jsonScanner struct {
	b     []byte
	i     int
	depth int
	paths [][]string
	vals  []string
	found uint64
	// seen has bit level of entry p set once a key at that level matched
	// path p: a second match is a duplicate.
	seen [maxFields]uint64
}

var errMalformedJSON = badRequest("malformed JSON body")

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value. active has a bit set for every path whose first
// level keys led here.
func (s *jsonScanner) value(active uint64, level int) error {
	s.ws()
	if s.i >= len(s.b) {
		return errMalformedJSON
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(active, level)
	case c == '[':
		return s.array()
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errMalformedJSON
}

func (s *jsonScanner) enter() error {
	if s.depth++; s.depth > maxJSONDepth {
		return badRequest("JSON body nested too deeply")
	}
	return nil
}

func (s *jsonScanner) object(active uint64, level int) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return errMalformedJSON
		}
		start := s.i + 1
		raw, plain, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errMalformedJSON
		}
		s.i++
		var match, ends uint64
		if active != 0 {
			if match, ends, err = s.match(active, level, s.b[start:start+raw], plain); err != nil {
				return err
			}
		}
		if ends != 0 {
			if err := s.leaf(ends); err != nil {
				return err
			}
		} else if err := s.value(match, level+1); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errMalformedJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return errMalformedJSON
		}
	}
}

// match returns the active paths whose key at level is key (raw, as
// written between the quotes; plain when it is ASCII without escapes), and
// among them those that end there. A second key matching a path at the
// same level is a duplicate.
func (s *jsonScanner) match(active uint64, level int, key []byte, plain bool) (match, ends uint64, err error) {
	var decoded []byte
	for p := 0; p < len(s.paths); p++ {
		if active&(1<<p) == 0 || len(s.paths[p]) <= level {
			continue
		}
		want := s.paths[p][level]
		var eq bool
		if plain {
			eq = asciiFoldEqual(key, want)
		} else {
			if decoded == nil {
				decoded = appendUnquoted(make([]byte, 0, len(key)), key)
			}
			eq = foldEqual(decoded, want)
		}
		if !eq {
			continue
		}
		if s.seen[p]&(1<<level) != 0 {
			return 0, 0, badRequest("the " + fieldName(s.paths[p][:level+1]) + " field appears twice")
		}
		s.seen[p] |= 1 << level
		if len(s.paths[p]) == level+1 {
			ends |= 1 << p
		} else {
			match |= 1 << p
		}
	}
	return match, ends, nil
}

// leaf scans the value at the end of the paths in ends.
func (s *jsonScanner) leaf(ends uint64) error {
	s.ws()
	if s.i >= len(s.b) {
		return errMalformedJSON
	}
	switch s.b[s.i] {
	case '"':
		start := s.i + 1
		raw, plain, err := s.str()
		if err != nil {
			return err
		}
		v := s.b[start : start+raw]
		var str string
		if plain {
			str = bytesString(v) // doc is never written again
		} else {
			str = string(appendUnquoted(make([]byte, 0, len(v)), v))
		}
		for p := 0; p < len(s.paths); p++ {
			if ends&(1<<p) != 0 {
				s.vals[p] = str
				s.found |= 1 << p
			}
		}
		return nil
	case 'n':
		return s.literal("null")
	}
	for p := 0; p < len(s.paths); p++ {
		if ends&(1<<p) != 0 {
			return badRequest("the " + fieldName(s.paths[p]) + " field must be a string")
		}
	}
	return nil
}

func (s *jsonScanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if err := s.value(0, 0); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errMalformedJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return errMalformedJSON
		}
	}
}

// str scans a string from its opening quote. It returns the length of its
// raw contents and whether they are plain: ASCII without escapes, equal to
// their decoded value.
func (s *jsonScanner) str() (n int, plain bool, err error) {
	s.i++ // "
	start := s.i
	plain = true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			n = s.i - start
			s.i++
			return n, plain, nil
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.b) {
				return 0, false, errMalformedJSON
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+5 > len(s.b) || !isHex4(s.b[s.i+1:s.i+5]) {
					return 0, false, errMalformedJSON
				}
				s.i += 5
			default:
				return 0, false, errMalformedJSON
			}
		case c < 0x20:
			return 0, false, errMalformedJSON
		case c >= utf8.RuneSelf:
			plain = false
			s.i++
		default:
			s.i++
		}
	}
	return 0, false, errMalformedJSON
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *jsonScanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return errMalformedJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return errMalformedJSON
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return errMalformedJSON
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return nil
}

func (s *jsonScanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return errMalformedJSON
	}
	s.i += len(lit)
	return nil
}

// appendUnquoted appends the decoded form of a JSON string's raw contents,
// which str has validated, as encoding/json decodes it.
func appendUnquoted(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := rune(hex4(raw[i+2 : i+6]))
				i += 6
				if utf16.IsSurrogate(r) {
					// A pair when a low surrogate follows, else U+FFFD.
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if r2 := utf16.DecodeRune(r, rune(hex4(raw[i+2:i+6]))); r2 != unicode.ReplacementChar {
							dst = utf8.AppendRune(dst, r2)
							i += 6
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // " \ /
				dst = append(dst, raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, unicode.ReplacementChar)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

func hex4(b []byte) uint16 {
	var v uint16
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		v = v<<4 | uint16(c)
	}
	return v
}

// asciiFoldEqual reports whether the ASCII key equals want ignoring ASCII
// case. A want with non-ASCII letters takes the general path.
func asciiFoldEqual(key []byte, want string) bool {
	if len(key) != len(want) {
		// Different lengths may still fold equal when want has runes
		// such as the Kelvin sign; configured names are checked to be
		// ASCII, so they cannot.
		return false
	}
	for i := 0; i < len(key); i++ {
		a, b := key[i], want[i]
		if a == b {
			continue
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// foldEqual reports whether key and want are equal under Unicode simple
// folding, as encoding/json matches a key to a struct field.
func foldEqual(key []byte, want string) bool {
	i, j := 0, 0
	for i < len(key) && j < len(want) {
		r1, n1 := utf8.DecodeRune(key[i:])
		r2, n2 := utf8.DecodeRuneInString(want[j:])
		if foldRune(r1) != foldRune(r2) {
			return false
		}
		i, j = i+n1, j+n2
	}
	return i == len(key) && j == len(want)
}

// foldRune returns the smallest rune of r's fold set (as encoding/json's
// foldName does).
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// fieldName names a path for error details: its keys joined by dots.
func fieldName(path []string) string {
	n := path[0]
	for _, k := range path[1:] {
		n += "." + k
	}
	return n
}
