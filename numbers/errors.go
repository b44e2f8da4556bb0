package numbers

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Every error returned by this package wraps one of them, so
// callers can test with [errors.Is] and reach the details with [errors.As].
var (
	// ErrInvalid means the input is not a usable phone number. The error is a
	// [*ParseError] whose Reason says why.
	ErrInvalid = errors.New("numbers: invalid phone number")

	// ErrBlocked means a [Policy] denied the number. The error is a
	// [*BlockedError] that carries the [Decision].
	ErrBlocked = errors.New("numbers: number blocked by policy")

	// ErrInvalidConfig means [NewPolicy], [Policy.With], [ParseDataset] or a
	// [PrefixSet] was given a bad value, such as an unknown region code or a
	// malformed prefix.
	ErrInvalidConfig = errors.New("numbers: invalid configuration")
)

// configError returns an error with message "numbers: msg: numbers:
// invalid configuration" that wraps ErrInvalidConfig.
func configError(msg string) error {
	return fmt.Errorf("numbers: %s: %w", msg, ErrInvalidConfig)
}

// Reason is a stable, machine-readable code that says why [Parse] rejected an
// input or why a [Policy] decided as it did. The values are lower-case
// snake_case strings that do not change between releases, so they are safe to
// log, count and match on.
type Reason string

// Reasons for which [Parse] rejects an input, in [ParseError.Reason]. Each is
// something the person typing the number can fix, so a form can say which.
const (
	// ReasonNotANumber: empty input, or characters that do not form a phone
	// number. [Policy.Check] gives it for a [Number] not produced by Parse.
	ReasonNotANumber Reason = "not_a_number"
	// ReasonCharacter: a character that has no place in a phone number:
	// letters outside an extension label (unless [AllowVanity]), symbols,
	// control, bidi and invisible formatting characters, or invalid UTF-8.
	// [ParseError.Offset] says where.
	ReasonCharacter Reason = "invalid_character"
	// ReasonCountryCode: an unknown calling code, or a number in national
	// format without a usable default region.
	ReasonCountryCode Reason = "invalid_country_code"
	// ReasonTooShort: too few digits for the calling code, a local number
	// without its area code, or a length between two that the calling code
	// has.
	ReasonTooShort Reason = "too_short"
	// ReasonTooLong: more digits than any number of the calling code has, or
	// more than 250 bytes of input.
	ReasonTooLong Reason = "too_long"
)

// Reasons in a [Decision]. A decision that allows has [ReasonAllowed], or
// [ReasonUnknownRange] when the policy allows numbers outside the known
// ranges; every other reason denies.
const (
	// ReasonAllowed: no rule denied the number, or the policy's safe list
	// allowed it ([SafeNumbers], [SafeBlocks]; the Decision's Rule says so).
	ReasonAllowed Reason = "allowed"
	// ReasonRegionDenied: the number's region is not on the policy's
	// allow-list ([AllowRegions]) or is on its deny-list ([DenyRegions]).
	ReasonRegionDenied Reason = "region_denied"
	// ReasonPrefixDenied: a prefix of the policy ([DenyPrefixes]) matched.
	ReasonPrefixDenied Reason = "prefix_denied"
	// ReasonHighRisk: an entry of a high-risk [Dataset] ([DenyDataset])
	// matched.
	ReasonHighRisk Reason = "high_risk_destination"
	// ReasonPrefixBlocked: an active entry of a [PrefixSet] matched: a block
	// that an adaptive defense put in place for a while.
	ReasonPrefixBlocked Reason = "prefix_blocked"
	// ReasonTypeDenied: the number type (premium rate, landline for SMS, ...)
	// is not allowed on the channel, or the channel is not one this package
	// defines.
	ReasonTypeDenied Reason = "type_denied"
	// ReasonUnknownRange: the number has a possible length but matches no
	// range in the bundled metadata (a new range, or not a real number). The
	// policy decides whether it is allowed (see [UnknownType]); the reason is
	// the same either way so that such numbers can be counted.
	ReasonUnknownRange Reason = "unknown_range"
)

var reasonText = map[Reason]string{
	ReasonNotANumber:  "not a phone number",
	ReasonCharacter:   "invalid character",
	ReasonCountryCode: "invalid country calling code",
	ReasonTooShort:    "too short",
	ReasonTooLong:     "too long",
}

// ParseError is the error [Parse] returns. It unwraps to [ErrInvalid].
//
// It never carries the input itself, so it is safe to log.
type ParseError struct {
	// Reason says why the input was rejected.
	Reason Reason
	// Offset is the byte offset of the offending character for
	// [ReasonCharacter], and -1 otherwise.
	Offset int
	// Detail adds a short explanation, such as "letters are allowed only in
	// extension labels" or "character U+202E", or is empty.
	Detail string
}

// Error implements the error interface.
func (e *ParseError) Error() string {
	s := "numbers: " + reasonText[e.Reason]
	if s == "numbers: " {
		s += string(e.Reason)
	}
	if e.Offset >= 0 {
		s += " at byte " + strconv.Itoa(e.Offset)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns [ErrInvalid].
func (e *ParseError) Unwrap() error { return ErrInvalid }

// BlockedError is the error form of a denying [Decision], returned by
// [Decision.Err]. It unwraps to [ErrBlocked].
type BlockedError struct {
	Decision Decision
}

// Error implements the error interface. It does not contain the number.
func (e *BlockedError) Error() string { return "numbers: blocked: " + e.Decision.String() }

// Unwrap returns [ErrBlocked].
func (e *BlockedError) Unwrap() error { return ErrBlocked }
