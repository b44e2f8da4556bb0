package sanitize

import "strings"

// Kind is the kind of a [Finding]. Kinds are bit flags, so that a set of
// kinds (Link|Email) can be passed to [WithKinds] and [WithReplacement].
type Kind uint8

// The kinds of call to action that [Find] reports.
const (
	// Link is a web address: with a scheme (https://, tel:, sms: ...), with
	// www., a known domain, or written with one of the evasions in [Evasion].
	Link Kind = 1 << iota
	// Email is an email address.
	Email
	// Phone is a phone number, whatever the country it is from.
	Phone
	// ShortCode is a 5- or 6-digit SMS short code next to a call to action
	// such as "txt WIN to 87121".
	ShortCode

	allKinds = Link | Email | Phone | ShortCode
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
	if k&^allKinds != 0 {
		parts = append(parts, "unknown")
	}
	return strings.Join(parts, "|")
}

// Evasion records the tricks seen in a [Finding]: the ways the text was
// written to get past a plain link or number matcher. Evasions are bit
// flags.
type Evasion uint8

// The evasions [Find] recognises.
const (
	// Defanged: written so that it is not seen as a link or a number:
	// hxxp://, example[.]com, example(dot)com, "example dot com",
	// "www . example . com", john [at] example.com, digits spread out
	// with spaces ("0 7 7 0 0 9 0 0 1 2 3").
	Defanged Evasion = 1 << iota
	// Lookalike: characters standing in for others: fullwidth forms
	// ("ｅｘａｍｐｌｅ．ｃｏｍ", "０８００"), ideographic full stops
	// ("example。com"), digits of other scripts, letters for digits
	// ("O8OO l23 4567").
	Lookalike
	// Invisible: zero-width characters, soft hyphens or bidi controls inside
	// the match.
	Invisible
	// Spoofed: a host made to pass for another: hidden behind userinfo, as
	// in https://www.paypal.com@example.com, where the browser goes to
	// example.com; a punycode label (xn--); letters of scripts that look
	// alike, such as Latin and Cyrillic ("pаypal.com" with a Cyrillic а).
	Spoofed
	// Shortener: a link shortener (bit.ly, tinyurl.com ...) hides the
	// destination.
	Shortener
	// Vanity: letters for keypad digits ("1-800-FLOWERS").
	Vanity
	// Glued: a number or domain run together with the words around it
	// ("Call09061701461.Claim", "www.example.com1win").
	Glued
)

var evasionNames = [...]string{
	"defanged", "lookalike", "invisible", "spoofed", "shortener", "vanity", "glued",
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

// trick is what the scanners record, finer than an Evasion: the link rules
// tell a spelled dot from a spaced one.
type trick uint16

const (
	tDefanged trick = 1 << iota
	tSpelledDot
	tSpacedDot
	tFullwidth
	tInvisible
	tUserinfo
	tPunycode
	tMixedScript
	tShortener
	tLookalike
	tVanity
	tGlued
	tUnicodeDigits
	tSpacedDigits
)

// evasion returns the evasions that the tricks are.
func (t trick) evasion() Evasion {
	var e Evasion
	for _, m := range [...]struct {
		t trick
		e Evasion
	}{
		{tDefanged | tSpelledDot | tSpacedDot | tSpacedDigits, Defanged},
		{tFullwidth | tLookalike | tUnicodeDigits, Lookalike},
		{tInvisible, Invisible},
		{tUserinfo | tPunycode | tMixedScript, Spoofed},
		{tShortener, Shortener},
		{tVanity, Vanity},
		{tGlued, Glued},
	} {
		if t&m.t != 0 {
			e |= m.e
		}
	}
	return e
}
