package sanitize

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/antifraud-go/antifraud/numbers"
)

// Policy decides what counts as a call to action and how [Policy.Strip]
// replaces it. Build one with [NewPolicy] and share it: a Policy is
// immutable and safe for concurrent use. The zero Policy is not usable; the
// package-level [Find], [Strip] and [Check] use the defaults.
type Policy struct {
	kinds        Kind
	replacements [4]string // by bit index of Kind
	region       string    // the region hint, or ""
	allow        *allowList
	// hinted holds the policy's variants by region hint, shared by all of
	// them; see ForRegion.
	hinted *hinted
}

// hinted holds the variants of one policy for each region hint, made on
// first use: 26×26 slots for two-letter codes, so that hints from outside
// (a webhook's FromCountry) cannot grow it.
type hinted struct {
	base   *Policy
	slots  [26 * 26]atomic.Pointer[Policy]
	create sync.Mutex
}

// Option configures a [Policy]. Options record what they are given;
// [NewPolicy] checks them all.
type Option func(*config)

type config struct {
	kinds        *Kind
	replacements []replacement
	region       *string
	allow        []string
}

type replacement struct {
	kinds Kind
	text  string
}

// WithKinds sets the kinds that [Policy.Strip] removes and [Policy.Check]
// refuses: one or more of [Link], [Email], [Phone] and [ShortCode]. The
// default is all four. [Policy.Find] reports every kind regardless.
func WithKinds(kinds Kind) Option {
	return func(c *config) { c.kinds = &kinds }
}

// WithReplacement sets the text that replaces findings of the given kinds
// (one kind or several). The defaults are "[link removed]",
// "[email removed]", "[number removed]" and "[short code removed]". The
// text may be empty; it must be valid UTF-8, at most 100 bytes, contain no
// digits, nothing that is itself a link or number, and no word that asks
// to call or text ("call", "txt", "phone" ...), so that stripping twice
// changes nothing.
func WithReplacement(kinds Kind, text string) Option {
	return func(c *config) { c.replacements = append(c.replacements, replacement{kinds, text}) }
}

// WithRegion sets the region (ISO 3166-1 alpha-2, such as "GB") that the
// policy takes messages to come from. It is a hint: it decides which
// country a number written in national format belongs to when it could
// belong to several (09061701461 is British with "GB"), and so the E.164
// form and [Finding.Number]. It never decides whether a number is found:
// numbers are found whatever their country, with a hint or without. The
// default is no hint. [Policy.ForRegion] gives the hint per message.
func WithRegion(region string) Option {
	return func(c *config) { c.region = &region }
}

// NewPolicy returns a policy with the given options applied over the
// defaults: every kind is a call to action, the default replacements, and
// no region hint. Every error it returns wraps [ErrInvalidConfig] and names
// the option.
func NewPolicy(opts ...Option) (*Policy, error) {
	var c config
	for _, opt := range opts {
		opt(&c)
	}
	p := &Policy{
		kinds: allKinds,
		replacements: [4]string{
			"[link removed]", "[email removed]", "[number removed]", "[short code removed]",
		},
	}
	if c.kinds != nil {
		if *c.kinds == 0 || *c.kinds&^allKinds != 0 {
			return nil, fmt.Errorf("sanitize: WithKinds: %d is not one or more of Link, Email, Phone, ShortCode: %w", *c.kinds, ErrInvalidConfig)
		}
		p.kinds = *c.kinds
	}
	for _, r := range c.replacements {
		if r.kinds == 0 || r.kinds&^allKinds != 0 {
			return nil, fmt.Errorf("sanitize: WithReplacement: %d is not one or more of Link, Email, Phone, ShortCode: %w", r.kinds, ErrInvalidConfig)
		}
		if reason := checkReplacement(r.text); reason != "" {
			return nil, fmt.Errorf("sanitize: WithReplacement: %s: %w", reason, ErrInvalidConfig)
		}
		for i := range p.replacements {
			if r.kinds&(1<<i) != 0 {
				p.replacements[i] = r.text
			}
		}
	}
	if c.region != nil {
		r, ok := knownRegion(*c.region)
		if !ok {
			return nil, fmt.Errorf("sanitize: WithRegion: unknown region %s: %w", quote(*c.region), ErrInvalidConfig)
		}
		p.region = r
	}
	allow, err := newAllowList(c.allow)
	if err != nil {
		return nil, err
	}
	p.allow = allow
	p.hinted = &hinted{base: p}
	return p, nil
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
	if strings.ContainsAny(text, ".:@/") || len(find(text, "")) > 0 {
		return "replacement looks like a link or a number"
	}
	if w := pointingWord(text); w != "" {
		return "replacement has the word " + quote(w) + ", which would make a call to action of a number after it"
	}
	return ""
}

// knownRegion returns region in upper case when numbers knows it as a
// country or territory.
func knownRegion(region string) (string, bool) {
	r := strings.ToUpper(region)
	if len(r) != 2 {
		return "", false
	}
	_, err := numbers.NewPolicy(numbers.AllowRegions(r))
	return r, err == nil
}

func quote(s string) string {
	if len(s) > 16 {
		s = s[:16]
	}
	return "\"" + strings.ToValidUTF8(s, "?") + "\""
}

// ForRegion returns the policy with region (ISO 3166-1 alpha-2, in any
// case) as its region hint instead of the one given by [WithRegion], for a
// message known to come from there: an inbound SMS webhook passes Twilio's
// FromCountry. An empty or unknown region gives the policy as it was built.
// The variant for each region is made once and kept, so calling ForRegion
// per message costs a lookup and allocates nothing.
func (p *Policy) ForRegion(region string) *Policy {
	base := p.hinted.base
	if len(region) != 2 {
		return base
	}
	a, b := region[0]|0x20, region[1]|0x20
	if a < 'a' || a > 'z' || b < 'a' || b > 'z' {
		return base
	}
	slot := &p.hinted.slots[int(a-'a')*26+int(b-'a')]
	if v := slot.Load(); v != nil {
		return v
	}
	p.hinted.create.Lock()
	defer p.hinted.create.Unlock()
	if v := slot.Load(); v != nil {
		return v
	}
	v := base
	if r, ok := knownRegion(region); ok {
		c := *base
		c.region = r
		v = &c
	}
	slot.Store(v)
	return v
}

// Find returns every link, email address, phone number and short code in
// text, in order and without overlaps, with offsets into text. It sees
// through the evasions listed in [Evasion]. Invalid UTF-8 never matches and
// does not disturb the matches around it.
func (p *Policy) Find(text string) []Finding {
	return find(text, p.region)
}

// Strip replaces each finding of the policy's kinds with the replacement for
// its kind and returns the text and what was removed, for audit (nil when
// nothing was). Text outside the findings is kept byte for byte.
//
// Stripping is idempotent: stripping the result again changes nothing. When
// removing a finding joins the text around it into a new one (possible with
// an empty replacement: "call 0906... . example.com"), Strip removes that
// too, and reports the union as one finding.
func (p *Policy) Strip(text string) (string, []Finding) {
	st := newScan(len(text))
	defer st.release()
	removed := p.calls(st, text)
	if len(removed) == 0 {
		return text, nil
	}
	out := p.rebuild(text, removed)
	for round := 1; ; round++ {
		more := p.calls(st, out)
		if len(more) == 0 {
			break
		}
		segs := p.segments(text, removed)
		for i := range more {
			more[i].Start, more[i].End = segs.orig(more[i].Start, more[i].End)
		}
		removed = mergeFindings(text, removed, more)
		if round == maxStripRounds {
			// Text built so that every removal reveals one more call to
			// action: remove all from the first finding to the last, and
			// if even that joins into one, the whole text.
			removed = []Finding{hull(text, removed, removed[0].Start, removed[len(removed)-1].End)}
			out = p.rebuild(text, removed)
			if len(p.calls(st, out)) > 0 {
				removed = []Finding{hull(text, removed, 0, len(text))}
				out = p.rebuild(text, removed)
			}
			break
		}
		out = p.rebuild(text, removed)
	}
	return out, removed
}

// maxStripRounds bounds the rounds of Strip that remove what earlier
// removals revealed, each linear in the text; past it, Strip removes the
// span of all its findings at once.
const maxStripRounds = 4

// hull is one finding over text[start:end] that stands for the findings fs
// within it: the kind of the last one, their evasions.
func hull(text string, fs []Finding, start, end int) Finding {
	h := Finding{Kind: fs[len(fs)-1].Kind, Start: start, End: end, Text: text[start:end]}
	for _, f := range fs {
		h.Evasions |= f.Evasions
		h.Unverified = h.Unverified || f.Unverified
	}
	return h
}

// calls returns the findings of the policy's kinds.
func (p *Policy) calls(st *scanState, text string) []Finding {
	fs := st.find(text, p.region)
	n := 0
	for _, f := range fs {
		if p.kinds&f.Kind != 0 && !p.allow.allows(&f) {
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
func (p *Policy) rebuild(text string, fs []Finding) string {
	n := len(text)
	for _, f := range fs {
		n += len(p.replacement(f.Kind)) - (f.End - f.Start)
	}
	var b strings.Builder
	b.Grow(n)
	last := 0
	for _, f := range fs {
		b.WriteString(text[last:f.Start])
		b.WriteString(p.replacement(f.Kind))
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// segments maps the output of rebuild(text, fs) back to text.
func (p *Policy) segments(text string, fs []Finding) segments {
	segs := make(segments, 0, 2*len(fs)+1)
	out := 0
	copyTo := func(from, to int) {
		if from < to {
			segs = append(segs, segment{out, out + to - from, from, to, false})
			out += to - from
		}
	}
	last := 0
	for _, f := range fs {
		copyTo(last, f.Start)
		rep := p.replacement(f.Kind)
		segs = append(segs, segment{out, out + len(rep), f.Start, f.End, true})
		out += len(rep)
		last = f.End
	}
	copyTo(last, len(text))
	return segs
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
			prev.Number = numbers.Number{}
			prev.Evasions |= f.Evasions
			prev.Unverified = prev.Unverified || f.Unverified
			prev.Text = text[prev.Start:prev.End]
			continue
		}
		if isNew {
			f.Normalized = ""
			f.Number = numbers.Number{}
		}
		f.Text = text[f.Start:f.End]
		all = append(all, f)
	}
	return all
}

// replacement returns the text that replaces a finding of kind k.
func (p *Policy) replacement(k Kind) string {
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
	st := newScan(len(text))
	defer st.release()
	fs := p.calls(st, text)
	if len(fs) == 0 {
		return nil
	}
	return &CallToActionError{Findings: fs}
}

var defaultPolicy = func() *Policy {
	p, _ := NewPolicy() // the defaults are valid
	return p
}()

// Find returns the links, email addresses, phone numbers and short codes in
// text, using the default policy. See [Policy.Find].
func Find(text string) []Finding { return defaultPolicy.Find(text) }

// Strip removes every link, email address, phone number and short code from
// text with the default replacements. See [Policy.Strip].
func Strip(text string) (string, []Finding) { return defaultPolicy.Strip(text) }

// Check returns a [*CallToActionError] when text carries a link, email
// address, phone number or short code, and nil otherwise. See
// [Policy.Check].
func Check(text string) error { return defaultPolicy.Check(text) }
