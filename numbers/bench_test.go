package numbers_test

import (
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/nyaruka/phonenumbers/v2"
)

// benchInputs is a mix of what a signup form receives: national and
// international formats, several regions, and some numbers a moderate policy
// denies by prefix (Jamaica, Latvia, Somalia, +882).
var benchInputs = []benchInput{
	{"+1 415-555-2671", "US"},
	{"(650) 253-0000", "US"},
	{"+44 7911 123456", "GB"},
	{"07911 123456", "GB"},
	{"+49 1512 3456789", "DE"},
	{"+33 6 12 34 56 78", "FR"},
	{"+91 98765 43210", "IN"},
	{"+55 11 96123-4567", "BR"},
	{"+61 412 345 678", "AU"},
	{"+1 876 234 5678", "US"},
	{"+371 2001 2345", "US"},
	{"+252 61 1234567", "US"},
	{"+882 3421234", "US"},
	{"+1 604 555 0123", "CA"},
}

type benchInput struct{ s, region string }

// BenchmarkEndToEnd compares, on the same inputs and in one run, what the
// issue compares: bare libphonenumber (Parse + IsValidNumber +
// GetNumberType) and this package (Parse + Policy.Check with ModeratePolicy
// on SMS). The target is numbers <= 1.15 x phonenumbers; see the ratio with
//
//	go test -run '^$' -bench EndToEnd -count 10 ./numbers > bench.txt
//	benchstat -col /impl bench.txt
func BenchmarkEndToEnd(b *testing.B) { benchEndToEnd(b, benchInputs) }

// BenchmarkEndToEndDenied is BenchmarkEndToEnd on numbers that the moderate
// policy denies by prefix, which it decides without computing the type.
func BenchmarkEndToEndDenied(b *testing.B) { benchEndToEnd(b, deniedInputs) }

func benchEndToEnd(b *testing.B, inputs []benchInput) {
	b.Run("impl=phonenumbers", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			in := inputs[i%len(inputs)]
			i++
			pn, err := phonenumbers.Parse(in.s, in.region)
			if err != nil {
				b.Fatal(err)
			}
			_ = phonenumbers.IsValidNumber(pn)
			_ = phonenumbers.GetNumberType(pn)
		}
	})
	b.Run("impl=numbers", func(b *testing.B) {
		p := numbers.ModeratePolicy()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			in := inputs[i%len(inputs)]
			i++
			n, err := numbers.Parse(in.s, in.region)
			if err != nil {
				b.Fatal(err)
			}
			_ = p.Check(n, numbers.SMS)
		}
	})
}

// deniedInputs are numbers a moderate policy denies by prefix: Jamaica,
// Latvia, Somalia, Sierra Leone, +882 networks, Fiji.
var deniedInputs = []benchInput{
	{"+1 876 210 1234", "US"},
	{"+371 2123 4567", "US"},
	{"+252 71 123456", "US"},
	{"+232 25 123456", "US"},
	{"+882 3421234", "US"},
	{"+679 701 2345", "US"},
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := benchInputs[i%len(benchInputs)]
		i++
		if _, err := numbers.Parse(in.s, in.region); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck checks already parsed numbers (types computed once) with
// the moderate policy and a prefix set. Target: under 100 ns, 0 allocations.
func BenchmarkCheck(b *testing.B) {
	set := &numbers.PrefixSet{Name: "monitor"}
	if err := set.Add(numbers.Entry{Prefix: "+23276", Note: "test", Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	p, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(set))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, number string }{
		{"allowed-US", "+14155552671"},
		{"allowed-DE", "+4915123456789"},
		{"denied-type", "+442079460018"},
		{"denied-prefix-JM", "+18762101234"},
		{"denied-prefix-LV", "+37121234567"},
	} {
		n, err := numbers.Parse(tc.number, "")
		if err != nil {
			b.Fatal(err)
		}
		n.Type()
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Check(n, numbers.SMS)
			}
		})
	}
}

// BenchmarkParseInput parses single common inputs, alone and with the
// number type, next to libphonenumber's Parse (+ GetNumberType) on the same
// input as the reference:
//
//	go test -run '^$' -bench ParseInput -count 10 ./numbers > bench.txt
//	benchstat -col /impl bench.txt
func BenchmarkParseInput(b *testing.B) {
	for _, in := range []struct{ name, s, region string }{
		{"US-national", "(415) 555-2671", "US"},
		{"US-plus", "+1 415 555 2671", "US"},
		{"GB-mobile", "07911 123456", "GB"},
		{"GB-mobile-plus", "+44 7911 123456", "GB"},
		{"JM-plus", "+1 876 234 5678", "US"},
	} {
		for _, typed := range []bool{false, true} {
			op := "parse"
			if typed {
				op = "parse+type"
			}
			b.Run("in="+in.name+"/op="+op+"/impl=phonenumbers", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					pn, err := phonenumbers.Parse(in.s, in.region)
					if err != nil {
						b.Fatal(err)
					}
					if typed {
						_ = phonenumbers.GetNumberType(pn)
					}
				}
			})
			b.Run("in="+in.name+"/op="+op+"/impl=numbers", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					n, err := numbers.Parse(in.s, in.region)
					if err != nil {
						b.Fatal(err)
					}
					if typed {
						_ = n.Type()
					}
				}
			})
		}
	}
}
