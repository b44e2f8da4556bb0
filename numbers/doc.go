// Package numbers decides whether a phone number is safe to text or call,
// before an app pays to reach it.
//
// Twilio's Anti-Fraud Developer's Guide asks apps to validate phone number
// fields "to ensure numbers to expensive routes can't be entered into your
// form ... by filtering by country calling code and call prefix". This
// package does that: [Parse] reads what people type into a [Number], and a
// [Policy] allows or denies it by region, prefix, high-risk destination and
// number type, with a [Decision] whose [Reason] can be logged, counted and
// shown.
//
//	n, err := numbers.Parse(input, "US")
//	if err != nil {
//		return err // a *ParseError: not_a_number, invalid_character, too_short, ...
//	}
//	if d := policy.Check(n, numbers.SMS); !d.Allowed {
//		return d.Err() // a *BlockedError; errors.Is(err, numbers.ErrBlocked)
//	}
//
// # Parsing
//
// [Parse] accepts the ways people write numbers (spaces, dashes, brackets,
// "+", "00" and "011" prefixes, any Unicode digits, extensions, "tel:" URIs)
// and rejects, with a [*ParseError] that says why and where, what
// libphonenumber would quietly turn into some other number: surrounding text
// and letters (unless [AllowVanity]), control and bidi characters, invalid
// UTF-8, oversize input, and impossible lengths. A [Number] carries the E.164
// form, calling code, region, extension and flags for non-geographic numbers
// and for +1 numbers outside the US and Canada (Jamaica's +1 876 is not
// American). [Number.Type] is computed on first use and remembered;
// [UnknownType] means the number matches no known range.
//
// [Recognize] is for digits found in free text, where the region is unknown:
// it reads them in every region whose national format they fit, and the
// region given is only a hint that decides between valid readings. Package
// sanitize finds phone numbers in SMS text with it.
//
// # Policies
//
// A [Policy] is built with [NewPolicy] from options, each a rule:
// [AllowRegions], [DenyRegions], [DenyPrefixes], [AllowPrefixes],
// [DenyDataset], [WithPrefixSet], [AllowTypes], [DenyTypes], the safe lists
// [SafeNumbers] and [SafeBlocks], and [WithName]. Options never fail; NewPolicy
// checks them all and returns an error wrapping [ErrInvalidConfig] that
// names the option at fault. Or take a ready-made policy and extend it with
// [Policy.With]:
//
//   - [SMSVerificationPolicy]: only the regions you expect, for one-time codes.
//   - [ModeratePolicy]: the world minus the high-risk dataset and costly
//     types, strict about unknown ranges on voice.
//
// [Policy.Check] returns a [Decision]: allowed or not, a stable [Reason], the
// rule that fired and, for dataset and prefix-set rules, the entry and its
// source. [Decision.Err] gives a [*BlockedError] for callers that want an
// error. Numbers denied by region or prefix are decided without computing the
// number type, and Check does not allocate. A built Policy is safe for
// concurrent use.
//
// # High-risk data and adaptive blocks
//
// [HighRisk] returns an embedded, versioned [Dataset]: the guide's top ten
// fraudulent destinations, premium-rate ranges and non-geographic codes from
// libphonenumber, and the SMS blocklists of Microsoft Entra and Braze, each
// [Entry] with its category and source. [DenyDataset] denies some or all of
// its categories; [ParseDataset] loads your own.
//
// A [PrefixSet] holds blocked prefixes, with expiries, that change while the
// policies that consult it ([WithPrefixSet]) serve: an adaptive defense that
// sees codes sent to a range but never confirmed adds an [Entry] for an hour,
// and checks deny that range with [ReasonPrefixBlocked] until it expires;
// an entry that allows ([Entry.Allow]) keeps a number, or a narrower range,
// usable inside it (the longest entry decides).
// Its zero value is ready to use; its Now field takes a fake clock in tests.
//
// # Performance
//
// libphonenumber (github.com/nyaruka/phonenumbers) answers with regular
// expressions, about 10 to 15 microseconds a number. This package gives the
// same answers faster: the metadata patterns of each region are compiled, on
// first use of a calling code, into one automaton over the ten digits (under
// 1 MiB for all regions), so that a single walk of the national number
// yields its region, its type and whether a national or international prefix
// applies; and plain input ("+1 415-555-2671", or "(415) 555-2671",
// "07911 123456" and "011 44 7911 123456" with a default region) is parsed
// without libphonenumber's parser. Parse and [Number.Type] then take a few
// hundred nanoseconds and two allocations. Other input (extensions, letters,
// Unicode digits, "tel:" URIs, prefixes that are patterns rather than plain
// digits, national prefixes with carrier codes or transform rules) goes
// through libphonenumber; either way the result is the same, which the
// package's differential and fuzz tests check against libphonenumber alone
// (on a sample by default, on every generated case with ANTIFRAUD_LONG=1).
//
// # Logging
//
// A Number prints and logs masked: "+44******0123" ([Number.String],
// [Number.LogValue]); [Mask] masks an E.164 string. Errors never carry the
// number.
package numbers
