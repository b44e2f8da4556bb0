package sanitize

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers/v2"
)

// Work limits per text: xurls runs on at most maxURLTries candidates and
// maxURLBytes bytes in all; libphonenumber parses at most maxNumberTries
// candidates (a search inside a run costs findTries). A text of any length
// stays linear: past the limits, candidates are reported as Unverified
// instead of checked. An SMS of 1,600 characters cannot reach them.
const (
	maxURLTries    = 128
	maxURLBytes    = 8 << 10
	maxNumberTries = 512
)

type budget struct{ urls, urlBytes, numbers int }

func (b *budget) url(size int) bool {
	if b.urls <= 0 || b.urlBytes < size {
		b.urls = 0
		return false
	}
	b.urls--
	b.urlBytes -= size
	return true
}

func (b *budget) number(cost int) bool {
	if b.numbers < cost {
		return false
	}
	b.numbers -= cost
	return true
}

// Default replacement texts, by kind.
const (
	DefaultLinkReplacement      = "[link removed]"
	DefaultEmailReplacement     = "[email removed]"
	DefaultPhoneReplacement     = "[number removed]"
	DefaultShortCodeReplacement = "[short code removed]"
)

// DefaultRegion is the region whose national format a [Policy] reads when
// no [WithRegion] option is given. Numbers in international format
// (+44 ..., 0044 ...) are found whatever the region.
const DefaultRegion = "US"

// Policy decides what counts as a call to action and how [Policy.Strip]
// replaces it. Build one with [NewPolicy] and share it: a Policy is
// immutable and safe for concurrent use. The zero Policy is not usable; the
// package-level [Find], [Strip] and [Check] use the defaults.
type Policy struct {
	kinds        Kind
	replacements [4]string // by bit index of Kind
	region       string
}

// Option configures a [Policy].
type Option func(*Policy) error

// WithKinds sets the kinds that [Policy.Strip] removes and [Policy.Check]
// refuses. The default is [AllKinds]. [Policy.Find] reports every kind
// regardless.
func WithKinds(kinds Kind) Option {
	return func(p *Policy) error {
		if kinds == 0 || kinds&^AllKinds != 0 {
			return &PolicyError{Option: "WithKinds", Reason: "need one or more of Link, Email, Phone, ShortCode"}
		}
		p.kinds = kinds
		return nil
	}
}

// WithReplacement sets the text that replaces findings of the given kinds
// (one kind or several). The defaults are "[link removed]",
// "[email removed]", "[number removed]" and "[short code removed]". The
// text may be empty; it must be valid UTF-8, at most 100 bytes, contain no
// digits and nothing that is itself a link or number, so that stripping
// twice changes nothing.
func WithReplacement(kinds Kind, text string) Option {
	return func(p *Policy) error {
		if kinds == 0 || kinds&^AllKinds != 0 {
			return &PolicyError{Option: "WithReplacement", Reason: "need one or more of Link, Email, Phone, ShortCode"}
		}
		if err := checkReplacement(text); err != "" {
			return &PolicyError{Option: "WithReplacement", Reason: err}
		}
		for i := range p.replacements {
			if kinds&(1<<i) != 0 {
				p.replacements[i] = text
			}
		}
		return nil
	}
}

func checkReplacement(text string) string {
	if !utf8.ValidString(text) {
		return "replacement is not valid UTF-8"
	}
	if len(text) > 100 {
		return "replacement is longer than 100 bytes"
	}
	if strings.IndexFunc(text, unicode.IsDigit) >= 0 {
		return "replacement contains a digit"
	}
	if strings.ContainsAny(text, ".:@/") || len(find(text, DefaultRegion)) > 0 {
		return "replacement looks like a link or a number"
	}
	return ""
}

// WithRegion sets the region (ISO 3166-1 alpha-2, such as "GB") whose
// national format is read for phone numbers without a country code: with
// "GB", 09061701461 is a UK premium-rate number. The default is
// [DefaultRegion].
func WithRegion(region string) Option {
	return func(p *Policy) error {
		r := strings.ToUpper(region)
		if phonenumbers.GetCountryCodeForRegion(r) == 0 {
			return &PolicyError{Option: "WithRegion", Reason: "unknown region " + strconvQuote(region)}
		}
		p.region = r
		return nil
	}
}

func strconvQuote(s string) string {
	if len(s) > 16 {
		s = s[:16]
	}
	return "\"" + strings.ToValidUTF8(s, "?") + "\""
}

// NewPolicy returns a policy with the given options applied over the
// defaults: every kind is a call to action, the default replacements, and
// [DefaultRegion]. It returns a [*PolicyError] for a bad option.
func NewPolicy(opts ...Option) (*Policy, error) {
	p := &Policy{
		kinds: AllKinds,
		replacements: [4]string{
			DefaultLinkReplacement, DefaultEmailReplacement,
			DefaultPhoneReplacement, DefaultShortCodeReplacement,
		},
		region: DefaultRegion,
	}
	for _, opt := range opts {
		if err := opt(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// MustPolicy is like [NewPolicy] but panics on a bad option. It is meant for
// package-level variables.
func MustPolicy(opts ...Option) *Policy {
	p, err := NewPolicy(opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// Region returns the region the policy reads national numbers for.
func (p *Policy) Region() string { return p.region }

// Kinds returns the kinds the policy removes and refuses.
func (p *Policy) Kinds() Kind { return p.kinds }

// Find returns every link, email address, phone number and short code in
// text, in order and without overlaps, with offsets into text. It sees
// through the evasions listed in [Evasion]. Invalid UTF-8 never matches and
// does not disturb the matches around it.
func (p *Policy) Find(text string) []Finding {
	return find(text, p.region)
}

// Strip replaces each finding of the policy's kinds with the replacement for
// its kind and returns the text and what was removed. Text outside the
// findings is kept byte for byte.
//
// Stripping is idempotent: stripping the result again changes nothing. When
// removing a finding joins the text around it into a new one (possible with
// an empty replacement: "call 0906... . example.com"), Strip removes that
// too, and reports the union as one finding.
func (p *Policy) Strip(text string) Result {
	removed := p.calls(text)
	if len(removed) == 0 {
		return Result{Text: text}
	}
	out, segs := p.rebuild(text, removed)
	for round := 1; round < maxStripRounds; round++ {
		more := p.calls(out)
		if len(more) == 0 {
			break
		}
		for i := range more {
			more[i].Start, more[i].End = segs.orig(more[i].Start, more[i].End)
		}
		removed = mergeFindings(text, removed, more)
		out, segs = p.rebuild(text, removed)
	}
	return Result{Text: out, Removed: removed}
}

// maxStripRounds bounds the rounds of Strip; each is linear in the text.
const maxStripRounds = 4

// calls returns the findings of the policy's kinds.
func (p *Policy) calls(text string) []Finding {
	fs := find(text, p.region)
	n := 0
	for _, f := range fs {
		if p.kinds&f.Kind != 0 {
			fs[n] = f
			n++
		}
	}
	return fs[:n]
}

// segment maps a piece of Strip's output to the original text: copied
// verbatim, or a replacement standing for a finding.
type segment struct {
	outStart, outEnd   int
	origStart, origEnd int
	replaced           bool
}

type segments []segment

// orig maps the output's bytes [a, b) to the original text. A span that
// touches a replacement covers the whole finding it stands for.
func (ss segments) orig(a, b int) (int, int) {
	return ss.at(a, false), ss.at(b-1, true)
}

func (ss segments) at(pos int, end bool) int {
	for _, s := range ss {
		if s.outStart <= pos && pos < s.outEnd {
			switch {
			case s.replaced && end:
				return s.origEnd
			case s.replaced:
				return s.origStart
			case end:
				return s.origStart + pos - s.outStart + 1
			default:
				return s.origStart + pos - s.outStart
			}
		}
	}
	return 0 // not reached: pos is within the output
}

// rebuild replaces the findings in text.
func (p *Policy) rebuild(text string, fs []Finding) (string, segments) {
	var b strings.Builder
	b.Grow(len(text))
	segs := make(segments, 0, 2*len(fs)+1)
	copyTo := func(from, to int) {
		if from < to {
			segs = append(segs, segment{b.Len(), b.Len() + to - from, from, to, false})
			b.WriteString(text[from:to])
		}
	}
	last := 0
	for _, f := range fs {
		copyTo(last, f.Start)
		rep := p.Replacement(f.Kind)
		segs = append(segs, segment{b.Len(), b.Len() + len(rep), f.Start, f.End, true})
		b.WriteString(rep)
		last = f.End
	}
	copyTo(last, len(text))
	return b.String(), segs
}

// mergeFindings adds the findings more (in original offsets, in order) to
// fs, merging those that overlap into one that spans both and has the kind
// of the new one.
func mergeFindings(text string, fs, more []Finding) []Finding {
	all := make([]Finding, 0, len(fs)+len(more))
	i, j := 0, 0
	for i < len(fs) || j < len(more) {
		var f Finding
		isNew := false
		if j == len(more) || i < len(fs) && fs[i].Start < more[j].Start {
			f = fs[i]
			i++
		} else {
			f, isNew = more[j], true
			j++
		}
		if n := len(all); n > 0 && f.Start < all[n-1].End {
			prev := &all[n-1]
			prev.End = max(prev.End, f.End)
			if isNew {
				prev.Kind = f.Kind
			}
			prev.Normalized = ""
			prev.Evasions |= f.Evasions
			prev.Unverified = prev.Unverified || f.Unverified
			prev.Text = text[prev.Start:prev.End]
			continue
		}
		if isNew {
			f.Normalized = ""
		}
		f.Text = text[f.Start:f.End]
		all = append(all, f)
	}
	return all
}

// Replacement returns the text that replaces a finding of kind k.
func (p *Policy) Replacement(k Kind) string {
	for i := range p.replacements {
		if k == 1<<i {
			return p.replacements[i]
		}
	}
	return ""
}

// Check reports whether text, such as a message a user wants to send, is
// free of calls to action of the policy's kinds. It returns nil when it is,
// and otherwise a [*CallToActionError] listing the findings, which unwraps to
// [ErrCallToAction].
func (p *Policy) Check(text string) error {
	fs := p.calls(text)
	if len(fs) == 0 {
		return nil
	}
	return &CallToActionError{Findings: fs}
}

var defaultPolicy = MustPolicy()

// Find returns the links, email addresses, phone numbers and short codes in
// text, using the default policy. See [Policy.Find].
func Find(text string) []Finding { return defaultPolicy.Find(text) }

// Strip removes every link, email address, phone number and short code from
// text with the default replacements. See [Policy.Strip].
func Strip(text string) Result { return defaultPolicy.Strip(text) }

// Check returns a [*CallToActionError] when text carries a link, email
// address, phone number or short code, and nil otherwise. See
// [Policy.Check].
func Check(text string) error { return defaultPolicy.Check(text) }

// scanState is all a find needs, kept in a pool between calls.
type scanState struct {
	v1, v2 view
	budget budget
	links  linkScanner
	nums   numberScanner
}

var scanStates = sync.Pool{New: func() any { return new(scanState) }}

// release returns st to the pool, keeping the capacity of its match slices
// and nothing that points into a text.
func (st *scanState) release() {
	lo, no := st.links.out, st.nums.out
	clear(lo)
	clear(no)
	*st = scanState{}
	st.links.out, st.nums.out = lo[:0], no[:0]
	scanStates.Put(st)
}

// find is the scanner behind Find, Strip and Check.
func find(text, region string) []Finding {
	st := scanStates.Get().(*scanState)
	defer st.release()
	st.budget = budget{urls: maxURLTries, urlBytes: maxURLBytes, numbers: maxNumberTries}
	st.v1 = normalize(text)
	st.v2 = refang(st.v1.s)
	ls := &st.links
	ls.v1, ls.v2, ls.budget = &st.v1, &st.v2, &st.budget
	ls.scan()
	links := ls.out
	for i := range links {
		links[i].start, links[i].end = st.v2.span(links[i].start, links[i].end)
	}
	ns := &st.nums
	ns.s, ns.region, ns.budget, ns.skip = st.v1.s, region, &st.budget, links
	ns.scan()
	if len(links) == 0 && len(ns.out) == 0 {
		return nil
	}
	v1 := &st.v1
	out := make([]Finding, 0, len(links)+len(ns.out))
	last := 0
	add := func(m match) {
		if m.start < last || m.start >= m.end {
			return
		}
		start, end := v1.span(m.start, m.end)
		out = append(out, Finding{
			Kind: m.kind, Start: start, End: end, Text: text[start:end],
			Normalized: m.normalized, Evasions: m.ev | v1.evasions(m.start, m.end),
			Unverified: m.unverified,
		})
		last = m.end
	}
	i, j := 0, 0
	for i < len(links) || j < len(ns.out) {
		if j == len(ns.out) || i < len(links) && links[i].start <= ns.out[j].start {
			add(links[i])
			i++
		} else {
			add(ns.out[j])
			j++
		}
	}
	return out
}
