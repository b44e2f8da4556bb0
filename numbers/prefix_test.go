package numbers_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
)

func prefixes(s *numbers.PrefixSet) []string {
	var out []string
	for _, e := range s.Entries() {
		out = append(out, e.Prefix)
	}
	return out
}

// TestPrefixSetZeroValue: a zero PrefixSet is an empty set that works.
func TestPrefixSetZeroValue(t *testing.T) {
	var s numbers.PrefixSet
	if s.Entries() != nil || s.Remove("+44") {
		t.Error("zero set not empty")
	}
	p := mustPolicy(t, numbers.WithPrefixSet(&s))
	if d := p.Check(mustParse(t, gbMobile), numbers.SMS); !d.Allowed {
		t.Errorf("empty set blocks: %v", d)
	}
	if err := s.Add(numbers.Entry{Prefix: "+44 7400"}); err != nil {
		t.Fatal(err)
	}
	if d := p.Check(mustParse(t, gbMobile), numbers.SMS); d.Reason != numbers.ReasonPrefixBlocked || d.Entry != "+447400" || d.Rule != "prefix set " {
		t.Errorf("after Add: %v", d)
	}
}

func TestPrefixSetEntries(t *testing.T) {
	clock := testkit.NewClock()
	s := &numbers.PrefixSet{Name: "monitor", Now: clock.Now}
	regions := []string{"SL"}
	err := s.Add(
		numbers.Entry{Prefix: "+232 76", Note: "pumping", Regions: regions, Expires: clock.Now().Add(time.Hour)},
		numbers.Entry{Prefix: "+1876", Source: "ops"},
	)
	if err != nil {
		t.Fatal(err)
	}
	regions[0] = "XX" // the set keeps its own copy
	got := s.Entries()
	want := []numbers.Entry{
		{Prefix: "+1876", Source: "ops"},
		{Prefix: "+23276", Note: "pumping", Regions: []string{"SL"}, Source: "monitor", Expires: clock.Now().Add(time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("Entries() = %+v", got)
	}
	for i := range want {
		if got[i].Prefix != want[i].Prefix || got[i].Note != want[i].Note || got[i].Source != want[i].Source ||
			!got[i].Expires.Equal(want[i].Expires) || !slices.Equal(got[i].Regions, want[i].Regions) {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	got[1].Regions[0] = "YY"
	if s.Entries()[1].Regions[0] != "SL" {
		t.Error("Entries shares the set's memory")
	}
	// Adding a prefix again replaces its entry.
	if err := s.Add(numbers.Entry{Prefix: "+23276", Note: "for good"}); err != nil {
		t.Fatal(err)
	}
	if e := s.Entries()[1]; e.Note != "for good" || !e.Expires.IsZero() {
		t.Errorf("replaced entry %+v", e)
	}
}

func TestPrefixSetReplaceAndRemove(t *testing.T) {
	clock := testkit.NewClock()
	s := &numbers.PrefixSet{Name: "test", Now: clock.Now}
	if err := s.Add(numbers.Entry{Prefix: "+232"}); err != nil {
		t.Fatal(err)
	}
	err := s.Replace(numbers.Entry{Prefix: "+371", Source: "feed"}, numbers.Entry{Prefix: "+370", Expires: clock.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got := prefixes(s); !slices.Equal(got, []string{"+370", "+371"}) {
		t.Errorf("after Replace: %v", got)
	}
	if err := s.Replace(numbers.Entry{Prefix: "+44"}, numbers.Entry{Prefix: "bad"}); !errors.Is(err, numbers.ErrInvalidConfig) {
		t.Errorf("Replace(bad) = %v", err)
	}
	if got := prefixes(s); !slices.Equal(got, []string{"+370", "+371"}) {
		t.Errorf("a failed Replace changed the set: %v", got)
	}
	if !s.Remove("+371") || s.Remove("+371") || s.Remove("junk") {
		t.Error("Remove results wrong")
	}
	if got := prefixes(s); !slices.Equal(got, []string{"+370"}) {
		t.Errorf("after Remove: %v", got)
	}
	clock.Advance(time.Minute)
	if got := prefixes(s); got != nil {
		t.Errorf("after expiry: %v", got)
	}
}

func TestPrefixSetBadPrefix(t *testing.T) {
	var s numbers.PrefixSet
	for _, p := range []string{"", "+", "+0", "abc", "+1234567890123456", "+44 x"} {
		if err := s.Add(numbers.Entry{Prefix: "+44"}, numbers.Entry{Prefix: p}); !errors.Is(err, numbers.ErrInvalidConfig) {
			t.Errorf("Add(%q) = %v", p, err)
		}
	}
	if len(s.Entries()) != 0 {
		t.Errorf("a failed Add changed the set: %v", prefixes(&s))
	}
}

// TestPrefixSetConcurrent reads while writers add and remove; run with -race.
func TestPrefixSetConcurrent(t *testing.T) {
	s := &numbers.PrefixSet{Name: "test"}
	p := mustPolicy(t, numbers.WithPrefixSet(s))
	n := mustParse(t, deMobile)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 100 {
				prefix := "+49" + string(rune('0'+w)) + string(rune('0'+i%10))
				if err := s.Add(numbers.Entry{Prefix: prefix, Expires: time.Now().Add(time.Minute)}); err != nil {
					t.Error(err)
				}
				s.Remove(prefix)
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 500 {
				p.Check(n, numbers.SMS)
				s.Entries()
			}
		})
	}
	wg.Wait()
}
