package numbers

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers/v2"
)

// maxInputLen is the longest input, in bytes, that Parse looks at. Longer
// input is rejected with ReasonTooLong before any other work. It matches
// libphonenumber's own bound.
const maxInputLen = 250

// maxE164Digits is the most digits an E.164 number has, calling code
// included. libphonenumber accepts national numbers of up to 17 digits.
const maxE164Digits = 15

// ParseOption changes how [Parse] reads its input.
type ParseOption func(*parseOptions)

type parseOptions struct {
	vanity bool
}

// AllowVanity lets [Parse] accept vanity numbers such as "1-800-FLOWERS",
// whose letters are read as keypad digits. Without it, letters other than
// extension labels are rejected with [ReasonCharacter]: libphonenumber turns any
// letters into digits, so "call 0800 123 4567 now" would otherwise become a
// different, longer number, and "+1 650 253 OOOO" (letter O) a real one.
func AllowVanity() ParseOption { return allowVanity }

func allowVanity(o *parseOptions) { o.vanity = true }

// Parse reads a phone number the way people type it: with spaces, dashes,
// dots, slashes or brackets; with "+", or an international prefix such as
// "00" or "011" from defaultRegion; in any Unicode decimal digits; with an
// extension ("ext. 12", "x12", ";ext=12", ",,12"), which is kept apart in
// [Number.Extension]; or as a "tel:" URI.
//
// defaultRegion is the upper-case ISO 3166-1 alpha-2 code used for numbers
// written in national format, such as "US" for "(415) 555-2671". It may be ""
// when every input starts with "+".
//
// Parse rejects, with a [*ParseError] that wraps [ErrInvalid] and says why:
// empty input ([ReasonNotANumber]); input longer than 250 bytes (checked
// first, [ReasonTooLong]); invalid UTF-8, control, bidi and other invisible
// formatting characters (zero-width space, word joiner and soft hyphen
// excepted, as libphonenumber allows them), letters unless they are an
// extension label or [AllowVanity] is given, and symbols
// ([ReasonCharacter]); an unknown calling code or a national number without
// a default region ([ReasonCountryCode]); and numbers whose length is
// impossible for their calling code ([ReasonTooShort], [ReasonTooLong]). A
// number with a possible length that matches no known range is returned:
// its [Number.Type] is [UnknownType] and a [Policy] applies its stance on
// unknown ranges.
//
// Parse does not compute the number type; [Number.Type] does so on first use.
// A panic in the underlying parser is turned into [ReasonNotANumber].
func Parse(s, defaultRegion string, opts ...ParseOption) (Number, error) {
	if len(opts) == 0 {
		return parse(s, defaultRegion, parseOptions{}, true)
	}
	o := new(parseOptions)
	for _, opt := range opts {
		opt(o)
	}
	return parse(s, defaultRegion, *o, true)
}

// parse is Parse. With fast false it uses only libphonenumber's functions,
// as the tests' reference.
func parse(s, defaultRegion string, o parseOptions, fast bool) (Number, error) {
	if len(s) > maxInputLen {
		return Number{}, &ParseError{Reason: ReasonTooLong, Offset: -1, Detail: "more than " + strconv.Itoa(maxInputLen) + " bytes"}
	}
	s, err := screen(s, o)
	if err != nil {
		return Number{}, err
	}
	l := new(lazyNumber)
	var (
		nsn string
		ok  bool
		buf digitBuf
	)
	if fast {
		nsn, ok = fastParse(s, defaultRegion, l, &buf)
	}
	if !ok {
		if err := libParse(s, defaultRegion, &l.pn); err != nil {
			return Number{}, err
		}
	}
	return fill(l, nsn, fast)
}

// libParse runs libphonenumber's parser, turning its errors and panics into
// ParseErrors.
func libParse(s, defaultRegion string, pn *phonenumbers.PhoneNumber) (err error) {
	defer func() {
		if recover() != nil {
			err = parserPanic()
		}
	}()
	switch e := phonenumbers.ParseToNumber(s, defaultRegion, pn); e {
	case nil:
		return nil
	case phonenumbers.ErrInvalidCountryCode:
		d := "unknown country calling code"
		if defaultRegion == "" {
			d = `no "+" or international prefix, and no default region`
		} else if !phonenumbers.GetSupportedRegions()[defaultRegion] {
			d = "unknown calling code, or unknown default region " + strconv.Quote(defaultRegion)
		}
		return &ParseError{Reason: ReasonCountryCode, Offset: -1, Detail: d}
	case phonenumbers.ErrTooShortNSN, phonenumbers.ErrTooShortAfterIDD:
		return &ParseError{Reason: ReasonTooShort, Offset: -1}
	case phonenumbers.ErrNumTooLong:
		return &ParseError{Reason: ReasonTooLong, Offset: -1, Detail: "too many digits"}
	default:
		return &ParseError{Reason: ReasonNotANumber, Offset: -1}
	}
}

// fill fills a Number from a parsed libphonenumber value. It checks that the
// length is possible, finds the region and formats E.164; the type is left
// for later. nsn is the national significant number when the caller knows
// it (fill does not keep it), or "". With fast false it uses only libphonenumber's functions.
func fill(l *lazyNumber, nsn string, fast bool) (n Number, err error) {
	defer func() {
		if recover() != nil {
			n, err = Number{}, parserPanic()
		}
	}()
	pn := &l.pn
	if nsn == "" {
		nsn = phonenumbers.GetNationalSignificantNumber(pn)
	}
	var (
		possible phonenumbers.ValidationResult
		region   string
		info     *ccInfo
	)
	if fast {
		info = callingCode(int(pn.GetCountryCode()))
	}
	if info != nil && len(nsn) < len(info.possible) {
		// The same answers as below, from the compiled patterns.
		possible = info.possible[len(nsn)]
		m, mask := info.region(nsn)
		if m != nil {
			region = m.region
			if possible != phonenumbers.IS_POSSIBLE && m.numberType(mask, len(nsn)) != UnknownType {
				possible = phonenumbers.IS_POSSIBLE
			}
		}
		l.fast, l.rm, l.mask, l.nsnLen = true, m, mask, uint8(len(nsn))
	} else {
		possible = phonenumbers.IsPossibleNumberWithReason(pn)
		if possible != phonenumbers.IS_POSSIBLE && phonenumbers.IsValidNumber(pn) {
			// The length check uses the main region of a shared calling
			// code (US for +1); a number valid in another region of it,
			// such as Canada's seven-digit 310 numbers, is possible after
			// all.
			possible = phonenumbers.IS_POSSIBLE
		}
		region = phonenumbers.GetRegionCodeForNumber(pn)
	}
	switch possible {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.TOO_SHORT:
		return Number{}, &ParseError{Reason: ReasonTooShort, Offset: -1}
	case phonenumbers.TOO_LONG:
		return Number{}, &ParseError{Reason: ReasonTooLong, Offset: -1, Detail: "too many digits for the calling code"}
	case phonenumbers.INVALID_COUNTRY_CODE:
		return Number{}, &ParseError{Reason: ReasonCountryCode, Offset: -1, Detail: "unknown country calling code"}
	case phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return Number{}, &ParseError{Reason: ReasonTooShort, Offset: -1, Detail: "local number without its area code"}
	default:
		// A length between two that the calling code has.
		return Number{}, &ParseError{Reason: ReasonTooShort, Offset: -1, Detail: "no number of this calling code has this length"}
	}
	cc := int(pn.GetCountryCode())
	var buf [24]byte
	b := append(buf[:0], '+')
	b = strconv.AppendInt(b, int64(cc), 10)
	ccEnd := len(b)
	b = append(b, nsn...)
	if len(b)-1 > maxE164Digits {
		return Number{}, &ParseError{Reason: ReasonTooLong, Offset: -1, Detail: "more than 15 digits, the E.164 maximum"}
	}
	e164 := string(b)
	return Number{
		E164:            e164,
		CallingCode:     cc,
		Region:          region,
		NationalNumber:  e164[ccEnd:],
		Extension:       pn.GetExtension(),
		NonGeographic:   region == "001",
		NANPOutsideUSCA: cc == 1 && region != "US" && region != "CA",
		lazy:            l,
	}, nil
}

// screen checks every character of s before libphonenumber sees it, and
// returns s trimmed of surrounding white space, with unusual space
// characters turned into plain spaces.
func screen(s string, o parseOptions) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &ParseError{Reason: ReasonNotANumber, Offset: -1, Detail: "empty"}
	}
	var (
		digits  int
		inExt   bool // after an extension label: only digits and separators
		rewrite bool // unusual spaces to replace
	)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= '0' && c <= '9':
				digits++
				i++
				continue
			case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' ||
				c == '[' || c == ']' || c == '~' || c == ',' || c == '#':
				i++
				continue
			case c == '+':
				i++
				continue
			case c == ';':
				i += 1 + rfc3966Param(s[i+1:])
				continue
			case c == ':':
				return "", charError(i, rune(c))
			case c < 0x20 || c == 0x7f:
				return "", charError(i, rune(c))
			case isASCIILetter(c):
				// handled with the other letters below
			default:
				return "", charError(i, rune(c))
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return "", &ParseError{Reason: ReasonCharacter, Offset: i, Detail: "not valid UTF-8"}
		case unicode.IsLetter(r):
			end := wordEnd(s, i)
			word := s[i:end]
			switch {
			case i == 0 && end < len(s) && s[end] == ':' && strings.EqualFold(word, "tel"):
				end++ // "tel:" URI scheme
			case digits > 0 && !inExt && isExtLabel(word):
				inExt = true
				if end < len(s) && (s[end] == ':' || s[end] == '.') {
					end++
				}
			case o.vanity && !inExt && isASCIIWord(word):
			default:
				d := `letters are allowed only in extension labels ("ext", "x") and, with AllowVanity, vanity numbers`
				return "", &ParseError{Reason: ReasonCharacter, Offset: i, Detail: d}
			}
			i = end
			continue
		case unicode.IsDigit(r):
			digits++
		case r == '\uFF0B' || isLibPunct(r):
		case isInvisibleSeparator(r):
		case unicode.Is(unicode.Zs, r):
			rewrite = true
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return "", charError(i, r)
		default:
			return "", charError(i, r)
		}
		i += size
	}
	if rewrite {
		s = strings.Map(func(r rune) rune {
			if r != '\u00A0' && r != '\u3000' && unicode.Is(unicode.Zs, r) {
				return ' '
			}
			return r
		}, s)
	}
	return s, nil
}

// charError reports the character r at offset: "character U+0021 '!'", or
// "control or invisible formatting character U+202E".
func charError(offset int, r rune) *ParseError {
	d := fmt.Sprintf("character U+%04X %q", r, r)
	if !unicode.IsPrint(r) {
		d = fmt.Sprintf("control or invisible formatting character U+%04X", r)
	}
	return &ParseError{Reason: ReasonCharacter, Offset: offset, Detail: d}
}

func parserPanic() *ParseError {
	return &ParseError{Reason: ReasonNotANumber, Offset: -1, Detail: "the phone number parser failed"}
}

// rfc3966Param returns how many bytes after a ';' belong to a parameter
// name that libphonenumber understands ("ext=", "isub=", "phone-context=").
// A bare ';' (the phone keypad's wait) is fine on its own.
func rfc3966Param(rest string) int {
	for _, p := range [...]string{"ext=", "isub=", "phone-context="} {
		if len(rest) >= len(p) && strings.EqualFold(rest[:len(p)], p) {
			return len(p)
		}
	}
	return 0
}

// wordEnd returns the end of the run of letters (and combining marks) that
// starts at i.
func wordEnd(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			break
		}
		i += size
	}
	return i
}

// isExtLabel reports whether word is one of libphonenumber's extension
// labels, in any case, full-width letters included.
func isExtLabel(word string) bool {
	w := strings.Map(func(r rune) rune {
		if r >= '\uFF21' && r <= '\uFF5A' { // full-width Latin letters
			return r - 0xFEE0
		}
		return unicode.ToLower(r)
	}, word)
	switch w {
	case "ext", "xt", "extn", "xtn", "extension", "extensión", "extensio\u0301n",
		"x", "int", "доб", "anexo":
		return true
	}
	return false
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isASCIIWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isASCIILetter(w[i]) {
			return false
		}
	}
	return true
}

// isLibPunct reports whether r is one of the non-ASCII punctuation marks
// libphonenumber accepts inside a number: dashes, the minus sign, full-width
// brackets, slash, full stop and number sign, and tildes.
func isLibPunct(r rune) bool {
	switch {
	case r >= '\u2010' && r <= '\u2015', r >= '\uFF0D' && r <= '\uFF0F':
		return true
	}
	switch r {
	case '\u2212', '\u30FC', '\uFF08', '\uFF09', '\uFF3B', '\uFF3D', '\u2053', '\u223C', '\uFF5E', '\uFF03':
		return true
	}
	return false
}

// isInvisibleSeparator reports the white space and invisible characters that
// libphonenumber treats as punctuation: no-break space, ideographic space,
// soft hyphen, zero-width space and word joiner.
func isInvisibleSeparator(r rune) bool {
	switch r {
	case '\u00A0', '\u3000', '\u00AD', '\u200B', '\u2060':
		return true
	}
	return false
}
