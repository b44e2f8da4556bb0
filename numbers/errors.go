package numbers

import (
	"errors"
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

	// ErrConfig means a [Policy], [Dataset] or [PrefixSet] was given a bad
	// configuration value, such as an unknown region code or a malformed
	// prefix.
	ErrConfig = errors.New("numbers: invalid configuration")
)

// Reason is a stable, machine-readable code that says why [Parse] rejected an
// input or why a [Policy] decided as it did. The values are lower-case
// snake_case strings that do not change between releases, so they are safe to
// log, count and match on.
type Reason string

// Reasons for which [Parse] rejects an input. They appear in
// [ParseError.Reason], and in [Decision.Reason] when [Policy.CheckString]
// could not parse its input.
const (
	ReasonEmpty            Reason = "empty"                // nothing but white space
	ReasonTooLong          Reason = "too_long"             // longer than [MaxInputLen] bytes, or too many digits
	ReasonEncoding         Reason = "invalid_utf8"         // not valid UTF-8
	ReasonControl          Reason = "control_character"    // control, bidi or other invisible formatting characters
	ReasonLetters          Reason = "letters"              // surrounding text, or vanity letters without [AllowVanity]
	ReasonCharacter        Reason = "unexpected_character" // a symbol that has no place in a phone number
	ReasonNotANumber       Reason = "not_a_number"         // the characters do not form a phone number
	ReasonCountryCode      Reason = "invalid_country_code" // unknown calling code, or national format without a usable default region
	ReasonTooShort         Reason = "too_short"            // too few digits for the calling code
	ReasonInvalidForRegion Reason = "invalid_for_region"   // a length no number of that calling code has
	ReasonParserPanic      Reason = "parser_panic"         // the underlying parser panicked; the input is treated as invalid
)

// Reasons that appear in a [Decision].
const (
	// ReasonAllowed: no rule denied the number.
	ReasonAllowed Reason = "allowed"
	// ReasonSafeListed: the number or its block is on the policy's safe list,
	// which wins over every deny rule.
	ReasonSafeListed Reason = "safe_listed"
	// ReasonRegionNotAllowed: the region is not on the policy's allow-list.
	ReasonRegionNotAllowed Reason = "region_not_allowed"
	// ReasonRegionDenied: the region is on the policy's deny-list.
	ReasonRegionDenied Reason = "region_denied"
	// ReasonCallingCodeDenied: the country calling code is denied.
	ReasonCallingCodeDenied Reason = "calling_code_denied"
	// ReasonPrefixDenied: a prefix rule of the policy denied the number.
	ReasonPrefixDenied Reason = "prefix_denied"
	// ReasonHighRisk: an entry of a high-risk [Dataset] matched the number.
	ReasonHighRisk Reason = "high_risk_destination"
	// ReasonPrefixBlocked: an active entry of a [PrefixSet] matched the number.
	ReasonPrefixBlocked Reason = "prefix_blocked"
	// ReasonTypeDenied: the number type (premium rate, landline for SMS, ...)
	// is not allowed on the channel.
	ReasonTypeDenied Reason = "type_denied"
	// ReasonUnknownRange: the number has a possible length but matches no
	// range in the bundled metadata (a new range, or not a real number). The
	// policy's stance decides whether it is allowed; the reason is the same
	// either way so that it can be counted.
	ReasonUnknownRange Reason = "unknown_range"
	// ReasonNotParsed: the [Number] was not produced by [Parse] (for example
	// the zero Number).
	ReasonNotParsed Reason = "not_parsed"
	// ReasonUnknownChannel: the [Channel] is not one this package defines.
	ReasonUnknownChannel Reason = "unknown_channel"
)

var reasonText = map[Reason]string{
	ReasonEmpty:            "empty input",
	ReasonTooLong:          "too long",
	ReasonEncoding:         "not valid UTF-8",
	ReasonControl:          "control or invisible formatting character",
	ReasonLetters:          "letters are not part of a phone number",
	ReasonCharacter:        "unexpected character",
	ReasonNotANumber:       "not a phone number",
	ReasonCountryCode:      "invalid country calling code",
	ReasonTooShort:         "too short",
	ReasonInvalidForRegion: "invalid length for the region",
	ReasonParserPanic:      "phone number parser failed",
}

// ParseError is the error [Parse] returns. It unwraps to [ErrInvalid].
//
// It never carries the input itself, so it is safe to log.
type ParseError struct {
	// Reason says why the input was rejected.
	Reason Reason
	// Offset is the byte offset of the offending character for
	// [ReasonControl], [ReasonLetters], [ReasonCharacter] and
	// [ReasonEncoding], and -1 otherwise.
	Offset int
	// Detail adds a short explanation, or is empty.
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
