package sanitize

import (
	"log/slog"

	"github.com/antifraud-go/antifraud/numbers"
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
	// E.164 ("+447700900123") when Number is set, its digits otherwise;
	// for a short code, its digits.
	Normalized string
	// Number is the phone number, for a Phone finding that is a valid
	// number in some region (see [numbers.Recognize]): a [numbers.Policy]
	// can judge it. Its E164 field is empty for a number found by its shape
	// alone ("call 0906 123 456", one digit short) and for other kinds.
	Number numbers.Number
	// Evasions lists the tricks seen in Text.
	Evasions Evasion
	// Unverified is true for a phone number found after the per-text work
	// limit was reached: it is reported (and stripped) for its shape,
	// without asking which region it belongs to. Ordinary messages never
	// reach the limit.
	Unverified bool
}

// LogValue implements [slog.LogValuer], so that a Finding logged with
// log/slog never shows a phone number: a phone finding logs its number
// masked by [numbers.Mask] ("+44******0123") and not its text.
func (f Finding) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("kind", f.Kind.String()),
		slog.Int("start", f.Start),
		slog.Int("end", f.End),
	}
	if f.Kind == Phone {
		attrs = append(attrs, slog.String("number", numbers.Mask(f.Normalized)))
	} else {
		attrs = append(attrs, slog.String("text", f.Text))
		if f.Normalized != "" {
			attrs = append(attrs, slog.String("normalized", f.Normalized))
		}
	}
	if f.Evasions != 0 {
		attrs = append(attrs, slog.String("evasions", f.Evasions.String()))
	}
	if f.Unverified {
		attrs = append(attrs, slog.Bool("unverified", true))
	}
	return slog.GroupValue(attrs...)
}
