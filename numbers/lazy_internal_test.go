package numbers

import "testing"

// TestCheckDecidesWithoutType: numbers denied by region, calling code,
// prefix, dataset or prefix set are decided without computing the number
// type (libphonenumber's GetNumberType, or its compiled patterns).
func TestCheckDecidesWithoutType(t *testing.T) {
	set := &PrefixSet{Name: "monitor"}
	if err := set.Add(Entry{Prefix: "+4915", Note: "test"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   []Option
		number string
		want   Reason
	}{
		{"allow-list", []Option{AllowRegions("US")}, "+447400123456", ReasonRegionDenied},
		{"deny-list", []Option{DenyRegions("GB")}, "+447400123456", ReasonRegionDenied},
		{"calling code", []Option{DenyPrefixes("+44")}, "+447400123456", ReasonPrefixDenied},
		{"prefix", []Option{DenyPrefixes("+447400")}, "+447400123456", ReasonPrefixDenied},
		{"dataset", []Option{DenyDataset(HighRisk())}, "+18762101234", ReasonHighRisk},
		{"prefix set", []Option{WithPrefixSet(set)}, "+4915123456789", ReasonPrefixBlocked},
		{"safe list", []Option{SafeBlocks("+44")}, "+447400123456", ReasonAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPolicy(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			n, err := Parse(tt.number, "")
			if err != nil {
				t.Fatal(err)
			}
			if d := p.Check(n, Voice); d.Reason != tt.want {
				t.Fatalf("Check = %v, want %s", d, tt.want)
			}
			if n.lazy.state.Load() != 0 {
				t.Error("the number type was computed")
			}
		})
	}
	// The type is computed when a type rule needs it, and only once.
	n, _ := Parse("+447400123456", "")
	p, err := NewPolicy()
	if err != nil {
		t.Fatal(err)
	}
	p.Check(n, SMS)
	if v := n.lazy.state.Load(); v != uint32(Mobile)+1 {
		t.Errorf("type after an allowing check: %d", v)
	}
}

func TestTrieLongestMatch(t *testing.T) {
	tr := newTrie()
	tr.node("1").rule = 0
	tr.node("1876").rule = 1
	tr.node("1876555").safe = 2
	tr.node("18765551234").exact = 3
	tests := []struct {
		digits     string
		rule, safe int32
	}{
		{"14155552671", 0, -1},
		{"18762101234", 1, -1},
		{"18765550000", 1, 2},
		{"18765551234", 1, 3},
		{"187655512345", 1, 2}, // exact match needs the whole number
		{"4474", -1, -1},
		{"", -1, -1},
		{"1x876", 0, -1},
	}
	for _, tt := range tests {
		rule, safe := tr.match(tt.digits)
		if rule != tt.rule || safe != tt.safe {
			t.Errorf("match(%q) = %d, %d; want %d, %d", tt.digits, rule, safe, tt.rule, tt.safe)
		}
	}
}

func TestRegionSet(t *testing.T) {
	var s regionSet
	for _, r := range []string{"US", "ZZ", "AA", "001"} {
		s.add(r)
	}
	for r, want := range map[string]bool{"US": true, "ZZ": true, "AA": true, "001": true, "CA": false, "": false, "us": false, "USA": false, "002": false} {
		if s.has(r) != want {
			t.Errorf("has(%q) = %v", r, !want)
		}
	}
}
