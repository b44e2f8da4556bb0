// Package sanitize takes the call to action out of a text message: the links,
// email addresses, phone numbers and short codes that a phishing SMS wants
// its reader to follow, call or text.
//
// Twilio's Anti-Fraud Developer's Guide advises to "strip out hyperlinks
// and/or phone numbers from inbound messages", which makes them useless for
// phishing, and to make sure no arbitrary message can be sent from an app
// that lets users compose them. [Strip] does the first, [Check] the second:
//
//	text, removed := sanitize.Strip(body) // text is safe to show
//	err := sanitize.Check(userText)       // errors.Is(err, sanitize.ErrCallToAction)
//
// # What is found
//
// [Find] lists each [Finding] with its [Kind], its byte offsets in the
// original text, the matched text and a normalised form: the URL as a
// browser would read it, the number in E.164.
//
// Links and email addresses are what xurls' Relaxed expression matches
// (mvdan.cc/xurls/v2, with its lists of schemes and top-level domains),
// found by a matcher that reads each byte a bounded number of times instead
// of by the expression itself, after undoing the ways phishers write links
// so that matchers miss them. Each trick is reported as an [Evasion]:
// hxxp://, example[.]com, "example dot com" and "www . example . com"
// ([Defanged]); fullwidth letters and ideographic full stops ([Lookalike]);
// zero-width characters and soft hyphens inside the host ([Invisible]);
// https://www.paypal.com@example.com, punycode and mixed-script hosts
// ([Spoofed]); link shorteners ([Shortener]).
//
// Phone numbers are found whatever country they come from. Runs of digits
// and separators are cut out of the text (lookalike letters, fullwidth and
// other scripts' digits read as digits; spaced digits, numbers split over
// a line break, lists joined by slashes or commas taken apart), and a run
// is a phone number
//
//   - when it is a valid number in some region, in international format or
//     in the national format of any region ([numbers.Recognize]);
//   - or by its shape: nine digits or more; or seven or eight after a call
//     to action or a word for a phone ("call", "ring", "txt", "whatsapp",
//     "contact", "no.", "hp", and their Hinglish, Malay, Spanish,
//     Portuguese, Italian, French and German forms), or grouped as local
//     numbers are ("555-1234", "6744 1233").
//
// Numbers run into words ("Call09061701461.Claim", [Glued]) or into their
// price ("0871277810910p/min") must be valid somewhere. Vanity numbers
// ("1-800-FLOWERS", [Vanity]) are read on the keypad. A 5- or 6-digit
// number that an SMS verb points at ("txt WIN to 87121") is a [ShortCode].
//
// The region hint ([WithRegion], or [Policy.ForRegion] per message, such
// as the FromCountry of an inbound SMS) never decides whether a number is
// found: it decides which country a number valid in several is read for,
// and so its E.164 form and [Finding.Number], which a [numbers.Policy] can
// judge ("is this a premium-rate number?").
//
// # What survives
//
// Ordinary text must come through unchanged. Dates and times ("21/05/2011",
// "2011-05-21 08:00"), years and year ranges, prices and amounts with a
// currency ("£1.50", "Rs. 15000000", "$1,234,567.89"), decimals and
// versions ("3.14159", "10.0.19041.1234", "192.168.1.1"), counting
// ("1 2 3 4 5 6 7 8 9") and numbers that a word names as something else
// survive: order, tracking, reference, account, booking and transaction
// numbers, OTP and other codes ("your code is 12345678"). So do the
// reader's own number written with placeholders ("07808 XXXXXX",
// "numbers ending 7548"), which is not a call to action.
//
// A missing space after a full stop ("tomorrow.call", "Hello.How",
// "days.so") makes a domain name out of two words whenever the second is a
// top-level domain, and many are. So a link without a scheme needs
// evidence: www., a path, a common TLD (.com, .net, .org, .uk ...), a
// registry's second level (.co.in, .edu.sg), a shortener, or an evasion.
// Names like README.md and ASP.NET survive, and so do 3.14 and Mr.Smith.
//
// On the UCI SMS Spam Collection (747 spam, 4,827 ham), with no region
// hint or with any of GB, SG, US and IN: 436 spam messages hold a run of
// nine digits or more, and none does after Strip; Strip alters 19 ham
// messages, 16 of them for a genuine link or address and 3 (0.06%) for a
// real phone number; xurls Relaxed alone would alter 62 ham messages
// (1.28%).
//
// # Policy
//
// A [Policy] says which kinds are a call to action, what replaces each kind
// ("[link removed]" by default) and the region hint. Build one with
// [NewPolicy] and share it: it is immutable and safe for concurrent use.
// [Policy.Strip] returns what was removed, for audit; [Policy.Check]
// returns a [*CallToActionError] that carries the findings. A [Finding]
// logged with log/slog shows a phone number masked ([Finding.LogValue]).
//
// # Bounded work
//
// Each text costs time and memory linear in its length, whatever it holds:
// no regular expression runs on it, and each candidate number is short.
// Asking which region a number belongs to costs about a microsecond; a
// text may ask it three times plus once per 64 bytes (the rounds of one
// Strip share the allowance and remember the answers), and past that,
// numbers are found by their shape alone and reported as
// [Finding.Unverified], so that a flood of numbers cannot hide the last
// one. A spam message asks once or twice. Of the inputs of 160 bytes that
// the package's benchmarks build to make a matcher work hard, none takes
// more than three times as long as a typical spam message. Invalid UTF-8
// never matches and is kept byte for byte by Strip.
package sanitize
