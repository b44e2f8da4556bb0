package verify

import (
	"fmt"
	"strconv"

	"golang.org/x/text/language"
)

// twilioLocales are the language tags Twilio Verify accepts as a locale
// (twilio.com/docs/verify/supported-languages and the Verify v2 API's
// description of the Locale parameter), keyed by the canonical form
// golang.org/x/text/language gives each, so that a deprecated or alias
// spelling of the same language ("iw" for "he", "fil" for "tl") finds
// Twilio's. Twilio answers a locale it does not know with a 404; these are
// the ones it documents.
var twilioLocales = func() map[string]string {
	tags := []string{
		"af", "ar", "ca", "cs", "da", "de", "el", "en", "en-GB", "es", "et",
		"fi", "fr", "he", "hi", "hr", "hu", "id", "it", "ja", "kn", "ko",
		"lt", "mr", "ms", "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk",
		"sv", "te", "th", "tl", "tr", "uk", "vi", "zh", "zh-CN", "zh-HK",
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[language.MustParse(t).String()] = t
	}
	return m
}()

// maxLocaleLen bounds a locale before it is parsed: the longest tag above
// is five bytes, and a well-formed tag of a language and a region fits in
// a dozen.
const maxLocaleLen = 35

// canonicalLocale returns Twilio's spelling of the language tag s, or an
// error wrapping ErrInvalidLocale when s is not a well-formed BCP 47 tag
// (letters, digits and hyphens only) of a language Twilio Verify supports.
// Case does not matter: "EN-gb" is "en-GB". The empty string is no locale.
func canonicalLocale(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > maxLocaleLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidLocale, maxLocaleLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '-' && !isAlnum(c) {
			return "", fmt.Errorf("%w: byte %d is not a letter, a digit or a hyphen", ErrInvalidLocale, i)
		}
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a well-formed BCP 47 tag", ErrInvalidLocale, s)
	}
	t, ok := twilioLocales[tag.String()]
	if !ok {
		return "", fmt.Errorf("%w: %s is not a language Twilio Verify supports", ErrInvalidLocale, strconv.Quote(s))
	}
	return t, nil
}
