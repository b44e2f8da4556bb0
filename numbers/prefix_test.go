package numbers_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)} }

func prefixes(s *numbers.PrefixSet) []string {
	var out []string
	for _, e := range s.Entries() {
		out = append(out, e.Prefix)
	}
	return out
}

func TestPrefixSetLongestMatch(t *testing.T) {
	s := numbers.NewPrefixSet("test")
	for _, p := range []string{"+232", "+1 876", "+23276-12"} {
		if err := s.Add(p, 0, "r"+p); err != nil {
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
		e, ok := s.Lookup(tt.e164)
		if ok != (tt.want != "") || e.Prefix != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.e164, e.Prefix, ok, tt.want)
		}
		if ok && e.Source != "test" {
			t.Errorf("Source %q", e.Source)
		}
	}
	if got := prefixes(s); !slices.Equal(got, []string{"+1876", "+232", "+2327612"}) {
		t.Errorf("Entries() = %v", got)
	}
}

func TestPrefixSetExpiry(t *testing.T) {
	clock := newClock()
	s := numbers.NewPrefixSet("test", numbers.WithClock(clock.Now))
	if err := s.Add("+232", time.Hour, "one hour"); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("+2327", 0, "for good"); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("+23276", 30*time.Minute, "half an hour"); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Lookup("+23276123456"); e.Prefix != "+23276" || !e.Expires.Equal(clock.Now().Add(30*time.Minute)) {
		t.Errorf("Lookup = %+v", e)
	}
	clock.Advance(30 * time.Minute)
	if e, _ := s.Lookup("+23276123456"); e.Prefix != "+2327" {
		t.Errorf("after 30 min, Lookup = %q, want the permanent +2327", e.Prefix)
	}
	if e, _ := s.Lookup("+23288123456"); e.Prefix != "+232" {
		t.Errorf("after 30 min, Lookup = %q, want +232", e.Prefix)
	}
	clock.Advance(30 * time.Minute)
	if e, ok := s.Lookup("+23288123456"); ok {
		t.Errorf("after an hour, Lookup = %q", e.Prefix)
	}
	if s.Len() != 1 {
		t.Errorf("Len() = %d, want 1", s.Len())
	}
}

func TestPrefixSetReplaceAndRemove(t *testing.T) {
	clock := newClock()
	s := numbers.NewPrefixSet("test", numbers.WithClock(clock.Now))
	if err := s.Add("+232", 0, ""); err != nil {
		t.Fatal(err)
	}
	err := s.Replace(numbers.PrefixEntry{Prefix: "+371", Source: "feed"}, numbers.PrefixEntry{Prefix: "+370", Expires: clock.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got := prefixes(s); !slices.Equal(got, []string{"+370", "+371"}) {
		t.Errorf("after Replace: %v", got)
	}
	if e, _ := s.Lookup("+37120012345"); e.Source != "feed" {
		t.Errorf("Source %q", e.Source)
	}
	if err := s.Replace(numbers.PrefixEntry{Prefix: "+44"}, numbers.PrefixEntry{Prefix: "bad"}); !errors.Is(err, numbers.ErrConfig) {
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
}

func TestPrefixSetBadPrefix(t *testing.T) {
	s := numbers.NewPrefixSet("test")
	for _, p := range []string{"", "+", "+0", "abc", "+1234567890123456", "+44 x"} {
		if err := s.Add(p, 0, ""); !errors.Is(err, numbers.ErrConfig) {
			t.Errorf("Add(%q) = %v", p, err)
		}
	}
	if s.Len() != 0 || s.Name() != "test" {
		t.Errorf("Len %d Name %q", s.Len(), s.Name())
	}
}

// TestPrefixSetConcurrent reads while writers add and remove; run with -race.
func TestPrefixSetConcurrent(t *testing.T) {
	s := numbers.NewPrefixSet("test")
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 100 {
				p := "+23" + string(rune('0'+w)) + string(rune('0'+i%10))
				if err := s.Add(p, time.Minute, ""); err != nil {
					t.Error(err)
				}
				s.Remove(p)
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 500 {
				s.Lookup("+23276123456")
				s.Entries()
			}
		})
	}
	wg.Wait()
}
