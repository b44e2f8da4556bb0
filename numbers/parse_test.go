package numbers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, in, region string
		opts             []numbers.ParseOption
		e164, ext        string
		regionOut        string
	}{
		{"plus spaces", "+1 415 555 2671", "", nil, "+14155552671", "", "US"},
		{"national dashes", "415-555-2671", "US", nil, "+14155552671", "", "US"},
		{"brackets dots", "(415).555.2671", "US", nil, "+14155552671", "", "US"},
		{"00 prefix", "00 44 7400 123456", "FR", nil, "+447400123456", "", "GB"},
		{"011 prefix", "011 44 7400 123456", "US", nil, "+447400123456", "", "GB"},
		{"trunk zero", "07400 123456", "GB", nil, "+447400123456", "", "GB"},
		{"arabic-indic digits", "+٩٧١ ٥٠ ١٢٣ ٤٥٦٧", "", nil, "+971501234567", "", "AE"},
		{"fullwidth", "＋４４ ７４００ １２３４５６", "", nil, "+447400123456", "", "GB"},
		{"narrow no-break spaces", "+33\u202f6\u202f12\u202f34\u202f56\u202f78", "", nil, "+33612345678", "", "FR"},
		{"extension word", "+1 415 555 2671 ext. 12", "", nil, "+14155552671", "12", "US"},
		{"extension upper case", "+1 415 555 2671 EXT: 12", "", nil, "+14155552671", "12", "US"},
		{"extension x", "+1 415 555 2671 x12", "", nil, "+14155552671", "12", "US"},
		{"extension rfc3966", "tel:+1-415-555-2671;ext=12", "", nil, "+14155552671", "12", "US"},
		{"vanity allowed", "1-800-FLOWERS", "US", []numbers.ParseOption{numbers.AllowVanity()}, "+18003569377", "", "US"},
		{"surrounding space", " \t+1 415 555 2671\n", "", nil, "+14155552671", "", "US"},
		{"Canadian 7-digit UAN", "+1 310 1234", "", nil, "+13101234", "", "CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := numbers.Parse(tt.in, tt.region, tt.opts...)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if n.E164 != tt.e164 || n.Extension != tt.ext || n.Region != tt.regionOut {
				t.Errorf("Parse(%q) = %s ext %q region %q, want %s %q %q", tt.in, n.E164, n.Extension, n.Region, tt.e164, tt.ext, tt.regionOut)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const letters, control = "letters are allowed only", "control or invisible formatting character"
	tests := []struct {
		name, in, region string
		reason           numbers.Reason
		detail           string // in ParseError.Detail
		offset           int
	}{
		{"empty", "", "US", numbers.ReasonNotANumber, "empty", -1},
		{"blank", " \t ", "US", numbers.ReasonNotANumber, "empty", -1},
		{"too long", "+1 415 555 2671" + strings.Repeat(" ", 250), "", numbers.ReasonTooLong, "more than 250 bytes", -1},
		{"too long before anything else", strings.Repeat("\x00", 251), "", numbers.ReasonTooLong, "more than 250 bytes", -1},
		{"surrounding text", "call 0800 123 4567 now", "GB", numbers.ReasonCharacter, letters, 0},
		{"vanity without option", "1-800-FLOWERS", "US", numbers.ReasonCharacter, letters, 6},
		{"homoglyph", "+1 650 253 OOOO", "", numbers.ReasonCharacter, letters, 11},
		{"extension label before digits", "ext 1234", "US", numbers.ReasonCharacter, letters, 0},
		{"letters after extension", "+1 415 555 2671 ext 12 ab", "", numbers.ReasonCharacter, letters, 23},
		{"tel not at start", "+1 tel:415 555 2671", "", numbers.ReasonCharacter, letters, 3},
		{"bidi override", "\u202e+1 415 555 2671", "", numbers.ReasonCharacter, control + " U+202E", 0},
		{"nul", "+1 415 555\x00 2671", "", numbers.ReasonCharacter, control + " U+0000", 10},
		{"newline inside", "+1 415\n555 2671", "", numbers.ReasonCharacter, control + " U+000A", 6},
		{"zero width no-break space", "+1 415\ufeff555 2671", "", numbers.ReasonCharacter, control + " U+FEFF", 6},
		{"invalid utf-8", "+1 415 \xff555 2671", "", numbers.ReasonCharacter, "not valid UTF-8", 7},
		{"exclamation", "+1 415 555 2671!", "", numbers.ReasonCharacter, "character U+0021 '!'", 15},
		{"colon", "+1: 415 555 2671", "", numbers.ReasonCharacter, "U+003A", 2},
		{"superscript digit", "+¹ 415 555 2671", "", numbers.ReasonCharacter, "U+00B9", 1},
		{"star", "*121#", "GB", numbers.ReasonCharacter, "U+002A", 0},
		{"plus only", "+", "", numbers.ReasonNotANumber, "", -1},
		{"no region", "415 555 2671", "", numbers.ReasonCountryCode, "no default region", -1},
		{"unknown region", "415 555 2671", "XX", numbers.ReasonCountryCode, `"XX"`, -1},
		{"unknown calling code", "+999 123456789", "", numbers.ReasonCountryCode, "", -1},
		{"too short", "+1 23", "", numbers.ReasonTooShort, "", -1},
		{"one digit too many", "+1 415 555 26711", "", numbers.ReasonTooLong, "", -1},
		{"local-only length", "+44 1234 5678", "", numbers.ReasonTooShort, "", -1},
		{"local only", "555 2671", "US", numbers.ReasonTooShort, "local number without its area code", -1},
		{"too many digits", "+49 12345678901234567", "", numbers.ReasonTooLong, "", -1},
		{"more than 15 digits", "00100000000000000", "ID", numbers.ReasonTooLong, "", -1}, // found by FuzzParse
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := numbers.Parse(tt.in, tt.region)
			var pe *numbers.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, numbers.ErrInvalid) {
				t.Fatalf("Parse(%q) = %s, %v; want a *ParseError", tt.in, n.E164, err)
			}
			if pe.Reason != tt.reason || !strings.Contains(pe.Detail, tt.detail) || pe.Offset != tt.offset {
				t.Errorf("reason %s detail %q offset %d, want %s, %q, %d", pe.Reason, pe.Detail, pe.Offset, tt.reason, tt.detail, tt.offset)
			}
			if !strings.HasPrefix(err.Error(), "numbers: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
			if n != (numbers.Number{}) {
				t.Errorf("non-zero Number with error: %+v", n)
			}
		})
	}
}

// TestParseErrorMessage: the message says where and what, without the input.
func TestParseErrorMessage(t *testing.T) {
	_, err := numbers.Parse("+1 415 555 2671\u202e", "")
	want := "numbers: invalid character at byte 15: control or invisible formatting character U+202E"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		in                      string
		nonGeo, nanpOutsideUSCA bool
	}{
		{"+1 415 555 2671", false, false},
		{"+1 604 555 0123", false, false},
		{"+1 876 234 5678", false, true},
		{"+1 284 345 6789", false, true},
		{"+882 3421234", true, false},
		{"+979 123456789", true, false},
		{"+44 7400 123456", false, false},
	}
	for _, tt := range tests {
		n, err := numbers.Parse(tt.in, "")
		if err != nil {
			t.Fatal(err)
		}
		if n.NonGeographic != tt.nonGeo || n.NANPOutsideUSCA != tt.nanpOutsideUSCA {
			t.Errorf("%s: NonGeographic %v NANPOutsideUSCA %v, want %v %v", tt.in, n.NonGeographic, n.NANPOutsideUSCA, tt.nonGeo, tt.nanpOutsideUSCA)
		}
	}
}
