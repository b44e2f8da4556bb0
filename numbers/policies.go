package numbers

// Ready-made policies, in the manner of bluemonday's UGCPolicy: each is a
// starting point that [Policy.With] can extend.

// moderateDataset is the part of the high-risk dataset that the moderate and
// voice policies deny.
func moderateDataset() *Dataset {
	return HighRisk().Filter(CategoryTopTen, CategoryPremiumRate, CategoryNonGeographic)
}

// SMSVerificationPolicy returns a policy for sending verification codes to
// users of the given regions only (ISO 3166-1 alpha-2 codes such as "US",
// "CA"): the guide's "restrict calling only to countries you expect". On top
// of the region allow-list it denies the premium-rate ranges of [HighRisk],
// and applies the default type rules (texts to MOBILE and
// FIXED_LINE_OR_MOBILE only; see [NewPolicy]). Numbers of allowed regions
// outside the known ranges are allowed, with [ReasonUnknownRange], so that
// stale metadata does not lock out users with new numbers.
//
// It returns an error wrapping [ErrConfig] when no region is given or a code
// is unknown.
func SMSVerificationPolicy(regions ...string) (*Policy, error) {
	if len(regions) == 0 {
		return nil, configError("SMSVerificationPolicy needs at least one region")
	}
	return NewPolicy(
		WithName("numbers.SMSVerificationPolicy"),
		AllowRegions(regions...),
		DenyDataset(HighRisk().Filter(CategoryPremiumRate)),
		AllowUnknownRanges(),
	)
}

// ModeratePolicy returns a policy for apps that serve the whole world but
// not its known fraud destinations: it denies the top-ten, premium-rate and
// non-geographic entries of [HighRisk] and applies the default type rules
// (see [NewPolicy]). Numbers outside the known ranges are allowed for SMS and
// WhatsApp (one wasted message at worst) and denied for voice.
func ModeratePolicy() *Policy {
	return MustPolicy(
		WithName("numbers.ModeratePolicy"),
		DenyDataset(moderateDataset()),
		AllowUnknownRanges(SMS, WhatsApp),
	)
}

// VoicePolicy returns a policy for apps that place calls (click-to-call,
// voice verification), where a pumped call is billed by the minute: like
// [ModeratePolicy], but numbers outside the known ranges are denied on every
// channel, and on voice the costly types (PREMIUM_RATE, SHARED_COST, UAN,
// PERSONAL_NUMBER, PAGER, VOICEMAIL) are denied. Extend it with
// DenyTypes(Voice, VoIP, TollFree) where those are not wanted either.
func VoicePolicy() *Policy {
	return MustPolicy(
		WithName("numbers.VoicePolicy"),
		DenyDataset(moderateDataset()),
		DenyUnknownRanges(),
	)
}
