// Package sanitize takes the call to action out of a text message: the links,
// email addresses, phone numbers and short codes that a phishing SMS wants
// its reader to follow, call or text.
//
// Twilio's Anti-Fraud Developer's Guide advises to "strip out hyperlinks
// and/or phone numbers from inbound messages", which makes them useless for
// phishing, and to make sure no arbitrary message can be sent from an app
// that lets users compose them. [Strip] does the first, [Check] the second:
//
//	res := sanitize.Strip(body)          // res.Text is safe to show
//	err := sanitize.Check(userText)      // errors.Is(err, sanitize.ErrCallToAction)
//
// # What is found
//
// [Find] lists each [Finding] with its [Kind], its byte offsets in the
// original text, the matched text and a normalised form: the URL as a
// browser would read it, the number in E.164.
//
// Links are matched by xurls (mvdan.cc/xurls/v2, Relaxed) after undoing
// the ways phishers write them so that matchers miss them, each reported as
// an [Evasion]: hxxp:// and example[.]com ([Defanged]), "example dot com"
// ([SpelledDot]), "www . example . com" ([SpacedDot]), fullwidth letters and
// ideographic full stops ([Fullwidth]), zero-width characters and soft
// hyphens inside the host ([Invisible]), https://www.paypal.com@example.com
// ([Userinfo]), link shorteners ([Shortener]), punycode and mixed-script
// hosts ([Punycode], [MixedScript]).
//
// Phone numbers are candidates cut out of the text and validated by
// libphonenumber (github.com/nyaruka/phonenumbers/v2) for the policy's
// region ([WithRegion]); letters are never handed to it, since it reads them
// as keypad digits. On top of its matcher, numbers glued to words
// ("Call09061701461.Claim", [Glued]), written with lookalike letters
// ("O8OO l23 4567", [Lookalike]), as vanity numbers ("1-800-FLOWERS",
// [Vanity]) or in other scripts' digits ([UnicodeDigits]) are found. A
// 5- or 6-digit number that a call to action points at ("txt WIN to 87121")
// is a [ShortCode].
//
// # What survives
//
// Ordinary text must come through unchanged. A missing space after a full
// stop ("tomorrow.call", "Hello.How", "days.so") makes a domain name out of
// two words whenever the second is a top-level domain, and many are. So a
// link without a scheme needs evidence: www., a path, a common TLD (.com,
// .net, .org, .uk ...), a registry's second level (.co.in, .edu.sg), a
// shortener, or an evasion. Names like README.md and ASP.NET survive, and so
// do prices, times, dates, versions, order numbers ("#12345678"), 3.14 and
// Mr.Smith.
//
// On the UCI SMS Spam Collection (747 spam, 4,827 ham), Strip leaves no
// spam message with a URL that xurls Strict finds or a number that
// libphonenumber validates, and alters 16 ham messages (0.33%), each of
// which carries a genuine link or address; xurls Relaxed alone would alter
// 62 (1.28%).
//
// # Policy
//
// A [Policy] says which kinds are a call to action, what replaces each kind
// ("[link removed]" by default) and which region's national format is read
// for numbers without a country code. Build one with [NewPolicy] and share
// it: it is immutable and safe for concurrent use. [Policy.Strip] returns a
// [Result] that lists what was removed, for audit; [Policy.Check] returns a
// [*CallToActionError] that carries the findings.
//
// # Bounded work
//
// Each text costs time and memory linear in its length. Candidates are cut
// short, and the number of candidates handed to xurls and libphonenumber per
// text is capped; past the cap, candidates are reported (and stripped) as
// [Finding.Unverified] instead of being checked. No SMS comes near the cap.
// Invalid UTF-8 never matches and is kept byte for byte by Strip.
package sanitize
