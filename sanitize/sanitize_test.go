package sanitize_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/antifraud-go/antifraud/sanitize"
)

// want is an expected finding: its kind, matched text, normalised form
// (checked when not empty) and evasions (checked when not zero).
type want struct {
	kind       sanitize.Kind
	text       string
	normalized string
	evasions   sanitize.Evasion
}

// findCase is a text and what Find must report in it. Findings do not
// depend on the region hint: each case runs with every region of
// hintRegions and with none, and must give the same findings. normalized
// is checked with the hint region of the case (region), or without a hint.
type findCase struct {
	name   string
	region string
	text   string
	want   []want
}

// hintRegions are the region hints every case runs with.
var hintRegions = []string{"", "US", "GB", "IN", "NG", "DE", "SG"}

func policyFor(t testing.TB, region string) *sanitize.Policy {
	t.Helper()
	if region == "" {
		return mustPolicy()
	}
	p, err := sanitize.NewPolicy(sanitize.WithRegion(region))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runFindCases(t *testing.T, cases []findCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, region := range hintRegions {
				got := policyFor(t, region).Find(tc.text)
				checkFindings(t, tc.text, got)
				if len(got) != len(tc.want) {
					t.Fatalf("region %q: Find(%q) = %s, want %d findings %v", region, tc.text, describe(got), len(tc.want), tc.want)
				}
				for i, w := range tc.want {
					g := got[i]
					if g.Kind != w.kind || g.Text != w.text {
						t.Errorf("region %q: finding %d = %s, want %s %q", region, i, describe(got[i:i+1]), w.kind, w.text)
					}
					if g.Evasions&w.evasions != w.evasions {
						t.Errorf("region %q: finding %d has evasions %v, want %v", region, i, g.Evasions, w.evasions)
					}
					if region == tc.region && w.normalized != "" && g.Normalized != w.normalized {
						t.Errorf("region %q: finding %d normalised %q, want %q", region, i, g.Normalized, w.normalized)
					}
					if g.Kind == sanitize.Phone && g.Number.E164 != "" && g.Number.E164 != g.Normalized {
						t.Errorf("region %q: finding %d: Number %s, Normalized %s", region, i, g.Number.E164, g.Normalized)
					}
				}
			}
		})
	}
}

// describe prints findings for a failure message: tests may show numbers.
func describe(fs []sanitize.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "[%s %q %s %s] ", f.Kind, f.Text, f.Normalized, f.Evasions)
	}
	return b.String()
}

// TestFindLinkEvasions covers every link evasion the issue lists.
func TestFindLinkEvasions(t *testing.T) {
	const L, E = sanitize.Link, sanitize.Email
	runFindCases(t, []findCase{
		{name: "plain https", text: "Pay at https://example.com/pay now.",
			want: []want{{L, "https://example.com/pay", "https://example.com/pay", 0}}},
		{name: "hxxps defanged", text: "Track: hxxps://evil.com/t?id=42",
			want: []want{{L, "hxxps://evil.com/t?id=42", "https://evil.com/t?id=42", sanitize.Defanged}}},
		{name: "hxxp with bracketed colon and dot", text: "go hxxp[:]//evil[.]com/x",
			want: []want{{L, "hxxp[:]//evil[.]com/x", "http://evil.com/x", sanitize.Defanged}}},
		{name: "bracketed dot", text: "visit example[.]com today",
			want: []want{{L, "example[.]com", "http://example.com", sanitize.Defanged}}},
		{name: "parenthesised dot", text: "visit example(.)com today",
			want: []want{{L, "example(.)com", "http://example.com", sanitize.Defanged}}},
		{name: "bracketed dot on a word TLD", text: "see evil[.]live",
			want: []want{{L, "evil[.]live", "http://evil.live", sanitize.Defanged}}},
		{name: "parenthesised word dot", text: "evil (dot) co (dot) uk",
			want: []want{{L, "evil (dot) co (dot) uk", "http://evil.co.uk", sanitize.Defanged}}},
		{name: "spelled dot", text: "go to example dot com now",
			want: []want{{L, "example dot com", "http://example.com", sanitize.Defanged}}},
		{name: "spelled dot in capitals", text: "EVIL DOT COM",
			want: []want{{L, "EVIL DOT COM", "http://evil.com", sanitize.Defanged}}},
		{name: "spaced dots", text: "open www . evil . com please",
			want: []want{{L, "www . evil . com", "http://www.evil.com", sanitize.Defanged}}},
		{name: "spaced dot after www", text: "www. evil.com",
			want: []want{{L, "www. evil.com", "http://www.evil.com", sanitize.Defanged}}},
		{name: "space after the scheme host", text: "click http://wap. example.com?n=QJKG",
			want: []want{{L, "http://wap. example.com?n=QJKG", "http://wap.example.com?n=QJKG", sanitize.Defanged}}},
		{name: "fullwidth", text: "ｅｖｉｌ．ｃｏｍ",
			want: []want{{L, "ｅｖｉｌ．ｃｏｍ", "http://evil.com", sanitize.Lookalike}}},
		{name: "ideographic full stop", text: "evil。com",
			want: []want{{L, "evil。com", "http://evil.com", sanitize.Lookalike}}},
		{name: "halfwidth ideographic full stop", text: "evil｡com",
			want: []want{{L, "evil｡com", "http://evil.com", sanitize.Lookalike}}},
		{name: "zero width space before the dot", text: "evil\u200b.com",
			want: []want{{L, "evil\u200b.com", "http://evil.com", sanitize.Invisible}}},
		{name: "zero width space in the label", text: "ev\u200bil.com",
			want: []want{{L, "ev\u200bil.com", "http://evil.com", sanitize.Invisible}}},
		{name: "soft hyphen", text: "pay\u00adpal.com",
			want: []want{{L, "pay\u00adpal.com", "http://paypal.com", sanitize.Invisible}}},
		{name: "zero width joiner on a word TLD", text: "evil\u200d.lol",
			want: []want{{L, "evil\u200d.lol", "http://evil.lol", sanitize.Invisible}}},
		{name: "userinfo", text: "https://www.paypal.com@evil.com/login",
			want: []want{{L, "https://www.paypal.com@evil.com/login", "https://evil.com/login", sanitize.Spoofed}}},
		{name: "userinfo without scheme", text: "www.paypal.com@evil.com",
			want: []want{{L, "www.paypal.com@evil.com", "http://evil.com", sanitize.Spoofed}}},
		{name: "shortener", text: "see bit.ly/3abc",
			want: []want{{L, "bit.ly/3abc", "http://bit.ly/3abc", sanitize.Shortener}}},
		{name: "bare shortener", text: "see bit.ly or t.co",
			want: []want{{L, "bit.ly", "http://bit.ly", sanitize.Shortener}, {L, "t.co", "http://t.co", sanitize.Shortener}}},
		{name: "punycode", text: "xn--pypal-4ve.com",
			want: []want{{L, "xn--pypal-4ve.com", "http://xn--pypal-4ve.com", sanitize.Spoofed}}},
		{name: "mixed script", text: "log in at pаypal.com", // Cyrillic а
			want: []want{{L, "pаypal.com", "http://xn--pypal-4ve.com", sanitize.Spoofed}}},
		{name: "internationalised domain", text: "тест.рф",
			want: []want{{L, "тест.рф", "http://xn--e1aybc.xn--p1ai", 0}}},
		{name: "glued to the next word", text: "www.Ldew.com1win150ppm",
			want: []want{{L, "www.Ldew.com", "http://www.ldew.com", sanitize.Glued}}},
		{name: "glued to a number after it", text: "go to evil.com09061701461 now",
			want: []want{{L, "evil.com", "http://evil.com", sanitize.Glued}, {sanitize.Phone, "09061701461", "", sanitize.Glued}}},
		{name: "glued to a link after it", text: "see evil.comhttp://x.co/a",
			want: []want{{L, "evil.com", "http://evil.com", sanitize.Glued}, {L, "http://x.co/a", "http://x.co/a", 0}}},
		{name: "glued capitals", text: "sms.shsex.netUN",
			want: []want{{L, "sms.shsex.net", "http://sms.shsex.net", sanitize.Glued}}},
		{name: "common TLD in capitals", text: "Sent via WAY2SMS.COM",
			want: []want{{L, "WAY2SMS.COM", "http://way2sms.com", 0}}},
		{name: "query without path", text: "xxxmobilemovieclub.com?n=QJKG",
			want: []want{{L, "xxxmobilemovieclub.com?n=QJKG", "http://xxxmobilemovieclub.com?n=QJKG", 0}}},
		{name: "country code with generic second level", text: "staff.nus.edu.sg and shop.co.in",
			want: []want{{L, "staff.nus.edu.sg", "", 0}, {L, "shop.co.in", "", 0}}},
		{name: "IP address with path", text: "http://10.0.0.1/x or 10.0.0.1/login",
			want: []want{{L, "http://10.0.0.1/x", "", 0}, {L, "10.0.0.1/login", "http://10.0.0.1/login", 0}}},
		{name: "tel and sms URIs", text: "tel:+442079460018 sms:87121",
			want: []want{{L, "tel:+442079460018", "tel:+442079460018", 0}, {L, "sms:87121", "sms:87121", 0}}},
		{name: "email", text: "mail Someone@Example.ORG today",
			want: []want{{E, "Someone@Example.ORG", "Someone@example.org", 0}}},
		{name: "defanged email", text: "john [at] evil [dot] com",
			want: []want{{E, "john [at] evil [dot] com", "john@evil.com", sanitize.Defanged}}},
		{name: "link longer than a token piece", text: "https://evil.com/" + strings.Repeat("a", 5000) + " end",
			want: []want{{L, "https://evil.com/" + strings.Repeat("a", 5000), "", 0}}},
	})
}

// TestFindNumbers: phone numbers from many countries, found whatever the
// region hint, and written in the ways that get past libphonenumber's
// matcher. The E.164 form is checked with the region of the case.
func TestFindNumbers(t *testing.T) {
	const P, S = sanitize.Phone, sanitize.ShortCode
	runFindCases(t, []findCase{
		{name: "British premium rate", region: "GB", text: "To claim call 09061701461. Claim code KL341.",
			want: []want{{P, "09061701461", "+449061701461", 0}}},
		{name: "British premium rate, American hint", region: "US", text: "URGENT! call 09061743386 now",
			want: []want{{P, "09061743386", "", 0}}},
		{name: "Indian mobile", region: "IN", text: "Call 9891943823 for details",
			want: []want{{P, "9891943823", "+919891943823", 0}}},
		{name: "Indian mobile in two groups", region: "IN", text: "whatsapp 98919 43823",
			want: []want{{P, "98919 43823", "+919891943823", 0}}},
		{name: "Nigerian mobile", region: "NG", text: "send the fee, then call 08065635084",
			want: []want{{P, "08065635084", "+2348065635084", 0}}},
		{name: "international", text: "Call +44 (0) 20 7946 0018 now",
			want: []want{{P, "+44 (0) 20 7946 0018", "+442079460018", 0}}},
		{name: "international prefix 00", text: "Ring 0044 20 7946 0018",
			want: []want{{P, "0044 20 7946 0018", "+442079460018", 0}}},
		{name: "US formats", region: "US", text: "Call 1 (800) 356-9377 or 415.555.2671",
			want: []want{{P, "1 (800) 356-9377", "+18003569377", 0}, {P, "415.555.2671", "+14155552671", 0}}},
		{name: "glued on both sides", region: "GB", text: "Call09061701461.Claim",
			want: []want{{P, "09061701461", "+449061701461", sanitize.Glued}}},
		{name: "glued to letters after", region: "GB", text: "T&C's apply 08452810075over18's",
			want: []want{{P, "08452810075", "+448452810075", sanitize.Glued}}},
		{name: "glued to a price", region: "GB", text: "claim 0871277810910p/min",
			want: []want{{P, "08712778109", "+448712778109", sanitize.Glued}}},
		{name: "glued to a decimal price", region: "GB", text: "2optout 087187262701.50gbp",
			want: []want{{P, "08718726270", "+448718726270", sanitize.Glued}}},
		{name: "lookalike letters", region: "GB", text: "ring O8OO l23 4567 now",
			want: []want{{P, "O8OO l23 4567", "+448001234567", sanitize.Lookalike}}},
		{name: "vanity", region: "US", text: "Call 1-800-FLOWERS today",
			want: []want{{P, "1-800-FLOWERS", "+18003569377", sanitize.Vanity}}},
		{name: "vanity with surplus letters", region: "US", text: "Call 1-800-MY-APPLE",
			want: []want{{P, "1-800-MY-APPLE", "+18006927753", sanitize.Vanity}}},
		{name: "vanity with spaces after a toll-free code", region: "US", text: "Call 1 800 FLOWERS",
			want: []want{{P, "1 800 FLOWERS", "+18003569377", sanitize.Vanity}}},
		{name: "fullwidth digits", region: "GB", text: "ring ０８００ １２３ ４５６７",
			want: []want{{P, "０８００ １２３ ４５６７", "+448001234567", sanitize.Lookalike}}},
		{name: "Arabic-Indic digits", region: "GB", text: "ring ٠٨٠٠١٢٣٤٥٦٧",
			want: []want{{P, "٠٨٠٠١٢٣٤٥٦٧", "+448001234567", sanitize.Lookalike}}},
		{name: "Devanagari digits", region: "IN", text: "call ९३११३०४८७२",
			want: []want{{P, "९३११३०४८७२", "+919311304872", sanitize.Lookalike}}},
		{name: "zero width space inside", region: "GB", text: "0800\u200b123 4567",
			want: []want{{P, "0800\u200b123 4567", "+448001234567", sanitize.Invisible}}},
		{name: "spaced digits", region: "GB", text: "Text back to 0 7 7 0 0 9 0 0 1 2 3 today",
			want: []want{{P, "0 7 7 0 0 9 0 0 1 2 3", "", sanitize.Defanged}}},
		{name: "spaced digits in pairs", region: "GB", text: "call 07 91 12 34 56 7",
			want: []want{{P, "07 91 12 34 56 7", "+447911234567", 0}}},
		{name: "slash-joined pair", region: "IN", text: "9311304872/9268250573",
			want: []want{{P, "9311304872", "+919311304872", 0}, {P, "9268250573", "+919268250573", 0}}},
		{name: "comma-joined list", region: "IN", text: "contact 9311304872,9268250573, 9811122233",
			want: []want{{P, "9311304872", "+919311304872", 0}, {P, "9268250573", "", 0}, {P, "9811122233", "", 0}}},
		{name: "two numbers side by side", region: "GB", text: "0207 946 0018 07911 123456",
			want: []want{{P, "0207 946 0018", "+442079460018", 0}, {P, "07911 123456", "+447911123456", 0}}},
		{name: "split across a line break", region: "GB", text: "Call 0800 123\n4567 now",
			want: []want{{P, "0800 123\n4567", "+448001234567", 0}}},
		{name: "one number a line", region: "GB", text: "Lines:\n07911 123456\n07400 123456",
			want: []want{{P, "07911 123456", "+447911123456", 0}, {P, "07400 123456", "+447400123456", 0}}},
		{name: "after a price", region: "GB", text: "STOP £1.50 08704050406",
			want: []want{{P, "08704050406", "+448704050406", 0}}},
		{name: "one digit short", text: "Urgent! Please call 0906346330. Your holiday awaits",
			want: []want{{P, "0906346330", "", 0}}},
		{name: "international prefix on a short number", text: "£1.50 008704050406 SP",
			want: []want{{P, "008704050406", "", 0}}},
		{name: "local number after a call to action", text: "call 555-1234 tonight",
			want: []want{{P, "555-1234", "", 0}}},
		{name: "Singapore number after a call to action", region: "SG", text: "call 67441233 look for irene",
			want: []want{{P, "67441233", "+6567441233", 0}}},
		{name: "eight digits grouped as a phone number", region: "SG", text: "pls 6744 1233 after 6",
			want: []want{{P, "6744 1233", "+6567441233", 0}}},
		{name: "Indian with +91 and a dash", text: "Call +91-9876543219 now",
			want: []want{{P, "+91-9876543219", "+919876543219", 0}}},
		{name: "Indian with 91 and no plus", region: "IN", text: "call 91 98765 43219 for loan",
			want: []want{{P, "91 98765 43219", "+919876543219", 0}}},
		{name: "Indian toll-free", region: "IN", text: "Give a missed call on 1800 419 1234",
			want: []want{{P, "1800 419 1234", "+9118004191234", 0}}},
		{name: "Indian landline", region: "IN", text: "Ph: 080-41234567",
			want: []want{{P, "080-41234567", "+918041234567", 0}}},
		{name: "Nigerian in groups", region: "NG", text: "call 0803 123 4567 now",
			want: []want{{P, "0803 123 4567", "+2348031234567", 0}}},
		{name: "UAE after 00", text: "call 00971 50 123 4567",
			want: []want{{P, "00971 50 123 4567", "+971501234567", 0}}},
		{name: "American toll-free", region: "US", text: "Helpline: 1-800-222-1222",
			want: []want{{P, "1-800-222-1222", "+18002221222", 0}}},
		{name: "short code", region: "GB", text: "Text FA to 87121 to receive entry",
			want: []want{{S, "87121", "87121", 0}}},
		{name: "short codes after other words", text: "Reply STOP to 85069 or txt HELP to 55555.",
			want: []want{{S, "85069", "", 0}, {S, "55555", "", 0}}},
		{name: "short code next to a number", region: "GB", text: "TXT ONE name to 89693. 08718730666 rpl",
			want: []want{{S, "89693", "", 0}, {P, "08718730666", "", 0}}},
	})
}

// TestFindNumberPlaceholders: numbers that stand for the reader's own,
// hidden or named by their last digits, are not calls to action.
func TestFindNumberPlaceholders(t *testing.T) {
	const P = sanitize.Phone
	runFindCases(t, []findCase{
		{name: "numbers ending", text: "Todays Voda numbers ending 7548 are selected to receive a $350 award",
			want: nil},
		{name: "ending with, in brackets", text: "numbers ending with 0089(my last four digits) are selected",
			want: nil},
		{name: "masked with X", text: "Your 2003 Account Statement for 07808 XXXXXX shows 800 points",
			want: nil},
		{name: "masked in one word", text: "URGENT! Your mobile No 07xxxxxxxxx won a prize",
			want: nil},
		{name: "masked with stars", text: "card 4111 **** **** 1234 was charged",
			want: nil},
		{name: "masked, then a number to call", region: "GB", text: "Dear 0776xxxxxxx, call 09066362231 now",
			want: []want{{P, "09066362231", "+449066362231", 0}}},
	})
}

// TestPrecision lists ordinary text that must come out of Find with nothing,
// whatever the region hint.
func TestPrecision(t *testing.T) {
	texts := []string{
		// Missing space after a full stop, before a word that is a TLD.
		"I'll call by tomorrow.call me",
		"Hello.How u doing?",
		"reaching home.love u a lot",
		"for 2 days.so you can be prepared",
		"my mistake thangam.it's ok",
		"LET LIFE BEGIN AGAIN.call me anytime",
		"c u soon.xxx",
		"Nice.nice.how is it working?",
		"Ya had just now.onion roast.",
		"Me at cherthala.in case u r coming",
		// Names of things that are domains too.
		"see README.md and ASP.NET and VB.NET",
		"ok.lol",
		"the dot com bubble and a polka dot dress",
		// Numbers that are not phone numbers: amounts and prices.
		"pi is 3.14 and e is 2.718, or 3.14159265358",
		"Mr.Smith and Ms.Suman and Dr.No",
		"It costs £1.50, $1,234,567.89, €20 or 150p",
		"£1000000 prize and 45% of 1234567",
		"Rs. 15000000 credited to your wallet, balance 125000000",
		"INR 1,50,00,000 and 2 500 000 units, 25 000 000 views",
		"you won 1500000 points",
		// Dates, times and years.
		"See you at 10:30 or 10.30 on 21/05/2011, 21.05.2011 or 2011-05-21",
		"logged 2012-01-02 08:00:00",
		"from 1990-2020 and 2005 to 2010, 02/06/03, 26.03.05, 1995-2005, 2019/2023, 2019-2023",
		"20110521 and 2011 05 21",
		// Versions and addresses.
		"version 1.2.3 and 2.0.7, build 1.2.3.4, Windows 10.0.19041.1234",
		"ping 192.168.100.200 now",
		// Order, tracking and reference numbers, codes.
		"order #12345678901, ref #0800 123 4567",
		"Your order 123456789 has shipped. Tracking number 9400111899223197428490",
		"AWB 1234567890 delivered, PNR 4512345678, txn id 9876543210",
		"IMPS 412345678901 credited, UPI Ref No 412345678901, Meeting ID 852 1234 5678",
		"Your Amazon order #403-1234567-1234567 has shipped. Tracking ID: 1Z999AA10123456784",
		"Rs.5000 debited from A/c XX1234 on 12-05-24. Avl Bal Rs.12345.67",
		"Your OTP is 123456. Do not share it. Your code is 12345678",
		"123456 is your verification code",
		"Use code 4821 9930 to log in",
		"Flight BA2490 gate 12, seat 14C",
		"membership PX3748, claim code KL341",
		"call me at 5, room 101 ABC, 2 WIN",
		"frm 1030 to 2, then 1120 to 1205",
		"lol I lOl 100l",
		"e.g. i.e. U.S.A. Ph.D No.1 and/or 1.5/10 a.m. p.m.",
		"This is ur face test ( 1 2 3 4 5 6 7 8 9  &lt;#&gt;  ) select any number",
		"[link removed] [number removed] [short code removed] [email removed]",
	}
	for _, region := range hintRegions {
		p := policyFor(t, region)
		for _, text := range texts {
			if got := p.Find(text); len(got) > 0 {
				t.Errorf("region %q: Find(%q) = %s, want nothing", region, text, describe(got))
			}
		}
	}
}

func TestStrip(t *testing.T) {
	gb := policyFor(t, "GB")
	linksOnly := mustPolicy(sanitize.WithRegion("GB"), sanitize.WithKinds(sanitize.Link),
		sanitize.WithReplacement(sanitize.Link, "<link>"))
	empty := mustPolicy(sanitize.WithRegion("GB"), sanitize.WithReplacement(allKinds, ""))
	tests := []struct {
		name    string
		p       *sanitize.Policy
		text    string
		want    string
		removed int
	}{
		{"default replacements", gb,
			"WINNER! Call 09061701461 or visit www.dbuk.net, txt WIN to 87121, mail win@dbuk.net",
			"WINNER! Call [number removed] or visit [link removed], txt WIN to [short code removed], mail [email removed]", 4},
		{"nothing to strip", gb, "See you at 10:30, love", "See you at 10:30, love", 0},
		{"only links", linksOnly, "Call 09061701461 or visit www.dbuk.net",
			"Call 09061701461 or visit <link>", 1},
		{"empty replacement", empty, "Call 09061701461 now", "Call  now", 1},
		{"invalid UTF-8 kept", gb, "\xff call 09061701461 \xfe\xc3", "\xff call [number removed] \xfe\xc3", 1},
		{"evasions kept around", gb, "\u200bhi\u200b evil\u200b.com", "\u200bhi\u200b [link removed]", 1},
		// Removing "09061701461" with an empty replacement leaves "call . Cl#0..."
		// whose spaced dot could read as a link; Strip must not leave it
		// half-found, and must stay idempotent.
		{"regression: removal joins a spaced dot", empty,
			"To claim call 09061701461. Cl#000000000000", "To claim call . Cl#000000000000", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, removed := tc.p.Strip(tc.text)
			if text != tc.want {
				t.Errorf("Strip(%q) = %q, want %q", tc.text, text, tc.want)
			}
			if len(removed) != tc.removed {
				t.Errorf("Strip(%q) removed %s, want %d findings", tc.text, describe(removed), tc.removed)
			}
			if again, more := tc.p.Strip(text); again != text || more != nil {
				t.Errorf("Strip is not idempotent: %q -> %q", text, again)
			}
		})
	}
}

// TestStripJoins checks that Strip keeps going when a removal joins the text
// around it into a new finding.
func TestStripJoins(t *testing.T) {
	empty := mustPolicy(sanitize.WithRegion("GB"), sanitize.WithReplacement(allKinds, ""))
	text := "x 0800 123 evil.com 4567 y"
	out, removed := empty.Strip(text)
	if out != "x  y" {
		t.Errorf("Strip(%q) = %q, want %q", text, out, "x  y")
	}
	if len(removed) != 1 || removed[0].Kind != sanitize.Phone || removed[0].Text != "0800 123 evil.com 4567" {
		t.Errorf("Strip(%q) removed %s, want the phone number around the link as one finding", text, describe(removed))
	}
}

// TestStripJoinsInvalidUTF8: removing a link joins the invalid bytes on its
// two sides into a zero-width space that hides a new link ("0\u200b.AC");
// Strip removes that one too, with a finding that spans the invalid bytes
// (found by FuzzStrip).
func TestStripJoinsInvalidUTF8(t *testing.T) {
	empty := mustPolicy(sanitize.WithRegion("IN"), sanitize.WithReplacement(allKinds, ""))
	text := "0\xe2\x800\u3002AC\x8b.AC"
	out, removed := empty.Strip(text)
	if out != "" {
		t.Errorf("Strip(%q) = %q, want the joined link removed too", text, out)
	}
	if len(removed) != 1 || removed[0].Text != text {
		t.Errorf("Strip(%q) removed %s, want one finding over the whole text", text, describe(removed))
	}
	if fs := sanitize.Find(text); len(fs) != 1 || fs[0].Text != "0\u3002AC" {
		t.Errorf("Find(%q) = %s, want only the fullwidth-dot link", text, describe(fs))
	}
}

func TestCheck(t *testing.T) {
	p := mustPolicy(sanitize.WithKinds(sanitize.Link | sanitize.Phone))
	if err := p.Check("See you at 10:30, love"); err != nil {
		t.Errorf("Check(clean) = %v, want nil", err)
	}
	if err := p.Check("mail x@example.com or txt STOP to 85069"); err != nil {
		t.Errorf("Check with emails and short codes allowed = %v, want nil", err)
	}
	err := p.Check("Your account is locked, call +1 415 555 2671 or visit hxxps://evil[.]com")
	if !errors.Is(err, sanitize.ErrCallToAction) {
		t.Fatalf("Check = %v, want ErrCallToAction", err)
	}
	var cta *sanitize.CallToActionError
	if !errors.As(err, &cta) || len(cta.Findings) != 2 {
		t.Fatalf("Check = %#v, want a *CallToActionError with 2 findings", err)
	}
	if cta.Findings[0].Number.E164 != "+14155552671" {
		t.Errorf("Check's phone finding has Number %q, want +14155552671", cta.Findings[0].Number.E164)
	}
	if strings.Contains(err.Error(), "555") || !strings.Contains(err.Error(), "link") {
		t.Errorf("error message %q must name the kinds and never the number", err)
	}
	if err := sanitize.Check("call 1-800-FLOWERS"); !errors.Is(err, sanitize.ErrCallToAction) {
		t.Errorf("package Check = %v, want ErrCallToAction", err)
	}
}

func TestNewPolicyErrors(t *testing.T) {
	tests := []struct {
		name   string
		opts   []sanitize.Option
		option string
	}{
		{"unknown region", []sanitize.Option{sanitize.WithRegion("XX")}, "WithRegion"},
		{"UK is not a region code", []sanitize.Option{sanitize.WithRegion("UK")}, "WithRegion"},
		{"empty region", []sanitize.Option{sanitize.WithRegion("")}, "WithRegion"},
		{"non-geographic code", []sanitize.Option{sanitize.WithRegion("001")}, "WithRegion"},
		{"no kinds", []sanitize.Option{sanitize.WithKinds(0)}, "WithKinds"},
		{"unknown kind", []sanitize.Option{sanitize.WithKinds(1 << 6)}, "WithKinds"},
		{"replacement with a digit", []sanitize.Option{sanitize.WithReplacement(sanitize.Link, "[link 1]")}, "WithReplacement"},
		{"replacement that is a link", []sanitize.Option{sanitize.WithReplacement(sanitize.Link, "see example dot com")}, "WithReplacement"},
		{"replacement with a dot", []sanitize.Option{sanitize.WithReplacement(sanitize.Phone, "removed.")}, "WithReplacement"},
		{"replacement that asks to call", []sanitize.Option{sanitize.WithReplacement(sanitize.Phone, "[call removed]")}, "WithReplacement"},
		{"replacement not UTF-8", []sanitize.Option{sanitize.WithReplacement(sanitize.Phone, "\xff")}, "WithReplacement"},
		{"replacement too long", []sanitize.Option{sanitize.WithReplacement(sanitize.Phone, strings.Repeat("x", 101))}, "WithReplacement"},
		{"replacement for no kind", []sanitize.Option{sanitize.WithReplacement(0, "x")}, "WithReplacement"},
		{"last of several options bad", []sanitize.Option{sanitize.WithKinds(sanitize.Link), sanitize.WithRegion("GB"),
			sanitize.WithReplacement(sanitize.Email, "1")}, "WithReplacement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := sanitize.NewPolicy(tc.opts...)
			if p != nil || !errors.Is(err, sanitize.ErrInvalidConfig) {
				t.Fatalf("NewPolicy = %v, %v, want ErrInvalidConfig", p, err)
			}
			if !strings.HasPrefix(err.Error(), "sanitize: "+tc.option+": ") {
				t.Errorf("error = %q, want it to name %s", err, tc.option)
			}
		})
	}
}

// TestForRegion: the per-message hint decides the E.164 form only, and
// costs nothing per message.
func TestForRegion(t *testing.T) {
	p := mustPolicy(sanitize.WithRegion("GB"), sanitize.WithReplacement(sanitize.Phone, "[redacted]"))
	const msg = "call 09061701461"
	for _, tc := range []struct{ region, want string }{
		{"", "+449061701461"}, {"gb", "+449061701461"}, {"IN", "+919061701461"},
		{"XX", "+449061701461"}, {"GBR", "+449061701461"}, {"g!", "+449061701461"},
	} {
		v := p.ForRegion(tc.region)
		fs := v.Find(msg)
		if len(fs) != 1 || fs[0].Number.E164 != tc.want {
			t.Errorf("ForRegion(%q).Find = %s, want %s", tc.region, describe(fs), tc.want)
		}
		if out, _ := v.Strip(msg); out != "call [redacted]" {
			t.Errorf("ForRegion(%q).Strip = %q: the variant must keep the policy's replacements", tc.region, out)
		}
		if v.ForRegion("IN") != p.ForRegion("IN") {
			t.Errorf("ForRegion(%q).ForRegion(IN) is not p.ForRegion(IN)", tc.region)
		}
	}
	if p.ForRegion("in") != p.ForRegion("IN") || p.ForRegion("") != p {
		t.Error("ForRegion does not keep one variant per region")
	}
	if n := testing.AllocsPerRun(100, func() { p.ForRegion("NG") }); n != 0 {
		t.Errorf("ForRegion allocates %v times per call", n)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{sanitize.Link.String(), "link"},
		{sanitize.ShortCode.String(), "short code"},
		{allKinds.String(), "link|email|phone|short code"},
		{sanitize.Kind(0).String(), "none"},
		{sanitize.Kind(1 << 7).String(), "unknown"},
		{(sanitize.Defanged | sanitize.Vanity).String(), "defanged|vanity"},
		{sanitize.Evasion(0).String(), "none"},
		{sanitize.Evasion(1 << 7).String(), "unknown"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestLogValueMasksNumbers: a phone finding logs its number masked, shape
// alone or valid, and never its text.
func TestLogValueMasksNumbers(t *testing.T) {
	for _, text := range []string{"call +44 20 7946 0018", "call 0906346330 now", "ring O8OO l23 4567"} {
		for _, f := range sanitize.Find(text) {
			v := f.LogValue().String()
			if strings.Contains(v, "7946") || strings.Contains(v, "6346") || strings.Contains(v, "l23") {
				t.Errorf("LogValue of %q = %s, which shows the number", text, v)
			}
		}
	}
}

// TestWorkLimit checks that a text with more numbers than the per-text
// limit still has all of them stripped, the late ones as Unverified.
func TestWorkLimit(t *testing.T) {
	p := policyFor(t, "GB")
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "call 0906170%04d now ", i)
	}
	text := b.String()
	out, removed := p.Strip(text)
	if len(removed) != 2000 {
		t.Fatalf("removed %d findings, want 2000", len(removed))
	}
	if removed[0].Unverified || removed[0].Number.E164 == "" || !removed[1999].Unverified {
		t.Errorf("first finding %s should be verified, last %s not", describe(removed[:1]), describe(removed[1999:]))
	}
	if strings.Contains(out, "0906") {
		t.Error("something was left behind")
	}
	links := strings.Repeat("see https://evil.com/x ", 2000)
	if out, removed := p.Strip(links); len(removed) != 2000 || strings.Contains(out, "evil") {
		t.Errorf("removed %d of 2000 links", len(removed))
	}
}

// TestConcurrent shares one policy between goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	p := policyFor(t, "GB")
	texts := seeds(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for _, s := range texts {
				v := p.ForRegion(hintRegions[i])
				v.Strip(s)
				v.Check(s)
			}
		})
	}
	wg.Wait()
}
