package numbers

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
)

// textReference is what libphonenumber's matcher (FindNumbers at VALID
// leniency) makes of the digits d with region r: the E.164 number, or ""
// when d is not a valid number there. national is true when d was read in
// r's national format.
func textReference(d, r string) (e164 string, national bool) {
	defer func() {
		if recover() != nil {
			e164, national = "", false
		}
	}()
	pn, err := phonenumbers.ParseAndKeepRawInput(d, r)
	if err != nil || !phonenumbers.VALID.Verify(pn, d) {
		return "", false
	}
	// Formatted by hand: libphonenumber formats a national number of
	// zeros without its calling code.
	e164 = "+" + strconv.Itoa(int(pn.GetCountryCode())) + phonenumbers.GetNationalSignificantNumber(pn)
	return e164, pn.GetCountryCodeSource() == phonenumbers.PhoneNumber_FROM_DEFAULT_COUNTRY
}

// textSamples returns digit strings in every way Recognize reads them, for
// every region and number type of the metadata, with some digits changed.
func textSamples(rng *rand.Rand, perRegion, regionStep int) []string {
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.UAN}
	change := func(s string) string {
		b := []byte(s)
		i := len(b) - 1 - rng.IntN(min(len(b), 5))
		b[i] = byte('0' + rng.IntN(10))
		return string(b)
	}
	var out []string
	for k, r := range regions {
		if k%regionStep != 0 {
			continue
		}
		var forms []string
		for _, typ := range types {
			pn := phonenumbers.GetExampleNumberForTypeInRegion(r, typ)
			if pn == nil {
				continue
			}
			cc := strconv.Itoa(int(pn.GetCountryCode()))
			nsn := phonenumbers.GetNationalSignificantNumber(pn)
			national := phonenumbers.NormalizeDigitsOnly(phonenumbers.Format(pn, phonenumbers.NATIONAL))
			forms = append(forms, national, nsn, "00"+cc+nsn, "011"+cc+nsn, cc+nsn, "+"+cc+nsn)
		}
		rng.Shuffle(len(forms), func(i, j int) { forms[i], forms[j] = forms[j], forms[i] })
		for i, f := range forms {
			if i >= perRegion {
				break
			}
			out = append(out, f, change(f), f[:len(f)-1], f+strconv.Itoa(rng.IntN(10)))
		}
	}
	return out
}

// TestRecognizeMatchesLibphonenumber checks Recognize against
// libphonenumber's matcher: every number it reads is one that
// libphonenumber reads the same way from the same digits in some region,
// and every number that libphonenumber reads in the national format of a
// region is found with that region as the hint, as the same number.
func TestRecognizeMatchesLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	perRegion, step := 4, 1
	switch {
	case testing.Short() || raceEnabled:
		perRegion, step = 1, 8
	case longTextTests:
		perRegion = 40
	}
	samples := textSamples(rng, perRegion, step)
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	found := 0
	for _, d := range samples {
		for _, hint := range []string{"", regions[rng.IntN(len(regions))]} {
			n, ok := Recognize(d, hint)
			if !ok {
				continue
			}
			found++
			if n.Type() == UnknownType {
				t.Fatalf("Recognize(%q, %q) = %s, which is not valid", d, hint, n.E164)
			}
			textSameAsParse(t, n)
			if !textConfirmed(d, n) {
				t.Fatalf("Recognize(%q, %q) = %s, which libphonenumber reads from %q in no region", d, hint, n.E164, d)
			}
		}
		if strings.HasPrefix(d, "+") {
			continue
		}
		// Completeness: a sample region per digit string, and the regions
		// of its first digits' calling code.
		for _, r := range textRegionsToTry(rng, d, regions) {
			want, national := textReference(d, r)
			if !national || len(want) > 1+maxE164Digits {
				continue // a Number holds at most the 15 digits of E.164
			}
			n, ok := Recognize(d, r)
			if !ok {
				t.Fatalf("Recognize(%q, %q) found nothing; libphonenumber reads %s", d, r, want)
			}
			if n.E164 != want {
				if w, _ := textReference(d, r); !textConfirmed(d, n) {
					t.Fatalf("Recognize(%q, %q) = %s, libphonenumber reads %s", d, r, n.E164, w)
				}
			}
		}
	}
	if found < len(samples)/4 {
		t.Errorf("only %d readings in %d samples", found, len(samples))
	}
}

// textSameAsParse checks that n is what Parse makes of its E.164 form.
func textSameAsParse(t *testing.T, n Number) {
	t.Helper()
	p, err := Parse(n.E164, "")
	if err != nil {
		t.Fatalf("Parse(%s) = %v", n.E164, err)
	}
	if n.Type() != p.Type() {
		t.Fatalf("Recognize gave %s type %v, Parse %v", n.E164, n.Type(), p.Type())
	}
	a, b := n, p
	a.lazy, b.lazy = nil, nil
	if a != b {
		t.Fatalf("Recognize gave %+v, Parse %+v", a, b)
	}
}

// textRegionsToTry returns regions in whose national format d may be
// written: a random one and those of the calling codes its NSN may have.
func textRegionsToTry(rng *rand.Rand, d string, regions []string) []string {
	out := []string{regions[rng.IntN(len(regions))]}
	x := textIndexOnce()
	for _, nsn := range []string{d, d[1:]} {
		set := x.candidates(nsn)
		for i, c := range x.ccs {
			if set[i/64]&(1<<(i%64)) != 0 && rng.IntN(4) == 0 {
				out = append(out, c.info.regions[0].region)
			}
		}
	}
	return out
}

// textConfirmed reports whether libphonenumber reads d as n in one of the
// regions that could give that reading: those of n's calling code, and
// those whose international prefix starts d.
func textConfirmed(d string, n Number) bool {
	if strings.HasPrefix(d, "+") {
		e, _ := textReference(d, "")
		return e == n.E164
	}
	candidates := phonenumbers.GetRegionCodesForCountryCode(n.CallingCode)
	for _, idd := range []string{"00", "011", "0011", "010", "001", "009", "000"} {
		if strings.HasPrefix(d, idd) {
			// Any region that dials out with idd reads it the same way.
			rs := textRegionWithIDD(idd)
			candidates = append(candidates, rs[:min(len(rs), 1)]...)
		}
	}
	for _, r := range candidates {
		if e, _ := textReference(d, r); e == n.E164 {
			return true
		}
	}
	return false
}

// textRegionWithIDD returns the regions whose international prefix is idd.
func textRegionWithIDD(idd string) []string {
	textIDDOnce.Do(func() {
		textIDDRegions = map[string][]string{}
		for r := range phonenumbers.GetSupportedRegions() {
			if m := regionMatcherFor(r); m != nil {
				for _, p := range m.iddLiterals {
					textIDDRegions[p] = append(textIDDRegions[p], r)
				}
			}
		}
		for _, rs := range textIDDRegions {
			slices.Sort(rs)
		}
	})
	return textIDDRegions[idd]
}

// longTextTests runs TestRecognizeMatchesLibphonenumber on ten times more
// samples, when ANTIFRAUD_LONG is set (as .ci/run does).
var longTextTests = os.Getenv("ANTIFRAUD_LONG") != ""

var (
	textIDDOnce    sync.Once
	textIDDRegions map[string][]string
)

func TestRecognize(t *testing.T) {
	tests := []struct {
		digits, hint string
		want         string // E.164, or "" for none
	}{
		{"+442079460018", "", "+442079460018"},
		{"+442079460018", "US", "+442079460018"},
		{"+4402079460018", "", "+442079460018"}, // "+44 (0)20 7946 0018"
		{"+0800079110800", "", ""},
		{"+5491123452789", "", "+5491123452789"},
		{"02079460018", "GB", "+442079460018"},
		{"09061701461", "GB", "+449061701461"}, // premium rate
		{"00442079460018", "", "+442079460018"},
		{"011442079460018", "US", "+442079460018"},
		{"442079460018", "", "+442079460018"},
		{"4155552671", "US", "+14155552671"},
		{"14155552671", "US", "+14155552671"},
		{"9876543210", "IN", "+919876543210"}, // mobile, no prefix needed
		{"09876543210", "IN", "+919876543210"},
		{"08065635084", "NG", "+2348065635084"},
		{"1705572711", "", ""},
		{"12", "", ""},
		{"123456789012345678901", "", ""},
		{"12a45678", "", ""},
		{"", "", ""},
		{"+", "", ""},
	}
	for _, tc := range tests {
		n, ok := Recognize(tc.digits, tc.hint)
		if ok != (tc.want != "") || n.E164 != tc.want {
			t.Errorf("Recognize(%q, %q) = %q, %v; want %q", tc.digits, tc.hint, n.E164, ok, tc.want)
		}
	}
	// GB numbers are written with their 0: without it, this is another
	// region's number.
	if n, ok := Recognize("2079460018", "GB"); ok && n.Region == "GB" {
		t.Errorf("Recognize(2079460018, GB) = %s in GB", n.E164)
	}
	// Without a hint, some reading is found, and which one does not
	// depend on the hint of another region.
	for _, d := range []string{"02079460018", "09061701461", "9876543210", "08065635084"} {
		a, okA := Recognize(d, "")
		b, okB := Recognize(d, "ZZ")
		if !okA || !okB || a.E164 != b.E164 {
			t.Errorf("Recognize(%q) = %s %v, with an unknown hint %s %v", d, a.E164, okA, b.E164, okB)
		}
	}
}

// TestTextLiterals checks the expansion of national and international
// prefixes into digit strings.
func TestTextLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
		exact   bool
	}{
		{"0", []string{"0"}, true},
		{"0|80?", []string{"0", "8", "80"}, true},
		{"[08]", []string{"0", "8"}, true},
		{"([2-9]\\d{6})$|1", []string{"1"}, false},
		{"0(1\\d)?", []string{"0", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019"}, true},
		{"00(?:1[245]|99)", []string{"0012", "0014", "0015", "0099"}, true},
		{"\\d+", nil, false},
	}
	for _, tc := range tests {
		got, exact := textLiterals(tc.pattern, 256)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) || exact != tc.exact {
			t.Errorf("textLiterals(%q) = %q, %v; want %q, %v", tc.pattern, got, exact, want, tc.exact)
		}
	}
}

// FuzzRecognize checks that whatever Recognize returns is valid and is a
// reading libphonenumber confirms.
func FuzzRecognize(f *testing.F) {
	for _, s := range []string{"02079460018", "00442079460018", "9876543210", "+14155552671", "09061701461"} {
		f.Add(s, "GB")
	}
	f.Fuzz(func(t *testing.T, d, hint string) {
		n, ok := Recognize(d, hint)
		if !ok {
			return
		}
		if n.Type() == UnknownType || !textConfirmed(d, n) {
			t.Fatalf("Recognize(%q, %q) = %s, which libphonenumber does not confirm", d, hint, n.E164)
		}
	})
}

func BenchmarkRecognize(b *testing.B) {
	textIndexOnce()
	for _, d := range []string{"09061701461", "9876543210", "00442079460018", "12345678", "123456789012"} {
		b.Run(d, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Recognize(d, "")
			}
		})
	}
}
