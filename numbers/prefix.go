package numbers

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxPrefixDigits is the longest prefix: a whole E.164 number.
const maxPrefixDigits = 15

// normalizePrefix turns "+1 876", "+1-876" or "1876" into "1876". A prefix is
// 1 to 15 digits and does not start with 0.
func normalizePrefix(p string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(p), "+")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-':
		default:
			return "", configError("prefix " + strconv.Quote(p) + ": want \"+\" and digits")
		}
	}
	d := b.String()
	if d == "" || d[0] == '0' || len(d) > maxPrefixDigits {
		return "", configError("prefix " + strconv.Quote(p) + ": want 1 to 15 digits, not starting with 0")
	}
	return d, nil
}

// trie maps E.164 digit prefixes to rule indexes, for longest-match lookups
// without allocation.
type trie struct {
	nodes []trieNode
}

type trieNode struct {
	next [10]int32 // child per digit; 0 means none (the root is never a child)
	rule int32     // deny or allow rule ending here, or -1
	safe int32     // safe-listed block ending here, or -1
	// exact is a safe-listed number ending here, or -1; it only matches when
	// the whole number has been read.
	exact int32
}

func newTrie() trie { return trie{nodes: []trieNode{{rule: -1, safe: -1, exact: -1}}} }

// node returns the node for digits, creating it.
func (t *trie) node(digits string) *trieNode {
	n := int32(0)
	for i := 0; i < len(digits); i++ {
		d := digits[i] - '0'
		next := t.nodes[n].next[d]
		if next == 0 {
			next = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{rule: -1, safe: -1, exact: -1})
			t.nodes[n].next[d] = next
		}
		n = next
	}
	return &t.nodes[n]
}

// match walks digits and returns the longest rule, the longest safe block or
// an exact safe number (-1 when none).
func (t *trie) match(digits string) (rule, safe int32) {
	rule, safe = -1, -1
	n := int32(0)
	for i := 0; i < len(digits); i++ {
		d := digits[i] - '0'
		if d > 9 {
			break
		}
		n = t.nodes[n].next[d]
		if n == 0 {
			break
		}
		nd := &t.nodes[n]
		if nd.rule >= 0 {
			rule = nd.rule
		}
		if nd.safe >= 0 {
			safe = nd.safe
		}
		if i == len(digits)-1 && nd.exact >= 0 {
			safe = nd.exact
		}
	}
	return rule, safe
}

// PrefixSet is a set of blocked prefixes that can change while requests are
// being served, for adaptive defenses: a monitor that sees verification codes
// sent to a prefix but never confirmed can block that prefix for an hour.
// A [Policy] consults it on every check (see [WithPrefixSet]).
//
// Reads never wait for writers: each change builds a new snapshot and swaps
// it in atomically, so a change costs time proportional to the size of the
// set, which is meant for hundreds of entries, not millions. Expired entries
// are ignored by lookups and dropped at the next change.
//
// A PrefixSet is safe for concurrent use. The zero value is not usable; call
// [NewPrefixSet].
type PrefixSet struct {
	name string
	rule string // "prefix set <name>", for decisions
	now  func() time.Time

	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[prefixSnapshot]
}

// PrefixEntry is one blocked prefix of a [PrefixSet].
type PrefixEntry struct {
	// Prefix is "+" and the leading E.164 digits, such as "+23276".
	Prefix string
	// Reason says why the prefix is blocked.
	Reason string
	// Source says who blocked it; [PrefixSet.Add] sets the set's name.
	Source string
	// Expires is when the block ends; the zero time means never.
	Expires time.Time

	desc string // Prefix and Reason, for decisions
}

type prefixSnapshot struct {
	entries map[string]PrefixEntry // by digits, without "+"
	list    []PrefixEntry          // the same entries, indexed by trie rules
	trie    trie
}

// PrefixSetOption configures a [PrefixSet].
type PrefixSetOption func(*PrefixSet)

// WithClock sets the function a [PrefixSet] reads the time from, for
// expiries; tests pass a fake clock. The default is [time.Now].
func WithClock(now func() time.Time) PrefixSetOption {
	return func(s *PrefixSet) { s.now = now }
}

// NewPrefixSet returns an empty set. name identifies it in decisions
// ("prefix set <name>") and is the Source of entries added with Add.
func NewPrefixSet(name string, opts ...PrefixSetOption) *PrefixSet {
	s := &PrefixSet{name: name, rule: "prefix set " + name, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.snap.Store(&prefixSnapshot{})
	return s
}

// Name returns the name given to [NewPrefixSet].
func (s *PrefixSet) Name() string { return s.name }

// Add blocks prefix for ttl (for good when ttl <= 0), replacing any entry for
// the same prefix. prefix is "+" and 1 to 15 digits; spaces and dashes are
// ignored. The error wraps [ErrConfig].
func (s *PrefixSet) Add(prefix string, ttl time.Duration, reason string) error {
	e := PrefixEntry{Prefix: prefix, Reason: reason, Source: s.name}
	if ttl > 0 {
		e.Expires = s.now().Add(ttl)
	}
	return s.update(false, e)
}

// Replace swaps the whole content of the set for entries, at once. The error
// wraps [ErrConfig]; on error the set is unchanged.
func (s *PrefixSet) Replace(entries ...PrefixEntry) error {
	return s.update(true, entries...)
}

// Remove unblocks prefix and reports whether it was in the set.
func (s *PrefixSet) Remove(prefix string) bool {
	d, err := normalizePrefix(prefix)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	if _, ok := old.entries[d]; !ok {
		return false
	}
	s.store(old, false, func(m map[string]PrefixEntry) { delete(m, d) })
	return true
}

func (s *PrefixSet) update(replace bool, entries ...PrefixEntry) error {
	clean := make(map[string]PrefixEntry, len(entries))
	for _, e := range entries {
		d, err := normalizePrefix(e.Prefix)
		if err != nil {
			return err
		}
		e.Prefix = "+" + d
		e.desc = e.Prefix
		if e.Reason != "" {
			e.desc += " " + e.Reason
		}
		clean[d] = e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(s.snap.Load(), replace, func(m map[string]PrefixEntry) {
		for d, e := range clean {
			m[d] = e
		}
	})
	return nil
}

// store builds a new snapshot from old (unless replace), without expired
// entries, applies change and swaps it in. s.mu must be held.
func (s *PrefixSet) store(old *prefixSnapshot, replace bool, change func(map[string]PrefixEntry)) {
	now := s.now()
	m := make(map[string]PrefixEntry, len(old.entries)+1)
	if !replace {
		for d, e := range old.entries {
			if !e.expired(now) {
				m[d] = e
			}
		}
	}
	change(m)
	next := &prefixSnapshot{entries: m, trie: newTrie()}
	for d, e := range m {
		next.trie.node(d).rule = int32(len(next.list))
		next.list = append(next.list, e)
	}
	s.snap.Store(next)
}

func (e PrefixEntry) expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// Lookup returns the longest active entry whose prefix starts e164 (an E.164
// number such as "+23276123456"). It does not allocate, and reads the clock
// only when a matching entry has an expiry.
func (s *PrefixSet) Lookup(e164 string) (PrefixEntry, bool) {
	snap := s.snap.Load()
	if len(snap.list) == 0 || len(e164) < 2 || e164[0] != '+' {
		return PrefixEntry{}, false
	}
	t := &snap.trie
	best := int32(-1)
	var now time.Time
	n := int32(0)
	for i := 1; i < len(e164); i++ {
		d := e164[i] - '0'
		if d > 9 {
			break
		}
		if n = t.nodes[n].next[d]; n == 0 {
			break
		}
		r := t.nodes[n].rule
		if r < 0 {
			continue
		}
		if e := &snap.list[r]; !e.Expires.IsZero() {
			if now.IsZero() {
				now = s.now()
			}
			if e.expired(now) {
				continue
			}
		}
		best = r
	}
	if best < 0 {
		return PrefixEntry{}, false
	}
	return snap.list[best], true
}

// Entries returns the active entries, sorted by prefix.
func (s *PrefixSet) Entries() []PrefixEntry {
	snap := s.snap.Load()
	now := s.now()
	out := make([]PrefixEntry, 0, len(snap.entries))
	for _, e := range snap.entries {
		if !e.expired(now) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b PrefixEntry) int { return strings.Compare(a.Prefix, b.Prefix) })
	return out
}

// Len returns the number of active entries.
func (s *PrefixSet) Len() int { return len(s.Entries()) }
