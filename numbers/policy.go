package numbers

import (
	"github.com/nyaruka/phonenumbers/v2"
	"slices"
	"strconv"
	"strings"
)

// Policy decides whether a number may be texted or called. Build one with
// [NewPolicy], start from a ready-made one ([SMSVerificationPolicy],
// [ModeratePolicy], [VoicePolicy]), and derive variants with [Policy.With].
//
// [Policy.Check] applies the rules in this order; the first that decides
// wins:
//
//  1. Safe list ([SafeNumbers], [SafeBlocks]): allowed, whatever else says.
//  2. Region allow-list and deny-list ([AllowRegions], [DenyRegions]).
//  3. Prefix rules by longest match on the E.164 digits: [DenyPrefixes],
//     [AllowPrefixes], [DenyCallingCodes] and the entries of [DenyDataset].
//     A policy's own rules win over dataset entries of the same length.
//  4. Prefix sets ([WithPrefixSet]), which change while serving.
//  5. Numbers outside the known ranges of the metadata: the policy's stance
//     ([AllowUnknownRanges], [DenyUnknownRanges]).
//  6. Number type for the channel ([AllowTypes], [DenyTypes]).
//
// Steps 1 to 4 do not need the number type, so numbers denied there are
// decided without the cost of computing it.
//
// A built Policy is immutable and safe for concurrent use; the prefix sets it
// consults are safe to change while it is in use.
type Policy struct {
	cfg policyConfig

	allowRegions, denyRegions   regionSet
	hasAllowList                bool
	regionAllowRule, regionDeny Decision // Entry filled in at check time
	trie                        trie
	rules                       []Decision
	safe                        []Decision
	sets                        []*PrefixSet
	typeDeny                    [numChannels]Decision // Entry filled in at check time
	unknown                     [numChannels]Decision
	allowed                     Decision
	notParsed, unknownChan      Decision
	ambiguous                   Decision
	allowedTypes                [numChannels]uint16
	// For numbers whose region the metadata cannot tell (Region ""): does
	// the allow-list hold any region of the calling code, and does the
	// deny-list hold all of them?
	ccAllowed, ccDenied callingCodeSet
}

// Option configures a [Policy]. Options are applied in order.
type Option func(*policyConfig) error

type policyConfig struct {
	name         string
	allowRegions []string
	denyRegions  []string
	rules        []prefixRule
	safe         []prefixRule
	datasets     []*Dataset
	sets         []*PrefixSet
	allowedTypes [numChannels]uint16
	allowUnknown [numChannels]bool
}

type prefixRule struct {
	digits string
	allow  bool   // AllowPrefixes, not a deny rule
	code   bool   // DenyCallingCodes
	exact  bool   // SafeNumbers
	text   string // as given, for the decision
}

func typeMask(types ...Type) uint16 {
	var m uint16
	for _, t := range types {
		m |= 1 << t
	}
	return m
}

// Default type rules: texts go to mobiles only; calls avoid costly types.
var (
	defaultSMSTypes   = typeMask(Mobile, FixedLineOrMobile)
	defaultVoiceTypes = typeMask(FixedLine, Mobile, FixedLineOrMobile, TollFree, VoIP)
)

func defaultConfig() policyConfig {
	var c policyConfig
	c.name = "numbers.NewPolicy"
	c.allowedTypes[SMS] = defaultSMSTypes
	c.allowedTypes[WhatsApp] = defaultSMSTypes
	c.allowedTypes[Voice] = defaultVoiceTypes
	return c
}

func (c policyConfig) clone() policyConfig {
	c.allowRegions = slices.Clone(c.allowRegions)
	c.denyRegions = slices.Clone(c.denyRegions)
	c.rules = slices.Clone(c.rules)
	c.safe = slices.Clone(c.safe)
	c.datasets = slices.Clone(c.datasets)
	c.sets = slices.Clone(c.sets)
	return c
}

// NewPolicy builds a policy from options. With no options it denies nothing
// by region or prefix and applies the default type rules: SMS and WhatsApp
// only to MOBILE and FIXED_LINE_OR_MOBILE numbers; voice to any type but
// PREMIUM_RATE, SHARED_COST, UAN, PERSONAL_NUMBER, PAGER and VOICEMAIL (that
// is, FIXED_LINE, MOBILE, FIXED_LINE_OR_MOBILE, TOLL_FREE and VOIP); numbers
// outside the known ranges denied on every channel.
//
// A bad option value (an unknown region code, a malformed prefix) is an error
// that wraps [ErrConfig].
func NewPolicy(opts ...Option) (*Policy, error) {
	return build(defaultConfig(), opts)
}

// MustPolicy is like [NewPolicy] but panics on error. It is meant for
// policies built from constants at program start.
func MustPolicy(opts ...Option) *Policy {
	p, err := NewPolicy(opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// With returns a new policy with the rules of p and then opts. p is not
// changed.
func (p *Policy) With(opts ...Option) (*Policy, error) {
	return build(p.cfg.clone(), opts)
}

// Name returns the policy's name (see [WithName]).
func (p *Policy) Name() string { return p.cfg.name }

func build(cfg policyConfig, opts []Option) (*Policy, error) {
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return compile(cfg), nil
}

// WithName names the policy. The name is the Source of decisions made by the
// policy's own rules (not dataset entries), so that a log line says which
// policy denied a number.
func WithName(name string) Option {
	return func(c *policyConfig) error {
		c.name = name
		return nil
	}
}

// AllowRegions makes an allow-list: only numbers of these regions (ISO
// 3166-1 alpha-2 codes, or "001" for non-geographic numbers) are allowed.
// Repeated use extends the list. The guide's advice: "restrict calling only
// to countries you expect".
//
// Numbers whose region the metadata cannot tell (an unknown NANP area code)
// are left to the unknown-range stance.
func AllowRegions(regions ...string) Option {
	return func(c *policyConfig) error {
		rs, err := checkRegions(regions)
		c.allowRegions = append(c.allowRegions, rs...)
		return err
	}
}

// DenyRegions denies numbers of these regions (ISO 3166-1 alpha-2 codes, or
// "001" for non-geographic numbers).
func DenyRegions(regions ...string) Option {
	return func(c *policyConfig) error {
		rs, err := checkRegions(regions)
		c.denyRegions = append(c.denyRegions, rs...)
		return err
	}
}

func checkRegions(regions []string) ([]string, error) {
	out := make([]string, 0, len(regions))
	for _, r := range regions {
		r = strings.ToUpper(strings.TrimSpace(r))
		if !knownRegion(r) {
			return nil, configError("unknown region " + strconv.Quote(r))
		}
		out = append(out, r)
	}
	return out, nil
}

// DenyCallingCodes denies whole country calling codes, such as 371 for
// Latvia or 882 for international networks.
func DenyCallingCodes(codes ...int) Option {
	return func(c *policyConfig) error {
		for _, cc := range codes {
			if cc <= 0 || cc > 999 {
				return configError("calling code " + strconv.Itoa(cc) + " out of range 1-999")
			}
			d := strconv.Itoa(cc)
			c.rules = append(c.rules, prefixRule{digits: d, code: true, text: "+" + d})
		}
		return nil
	}
}

// DenyPrefixes denies numbers whose E.164 digits start with one of the
// prefixes: an NANP area code ("+1 876"), an operator range ("+23276"), a
// 1000-number block ("+1415555267"). Prefixes are "+" and up to 15 digits;
// spaces and dashes are ignored.
func DenyPrefixes(prefixes ...string) Option { return prefixOption(prefixes, false) }

// AllowPrefixes makes exceptions to broader deny prefixes and dataset
// entries: by longest match, a number under an allowed prefix is not denied
// by a shorter prefix rule. It does not bypass region, prefix-set, range or
// type rules; use [SafeBlocks] for that.
func AllowPrefixes(prefixes ...string) Option { return prefixOption(prefixes, true) }

func prefixOption(prefixes []string, allow bool) Option {
	return func(c *policyConfig) error {
		for _, p := range prefixes {
			d, err := normalizePrefix(p)
			if err != nil {
				return err
			}
			c.rules = append(c.rules, prefixRule{digits: d, allow: allow, text: "+" + d})
		}
		return nil
	}
}

// SafeNumbers safe-lists exact E.164 numbers, such as a test team's phones
// in a denied country. A safe-listed number is allowed whatever the other
// rules say.
func SafeNumbers(e164 ...string) Option { return safeOption(e164, true) }

// SafeBlocks safe-lists every number under the prefixes (for example a
// company's own 1000-number block). Like [SafeNumbers], it wins over every
// deny rule.
func SafeBlocks(prefixes ...string) Option { return safeOption(prefixes, false) }

func safeOption(prefixes []string, exact bool) Option {
	return func(c *policyConfig) error {
		for _, p := range prefixes {
			d, err := normalizePrefix(p)
			if err != nil {
				return err
			}
			c.safe = append(c.safe, prefixRule{digits: d, exact: exact, text: "+" + d})
		}
		return nil
	}
}

// DenyDataset denies the prefixes of a dataset, such as [HighRisk] or part
// of it ([Dataset.Filter]). Decisions name the entry and its source. Datasets
// added first win over later ones for the same prefix.
func DenyDataset(d *Dataset) Option {
	return func(c *policyConfig) error {
		if d == nil {
			return configError("nil dataset")
		}
		c.datasets = append(c.datasets, d)
		return nil
	}
}

// WithPrefixSet makes the policy consult s on every check: a number under an
// active entry is denied with [ReasonPrefixBlocked], unless safe-listed.
func WithPrefixSet(s *PrefixSet) Option {
	return func(c *policyConfig) error {
		if s == nil || s.snap.Load() == nil {
			return configError("prefix set not made by NewPrefixSet")
		}
		c.sets = append(c.sets, s)
		return nil
	}
}

// AllowTypes allows number types on a channel, in addition to those already
// allowed; for example AllowTypes(SMS, FixedLine) for landlines that receive
// texts as voice, or AllowTypes(Voice, PremiumRate) for an app that must call
// premium numbers.
func AllowTypes(ch Channel, types ...Type) Option {
	return func(c *policyConfig) error {
		if err := checkTypes(ch, types); err != nil {
			return err
		}
		c.allowedTypes[ch] |= typeMask(types...)
		return nil
	}
}

// DenyTypes denies number types on a channel; for example
// DenyTypes(Voice, VoIP, TollFree).
func DenyTypes(ch Channel, types ...Type) Option {
	return func(c *policyConfig) error {
		if err := checkTypes(ch, types); err != nil {
			return err
		}
		c.allowedTypes[ch] &^= typeMask(types...)
		return nil
	}
}

func checkTypes(ch Channel, types []Type) error {
	if ch >= numChannels {
		return configError("unknown channel " + strconv.Itoa(int(ch)))
	}
	for _, t := range types {
		if t == UnknownType || t >= numTypes {
			return configError("type " + t.String() + " cannot be allowed or denied; see AllowUnknownRanges")
		}
	}
	return nil
}

// AllowUnknownRanges allows, on the given channels (all when none are
// given), numbers that have a possible length but match no range of the
// bundled metadata. Metadata goes stale as countries open new ranges; this
// stance keeps real users of new ranges from being locked out. Decisions
// still carry [ReasonUnknownRange], so such numbers can be counted. Type
// rules do not apply to them (their type is unknown); every other rule does.
func AllowUnknownRanges(channels ...Channel) Option { return unknownOption(channels, true) }

// DenyUnknownRanges denies numbers outside the known ranges on the given
// channels (all when none are given), with [ReasonUnknownRange]. This is the
// default.
func DenyUnknownRanges(channels ...Channel) Option { return unknownOption(channels, false) }

func unknownOption(channels []Channel, allow bool) Option {
	return func(c *policyConfig) error {
		if len(channels) == 0 {
			channels = []Channel{SMS, Voice, WhatsApp}
		}
		for _, ch := range channels {
			if ch >= numChannels {
				return configError("unknown channel " + strconv.Itoa(int(ch)))
			}
			c.allowUnknown[ch] = allow
		}
		return nil
	}
}

// compile turns a configuration into the structures Check walks.
func compile(cfg policyConfig) *Policy {
	p := &Policy{cfg: cfg, trie: newTrie(), sets: cfg.sets, allowedTypes: cfg.allowedTypes}
	src := cfg.name
	for _, r := range cfg.allowRegions {
		p.allowRegions.add(r)
	}
	p.hasAllowList = len(cfg.allowRegions) > 0
	for _, r := range cfg.denyRegions {
		p.denyRegions.add(r)
	}
	p.regionAllowRule = Decision{Reason: ReasonRegionNotAllowed, Rule: "region allow-list " + strings.Join(cfg.allowRegions, " "), Source: src}
	p.regionDeny = Decision{Reason: ReasonRegionDenied, Rule: "region deny-list " + strings.Join(cfg.denyRegions, " "), Source: src}

	for _, r := range cfg.rules {
		d := Decision{Reason: ReasonPrefixDenied, Rule: "deny prefix", Entry: r.text, Source: src}
		switch {
		case r.allow:
			d = Decision{Allowed: true, Reason: ReasonAllowed, Rule: "allow prefix", Entry: r.text, Source: src}
		case r.code:
			d = Decision{Reason: ReasonCallingCodeDenied, Rule: "deny calling code", Entry: r.text, Source: src}
		}
		p.trie.node(r.digits).rule = int32(len(p.rules)) // later rules override earlier ones
		p.rules = append(p.rules, d)
	}
	for _, ds := range cfg.datasets {
		for _, e := range ds.entries {
			n := p.trie.node(e.Prefix[1:])
			if n.rule >= 0 {
				continue // the policy's own rules and earlier datasets win
			}
			n.rule = int32(len(p.rules))
			p.rules = append(p.rules, Decision{
				Reason: ReasonHighRisk,
				Rule:   "high-risk dataset " + ds.version + " " + string(e.Category),
				Entry:  e.String(),
				Source: e.Source,
			})
		}
	}
	for _, r := range cfg.safe {
		n := p.trie.node(r.digits)
		d := Decision{Allowed: true, Reason: ReasonSafeListed, Rule: "safe block", Entry: r.text, Source: src}
		if r.exact {
			d.Rule = "safe number"
			d.Entry = Mask(r.text)
			n.exact = int32(len(p.safe))
		} else {
			n.safe = int32(len(p.safe))
		}
		p.safe = append(p.safe, d)
	}

	for ch := range Channel(numChannels) {
		var names []string
		for t := range Type(numTypes) {
			if cfg.allowedTypes[ch]&(1<<t) != 0 {
				names = append(names, t.String())
			}
		}
		rule := ch.String() + " allows " + strings.Join(names, ", ")
		if len(names) == 0 {
			rule = ch.String() + " allows no type"
		}
		p.typeDeny[ch] = Decision{Reason: ReasonTypeDenied, Rule: rule, Source: src}
		if cfg.allowUnknown[ch] {
			p.unknown[ch] = Decision{Allowed: true, Reason: ReasonUnknownRange, Rule: ch.String() + " allows numbers outside known ranges", Source: src}
		} else {
			p.unknown[ch] = Decision{Reason: ReasonUnknownRange, Rule: ch.String() + " denies numbers outside known ranges", Source: src}
		}
	}
	for cc := 1; cc < 1000; cc++ {
		regions := phonenumbers.GetRegionCodesForCountryCode(cc)
		if len(regions) == 0 {
			continue
		}
		allowed, denied := false, true
		for _, r := range regions {
			allowed = allowed || p.allowRegions.has(r)
			denied = denied && p.denyRegions.has(r)
		}
		p.ccAllowed.set(cc, allowed)
		p.ccDenied.set(cc, denied)
	}
	p.allowed = Decision{Allowed: true, Reason: ReasonAllowed}
	p.ambiguous = Decision{Reason: ReasonUnknownRange, Rule: "number outside known ranges whose E.164 form reads as another number", Source: src}
	p.notParsed = Decision{Reason: ReasonNotParsed, Rule: "number not produced by Parse", Source: src}
	p.unknownChan = Decision{Reason: ReasonUnknownChannel, Rule: "unknown channel", Source: src}
	return p
}

// Check decides whether n may be reached on channel ch. It does not
// allocate. The number type is computed (once per Number) only when no
// earlier rule decided; see [Policy] for the order of the rules.
func (p *Policy) Check(n Number, ch Channel) Decision {
	if n.lazy == nil || len(n.E164) < 2 {
		return p.notParsed
	}
	if ch >= numChannels {
		return p.unknownChan
	}
	rule, safe := p.trie.match(n.E164[1:])
	if safe >= 0 {
		return p.safe[safe]
	}
	if n.Region != "" {
		if p.hasAllowList && !p.allowRegions.has(n.Region) {
			d := p.regionAllowRule
			d.Entry = n.Region
			return d
		}
		if p.denyRegions.has(n.Region) {
			d := p.regionDeny
			d.Entry = n.Region
			return d
		}
	} else {
		// The calling code is shared and the number matches none of its
		// regions: decide on the regions it could belong to.
		if p.hasAllowList && !p.ccAllowed.has(n.CallingCode) {
			d := p.regionAllowRule
			d.Entry = n.E164[:len(n.E164)-len(n.NationalNumber)]
			return d
		}
		if p.ccDenied.has(n.CallingCode) {
			d := p.regionDeny
			d.Entry = n.E164[:len(n.E164)-len(n.NationalNumber)]
			return d
		}
	}
	if rule >= 0 && !p.rules[rule].Allowed {
		return p.rules[rule]
	}
	for _, s := range p.sets {
		if e, ok := s.Lookup(n.E164); ok {
			return Decision{Reason: ReasonPrefixBlocked, Rule: s.rule, Entry: e.desc, Source: e.Source}
		}
	}
	t, canonical := n.typeInfo()
	if t == UnknownType {
		if !canonical {
			return p.ambiguous
		}
		return p.unknown[ch]
	}
	if p.allowedTypes[ch]&(1<<t) == 0 {
		d := p.typeDeny[ch]
		d.Entry = typeNames[t]
		return d
	}
	return p.allowed
}

// CheckString parses s (see [Parse]) and checks the number. When s cannot be
// parsed it returns the [*ParseError] and a denying decision whose Reason is
// the parse error's. A denial by the policy is not an error: look at
// [Decision.Allowed], or use [Decision.Err].
func (p *Policy) CheckString(s, defaultRegion string, ch Channel, opts ...ParseOption) (Number, Decision, error) {
	n, err := Parse(s, defaultRegion, opts...)
	if err != nil {
		d := Decision{Reason: ReasonNotANumber, Rule: "parse"}
		if pe, ok := err.(*ParseError); ok {
			d.Reason = pe.Reason
		}
		return n, d, err
	}
	return n, p.Check(n, ch), nil
}

// Decision is the outcome of [Policy.Check]: whether the number is allowed,
// a stable reason code, and the rule that decided, with the dataset entry and
// its source when a dataset rule fired.
type Decision struct {
	// Allowed is the verdict.
	Allowed bool
	// Reason is a stable code for the rule that decided; [ReasonAllowed]
	// when no rule objected.
	Reason Reason
	// Rule describes the rule that decided, such as "region allow-list US CA"
	// or "high-risk dataset 2026.11.24 top10"; empty when no rule objected.
	Rule string
	// Entry is what the rule matched: the region, the prefix, the type, or
	// the dataset entry with its description.
	Entry string
	// Source is where the rule comes from: the URL of a dataset entry's
	// source, the source of a prefix-set entry, or the policy's name.
	Source string
}

// String explains the decision in one line, such as
//
//	denied high_risk_destination: high-risk dataset 2026.11.24 top10 [+371 Latvia (LV): guide top ten #1 Latvia] (source: https://...)
func (d Decision) String() string {
	var b strings.Builder
	if d.Allowed {
		b.WriteString("allowed")
	} else {
		b.WriteString("denied")
	}
	if d.Reason != ReasonAllowed && d.Reason != "" {
		b.WriteString(" " + string(d.Reason))
	}
	if d.Rule != "" {
		b.WriteString(": " + d.Rule)
	}
	if d.Entry != "" {
		b.WriteString(" [" + d.Entry + "]")
	}
	if d.Source != "" {
		b.WriteString(" (source: " + d.Source + ")")
	}
	return b.String()
}

// Err returns nil when the decision allows, and a [*BlockedError] (which
// unwraps to [ErrBlocked]) when it denies.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &BlockedError{Decision: d}
}

// callingCodeSet is a set of calling codes 1 to 999.
type callingCodeSet [1000/64 + 1]uint64

func (s *callingCodeSet) set(cc int, on bool) {
	if on {
		s[cc/64] |= 1 << (cc % 64)
	}
}

func (s *callingCodeSet) has(cc int) bool {
	return cc > 0 && cc < 1000 && s[cc/64]&(1<<(cc%64)) != 0
}

// regionSet is a set of region codes: a bit per pair of upper-case letters,
// and one for "001".
type regionSet struct {
	bits   [(26*26 + 63) / 64]uint64
	nonGeo bool
}

func regionIndex(r string) (int, bool) {
	if len(r) != 2 || r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z' {
		return 0, false
	}
	return int(r[0]-'A')*26 + int(r[1]-'A'), true
}

func (s *regionSet) add(r string) {
	if r == "001" {
		s.nonGeo = true
		return
	}
	if i, ok := regionIndex(r); ok {
		s.bits[i/64] |= 1 << (i % 64)
	}
}

func (s *regionSet) has(r string) bool {
	if r == "001" {
		return s.nonGeo
	}
	i, ok := regionIndex(r)
	return ok && s.bits[i/64]&(1<<(i%64)) != 0
}
