package numbers_test

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/numbers"
)

// addSeeds seeds a fuzz target from the edge corpus, a slice of the example
// corpus and the parse tables.
func addSeeds(f *testing.F, add func(s, region string)) {
	for _, r := range readCSV(f, "corpus_edge.csv") {
		q := r["input_go_quoted"]
		switch {
		case r["input_file"] != "":
			continue // 1 MiB inputs: covered by TestCorpusEdge
		case strings.Contains(q, " hex="):
			b, err := hex.DecodeString(q[strings.Index(q, " hex=")+5:])
			if err != nil {
				f.Fatal(err)
			}
			add(string(b), r["default_region"])
		default:
			s, err := strconv.Unquote(q)
			if err != nil {
				f.Fatal(err)
			}
			add(s, r["default_region"])
		}
	}
	for i, r := range readCSV(f, "corpus.csv") {
		if i%20 == 0 {
			add(r["e164"], "")
			add(r["national_number"], r["region"])
		}
	}
	for _, s := range []string{"+1 415 555 2671 ext. 12", "tel:+1-415-555-2671;ext=12", "1-800-FLOWERS", "00 44 7400 123456", "+1 310 1234"} {
		add(s, "US")
	}
}

// FuzzParse: Parse never panics, is deterministic, and a number it returns
// is consistent and re-parses from its E.164 form to the same number.
func FuzzParse(f *testing.F) {
	addSeeds(f, func(s, region string) { f.Add(s, region, false) })
	f.Fuzz(func(t *testing.T, s, region string, vanity bool) {
		var opts []numbers.ParseOption
		if vanity {
			opts = append(opts, numbers.AllowVanity())
		}
		n, err := numbers.Parse(s, region, opts...)
		n2, err2 := numbers.Parse(s, region, opts...)
		if (err == nil) != (err2 == nil) || n.E164 != n2.E164 || n.Region != n2.Region || n.Extension != n2.Extension {
			t.Fatalf("not deterministic: %+v %v / %+v %v", n, err, n2, err2)
		}
		if err != nil {
			pe, ok := err.(*numbers.ParseError)
			if !ok || pe.Reason == "" || err2.(*numbers.ParseError).Reason != pe.Reason {
				t.Fatalf("error %#v", err)
			}
			return
		}
		if len(n.E164) < 3 || len(n.E164) > 16 || n.E164[0] != '+' || !strings.HasSuffix(n.E164, n.NationalNumber) ||
			n.E164 != "+"+strconv.Itoa(n.CallingCode)+n.NationalNumber {
			t.Fatalf("inconsistent number %+v", n)
		}
		if n.Type() != n2.Type() {
			t.Fatalf("type not deterministic")
		}
		if n.Type() != numbers.UnknownType {
			again, err := numbers.Parse(n.E164, "")
			if err != nil || again.E164 != n.E164 || again.Region != n.Region || again.Type() != n.Type() {
				t.Fatalf("%s re-parses to %s %s %v, %v", n.E164, again.E164, again.Region, again.Type(), err)
			}
		}
	})
}

// FuzzCheck: checking any parsed input under the ready-made policies and a
// strict one never panics, is deterministic, and an allowed number's E.164
// form re-parses to the same number and decision.
func FuzzCheck(f *testing.F) {
	addSeeds(f, func(s, region string) { f.Add(s, region, uint8(0)) })
	f.Add("+1 876 210 1234", "", uint8(1))
	f.Add("+44 7400 123456", "", uint8(200))
	sms, err := numbers.SMSVerificationPolicy("US", "CA", "GB")
	if err != nil {
		f.Fatal(err)
	}
	strict, err := numbers.NewPolicy(numbers.DenyDataset(numbers.HighRisk()), numbers.DenyTypes(numbers.Voice, numbers.VoIP, numbers.TollFree))
	if err != nil {
		f.Fatal(err)
	}
	policies := []*numbers.Policy{sms, numbers.ModeratePolicy(), strict}
	f.Fuzz(func(t *testing.T, s, region string, ch uint8) {
		channel := numbers.Channel(ch % 4) // 3 is not a channel
		n, err := numbers.Parse(s, region)
		if err != nil {
			return
		}
		for _, p := range policies {
			d := p.Check(n, channel)
			if d2 := p.Check(n, channel); d2 != d {
				t.Fatalf("not deterministic: %v / %v", d, d2)
			}
			if d.Allowed != (d.Err() == nil) || d.String() == "" {
				t.Fatalf("inconsistent decision %v", d)
			}
			if !d.Allowed {
				continue
			}
			again, err := numbers.Parse(n.E164, "")
			if err != nil || again.E164 != n.E164 {
				t.Fatalf("allowed %s re-parses to %s, %v", n.E164, again.E164, err)
			}
			if d2 := p.Check(again, channel); d2 != d {
				t.Fatalf("allowed %s re-parses to %v, was %v", n.E164, d2, d)
			}
		}
	})
}
