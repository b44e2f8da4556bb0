package numbers

// Ready-made policies, in the manner of bluemonday's UGCPolicy: each is a
// starting point that [Policy.With] can extend.

// SMSVerificationPolicy returns a policy for sending verification codes to
// users of the given regions only (ISO 3166-1 alpha-2 codes such as "US",
// "CA"): the guide's "restrict calling only to countries you expect". On top
// of the region allow-list it denies the premium-rate ranges of [HighRisk],
// and applies the default type rules (texts to MOBILE and
// FIXED_LINE_OR_MOBILE only; see [NewPolicy]). Numbers of allowed regions
// outside the known ranges are allowed on every channel, with
// [ReasonUnknownRange], so that stale metadata does not lock out users with
// new numbers.
//
// It returns an error wrapping [ErrInvalidConfig] when no region is given or
// a code is unknown.
func SMSVerificationPolicy(regions ...string) (*Policy, error) {
	if len(regions) == 0 {
		return nil, configError("SMSVerificationPolicy: no region")
	}
	return NewPolicy(
		WithName("numbers.SMSVerificationPolicy"),
		AllowRegions(regions...),
		DenyDataset(HighRisk(), CategoryPremiumRate),
		AllowTypes(SMS, UnknownType),
		AllowTypes(Voice, UnknownType),
		AllowTypes(WhatsApp, UnknownType),
	)
}

// ModeratePolicy returns a policy for apps that text or call the whole world
// but not its known fraud destinations: it denies the top-ten, premium-rate
// and non-geographic entries of [HighRisk] and applies the default type
// rules (see [NewPolicy]), which on [Voice] deny the costly types
// (PREMIUM_RATE, SHARED_COST, UAN, PERSONAL_NUMBER, PAGER, VOICEMAIL).
// Numbers outside the known ranges are allowed for SMS and WhatsApp (one
// wasted message at worst) and denied for voice, where a pumped call is
// billed by the minute. Extend it with DenyTypes(Voice, VoIP, TollFree)
// where those are not wanted either.
func ModeratePolicy() *Policy {
	p, err := NewPolicy(
		WithName("numbers.ModeratePolicy"),
		DenyDataset(HighRisk(), CategoryTopTen, CategoryPremiumRate, CategoryNonGeographic),
		AllowTypes(SMS, UnknownType),
		AllowTypes(WhatsApp, UnknownType),
	)
	if err != nil {
		panic("numbers: ModeratePolicy: " + err.Error()) // the embedded dataset is checked by the tests
	}
	return p
}
