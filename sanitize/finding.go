package sanitize

import (
	"fmt"
	"log/slog"
)

// Finding is one link, email address, phone number or short code in a text.
type Finding struct {
	// Kind is what was found.
	Kind Kind
	// Start and End are the byte offsets of the match in the text given to
	// Find or Strip: Text == text[Start:End]. Findings come in order and do
	// not overlap.
	Start, End int
	// Text is the matched text, exactly as written. It is valid UTF-8,
	// except in one case of Strip: when removing a finding joins invalid
	// UTF-8 on its two sides into a character (say, a zero-width space)
	// that makes a new link, Strip removes that too, and the finding that
	// covers both spans the invalid bytes.
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

// String returns a short description, such as
// `phone "09061701461" at 91-102 (+449061701461)`. It contains the number;
// log a Finding through log/slog instead, where [Finding.LogValue] masks it.
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

// LogValue implements [slog.LogValuer] so that a Finding logged with
// log/slog never shows a whole phone number: digits but the first three
// characters and the last four are masked ("+44******0123").
func (f Finding) LogValue() slog.Value {
	text, norm := f.Text, f.Normalized
	if f.Kind == Phone {
		text, norm = maskNumber(text), maskNumber(norm)
	}
	attrs := []slog.Attr{
		slog.String("kind", f.Kind.String()),
		slog.Int("start", f.Start),
		slog.Int("end", f.End),
		slog.String("text", text),
	}
	if norm != "" {
		attrs = append(attrs, slog.String("normalized", norm))
	}
	if f.Evasions != 0 {
		attrs = append(attrs, slog.String("evasions", f.Evasions.String()))
	}
	if f.Unverified {
		attrs = append(attrs, slog.Bool("unverified", true))
	}
	return slog.GroupValue(attrs...)
}

// maskNumber replaces with '*' every digit of s after the first three
// characters and before the last four digits.
func maskNumber(s string) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digits++
		}
	}
	b := []byte(s)
	seen := 0
	for i := range b {
		if !isDigit(b[i]) {
			continue
		}
		seen++
		if i >= 3 && seen <= digits-4 {
			b[i] = '*'
		}
	}
	return string(b)
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
