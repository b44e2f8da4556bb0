package numbers

import (
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers/v2"
)

// Type is the kind of a phone number according to libphonenumber's metadata.
// The values mirror libphonenumber's PhoneNumberType; the zero value is
// [UnknownType].
type Type uint8

// Number types.
//
// UnknownType is the type of a number that has a possible length but matches
// no range of its region in the bundled metadata: libphonenumber's
// IsValidNumber would say false. A [Policy] denies such numbers unless
// [AllowTypes] allows UnknownType on the channel, with [ReasonUnknownRange]
// either way.
const (
	UnknownType       Type = iota // matches no known range: not valid under the bundled metadata
	FixedLine                     // landline
	Mobile                        // mobile
	FixedLineOrMobile             // cannot be told apart from the number (as in the US and Canada)
	TollFree                      // free to the caller, paid by the callee
	PremiumRate                   // billed above normal rates, revenue shared with the callee
	SharedCost                    // cost split between caller and callee
	VoIP                          // voice over IP
	PersonalNumber                // follow-me number routed to another line
	Pager                         // pager
	UAN                           // universal access (company) number
	Voicemail                     // voicemail access number

	numTypes = iota
)

var typeNames = [numTypes]string{
	UnknownType:       "UNKNOWN",
	FixedLine:         "FIXED_LINE",
	Mobile:            "MOBILE",
	FixedLineOrMobile: "FIXED_LINE_OR_MOBILE",
	TollFree:          "TOLL_FREE",
	PremiumRate:       "PREMIUM_RATE",
	SharedCost:        "SHARED_COST",
	VoIP:              "VOIP",
	PersonalNumber:    "PERSONAL_NUMBER",
	Pager:             "PAGER",
	UAN:               "UAN",
	Voicemail:         "VOICEMAIL",
}

// String returns libphonenumber's name for the type, such as "MOBILE" or
// "PREMIUM_RATE".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

var fromLibType = map[phonenumbers.PhoneNumberType]Type{
	phonenumbers.FIXED_LINE:           FixedLine,
	phonenumbers.MOBILE:               Mobile,
	phonenumbers.FIXED_LINE_OR_MOBILE: FixedLineOrMobile,
	phonenumbers.TOLL_FREE:            TollFree,
	phonenumbers.PREMIUM_RATE:         PremiumRate,
	phonenumbers.SHARED_COST:          SharedCost,
	phonenumbers.VOIP:                 VoIP,
	phonenumbers.PERSONAL_NUMBER:      PersonalNumber,
	phonenumbers.PAGER:                Pager,
	phonenumbers.UAN:                  UAN,
	phonenumbers.VOICEMAIL:            Voicemail,
	phonenumbers.UNKNOWN:              UnknownType,
}

// Number is a parsed phone number. Get one from [Parse]; a Number built by
// hand has no type and is denied by every [Policy] with [ReasonNotANumber].
//
// The number type is computed on first use by [Number.Type] and then
// remembered, because a [Policy] often decides without it. Copies of a
// Number share that memory; a Number is safe for concurrent use.
//
// Compare numbers by their E164 field, not with ==.
//
// String and LogValue mask the number (see [Mask]), so a Number passed to a
// logger or fmt does not leak the full phone number. Ranges of numbers, for
// counting or blocking, are prefixes of E164: E164[:len(E164)-3] is the
// 1000-number block that pumpers cycle through.
type Number struct {
	// E164 is the number in E.164 format, such as "+14155552671".
	E164 string
	// CallingCode is the country calling code, such as 1 or 44.
	CallingCode int
	// Region is the ISO 3166-1 alpha-2 code of the region the number belongs
	// to, "001" for non-geographic numbers (+800, +882, ...), or "" when a
	// calling code shared by several regions does not tell which (an unknown
	// NANP area code, for example).
	Region string
	// NationalNumber is the national significant number: E164 without "+" and
	// the calling code.
	NationalNumber string
	// Extension is the extension, kept apart from the number, or "".
	Extension string
	// NonGeographic is true for global service numbers that belong to no
	// country (+800, +808, +870, +878, +881, +882, +883, +888, +979).
	NonGeographic bool
	// NANPOutsideUSCA is true for +1 numbers that are neither from the United
	// States nor from Canada: Caribbean and Pacific members of the North
	// American Numbering Plan such as Jamaica (+1 876), charged at
	// international rates and a traffic-pumping target, and +1 numbers whose
	// area code the metadata does not know.
	NANPOutsideUSCA bool

	lazy *lazyNumber
}

// lazyNumber holds the parsed libphonenumber value and what is computed
// from it on demand.
type lazyNumber struct {
	pn phonenumbers.PhoneNumber
	// state is 0 until the type is known, then the Type plus one, with
	// nonCanonical set for numbers whose E.164 form parses as another number.
	state atomic.Uint32

	// Set by fill when the calling code has compiled patterns: the
	// region's matcher (nil for no region), the walk of the national
	// number in it, and its length.
	fast   bool
	rm     *regionMatcher
	mask   uint16
	nsnLen uint8

	// Storage for pn's fields when fastParse filled it.
	cc          int32
	zeros       int32
	italianZero bool
	national    uint64
}

const nonCanonical = 1 << 8

// Type returns the number type; [UnknownType] means the number is not valid
// under the bundled metadata. It is computed on first call (a walk over the
// region's compiled patterns, tens of nanoseconds) and remembered. A Number
// that did not come from [Parse] has UnknownType.
func (n Number) Type() Type {
	t, _ := n.typeInfo()
	return t
}

// typeInfo returns the type and, for numbers outside the known ranges,
// whether the E.164 form parses back to the same number.
func (n Number) typeInfo() (t Type, canonical bool) {
	l := n.lazy
	if l == nil {
		return UnknownType, false
	}
	v := l.state.Load()
	if v == 0 {
		v = l.compute(n.E164)
		l.state.Store(v)
	}
	return Type(v&0xff - 1), v&nonCanonical == 0
}

func (l *lazyNumber) compute(e164 string) (v uint32) {
	defer func() {
		if recover() != nil {
			v = uint32(UnknownType) + 1 | nonCanonical
		}
	}()
	var t Type
	switch {
	case !l.fast:
		t = fromLibType[phonenumbers.GetNumberType(&l.pn)]
	case l.rm != nil:
		t = l.rm.numberType(l.mask, int(l.nsnLen))
	}
	v = uint32(t) + 1
	if t == UnknownType {
		// libphonenumber does not promise that the E.164 form of a number
		// outside the known ranges parses back to it (a leading national
		// prefix is stripped again), so check before anyone is allowed to
		// send to it.
		var (
			again lazyNumber
			nsn   string
			ok    bool
			buf   digitBuf
		)
		if l.fast {
			nsn, ok = fastParse(e164, "", &again, &buf)
		}
		if !ok {
			if phonenumbers.ParseToNumber(e164, "", &again.pn) != nil {
				return v | nonCanonical
			}
			nsn = phonenumbers.GetNationalSignificantNumber(&again.pn)
		}
		if again.pn.GetCountryCode() != l.pn.GetCountryCode() || nsn != phonenumbers.GetNationalSignificantNumber(&l.pn) {
			v |= nonCanonical
		}
	}
	return v
}

// String returns the number masked for logs, like [Mask]: "+44******0123".
// Printing a Number does not leak it; use the E164 field for the real
// number.
func (n Number) String() string { return maskDigits(n.E164, len(strconv.Itoa(n.CallingCode))) }

// LogValue implements [slog.LogValuer]: a Number logs as its masked form.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.String()) }

// Mask returns an E.164 number with all digits but the calling code and the
// last four replaced by '*', such as "+44******0123" for "+447700900123",
// for logs. Short numbers keep fewer trailing digits so that at least half of
// the national number stays hidden. Anything that is not an E.164 number
// (a "+" and 1 to 15 digits) comes back as a string of '*' of the same length,
// at most 20, so that raw input never reaches a log.
func Mask(e164 string) string {
	if !isE164(e164) {
		return stars(min(len(e164), 20))
	}
	return maskDigits(e164, callingCodeLen(e164[1:]))
}

func stars(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '*'
	}
	return string(b)
}

func isE164(s string) bool {
	if len(s) < 2 || len(s) > 1+maxE164Digits || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// callingCodeLen returns the length of the calling code at the start of
// digits. Calling codes are a prefix code, so the first known one is it.
func callingCodeLen(digits string) int {
	for l := 1; l <= 3 && l <= len(digits); l++ {
		cc := atoiDigits(digits[:l])
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) > 0 {
			return l
		}
	}
	return 1
}

func maskDigits(e164 string, ccLen int) string {
	national := len(e164) - 1 - ccLen
	if national <= 0 {
		return stars(len(e164))
	}
	keep := min(4, national/2)
	b := []byte(e164)
	for i := 1 + ccLen; i < len(b)-keep; i++ {
		b[i] = '*'
	}
	return string(b)
}

func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
