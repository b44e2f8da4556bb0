package verify

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalLocale(t *testing.T) {
	for in, want := range map[string]string{
		"":      "",
		"en":    "en",
		"EN":    "en",
		"en-gb": "en-GB",
		"En-Gb": "en-GB",
		"pt-br": "pt-BR",
		"zh-hk": "zh-HK",
		"zh-cn": "zh-CN",
		"iw":    "he", // deprecated code for Hebrew
		"in":    "id", // deprecated code for Indonesian
		"fil":   "tl", // Twilio's tag for Filipino/Tagalog
		"tl":    "tl",
	} {
		got, err := canonicalLocale(in)
		if err != nil || got != want {
			t.Errorf("canonicalLocale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"en\r\nX: y",  // issue 16: a header smuggled in
		"en\nX-Y: z",  // the same with a bare newline
		"en GB",       // space
		"en_GB",       // not BCP 47
		"en-",         // not well-formed
		"-en",         // not well-formed
		"english",     // not a tag
		"xx",          // well-formed, no such language at Twilio
		"tlh",         // Klingon: well-formed, unsupported
		"en-US",       // a region Twilio does not list for English
		"zh-Hans",     // a script
		"en-GB-x-foo", // a private use extension
		"en-u-ca-gregory",
		"und",
		"x-foo",
		"é",
		strings.Repeat("a", 36),
		"en\x00",
	} {
		if got, err := canonicalLocale(in); !errors.Is(err, ErrInvalidLocale) || got != "" {
			t.Errorf("canonicalLocale(%q) = %q, %v; want ErrInvalidLocale", in, got, err)
		}
	}
	// Every tag of the table is its own canonical form.
	for _, tag := range twilioLocales {
		if got, err := canonicalLocale(tag); err != nil || got != tag {
			t.Errorf("canonicalLocale(%q) = %q, %v", tag, got, err)
		}
	}
}

// FuzzCanonicalLocale: any input is refused with ErrInvalidLocale or comes
// back as one of Twilio's tags (letters and hyphens only), and a tag that
// comes back is its own canonical form.
func FuzzCanonicalLocale(f *testing.F) {
	for _, s := range []string{"", "en", "EN-gb", "pt-BR", "iw", "fil", "en\r\nX: y", "en_GB", "zh-Hans-CN", "i-klingon", "en-GB-oed", "x-foo", "de-CH-1996"} {
		f.Add(s)
	}
	known := make(map[string]bool, len(twilioLocales))
	for _, tag := range twilioLocales {
		known[tag] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := canonicalLocale(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidLocale) || got != "" {
				t.Fatalf("%q: %q, %v", s, got, err)
			}
			return
		}
		if s == "" {
			if got != "" {
				t.Fatalf("empty locale became %q", got)
			}
			return
		}
		if !known[got] {
			t.Fatalf("%q became %q, not a Twilio tag", s, got)
		}
		if again, err := canonicalLocale(got); err != nil || again != got {
			t.Fatalf("%q: %q is not canonical: %q, %v", s, got, again, err)
		}
		if len(s) > maxLocaleLen {
			t.Fatalf("%q accepted past the length bound", s)
		}
	})
}
