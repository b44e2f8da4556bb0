package numbers_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/nyaruka/phonenumbers/v2"
)

func callingCodeOf(t *testing.T, prefix string) int {
	d := prefix[1:]
	for l := 1; l <= 3 && l <= len(d); l++ {
		cc, _ := strconv.Atoi(d[:l])
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) > 0 {
			return cc
		}
	}
	t.Fatalf("%s starts with no calling code", prefix)
	return 0
}

// TestHighRiskRegions checks every entry of the embedded dataset against
// libphonenumber: the prefix starts with a calling code of the regions it is
// labelled with, and NANP area codes resolve to the labelled region.
func TestHighRiskRegions(t *testing.T) {
	d := numbers.HighRisk()
	if d.Version == "" || len(d.Entries) < 700 {
		t.Fatalf("version %q, %d entries", d.Version, len(d.Entries))
	}
	for _, e := range d.Entries {
		t.Run(e.Category+e.Prefix, func(t *testing.T) {
			if !strings.HasPrefix(e.Source, "https://") || e.Name == "" || len(e.Regions) == 0 {
				t.Errorf("entry %+v lacks a source URL, a name or regions", e)
			}
			cc := callingCodeOf(t, e.Prefix)
			for _, r := range e.Regions {
				if r == "001" {
					if !phonenumbers.GetSupportedGlobalNetworkCallingCodes()[cc] {
						t.Errorf("%s labelled non-geographic", e.Prefix)
					}
				} else if !slices.Contains(phonenumbers.GetRegionCodesForCountryCode(cc), r) {
					t.Errorf("%s labelled %s, but +%d is %v", e.Prefix, r, cc, phonenumbers.GetRegionCodesForCountryCode(cc))
				}
			}
			if cc == 1 && len(e.Prefix) >= 5 {
				// Pad the area code to a whole number and let libphonenumber
				// say whose it is.
				pn, err := phonenumbers.Parse(e.Prefix+strings.Repeat("2", 12-len(e.Prefix)), "")
				if err != nil {
					t.Fatal(err)
				}
				if got := phonenumbers.GetRegionCodeForNumber(pn); got != e.Regions[0] {
					t.Errorf("%s labelled %s, libphonenumber says %q", e.Prefix, e.Regions[0], got)
				}
			}
		})
	}
}

// TestHighRiskTopTen: the guide's ten destinations are all there.
func TestHighRiskTopTen(t *testing.T) {
	regions := map[string]bool{}
	for _, e := range numbers.HighRisk().Entries {
		if e.Category != numbers.CategoryTopTen {
			continue
		}
		for _, r := range e.Regions {
			regions[r] = true
		}
	}
	// Latvia, Lithuania, Serbia, Somalia, Congo, Pacific/Caribbean islands
	// (a sample), Chad, Gambia, Sierra Leone, Guinea.
	for _, r := range []string{"LV", "LT", "RS", "SO", "CG", "CD", "FJ", "PG", "JM", "VG", "CU", "TD", "GM", "SL", "GN"} {
		if !regions[r] {
			t.Errorf("top ten lacks %s", r)
		}
	}
	// Corrections of the reference material (see data/README.md).
	for _, r := range []string{"BN", "PR", "VI", "GU", "MP", "AS", "US", "CA"} {
		if regions[r] {
			t.Errorf("top ten contains %s", r)
		}
	}
}

// TestHighRiskPremiumSparesOrdinaryNumbers: no premium-rate prefix matches a
// fixed-line or mobile example number.
func TestHighRiskPremiumSparesOrdinaryNumbers(t *testing.T) {
	var premium []numbers.Entry
	for _, e := range numbers.HighRisk().Entries {
		if e.Category == numbers.CategoryPremiumRate {
			premium = append(premium, e)
		}
	}
	if len(premium) < 100 {
		t.Fatalf("%d premium-rate entries", len(premium))
	}
	for _, r := range readCSV(t, "corpus.csv") {
		switch r["expected_type"] {
		case "FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE":
		default:
			continue
		}
		for _, e := range premium {
			if strings.HasPrefix(r["e164"], e.Prefix) {
				t.Errorf("premium-rate %s matches %s example %s of %s", e.Prefix, r["expected_type"], r["e164"], r["region"])
			}
		}
	}
}

func TestParseDataset(t *testing.T) {
	const header = "# version: 1\nprefix,category,regions,name,note,source\n"
	good := header + "+371,top10,LV,Latvia,guide,https://example.com\n+882,non-geographic,001,Networks,,https://example.com\n"
	d, err := numbers.ParseDataset(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != "1" || len(d.Entries) != 2 || d.Entries[1].Regions[0] != "001" {
		t.Errorf("dataset %+v", d)
	}
	p := mustPolicy(t, numbers.DenyDataset(d))
	if dec := p.Check(mustParse(t, lvMobile), numbers.SMS); dec.Reason != numbers.ReasonHighRisk || dec.Rule != "high-risk dataset 1 top10" || dec.Source != "https://example.com" {
		t.Errorf("decision %v", dec)
	}

	bad := map[string]string{
		"no version":       "prefix,category,regions,name,note,source\n",
		"bad header":       "# version: 1\nprefix,category,name\n",
		"bad prefix":       header + "371,top10,LV,Latvia,,https://example.com\n",
		"zero prefix":      header + "+0371,top10,LV,Latvia,,https://example.com\n",
		"unknown region":   header + "+371,top10,XX,Latvia,,https://example.com\n",
		"no source":        header + "+371,top10,LV,Latvia,,\n",
		"no category":      header + "+371,,LV,Latvia,,https://example.com\n",
		"duplicate":        header + "+371,top10,LV,Latvia,,https://a\n+371,top10,LV,Latvia,,https://b\n",
		"too few fields":   header + "+371,top10,LV\n",
		"broken quoting":   header + "+371,top10,LV,\"Latvia,,https://a\n",
		"larger than 8MiB": header + strings.Repeat("#", 8<<20),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := numbers.ParseDataset(strings.NewReader(in)); !errors.Is(err, numbers.ErrInvalidConfig) {
				t.Errorf("ParseDataset = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// TestHighRiskIsACopy: a caller that changes the dataset HighRisk returned
// changes neither the next copy nor the policies built from it.
func TestHighRiskIsACopy(t *testing.T) {
	d := numbers.HighRisk()
	p := mustPolicy(t, numbers.DenyDataset(d, numbers.CategoryTopTen))
	d.Entries[0].Regions[0] = "XX"
	d.Entries = d.Entries[:0]
	again := numbers.HighRisk()
	if len(again.Entries) < 700 || again.Entries[0].Regions[0] == "XX" {
		t.Errorf("HighRisk shares its entries: %d, %v", len(again.Entries), again.Entries[0].Regions)
	}
	if dec := p.Check(mustParse(t, lvMobile), numbers.SMS); dec.Reason != numbers.ReasonHighRisk {
		t.Errorf("policy changed with its dataset: %v", dec)
	}
	derived, err := p.With(numbers.WithName("derived"))
	if err != nil {
		t.Fatal(err)
	}
	if dec := derived.Check(mustParse(t, lvMobile), numbers.SMS); dec.Reason != numbers.ReasonHighRisk {
		t.Errorf("policy derived after the dataset changed: %v", dec)
	}
	// The same for the slices given to options.
	regions := []string{"US"}
	opt := numbers.AllowRegions(regions...)
	regions[0] = "LV"
	p = mustPolicy(t, opt)
	if derived, err = p.With(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []*numbers.Policy{p, derived} {
		if dec := q.Check(mustParse(t, lvMobile), numbers.SMS); dec.Reason != numbers.ReasonRegionDenied {
			t.Errorf("option changed with its argument: %v", dec)
		}
	}
}

func TestDenyDatasetCategories(t *testing.T) {
	n := mustParse(t, lvPremium) // +3719 premium-rate, +371 top ten
	tests := []struct {
		categories []string
		entry      string
	}{
		{nil, "+3719"},
		{[]string{numbers.CategoryPremiumRate}, "+3719"},
		{[]string{numbers.CategoryTopTen}, "+371 Latvia"},
		{[]string{numbers.CategoryTopTen, numbers.CategoryPremiumRate}, "+3719"},
	}
	for _, tt := range tests {
		p := mustPolicy(t, numbers.DenyDataset(numbers.HighRisk(), tt.categories...))
		if d := p.Check(n, numbers.Voice); d.Reason != numbers.ReasonHighRisk || !strings.HasPrefix(d.Entry, tt.entry) {
			t.Errorf("categories %v: %v, want entry %s", tt.categories, d, tt.entry)
		}
	}
	if d := mustPolicy(t, numbers.DenyDataset(numbers.HighRisk(), numbers.CategoryNonGeographic)).Check(n, numbers.Voice); d.Reason == numbers.ReasonHighRisk {
		t.Errorf("non-geographic entries denied a Latvian number: %v", d)
	}
	// A user's own dataset: prefixes are normalized like DenyPrefixes'.
	own := &numbers.Dataset{Version: "own-1", Entries: []numbers.Entry{{Prefix: "+1 876", Category: "caribbean", Source: "ops team"}}}
	d := mustPolicy(t, numbers.DenyDataset(own)).Check(mustParse(t, jmMobile), numbers.SMS)
	if d.Reason != numbers.ReasonHighRisk || d.Entry != "+1876" || d.Rule != "high-risk dataset own-1 caribbean" || d.Source != "ops team" {
		t.Errorf("own dataset: %v", d)
	}
}
