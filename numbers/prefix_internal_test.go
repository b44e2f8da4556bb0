package numbers

import (
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
)

// blockedBy returns the prefix of the entry of s that blocks e164, or "".
func blockedBy(t *testing.T, s *PrefixSet, e164 string) string {
	t.Helper()
	d, ok := s.check(e164)
	if !ok {
		return ""
	}
	if d.Allowed || d.Reason != ReasonPrefixBlocked || d.Rule != "prefix set "+s.Name {
		t.Errorf("check(%s) = %v", e164, d)
	}
	prefix, _, _ := strings.Cut(d.Entry, ":")
	return prefix
}

func TestPrefixSetLongestMatch(t *testing.T) {
	s := &PrefixSet{Name: "test"}
	for _, p := range []string{"+232", "+1 876", "+23276-12"} {
		if err := s.Add(Entry{Prefix: p, Note: "r" + p}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ e164, want string }{
		{"+23276123456", "+2327612"},
		{"+23277123456", "+232"},
		{"+18762101234", "+1876"},
		{"+14155552671", ""},
		{"23276123456", ""}, // not E.164
		{"+", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := blockedBy(t, s, tt.e164); got != tt.want {
			t.Errorf("check(%q) blocked by %q, want %q", tt.e164, got, tt.want)
		}
	}
	if d, _ := s.check("+18762101234"); d.Source != "test" || d.Entry != "+1876: r+1 876" {
		t.Errorf("decision %v", d)
	}
}

func TestPrefixSetExpiry(t *testing.T) {
	clock := testkit.NewClock()
	s := &PrefixSet{Name: "test", Now: clock.Now}
	err := s.Add(
		Entry{Prefix: "+232", Note: "one hour", Expires: clock.Now().Add(time.Hour)},
		Entry{Prefix: "+2327", Note: "for good"},
		Entry{Prefix: "+23276", Note: "half an hour", Expires: clock.Now().Add(30 * time.Minute)},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := blockedBy(t, s, "+23276123456"); got != "+23276" {
		t.Errorf("check = %q", got)
	}
	clock.Advance(30 * time.Minute)
	if got := blockedBy(t, s, "+23276123456"); got != "+2327" {
		t.Errorf("after 30 min, blocked by %q, want the permanent +2327", got)
	}
	if got := blockedBy(t, s, "+23288123456"); got != "+232" {
		t.Errorf("after 30 min, blocked by %q, want +232", got)
	}
	clock.Advance(30 * time.Minute)
	if got := blockedBy(t, s, "+23288123456"); got != "" {
		t.Errorf("after an hour, blocked by %q", got)
	}
	if n := len(s.Entries()); n != 1 {
		t.Errorf("%d entries, want 1", n)
	}
	// The next change drops the expired entries from the snapshot.
	if err := s.Add(Entry{Prefix: "+44"}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.snap.Load().list); n != 2 {
		t.Errorf("snapshot holds %d entries, want 2", n)
	}
}

// BenchmarkPrefixSetLookup: what a Policy pays per prefix set. A miss walks
// a small trie; a hit on an entry with an expiry also reads the clock.
func BenchmarkPrefixSetLookup(b *testing.B) {
	s := &PrefixSet{Name: "monitor"}
	for _, p := range []string{"+23276", "+2327", "+1876210", "+44740012"} {
		if err := s.Add(Entry{Prefix: p, Expires: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, e164 string }{{"miss", "+447700123456"}, {"hit", "+447400123456"}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.check(tc.e164)
			}
		})
	}
}

// TestPrefixSetAllow: the longest active entry decides, so an allow entry
// inside a blocked prefix lets its numbers through, a block inside an
// allow entry blocks again, and an allow entry that expired gives the
// block back.
func TestPrefixSetAllow(t *testing.T) {
	clock := testkit.NewClock()
	s := &PrefixSet{Name: "monitor", Now: clock.Now}
	err := s.Add(
		Entry{Prefix: "+447700", Expires: clock.Now().Add(time.Hour)},
		Entry{Prefix: "+44770090", Allow: true, Expires: clock.Now().Add(time.Hour)},
		Entry{Prefix: "+4477009012", Expires: clock.Now().Add(time.Hour)},
		Entry{Prefix: "+447700123456", Allow: true, Expires: clock.Now().Add(30 * time.Minute)},
		Entry{Prefix: "+33", Allow: true}, // allows nothing by itself
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ e164, want string }{
		{"+447700111111", "+447700"},
		{"+447700123456", ""},            // the whole number allowed
		{"+447700123457", "+447700"},     // its neighbour is not
		{"+447700900111", ""},            // the narrower range allowed
		{"+447700901234", "+4477009012"}, // a block inside the allowed range
		{"+33612345678", ""},
	}
	for _, tt := range tests {
		if got := blockedBy(t, s, tt.e164); got != tt.want {
			t.Errorf("check(%s) blocked by %q, want %q", tt.e164, got, tt.want)
		}
	}
	clock.Advance(30 * time.Minute)
	if got := blockedBy(t, s, "+447700123456"); got != "+447700" {
		t.Errorf("after the allow entry expired, blocked by %q, want +447700", got)
	}
	// An allow entry lifts only its own set's blocks.
	other := &PrefixSet{Name: "ops"}
	if err := other.Add(Entry{Prefix: "+4477009"}); err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(WithPrefixSet(s), WithPrefixSet(other))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Parse("+447700900111", "")
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Check(n, SMS); d.Allowed || d.Rule != "prefix set ops" {
		t.Errorf("policy with both sets: %v, want refused by the other set", d)
	}
	if es := s.Entries(); len(es) != 4 || !es[0].Allow || es[0].Prefix != "+33" {
		t.Errorf("Entries() = %+v", es)
	}
}
