package numbers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers/v2"
)

// Policy decides whether a number may be texted or called. Build one with
// [NewPolicy], start from a ready-made one ([SMSVerificationPolicy],
// [ModeratePolicy]), and derive variants with [Policy.With].
//
// [Policy.Check] applies the rules in this order; the first that decides
// wins:
//
//  1. Safe list ([SafeNumbers], [SafeBlocks]): allowed, whatever else says.
//  2. Region allow-list and deny-list ([AllowRegions], [DenyRegions]).
//  3. Prefix rules by longest match on the E.164 digits: [DenyPrefixes],
//     [AllowPrefixes] and the entries of [DenyDataset]. A policy's own
//     prefixes win over dataset entries of the same length.
//  4. Prefix sets ([WithPrefixSet]), which change while serving.
//  5. Number type for the channel ([AllowTypes], [DenyTypes]), where
//     [UnknownType] stands for numbers outside the known ranges of the
//     metadata.
//
// Steps 1 to 4 do not need the number type, so numbers denied there are
// decided without the cost of computing it.
//
// A built Policy is immutable and safe for concurrent use; the prefix sets it
// consults are safe to change while it is in use.
type Policy struct {
	cfg config

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

// Option configures a [Policy]. Options record what they are given and
// never fail; [NewPolicy] and [Policy.With] check them all, in order.
type Option func(*config)

// config is what the options of a Policy record, unchecked.
type config struct {
	name     string
	regions  []regionRule
	prefixes []prefixRule
	datasets []datasetRule
	sets     []*PrefixSet
	types    []typeRule
}

type ruleKind uint8

const (
	denyPrefix ruleKind = iota
	allowPrefix
	safeBlock
	safeNumber
)

var ruleOption = [...]string{denyPrefix: "DenyPrefixes", allowPrefix: "AllowPrefixes", safeBlock: "SafeBlocks", safeNumber: "SafeNumbers"}

type regionRule struct {
	allow   bool
	regions []string
}

type prefixRule struct {
	kind   ruleKind
	prefix string // as given
}

type datasetRule struct {
	d          *Dataset
	categories []string
}

type typeRule struct {
	allow bool
	ch    Channel
	types []Type
}

func (c config) clone() config {
	c.regions = slices.Clone(c.regions)
	c.prefixes = slices.Clone(c.prefixes)
	c.datasets = slices.Clone(c.datasets)
	c.sets = slices.Clone(c.sets)
	c.types = slices.Clone(c.types)
	return c
}

func typeMask(types ...Type) uint16 {
	var m uint16
	for _, t := range types {
		m |= 1 << t
	}
	return m
}

// Default type rules: texts go to mobiles only; calls avoid costly types.
// Numbers outside the known ranges (UnknownType) are denied everywhere.
var (
	defaultSMSTypes   = typeMask(Mobile, FixedLineOrMobile)
	defaultVoiceTypes = typeMask(FixedLine, Mobile, FixedLineOrMobile, TollFree, VoIP)
)

// NewPolicy builds a policy from options, applied in order. With no options
// it denies nothing by region or prefix and applies the default type rules:
// SMS and WhatsApp only to MOBILE and FIXED_LINE_OR_MOBILE numbers; voice to
// any type but PREMIUM_RATE, SHARED_COST, UAN, PERSONAL_NUMBER, PAGER and
// VOICEMAIL (that is, FIXED_LINE, MOBILE, FIXED_LINE_OR_MOBILE, TOLL_FREE and
// VOIP); numbers outside the known ranges ([UnknownType]) denied on every
// channel.
//
// A bad option value (an unknown region code, a malformed prefix, a nil
// dataset) is an error that wraps [ErrInvalidConfig] and names the option.
func NewPolicy(opts ...Option) (*Policy, error) {
	return build(config{name: "numbers.NewPolicy"}, opts)
}

// With returns a new policy with the rules of p and then opts. p is not
// changed.
func (p *Policy) With(opts ...Option) (*Policy, error) {
	return build(p.cfg.clone(), opts)
}

func build(cfg config, opts []Option) (*Policy, error) {
	for _, o := range opts {
		o(&cfg)
	}
	return compile(cfg)
}

// WithName names the policy. The name is the Source of decisions made by the
// policy's own rules (not dataset or prefix-set entries), so that a log line
// says which policy denied a number.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// AllowRegions makes an allow-list: only numbers of these regions (ISO
// 3166-1 alpha-2 codes, in any case, or "001" for non-geographic numbers)
// are allowed. Repeated use extends the list. The guide's advice: "restrict
// calling only to countries you expect".
//
// A number whose region the metadata cannot tell (an unknown NANP area
// code) is allowed when a region of its calling code is.
func AllowRegions(regions ...string) Option {
	regions = slices.Clone(regions)
	return func(c *config) { c.regions = append(c.regions, regionRule{true, regions}) }
}

// DenyRegions denies numbers of these regions (ISO 3166-1 alpha-2 codes, in
// any case, or "001" for non-geographic numbers). A number whose region the
// metadata cannot tell is denied when every region of its calling code is.
func DenyRegions(regions ...string) Option {
	regions = slices.Clone(regions)
	return func(c *config) { c.regions = append(c.regions, regionRule{false, regions}) }
}

// DenyPrefixes denies numbers whose E.164 digits start with one of the
// prefixes: a whole calling code ("+371"), an NANP area code ("+1 876"), an
// operator range ("+23276"), a 1000-number block ("+1415555267"). Prefixes
// are "+" and up to 15 digits; spaces and dashes are ignored.
func DenyPrefixes(prefixes ...string) Option { return prefixOption(denyPrefix, prefixes) }

// AllowPrefixes makes exceptions to broader deny prefixes and dataset
// entries: by longest match, a number under an allowed prefix is not denied
// by a shorter prefix rule. It does not bypass region, prefix-set or type
// rules; use [SafeBlocks] for that.
func AllowPrefixes(prefixes ...string) Option { return prefixOption(allowPrefix, prefixes) }

// SafeNumbers safe-lists exact E.164 numbers, such as a test team's phones
// in a denied country. A safe-listed number is allowed whatever the other
// rules say.
func SafeNumbers(e164 ...string) Option { return prefixOption(safeNumber, e164) }

// SafeBlocks safe-lists every number under the prefixes (for example a
// company's own 1000-number block). Like [SafeNumbers], it wins over every
// other rule, prefix sets included.
func SafeBlocks(prefixes ...string) Option { return prefixOption(safeBlock, prefixes) }

func prefixOption(kind ruleKind, prefixes []string) Option {
	prefixes = slices.Clone(prefixes)
	return func(c *config) {
		for _, p := range prefixes {
			c.prefixes = append(c.prefixes, prefixRule{kind, p})
		}
	}
}

// DenyDataset denies the entries of a dataset, such as [HighRisk], in the
// given categories, or all of them when none are given. Decisions name the
// entry and its source. Datasets added first win over later ones for the
// same prefix. A category that no entry of d has is an error, so that a
// typo does not deny nothing, and so is an entry that [ParseDataset] would
// reject, that has an expiry or that allows (those belong in a [PrefixSet]).
//
// The policy copies what it needs: changing d later does not change it.
func DenyDataset(d *Dataset, categories ...string) Option {
	categories = slices.Clone(categories)
	return func(c *config) { c.datasets = append(c.datasets, datasetRule{d, categories}) }
}

// WithPrefixSet makes the policy consult s on every check: a number under an
// active entry is denied with [ReasonPrefixBlocked], unless safe-listed or
// under a longer active entry of s that allows ([Entry.Allow]).
func WithPrefixSet(s *PrefixSet) Option {
	return func(c *config) { c.sets = append(c.sets, s) }
}

// AllowTypes allows number types on a channel, in addition to those already
// allowed; for example AllowTypes(SMS, FixedLine) for landlines that receive
// texts as voice, or AllowTypes(Voice, PremiumRate) for an app that must call
// premium numbers.
//
// AllowTypes(ch, UnknownType) allows numbers that have a possible length but
// match no range of the bundled metadata. Metadata goes stale as countries
// open new ranges; this stance keeps real users of new ranges from being
// locked out. Decisions on them carry [ReasonUnknownRange], so they can be
// counted, and every rule but the type rules still applies. A number whose
// E.164 form would parse as another number stays denied.
func AllowTypes(ch Channel, types ...Type) Option {
	types = slices.Clone(types)
	return func(c *config) { c.types = append(c.types, typeRule{true, ch, types}) }
}

// DenyTypes denies number types on a channel; for example
// DenyTypes(Voice, VoIP, TollFree), or DenyTypes(SMS, UnknownType) to undo
// the allowance for unknown ranges of a ready-made policy.
func DenyTypes(ch Channel, types ...Type) Option {
	types = slices.Clone(types)
	return func(c *config) { c.types = append(c.types, typeRule{false, ch, types}) }
}

// checkRegions upper-cases regions and checks that they are known.
func checkRegions(opt string, regions []string) ([]string, error) {
	out := make([]string, 0, len(regions))
	for _, r := range regions {
		u := strings.ToUpper(strings.TrimSpace(r))
		if !knownRegion(u) {
			return nil, configError(opt + ": unknown region " + strconv.Quote(r))
		}
		out = append(out, u)
	}
	return out, nil
}

// compile checks a configuration and turns it into the structures Check
// walks.
func compile(cfg config) (*Policy, error) {
	p := &Policy{cfg: cfg, trie: newTrie()}
	src := cfg.name
	var allowList, denyList []string
	for _, r := range cfg.regions {
		opt := "DenyRegions"
		if r.allow {
			opt = "AllowRegions"
		}
		rs, err := checkRegions(opt, r.regions)
		if err != nil {
			return nil, err
		}
		if r.allow {
			allowList = append(allowList, rs...)
		} else {
			denyList = append(denyList, rs...)
		}
	}
	for _, r := range allowList {
		p.allowRegions.add(r)
	}
	p.hasAllowList = len(allowList) > 0
	for _, r := range denyList {
		p.denyRegions.add(r)
	}
	p.regionAllowRule = Decision{Reason: ReasonRegionDenied, Rule: "region allow-list " + strings.Join(allowList, " "), Source: src}
	p.regionDeny = Decision{Reason: ReasonRegionDenied, Rule: "region deny-list " + strings.Join(denyList, " "), Source: src}

	for _, r := range cfg.prefixes {
		d, err := normalizePrefix(r.prefix)
		if err != nil {
			return nil, configError(ruleOption[r.kind] + ": " + err.Error())
		}
		n := p.trie.node(d)
		text := "+" + d
		switch r.kind {
		case denyPrefix, allowPrefix:
			dec := Decision{Reason: ReasonPrefixDenied, Rule: "deny prefix", Entry: text, Source: src}
			if r.kind == allowPrefix {
				dec = Decision{Allowed: true, Reason: ReasonAllowed, Rule: "allow prefix", Entry: text, Source: src}
			}
			n.rule = int32(len(p.rules)) // later rules override earlier ones
			p.rules = append(p.rules, dec)
		case safeBlock:
			n.safe = int32(len(p.safe))
			p.safe = append(p.safe, Decision{Allowed: true, Reason: ReasonAllowed, Rule: "safe block", Entry: text, Source: src})
		case safeNumber:
			n.exact = int32(len(p.safe))
			p.safe = append(p.safe, Decision{Allowed: true, Reason: ReasonAllowed, Rule: "safe number", Entry: Mask(text), Source: src})
		}
	}
	for i, ds := range cfg.datasets {
		if ds.d == nil {
			return nil, configError("DenyDataset: nil dataset")
		}
		// Keep what was denied, so that With does not see later changes
		// of ds.d.
		kept := &Dataset{Version: ds.d.Version}
		p.cfg.datasets[i] = datasetRule{d: kept}
		for _, c := range ds.categories {
			if !slices.ContainsFunc(ds.d.Entries, func(e Entry) bool { return e.Category == c }) {
				return nil, configError("DenyDataset: no entry of dataset " + strconv.Quote(ds.d.Version) + " has category " + strconv.Quote(c))
			}
		}
		for i, e := range ds.d.Entries {
			if len(ds.categories) > 0 && !slices.Contains(ds.categories, e.Category) {
				continue
			}
			if err := e.validate(); err != nil {
				return nil, configError(fmt.Sprintf("DenyDataset: dataset %q entry %d: %v", ds.d.Version, i, err))
			}
			if !e.Expires.IsZero() || e.Allow {
				return nil, configError(fmt.Sprintf("DenyDataset: dataset %q entry %d has an expiry or allows; use a PrefixSet", ds.d.Version, i))
			}
			e.Regions = slices.Clone(e.Regions)
			kept.Entries = append(kept.Entries, e)
			digits, _ := normalizePrefix(e.Prefix)
			e.Prefix = "+" + digits
			n := p.trie.node(digits)
			if n.rule >= 0 {
				continue // the policy's own rules and earlier datasets win
			}
			n.rule = int32(len(p.rules))
			p.rules = append(p.rules, Decision{
				Reason: ReasonHighRisk,
				Rule:   "high-risk dataset " + ds.d.Version + " " + e.Category,
				Entry:  e.describe(),
				Source: e.Source,
			})
		}
	}
	for _, s := range cfg.sets {
		if s == nil {
			return nil, configError("WithPrefixSet: nil prefix set")
		}
	}
	p.sets = cfg.sets

	p.allowedTypes[SMS] = defaultSMSTypes
	p.allowedTypes[WhatsApp] = defaultSMSTypes
	p.allowedTypes[Voice] = defaultVoiceTypes
	for _, r := range cfg.types {
		opt := "DenyTypes"
		if r.allow {
			opt = "AllowTypes"
		}
		i, ok := channelIndex(r.ch)
		if !ok {
			return nil, configError(opt + ": unknown channel " + strconv.Itoa(int(r.ch)))
		}
		for _, t := range r.types {
			if t >= numTypes {
				return nil, configError(opt + ": unknown type " + t.String())
			}
		}
		if r.allow {
			p.allowedTypes[i] |= typeMask(r.types...)
		} else {
			p.allowedTypes[i] &^= typeMask(r.types...)
		}
	}
	for ch := range Channel(numChannels) {
		i, _ := channelIndex(ch)
		var names []string
		for t := FixedLine; t < numTypes; t++ {
			if p.allowedTypes[i]&(1<<t) != 0 {
				names = append(names, t.String())
			}
		}
		rule := ch.String() + " allows " + strings.Join(names, ", ")
		if len(names) == 0 {
			rule = ch.String() + " allows no type"
		}
		p.typeDeny[i] = Decision{Reason: ReasonTypeDenied, Rule: rule, Source: src}
		if p.allowedTypes[i]&(1<<UnknownType) != 0 {
			p.unknown[i] = Decision{Allowed: true, Reason: ReasonUnknownRange, Rule: ch.String() + " allows numbers outside known ranges", Source: src}
		} else {
			p.unknown[i] = Decision{Reason: ReasonUnknownRange, Rule: ch.String() + " denies numbers outside known ranges", Source: src}
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
	p.notParsed = Decision{Reason: ReasonNotANumber, Rule: "number not produced by Parse", Source: src}
	p.unknownChan = Decision{Reason: ReasonTypeDenied, Rule: "unknown channel", Source: src}
	return p, nil
}

// channelIndex returns the index of ch in a Policy's per-channel tables.
func channelIndex(ch Channel) (int, bool) { return int(ch), ch < numChannels }

// Check decides whether n may be reached on channel ch. It does not
// allocate. The number type is computed (once per Number) only when no
// earlier rule decided; see [Policy] for the order of the rules.
//
// A Number that did not come from [Parse] is denied with [ReasonNotANumber];
// a Channel this package does not define, with [ReasonTypeDenied].
func (p *Policy) Check(n Number, ch Channel) Decision {
	if n.lazy == nil || len(n.E164) < 2 {
		return p.notParsed
	}
	ci, ok := channelIndex(ch)
	if !ok {
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
		if d, ok := s.check(n.E164); ok {
			return d
		}
	}
	t, canonical := n.typeInfo()
	if t == UnknownType {
		if !canonical {
			return p.ambiguous
		}
		return p.unknown[ci]
	}
	if p.allowedTypes[ci]&(1<<t) == 0 {
		d := p.typeDeny[ci]
		d.Entry = typeNames[t]
		return d
	}
	return p.allowed
}

// Decision is the outcome of [Policy.Check]: whether the number is allowed,
// a stable reason code, and the rule that decided, with the dataset or
// prefix-set entry and its source when one of those fired.
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
	// the dataset or prefix-set entry with its description. A safe-listed
	// number is masked.
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
