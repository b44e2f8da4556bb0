package sanitize

import "fmt"

// Finding is one link, email address, phone number or short code in a text.
type Finding struct {
	// Kind is what was found.
	Kind Kind
	// Start and End are the byte offsets of the match in the text given to
	// Find or Strip: Text == text[Start:End]. Findings come in order and do
	// not overlap.
	Start, End int
	// Text is the matched text, exactly as written.
	Text string
	// Normalized is what the text means once the evasions are undone: for a
	// link, the URL as a browser would read it (scheme added, host lower case
	// and in punycode, userinfo dropped: "http://example.com/x"); for an
	// email, the address with its domain in lower case; for a phone number,
	// E.164 ("+447700900123"); for a short code, its digits. It is empty for
	// an Unverified finding.
	Normalized string
	// Evasions lists the tricks seen in Text.
	Evasions Evasion
	// Unverified is true when the per-text work limit was reached before
	// this candidate could be validated: it is reported (and stripped)
	// because it looks like a link or number, without the usual checks.
	// Ordinary messages never reach the limit.
	Unverified bool
}

// String returns a short description for logs, such as
// `phone "09061701461" at 91-102 (+449061701461)`. It contains the matched
// text, so mask it before logging a phone number.
func (f Finding) String() string {
	s := fmt.Sprintf("%s %q at %d-%d", f.Kind, f.Text, f.Start, f.End)
	if f.Normalized != "" {
		s += " (" + f.Normalized + ")"
	}
	if f.Evasions != 0 {
		s += " [" + f.Evasions.String() + "]"
	}
	return s
}

// Result is what [Policy.Strip] returns.
type Result struct {
	// Text is the text with every finding of the policy's kinds replaced by
	// the policy's replacement for that kind. Everything else, including
	// invalid UTF-8, is kept byte for byte.
	Text string
	// Removed lists what was replaced, with offsets into the original text,
	// for audit. It is nil when nothing was removed.
	Removed []Finding
}

// Changed reports whether anything was removed.
func (r Result) Changed() bool { return len(r.Removed) > 0 }
