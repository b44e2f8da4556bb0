package numbers

import (
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// longTests is set by ANTIFRAUD_LONG=1 (as .ci/run does): the differential
// tests below then compare every case they generate, as many as before the
// switch existed (fewer under -short and -race, which slows
// libphonenumber's regular expressions tenfold). By default they compare a
// fixed sample of about one case in sampleEvery, spread over every calling
// code, region and way of writing, so that go test -race ./... stays quick.
var longTests = os.Getenv("ANTIFRAUD_LONG") != ""

const sampleEvery = 25

// differential returns the functions that a differential test calls for
// each case it generates: same runs checkSame, and number runs checkNumber
// on what libphonenumber parses from e164 (if anything), on every case in
// long mode and on a sample chosen by seed otherwise.
func differential(t *testing.T, seed uint64) (same func(s, region string), number func(e164 string)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5a))
	keep := func() bool { return longTests || rng.IntN(sampleEvery) == 0 }
	checked := 0
	t.Cleanup(func() { t.Logf("%d cases compared (long mode: %v)", checked, longTests) })
	same = func(s, region string) {
		if keep() {
			checked++
			checkSame(t, s, region)
		}
	}
	number = func(e164 string) {
		if !keep() {
			return
		}
		if pn, err := phonenumbers.Parse(e164, ""); err == nil {
			checked++
			checkNumber(t, pn)
		}
	}
	return same, number
}

// reduced reports whether the long differential tests run with their
// smaller sizes: under -short and -race.
func reduced() bool { return testing.Short() || raceEnabled }

// checkSame parses s with the fast path and with libphonenumber alone (the
// code before the fast path existed) and fails on any difference: the
// error, every field of the Number, the type and whether the E.164 form is
// canonical. When fastParse takes s, the PhoneNumber it builds must equal
// ParseToNumber's.
func checkSame(t testing.TB, s, region string) {
	t.Helper()
	for _, vanity := range []bool{false, true} {
		if vanity && !strings.ContainsFunc(s, unicode.IsLetter) {
			continue // the same as without
		}
		o := parseOptions{vanity: vanity}
		got, gotErr := parse(s, region, o, true)
		want, wantErr := parse(s, region, o, false)
		if !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("Parse(%q, %q) error = %v, want %v", s, region, gotErr, wantErr)
		}
		if gotErr != nil {
			continue
		}
		gt, gc := got.typeInfo()
		wt, wc := want.typeInfo()
		if gt != wt || gc != wc {
			t.Fatalf("Parse(%q, %q): type %v canonical %v, want %v %v", s, region, gt, gc, wt, wc)
		}
		got.lazy, want.lazy = nil, nil
		if got != want {
			t.Fatalf("Parse(%q, %q) = %+v, want %+v", s, region, got, want)
		}
	}
	if trimmed, err := screen(s, parseOptions{}); err == nil {
		var l lazyNumber
		nsn, ok := fastParse(trimmed, region, &l, new(digitBuf))
		if !ok {
			return
		}
		var pn phonenumbers.PhoneNumber
		if err := phonenumbers.ParseToNumber(trimmed, region, &pn); err != nil {
			t.Fatalf("fastParse(%q, %q) took input that ParseToNumber rejects: %v", trimmed, region, err)
		}
		if l.pn.GetCountryCode() != pn.GetCountryCode() || l.pn.GetNationalNumber() != pn.GetNationalNumber() ||
			l.pn.GetItalianLeadingZero() != pn.GetItalianLeadingZero() || l.pn.GetNumberOfLeadingZeros() != pn.GetNumberOfLeadingZeros() ||
			l.pn.GetExtension() != pn.GetExtension() || nsn != phonenumbers.GetNationalSignificantNumber(&pn) {
			t.Fatalf("fastParse(%q, %q) = %v (nsn %s), ParseToNumber = %v", trimmed, region, &l.pn, nsn, &pn)
		}
	}
}

// checkNumber compares the compiled patterns with libphonenumber's
// functions on a PhoneNumber.
func checkNumber(t testing.TB, pn *phonenumbers.PhoneNumber) {
	t.Helper()
	info := callingCode(int(pn.GetCountryCode()))
	if info == nil {
		return
	}
	nsn := phonenumbers.GetNationalSignificantNumber(pn)
	if len(nsn) >= len(info.possible) {
		return
	}
	m, mask := info.region(nsn)
	region, typ := "", UnknownType
	if m != nil {
		region, typ = m.region, m.numberType(mask, len(nsn))
	}
	if want := phonenumbers.GetRegionCodeForNumber(pn); region != want {
		t.Fatalf("+%d %s: region %q, want %q", pn.GetCountryCode(), nsn, region, want)
	}
	if want := fromLibType[phonenumbers.GetNumberType(pn)]; typ != want {
		t.Fatalf("+%d %s: type %v, want %v", pn.GetCountryCode(), nsn, typ, want)
	}
	if want := phonenumbers.IsValidNumber(pn); (typ != UnknownType) != want {
		t.Fatalf("+%d %s: valid %v, want %v", pn.GetCountryCode(), nsn, !want, want)
	}
	if got, want := info.possible[len(nsn)], phonenumbers.IsPossibleNumberWithReason(pn); got != want {
		t.Fatalf("+%d %s: possible %v, want %v", pn.GetCountryCode(), nsn, got, want)
	}
}

// variants returns ways to write the number +cc nsn.
func variants(cc int, nsn string) []string {
	c := strconv.Itoa(cc)
	out := []string{"+" + c + nsn, "+" + c + " " + nsn, "+" + c + " (" + nsn + ")", nsn}
	if len(nsn) > 4 {
		out = append(out, "+"+c+"-"+nsn[:3]+"."+nsn[3:], "("+nsn[:3]+") "+nsn[3:]+" ", nsn[:2]+"/"+nsn[2:])
	}
	return out
}

func supportedRegions() []string {
	var rs []string
	for r := range phonenumbers.GetSupportedRegions() {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

func allTypes() []phonenumbers.PhoneNumberType {
	return []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL, phonenumbers.FIXED_LINE_OR_MOBILE}
}

// exampleNumbers returns every example number of the metadata: per region
// and type, and per non-geographic calling code.
func exampleNumbers() []*phonenumbers.PhoneNumber {
	var out []*phonenumbers.PhoneNumber
	for _, r := range supportedRegions() {
		for _, typ := range allTypes() {
			if pn := phonenumbers.GetExampleNumberForTypeInRegion(r, typ); pn != nil {
				out = append(out, pn)
			}
		}
		if pn := phonenumbers.GetInvalidExampleNumber(r); pn != nil {
			out = append(out, pn)
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if pn := phonenumbers.GetExampleNumberForNonGeoEntity(cc); pn != nil {
			out = append(out, pn)
		}
	}
	return out
}

// TestFastMatchesLibraryExamples: every example number of every region and
// type, written in several ways and parsed with every region of its calling
// code and without one, and with a few digits changed.
func TestFastMatchesLibraryExamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	same, _ := differential(t, 1)
	examples := exampleNumbers()
	if len(examples) < 1000 {
		t.Fatalf("only %d example numbers", len(examples))
	}
	for _, pn := range examples {
		cc := int(pn.GetCountryCode())
		nsn := phonenumbers.GetNationalSignificantNumber(pn)
		checkNumber(t, pn)
		regions := append([]string{"", "US", "GB"}, phonenumbers.GetRegionCodesForCountryCode(cc)...)
		if reduced() {
			regions = []string{"", phonenumbers.GetRegionCodeForNumber(pn)}
		}
		numbers := []string{nsn, mutate(rng, nsn, 1), mutate(rng, nsn, 3), nsn[:len(nsn)-1], nsn + "1"}
		for _, region := range regions {
			for _, d := range numbers {
				for _, s := range variants(cc, d) {
					same(s, region)
				}
			}
			for _, f := range []phonenumbers.PhoneNumberFormat{phonenumbers.E164, phonenumbers.INTERNATIONAL, phonenumbers.NATIONAL} {
				same(phonenumbers.Format(pn, f), region)
			}
			if m := regionMatcherFor(region); m != nil {
				for _, idd := range m.iddLiterals {
					same(idd+" "+strconv.Itoa(cc)+" "+nsn, region)
					same(idd+strconv.Itoa(cc)+mutate(rng, nsn, 2), region)
				}
			}
		}
	}
}

// mutate replaces up to k of the last digits of s at random.
func mutate(rng *rand.Rand, s string, k int) string {
	b := []byte(s)
	for range k {
		if len(b) == 0 {
			break
		}
		i := len(b) - 1 - rng.IntN(min(len(b), 4))
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

// TestFastMatchesLibraryRandom: random digit strings after every calling
// code, and in national format for every region.
func TestFastMatchesLibraryRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	same, number := differential(t, 3)
	perCode := 300
	if reduced() {
		perCode = 30
	}
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	for cc, regions := range metadata.CountryCodeToRegion() {
		for range perCode {
			d := digits(1 + rng.IntN(17))
			same("+"+strconv.Itoa(cc)+d, "")
			region := regions[rng.IntN(len(regions))]
			same(d, region)
			same("("+d, region)
			for _, idd := range []struct{ prefix, region string }{{"00", "GB"}, {"011", "US"}, {"00", "DE"}, {"0", "US"}, {"01", "US"}} {
				same(idd.prefix+strconv.Itoa(cc)+d, idd.region)
			}
			number("+" + strconv.Itoa(cc) + d)
		}
	}
	// Numbers starting with a prefix of a valid number: more of them are
	// valid or close to valid.
	for _, pn := range exampleNumbers() {
		nsn := phonenumbers.GetNationalSignificantNumber(pn)
		for range 5 {
			k := rng.IntN(len(nsn) + 1)
			d := nsn[:k] + digits(rng.IntN(len(nsn)-k+3))
			same("+"+strconv.Itoa(int(pn.GetCountryCode()))+d, "")
			for _, r := range phonenumbers.GetRegionCodesForCountryCode(int(pn.GetCountryCode())) {
				same(d, r)
			}
		}
	}
}

// TestFastMatchesLibraryCorpus: the example corpus in testdata, and the
// shared research corpus when it is there.
func TestFastMatchesLibraryCorpus(t *testing.T) {
	same, _ := differential(t, 5)
	files := []string{filepath.Join("testdata", "corpus.csv"), filepath.Join("testdata", "corpus_edge.csv")}
	for _, name := range []string{"corpus.csv", "corpus_edge.csv"} {
		p := filepath.Join("..", "..", "shared", "testdata", "numbers", name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		head := rows[0]
		for _, row := range rows[1:] {
			for i, col := range head {
				v := row[i]
				switch col {
				case "e164", "national_number", "input":
				case "input_go_quoted":
					if u, err := strconv.Unquote(v); err == nil {
						v = u
					}
				default:
					continue
				}
				for _, region := range []string{"", "US", rowValue(head, row, "region"), rowValue(head, row, "default_region")} {
					if strings.HasSuffix(file, "corpus_edge.csv") {
						checkSame(t, v, region) // few and all different: every one
					} else {
						same(v, region)
					}
				}
			}
		}
	}
}

func rowValue(head, row []string, col string) string {
	if i := slices.Index(head, col); i >= 0 {
		return row[i]
	}
	return ""
}

// TestFastParseTable: inputs at the edges of what fastParse takes.
func TestFastParseTable(t *testing.T) {
	tests := []struct {
		s, region string
		fast      bool // fastParse takes it
	}{
		{"+1 415 555 2671", "", true},
		{"+1 (415) 555-2671", "US", true},
		{"(415) 555-2671", "US", true},
		{"+44 7911 123456", "", true},
		{"+39 06 1234 5678", "", true},
		{"+1 876 234 5678", "", true},
		{"415.555.2671", "CA", true},
		{"1 415 555 2671", "US", false},    // starts with the calling code
		{"011 44 7911 123456", "US", true}, // international prefix
		{"00 44 7911 123456", "GB", true},
		{"00 44 07911 123456", "GB", true},
		{"011 0 44 7911 123456", "US", false},
		{"011 44", "US", false},
		{"011 999 1234567", "US", false},
		{"810 44 7911 123456", "RU", true}, // "8~10" cannot match digits: a national number
		{"00 1 415 555 2671", "FR", true},
		{"07911 123456", "GB", true}, // national prefix "0"
		{"0 7911 123456", "GB", true},
		{"+44 07911 123456", "", true},
		{"+44 07911 123456", "GB", true},
		{"8 912 345 67 89", "RU", true},
		{"+800 1234 5678", "001", true},
		{"0 11", "GB", true}, // "11" is too short to strip the prefix
		{"0", "GB", false},
		{"+1 1415 555 2671", "", true}, // national prefix after the calling code
		{"+0 415", "", false},
		{"+999 1234567", "", false}, // unknown calling code
		{"+1 2", "", false},
		{"12", "US", false},
		{"+1 415 555 2671 x12", "", false},
		{"+1 415 555 2671#", "", false},
		{"+1 415 555 2671,,12", "", false},
		{"+1 415 555 2671;ext=12", "", false},
		{"++1 415 555 2671", "", false},
		{"４１５５５５２６７１", "US", false},
		{"(415) 555-2671", "", false},
		{"(415) 555-2671", "ZZ", false},
		{"(415) 555-2671", "001", false},
		{"+1 415 555 2671 1234 5678 9012", "", false}, // too long
		{"+800 1234 5678", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.s+"/"+tt.region, func(t *testing.T) {
			var l lazyNumber
			if _, ok := fastParse(tt.s, tt.region, &l, new(digitBuf)); ok != tt.fast {
				t.Errorf("fastParse took it: %v, want %v", ok, tt.fast)
			}
			checkSame(t, tt.s, tt.region)
		})
	}
}

// FuzzFastMatchesLibrary: for any input and region, Parse with the fast
// paths gives what libphonenumber alone gives.
func FuzzFastMatchesLibrary(f *testing.F) {
	for _, s := range []string{"+1 415 555 2671", "(415) 555-2671", "+44 7911 123456", "07911 123456", "+39 06 1234 5678",
		"+1 876 234 5678", "+800 1234 5678", "011 44 7911 123456", "00 44 7911 123456", "00 39 06 1234 5678", "+1 310 1234", "+7 912 345 67 89", "8 912 345 67 89"} {
		for _, r := range []string{"", "US", "GB", "IT", "RU", "AR", "BR", "MX", "JM", "CA"} {
			f.Add(s, r)
		}
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		if len(s) > maxInputLen || strings.ContainsRune(s, 0) {
			return
		}
		checkSame(t, s, region)
	})
}
