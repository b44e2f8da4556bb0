package numbers_test

import (
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/nyaruka/phonenumbers/v2"
)

// benchInputs is a mix of what a signup form receives: national and
// international formats, several regions, and some numbers a moderate policy
// denies by prefix (Jamaica, Latvia, Somalia, +882).
var benchInputs = []struct{ s, region string }{
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

// BenchmarkBaseline is what the issue compares against: bare
// phonenumbers.Parse + IsValidNumber + GetNumberType on the same inputs.
func BenchmarkBaseline(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := benchInputs[i%len(benchInputs)]
		i++
		pn, err := phonenumbers.Parse(in.s, in.region)
		if err != nil {
			b.Fatal(err)
		}
		_ = phonenumbers.IsValidNumber(pn)
		_ = phonenumbers.GetNumberType(pn)
	}
}

// BenchmarkParseCheck is Parse followed by Check with ModeratePolicy on SMS,
// on the same inputs as BenchmarkBaseline. The target is at most 1.15 times
// the baseline.
func BenchmarkParseCheck(b *testing.B) {
	p := numbers.ModeratePolicy()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := benchInputs[i%len(benchInputs)]
		i++
		n, err := numbers.Parse(in.s, in.region)
		if err != nil {
			b.Fatal(err)
		}
		_ = p.Check(n, numbers.SMS)
	}
}
