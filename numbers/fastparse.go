package numbers

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// fastParse parses the plain forms of phone numbers without libphonenumber's
// regular expressions, with the same result as phonenumbers.ParseToNumber:
//
//   - "+" and then only ASCII digits and the separators " -.()/";
//   - with a supported default region, only ASCII digits and those
//     separators, in national format or after a plain international
//     prefix such as "00" or "011".
//
// It returns ok == false, having set nothing, for anything else and for
// every case where libphonenumber's parser does more than read digits: a
// calling code it has to search for, an international or national prefix
// that could apply, a national number starting with the calling code, or a
// length it rejects. On success it fills l.pn and returns the national
// significant number.
//
// Why the plain forms parse this way in parseHelper: the input starts with
// "+" or a digit, so extractPossibleNumber only drops separators at the
// ends; with three or more digits and no other characters the input is a
// viable number; no extension pattern matches (each needs a label, a
// comma, ";", "#" or "~"); and normalizing keeps the digits.
//
// The digits are kept in buf, and nsn is a view of buf: it must not be
// kept after buf is gone.
func fastParse(s, defaultRegion string, l *lazyNumber, buf *digitBuf) (nsn string, ok bool) {
	n := 0
	i := 0
	plus := len(s) > 0 && s[0] == '+'
	if plus {
		i = 1
	}
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if n == len(buf) {
				return "", false
			}
			buf[n] = c
			n++
		case ' ', '-', '.', '(', ')', '/':
		default:
			return "", false
		}
	}
	if n < 3 {
		return "", false
	}
	digits := buf[:n]
	if plus {
		return fastInternational(digits, defaultRegion, l)
	}
	return fastNational(digits, defaultRegion, l)
}

// fastInternational follows parseHelper for digits that came after a "+":
// the calling code is the first prefix of one to three digits that
// libphonenumber knows, and the national prefix of the calling code's main
// region is stripped when it matches (then libphonenumber parses instead).
func fastInternational(digits []byte, defaultRegion string, l *lazyNumber) (nsn string, ok bool) {
	if digits[0] == '0' {
		return "", false
	}
	codes := metadata.CountryCodeToRegion()
	cc, k := 0, 0
	for k = 1; k <= 3 && k <= len(digits); k++ {
		cc = cc*10 + int(digits[k-1]-'0')
		if _, ok := codes[cc]; ok {
			break
		}
	}
	if k > 3 || k > len(digits) {
		return "", false
	}
	national := digits[k:]
	if len(national) < 2 || len(national) > maxNSN {
		return "", false
	}
	info := callingCode(cc)
	if info == nil {
		return "", false
	}
	m := info.regions[0]
	nsn = unsafe.String(&national[0], len(national))
	if m.hasNP {
		if m.region == "001" && defaultRegion == "001" {
			// parseHelper looks the default region up again, and finds
			// nothing for "001": no national prefix to strip then.
			return "", false
		}
		if nsn, ok = stripNationalPrefix(m, nsn, m.walk(nsn)); !ok {
			return "", false
		}
	}
	l.setParsed(cc, nsn)
	return nsn, true
}

// stripNationalPrefix follows parseHelper's national prefix stripping
// (maybeStripNationalPrefixAndCarrierCode, then the length test) for
// digits whose walk in m gave mask. It handles a national prefix for
// parsing that does not match, or that is a choice of plain digit strings
// with no transform rule (as "0" or "0|180020"); ok is false for anything else, and when the result has
// fewer than two digits.
func stripNationalPrefix(m *regionMatcher, digits string, mask uint16) (nsn string, ok bool) {
	nsn = digits
	if mask&(1<<patNationalPrefix) != 0 {
		// Go's regexp prefers the first alternative that matches.
		i := slices.IndexFunc(m.npLiterals, func(p string) bool { return strings.HasPrefix(digits, p) })
		if i < 0 || !m.testLenOK {
			return "", false
		}
		stripped := digits[len(m.npLiterals[i]):]
		viable := mask&(1<<patGeneral) != 0
		if !viable || m.walk(stripped)&(1<<patGeneral) != 0 {
			switch m.testLen[len(stripped)] {
			case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
			default:
				nsn = stripped
			}
		}
	}
	return nsn, len(nsn) >= 2
}

// fastNational follows parseHelper for digits without a "+", read with a
// default region. When the region's international prefix is a choice of
// plain digit strings (as "00" or "011") and one starts the digits, and is
// followed by enough digits that do not start with 0, the rest is read as
// after a "+". Otherwise no international prefix may match at the start,
// the digits may not start with the region's calling code (libphonenumber
// then tries them as an international number), and the national prefix is
// stripped as stripNationalPrefix does.
func fastNational(digits []byte, defaultRegion string, l *lazyNumber) (string, bool) {
	m := regionMatcherFor(defaultRegion)
	if m == nil {
		return "", false
	}
	nsn := unsafe.String(&digits[0], len(digits))
	mask := m.walk(nsn)
	if mask&(1<<patIntlPrefix) != 0 {
		// parsePrefixAsIdd: Go's regexp prefers the first alternative
		// that matches at the start.
		i := slices.IndexFunc(m.iddLiterals, func(p string) bool { return strings.HasPrefix(nsn, p) })
		if i < 0 {
			return "", false
		}
		rest := digits[len(m.iddLiterals[i]):]
		if len(rest) <= 2 || rest[0] == '0' {
			return "", false
		}
		return fastInternational(rest, defaultRegion, l)
	}
	if len(digits) > maxNSN || strings.HasPrefix(nsn, m.ccString) {
		return "", false
	}
	nsn, ok := stripNationalPrefix(m, nsn, mask)
	if !ok {
		return "", false
	}
	l.setParsed(m.code, nsn)
	return nsn, true
}

// digitBuf holds the digits that fastParse reads.
type digitBuf [maxNSN + 4]byte

// setParsed fills l.pn as parseHelper does for calling code cc and
// national significant number nsn (2 to 17 ASCII digits), pointing its
// fields into l to save allocations.
func (l *lazyNumber) setParsed(cc int, nsn string) {
	l.cc = int32(cc)
	l.pn.CountryCode = &l.cc
	if len(nsn) >= 2 && nsn[0] == '0' {
		// setItalianLeadingZerosForPhoneNumber
		l.italianZero = true
		l.pn.ItalianLeadingZero = &l.italianZero
		zeros := 1
		for zeros < len(nsn)-1 && nsn[zeros] == '0' {
			zeros++
		}
		if zeros != 1 {
			l.zeros = int32(zeros)
			l.pn.NumberOfLeadingZeros = &l.zeros
		}
	}
	var v uint64
	for i := 0; i < len(nsn); i++ {
		v = v*10 + uint64(nsn[i]-'0')
	}
	l.national = v
	l.pn.NationalNumber = &l.national
}
