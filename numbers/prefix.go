package numbers

import (
	"fmt"
	"maps"
	"slices"
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
			return "", fmt.Errorf("prefix %q: want \"+\" and digits", p)
		}
	}
	d := b.String()
	if d == "" || d[0] == '0' || len(d) > maxPrefixDigits {
		return "", fmt.Errorf("prefix %q: want 1 to 15 digits, not starting with 0", p)
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
// A [Policy] consults it on every check (see [WithPrefixSet]) and denies the
// numbers under an active entry with [ReasonPrefixBlocked].
//
// An entry may instead allow ([Entry.Allow]): the longest active entry that
// matches a number decides, so an allow entry for a whole number, or a
// narrower prefix, keeps it usable inside a blocked prefix (a user with
// confirmed codes in a range the monitor blocked). An allow entry only
// lifts the blocks of its own set, never a policy's rules or another set's
// entries, and allows nothing by itself.
//
// Reads never wait for writers: each change builds a new snapshot and swaps
// it in atomically, so a change costs time proportional to the size of the
// set, which is meant for hundreds of entries, not millions. Expired entries
// are ignored by checks and dropped at the next change.
//
// The zero value is an empty set that reads the time from [time.Now]. Set
// Name and Now before the set is first used and do not change them after. A
// PrefixSet is safe for concurrent use and must not be copied after first
// use.
type PrefixSet struct {
	// Name identifies the set in decisions ("prefix set <Name>") and is the
	// Source of entries added without one.
	Name string
	// Now returns the current time, against which entries expire. Nil means
	// time.Now; tests pass a fake clock.
	Now func() time.Time

	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[prefixSnapshot]
}

type prefixSnapshot struct {
	entries map[string]Entry // by digits, without "+"
	list    []Entry          // the same entries, indexed by trie rules
	desc    []string         // describe() of list, for decisions
	rule    string           // "prefix set <Name>", for decisions
	trie    trie
}

func (s *PrefixSet) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Add blocks (or, with Allow, allows) the prefixes of entries until their
// Expires time (for good when it is zero), replacing any entry for the same
// prefix, all at once. An entry without a Source gets the set's Name. The error wraps
// [ErrInvalidConfig]; on error the set is unchanged.
func (s *PrefixSet) Add(entries ...Entry) error {
	return s.update(false, entries)
}

// Replace swaps the whole content of the set for entries, at once, as Add
// would add them to an empty set: for example to load the blocks that
// another instance decided. The error wraps [ErrInvalidConfig]; on error the
// set is unchanged.
func (s *PrefixSet) Replace(entries ...Entry) error {
	return s.update(true, entries)
}

// Remove removes the entry for prefix ("+" and digits; spaces and dashes
// are ignored) and reports whether it was in the set.
func (s *PrefixSet) Remove(prefix string) bool {
	d, err := normalizePrefix(prefix)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	if old == nil {
		return false
	}
	if _, ok := old.entries[d]; !ok {
		return false
	}
	s.store(old, false, func(m map[string]Entry) { delete(m, d) })
	return true
}

func (s *PrefixSet) update(replace bool, entries []Entry) error {
	clean := make(map[string]Entry, len(entries))
	for _, e := range entries {
		d, err := normalizePrefix(e.Prefix)
		if err != nil {
			return configError("PrefixSet: " + err.Error())
		}
		e.Prefix = "+" + d
		if e.Source == "" {
			e.Source = s.Name
		}
		e.Regions = slices.Clone(e.Regions)
		clean[d] = e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(s.snap.Load(), replace, func(m map[string]Entry) {
		maps.Copy(m, clean)
	})
	return nil
}

// store builds a new snapshot from old (unless replace or nil), without
// expired entries, applies change and swaps it in. s.mu must be held.
func (s *PrefixSet) store(old *prefixSnapshot, replace bool, change func(map[string]Entry)) {
	now := s.now()
	m := make(map[string]Entry)
	if !replace && old != nil {
		for d, e := range old.entries {
			if !e.expired(now) {
				m[d] = e
			}
		}
	}
	change(m)
	next := &prefixSnapshot{entries: m, rule: "prefix set " + s.Name, trie: newTrie()}
	for d, e := range m {
		next.trie.node(d).rule = int32(len(next.list))
		next.list = append(next.list, e)
		next.desc = append(next.desc, e.describe())
	}
	s.snap.Store(next)
}

func (e Entry) expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// check returns the decision for the longest active entry whose prefix
// starts e164, when that entry blocks. It does not allocate, and reads the
// clock only when a matching entry has an expiry.
func (s *PrefixSet) check(e164 string) (Decision, bool) {
	snap := s.snap.Load()
	if snap == nil || len(snap.list) == 0 || len(e164) < 2 || e164[0] != '+' {
		return Decision{}, false
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
	if best < 0 || snap.list[best].Allow {
		return Decision{}, false
	}
	return Decision{Reason: ReasonPrefixBlocked, Rule: snap.rule, Entry: snap.desc[best], Source: snap.list[best].Source}, true
}

// Entries returns the active entries, sorted by prefix.
func (s *PrefixSet) Entries() []Entry {
	snap := s.snap.Load()
	if snap == nil {
		return nil
	}
	now := s.now()
	out := make([]Entry, 0, len(snap.entries))
	for _, e := range snap.entries {
		if !e.expired(now) {
			e.Regions = slices.Clone(e.Regions)
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Prefix, b.Prefix) })
	return out
}
