package numbers_test

import (
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
)

// readCSV reads a testdata CSV file into maps keyed by the header.
func readCSV(t testing.TB, name string) []map[string]string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}

func typeByName(t testing.TB, name string) numbers.Type {
	t.Helper()
	for ty := numbers.UnknownType; ty <= numbers.Voicemail; ty++ {
		if ty.String() == name {
			return ty
		}
	}
	t.Fatalf("unknown type name %q", name)
	return 0
}

// TestCorpusRegionAndType parses one example number per region and type of
// libphonenumber's metadata and checks the region and type the file expects.
func TestCorpusRegionAndType(t *testing.T) {
	rows := readCSV(t, "corpus.csv")
	if len(rows) != 1144 {
		t.Fatalf("corpus.csv has %d rows, want 1144", len(rows))
	}
	for _, r := range rows {
		t.Run(r["region"]+"/"+r["expected_type"], func(t *testing.T) {
			n, err := numbers.Parse(r["e164"], "")
			if err != nil {
				t.Fatalf("Parse(%s): %v", r["e164"], err)
			}
			if n.E164 != r["e164"] || n.Region != r["expected_region"] || n.Type() != typeByName(t, r["expected_type"]) {
				t.Errorf("Parse(%s) = %s %q %v, want %s %q %s", r["e164"], n.E164, n.Region, n.Type(), r["e164"], r["expected_region"], r["expected_type"])
			}
			if cc, _ := strconv.Atoi(r["calling_code"]); n.CallingCode != cc || n.NationalNumber != r["national_number"] {
				t.Errorf("calling code %d national %s, want %d %s", n.CallingCode, n.NationalNumber, cc, r["national_number"])
			}
			if n.Type() == numbers.UnknownType {
				t.Error("not valid")
			}
			if n.NonGeographic != (r["expected_region"] == "001") {
				t.Errorf("NonGeographic = %v", n.NonGeographic)
			}
		})
	}
}

// TestCorpusModerateVoiceDeniesCostlyTypes: every PREMIUM_RATE and
// SHARED_COST example is denied for voice calls.
func TestCorpusModerateVoiceDeniesCostlyTypes(t *testing.T) {
	p := numbers.ModeratePolicy()
	checked := 0
	for _, r := range readCSV(t, "corpus.csv") {
		if r["expected_type"] != "PREMIUM_RATE" && r["expected_type"] != "SHARED_COST" {
			continue
		}
		checked++
		n := mustParse(t, r["e164"])
		if d := p.Check(n, numbers.Voice); d.Allowed {
			t.Errorf("%s (%s %s) allowed for voice: %v", n, r["region"], r["expected_type"], d)
		}
	}
	if checked != 151+54 {
		t.Errorf("checked %d examples, want 205", checked)
	}
}

// destinationRegions returns the regions that the moderate policy's dataset
// denies as a whole (top ten and non-geographic entries).
func destinationRegions() map[string]bool {
	m := map[string]bool{}
	for _, e := range numbers.HighRisk().Entries {
		if e.Category == numbers.CategoryTopTen || e.Category == numbers.CategoryNonGeographic {
			for _, r := range e.Regions {
				m[r] = true
			}
		}
	}
	return m
}

// TestCorpusModerateSMS: every MOBILE example from a region outside the
// high-risk dataset is allowed by the moderate policy for SMS, and every
// MOBILE example of a top-ten destination is denied without the type being
// needed.
func TestCorpusModerateSMS(t *testing.T) {
	p := numbers.ModeratePolicy()
	risky := destinationRegions()
	var allowed, denied int
	for _, r := range readCSV(t, "corpus.csv") {
		if r["expected_type"] != "MOBILE" {
			continue
		}
		n := mustParse(t, r["e164"])
		d := p.Check(n, numbers.SMS)
		switch {
		case risky[r["expected_region"]] && d.Allowed:
			t.Errorf("%s (%s) allowed: %v", n, r["expected_region"], d)
		case risky[r["expected_region"]]:
			denied++
			if d.Reason != numbers.ReasonHighRisk {
				t.Errorf("%s (%s) denied with %v, want %s", n, r["expected_region"], d, numbers.ReasonHighRisk)
			}
		case !d.Allowed:
			t.Errorf("%s (%s) denied: %v", n, r["expected_region"], d)
		default:
			allowed++
		}
	}
	if allowed < 150 || denied < 40 {
		t.Errorf("allowed %d, denied %d MOBILE examples; the corpus has 237", allowed, denied)
	}
}

// edgeInput decodes the input of a corpus_edge.csv row.
func edgeInput(t *testing.T, r map[string]string) string {
	q := r["input_go_quoted"]
	switch {
	case r["input_file"] != "":
		switch r["id"] {
		case "oversize_1MiB_digits":
			return strings.Repeat("1", 1<<20)
		case "oversize_1MiB_repeated_number":
			return strings.Repeat("+1 650 253 0000 ", 1<<16)
		}
		t.Fatalf("unknown input file %s", r["input_file"])
	case strings.Contains(q, " hex="):
		b, err := hex.DecodeString(q[strings.Index(q, " hex=")+5:])
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	s, err := strconv.Unquote(q)
	if err != nil {
		t.Fatalf("unquote %s: %v", q, err)
	}
	return s
}

// edgeRejects lists the edge inputs that libphonenumber accepts and Parse
// rejects on purpose, with the reason.
var edgeRejects = map[string]numbers.Reason{
	// Letters become keypad digits upstream: a different number.
	"vanity_1800_flowers":      numbers.ReasonCharacter,
	"vanity_plus_1800_flowers": numbers.ReasonCharacter,
	"vanity_got_junk":          numbers.ReasonCharacter,
	"homoglyph_O_for_0":        numbers.ReasonCharacter,
	"surrounding_text":         numbers.ReasonCharacter,
	"emoji":                    numbers.ReasonCharacter,
	// Parses upstream but no number of +1 has two digits.
	"short_nsn_parses_invalid": numbers.ReasonTooShort,
}

// edgeReasons maps libphonenumber's error names to the reasons Parse may
// give for them; Parse often says more precisely why.
var edgeReasons = map[string][]numbers.Reason{
	"NOT_A_NUMBER":         {numbers.ReasonNotANumber, numbers.ReasonCharacter},
	"TOO_LONG":             {numbers.ReasonTooLong},
	"TOO_SHORT_AFTER_IDD":  {numbers.ReasonTooShort},
	"INVALID_COUNTRY_CODE": {numbers.ReasonCountryCode},
}

// TestCorpusEdge runs the messy inputs: each gives the expected number or a
// clear error, never a panic.
func TestCorpusEdge(t *testing.T) {
	rows := readCSV(t, "corpus_edge.csv")
	if len(rows) != 87 {
		t.Fatalf("corpus_edge.csv has %d rows, want 87", len(rows))
	}
	for _, r := range rows {
		t.Run(r["id"], func(t *testing.T) {
			in := edgeInput(t, r)
			n, err := numbers.Parse(in, r["default_region"])
			var pe *numbers.ParseError
			if err != nil && (!errors.As(err, &pe) || !errors.Is(err, numbers.ErrInvalid)) {
				t.Fatalf("error %v is not a *ParseError wrapping ErrInvalid", err)
			}
			switch want, reject := edgeRejects[r["id"]]; {
			case reject:
				if pe == nil || pe.Reason != want {
					t.Fatalf("Parse = %s, %v; want reason %s", n.E164, err, want)
				}
			case r["expected_e164"] != "":
				if err != nil || n.E164 != r["expected_e164"] || n.Extension != r["expected_ext"] {
					t.Fatalf("Parse = %s ext %q, %v; want %s ext %q", n.E164, n.Extension, err, r["expected_e164"], r["expected_ext"])
				}
				if r["expected_type"] != "" && n.Type() != typeByName(t, r["expected_type"]) {
					t.Errorf("type %v, want %s", n.Type(), r["expected_type"])
				}
				if r["expected_valid"] == "true" && n.Type() == numbers.UnknownType {
					t.Error("not valid")
				}
			case r["expected_error"] != "":
				if pe == nil {
					t.Fatalf("Parse = %s, want error %s", n.E164, r["expected_error"])
				}
				reasons, ok := edgeReasons[r["expected_error"]]
				if !ok {
					t.Fatalf("no mapping for %s", r["expected_error"])
				}
				if !contains(reasons, pe.Reason) {
					t.Errorf("reason %s, want one of %v", pe.Reason, reasons)
				}
			default:
				// Upstream gives no expectation: either a number or an error is
				// fine, but a number must be consistent.
				if err == nil && (!strings.HasPrefix(n.E164, "+") || n.NationalNumber == "") {
					t.Errorf("inconsistent number %+v", n)
				}
			}
			if err != nil && pe.Error() == "" {
				t.Error("empty error message")
			}
		})
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestCorpusEdgeVanity: with AllowVanity, vanity numbers give the numbers
// upstream expects.
func TestCorpusEdgeVanity(t *testing.T) {
	for _, r := range readCSV(t, "corpus_edge.csv") {
		if r["category"] != "vanity" {
			continue
		}
		t.Run(r["id"], func(t *testing.T) {
			n, err := numbers.Parse(edgeInput(t, r), r["default_region"], numbers.AllowVanity())
			if err != nil || n.E164 != r["expected_e164"] {
				t.Errorf("Parse = %s, %v; want %s", n.E164, err, r["expected_e164"])
			}
		})
	}
}
