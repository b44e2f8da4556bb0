package sanitize

import "strings"

// Kind is the kind of a [Finding]. Kinds are bit flags so that a set of kinds
// can be passed to [WithKinds].
type Kind uint8

// The kinds of call to action that [Find] reports.
const (
	// Link is a web address: with a scheme (https://, tel:, sms: ...), with
	// www., a known domain, or written with one of the evasions in [Evasion].
	Link Kind = 1 << iota
	// Email is an email address.
	Email
	// Phone is a phone number that libphonenumber validates for the policy's
	// region (or any region, when written in international format).
	Phone
	// ShortCode is a 5- or 6-digit SMS short code next to a call to action
	// such as "txt WIN to 87121".
	ShortCode

	// AllKinds is every kind; it is the default set of a [Policy].
	AllKinds = Link | Email | Phone | ShortCode
)

var kindNames = [...]string{"link", "email", "phone", "short code"}

// String returns the kind's name ("link", "email", "phone", "short code"),
// or the names joined with "|" for a set of kinds.
func (k Kind) String() string {
	if k == 0 {
		return "none"
	}
	var parts []string
	for i, name := range kindNames {
		if k&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if k&^AllKinds != 0 {
		parts = append(parts, "unknown")
	}
	return strings.Join(parts, "|")
}

// Evasion records the tricks seen in a [Finding]: the ways the text was
// written to get past a plain link or number matcher. Evasions are bit flags.
type Evasion uint16

// The evasions [Find] recognises.
const (
	// Defanged: hxxp://, example[.]com, example(.)com, [:], [at] and the like.
	Defanged Evasion = 1 << iota
	// SpelledDot: "example dot com".
	SpelledDot
	// SpacedDot: "www . example . com".
	SpacedDot
	// Fullwidth: fullwidth letters or dots ("ｅｘａｍｐｌｅ．ｃｏｍ") or an
	// ideographic full stop ("example。com").
	Fullwidth
	// Invisible: zero-width characters, soft hyphens or bidi controls inside
	// the match.
	Invisible
	// Userinfo: a host hidden behind userinfo, as in
	// https://www.paypal.com@example.com, where the browser goes to
	// example.com.
	Userinfo
	// Punycode: a host with an xn-- label.
	Punycode
	// MixedScript: a host mixing scripts that look alike, such as Latin and
	// Cyrillic ("pаypal.com" with a Cyrillic а).
	MixedScript
	// Shortener: a link shortener (bit.ly, tinyurl.com ...) hides the
	// destination.
	Shortener
	// Lookalike: letters standing in for digits in a number ("O8OO l23 4567").
	Lookalike
	// Vanity: letters for keypad digits ("1-800-FLOWERS").
	Vanity
	// Glued: a number or domain run together with the words around it
	// ("Call09061701461.Claim", "www.example.com1win").
	Glued
	// UnicodeDigits: digits from another script or fullwidth digits.
	UnicodeDigits
)

var evasionNames = [...]string{
	"defanged", "spelled dot", "spaced dot", "fullwidth", "invisible",
	"userinfo", "punycode", "mixed script", "shortener", "lookalike",
	"vanity", "glued", "unicode digits",
}

// String returns the evasions' names joined with "|", or "none".
func (e Evasion) String() string {
	if e == 0 {
		return "none"
	}
	var parts []string
	for i, name := range evasionNames {
		if e&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if e>>len(evasionNames) != 0 {
		parts = append(parts, "unknown")
	}
	return strings.Join(parts, "|")
}
