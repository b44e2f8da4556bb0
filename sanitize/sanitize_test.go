package sanitize_test

import (
	"errors"
	"log/slog"
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

type findCase struct {
	name   string
	region string // "" is the default
	text   string
	want   []want
}

func policyFor(t *testing.T, region string) *sanitize.Policy {
	t.Helper()
	if region == "" {
		return sanitize.MustPolicy()
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
			got := policyFor(t, tc.region).Find(tc.text)
			checkFindings(t, tc.text, got)
			if len(got) != len(tc.want) {
				t.Fatalf("Find(%q) = %v, want %d findings %v", tc.text, got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Kind != w.kind || g.Text != w.text {
					t.Errorf("finding %d = %v, want %s %q", i, g, w.kind, w.text)
				}
				if w.normalized != "" && g.Normalized != w.normalized {
					t.Errorf("finding %d = %v, want normalised %q", i, g, w.normalized)
				}
				if g.Evasions&w.evasions != w.evasions {
					t.Errorf("finding %d = %v, want evasions %v", i, g, w.evasions)
				}
			}
		})
	}
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
			want: []want{{L, "example dot com", "http://example.com", sanitize.SpelledDot}}},
		{name: "spelled dot in capitals", text: "EVIL DOT COM",
			want: []want{{L, "EVIL DOT COM", "http://evil.com", sanitize.SpelledDot}}},
		{name: "spaced dots", text: "open www . evil . com please",
			want: []want{{L, "www . evil . com", "http://www.evil.com", sanitize.SpacedDot}}},
		{name: "spaced dot after www", text: "www. evil.com",
			want: []want{{L, "www. evil.com", "http://www.evil.com", sanitize.SpacedDot}}},
		{name: "space after the scheme host", text: "click http://wap. example.com?n=QJKG",
			want: []want{{L, "http://wap. example.com?n=QJKG", "http://wap.example.com?n=QJKG", sanitize.SpacedDot}}},
		{name: "fullwidth", text: "ｅｖｉｌ．ｃｏｍ",
			want: []want{{L, "ｅｖｉｌ．ｃｏｍ", "http://evil.com", sanitize.Fullwidth}}},
		{name: "ideographic full stop", text: "evil。com",
			want: []want{{L, "evil。com", "http://evil.com", sanitize.Fullwidth}}},
		{name: "halfwidth ideographic full stop", text: "evil｡com",
			want: []want{{L, "evil｡com", "http://evil.com", sanitize.Fullwidth}}},
		{name: "zero width space before the dot", text: "evil\u200b.com",
			want: []want{{L, "evil\u200b.com", "http://evil.com", sanitize.Invisible}}},
		{name: "zero width space in the label", text: "ev\u200bil.com",
			want: []want{{L, "ev\u200bil.com", "http://evil.com", sanitize.Invisible}}},
		{name: "soft hyphen", text: "pay\u00adpal.com",
			want: []want{{L, "pay\u00adpal.com", "http://paypal.com", sanitize.Invisible}}},
		{name: "zero width joiner on a word TLD", text: "evil\u200d.lol",
			want: []want{{L, "evil\u200d.lol", "http://evil.lol", sanitize.Invisible}}},
		{name: "userinfo", text: "https://www.paypal.com@evil.com/login",
			want: []want{{L, "https://www.paypal.com@evil.com/login", "https://evil.com/login", sanitize.Userinfo}}},
		{name: "userinfo without scheme", text: "www.paypal.com@evil.com",
			want: []want{{L, "www.paypal.com@evil.com", "http://evil.com", sanitize.Userinfo}}},
		{name: "shortener", text: "see bit.ly/3abc",
			want: []want{{L, "bit.ly/3abc", "http://bit.ly/3abc", sanitize.Shortener}}},
		{name: "bare shortener", text: "see bit.ly or t.co",
			want: []want{{L, "bit.ly", "http://bit.ly", sanitize.Shortener}, {L, "t.co", "http://t.co", sanitize.Shortener}}},
		{name: "punycode", text: "xn--pypal-4ve.com",
			want: []want{{L, "xn--pypal-4ve.com", "http://xn--pypal-4ve.com", sanitize.Punycode}}},
		{name: "mixed script", text: "log in at pаypal.com", // Cyrillic а
			want: []want{{L, "pаypal.com", "http://xn--pypal-4ve.com", sanitize.MixedScript}}},
		{name: "internationalised domain", text: "тест.рф",
			want: []want{{L, "тест.рф", "http://xn--e1aybc.xn--p1ai", 0}}},
		{name: "glued to the next word", text: "www.Ldew.com1win150ppm",
			want: []want{{L, "www.Ldew.com", "http://www.ldew.com", sanitize.Glued}}},
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

// TestFindNumberEvasions covers the numbers libphonenumber's matcher skips.
func TestFindNumberEvasions(t *testing.T) {
	const P, S = sanitize.Phone, sanitize.ShortCode
	runFindCases(t, []findCase{
		{name: "national GB", region: "GB", text: "To claim call 09061701461. Claim code KL341.",
			want: []want{{P, "09061701461", "+449061701461", 0}}},
		{name: "international", text: "Call +44 (0) 20 7946 0018 now",
			want: []want{{P, "+44 (0) 20 7946 0018", "+442079460018", 0}}},
		{name: "US formats", text: "Call 1 (800) 356-9377 or 415.555.2671",
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
		{name: "vanity", text: "Call 1-800-FLOWERS today",
			want: []want{{P, "1-800-FLOWERS", "+18003569377", sanitize.Vanity}}},
		{name: "vanity with surplus letters", text: "Call 1-800-MY-APPLE",
			want: []want{{P, "1-800-MY-APPLE", "+18006927753", sanitize.Vanity}}},
		{name: "vanity with spaces after a toll-free code", text: "Call 1 800 FLOWERS",
			want: []want{{P, "1 800 FLOWERS", "+18003569377", sanitize.Vanity}}},
		{name: "fullwidth digits", region: "GB", text: "ring ０８００ １２３ ４５６７",
			want: []want{{P, "０８００ １２３ ４５６７", "+448001234567", sanitize.Fullwidth}}},
		{name: "Arabic-Indic digits", region: "GB", text: "ring ٠٨٠٠١٢٣٤٥٦٧",
			want: []want{{P, "٠٨٠٠١٢٣٤٥٦٧", "+448001234567", sanitize.UnicodeDigits}}},
		{name: "Devanagari digits", region: "IN", text: "call ९३११३०४८७२",
			want: []want{{P, "९३११३०४८७२", "+919311304872", sanitize.UnicodeDigits}}},
		{name: "zero width space inside", region: "GB", text: "0800\u200b123 4567",
			want: []want{{P, "0800\u200b123 4567", "+448001234567", sanitize.Invisible}}},
		{name: "slash-joined pair", region: "IN", text: "9311304872/9268250573",
			want: []want{{P, "9311304872", "+919311304872", 0}, {P, "9268250573", "+919268250573", 0}}},
		{name: "after a price", region: "GB", text: "STOP £1.50 08704050406",
			want: []want{{P, "08704050406", "+448704050406", 0}}},
		{name: "short code", region: "GB", text: "Text FA to 87121 to receive entry",
			want: []want{{S, "87121", "87121", 0}}},
		{name: "short codes after other words", text: "Reply STOP to 85069 or txt HELP to 55555.",
			want: []want{{S, "85069", "", 0}, {S, "55555", "", 0}}},
		{name: "short code next to a number", region: "GB", text: "TXT ONE name to 89693. 08718730666 rpl",
			want: []want{{S, "89693", "", 0}, {P, "08718730666", "", 0}}},
	})
}

// TestPrecision lists ordinary text that must come out of Find with nothing.
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
		// Numbers that are not phone numbers.
		"pi is 3.14 and e is 2.718",
		"Mr.Smith and Ms.Suman and Dr.No",
		"It costs £1.50, $1,234,567.89, €20 or 150p",
		"£1000000 prize and 45% of 1234567",
		"See you at 10:30 or 10.30 on 21/05/2011, 21.05.2011 or 2011-05-21",
		"logged 2012-01-02 08:00:00",
		"version 1.2.3 and 2.0.7, build 1.2.3.4",
		"order #12345678901, ref #0800 123 4567",
		"Flight BA2490 gate 12, seat 14C",
		"membership PX3748, claim code KL341",
		"call me at 5, room 101 ABC, 2 WIN",
		"frm 1030 to 2, then 1120 to 1205",
		"call 555-1234",
		"lol I lOl 100l",
		"e.g. i.e. U.S.A. Ph.D No.1 and/or 1.5/10 a.m. p.m.",
		"[link removed] [number removed] [short code removed] [email removed]",
	}
	for _, region := range []string{"", "GB"} {
		p := policyFor(t, region)
		for _, text := range texts {
			if got := p.Find(text); len(got) > 0 {
				t.Errorf("region %q: Find(%q) = %v, want nothing", region, text, got)
			}
		}
	}
}

func TestStrip(t *testing.T) {
	gb := sanitize.MustPolicy(sanitize.WithRegion("GB"))
	linksOnly := sanitize.MustPolicy(sanitize.WithRegion("GB"), sanitize.WithKinds(sanitize.Link),
		sanitize.WithReplacement(sanitize.Link, "<link>"))
	empty := sanitize.MustPolicy(sanitize.WithRegion("GB"), sanitize.WithReplacement(sanitize.AllKinds, ""))
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
			res := tc.p.Strip(tc.text)
			if res.Text != tc.want {
				t.Errorf("Strip(%q) = %q, want %q", tc.text, res.Text, tc.want)
			}
			if len(res.Removed) != tc.removed || res.Changed() != (tc.removed > 0) {
				t.Errorf("Strip(%q) removed %v, want %d findings", tc.text, res.Removed, tc.removed)
			}
			if again := tc.p.Strip(res.Text); again.Text != res.Text || again.Changed() {
				t.Errorf("Strip is not idempotent: %q -> %q", res.Text, again.Text)
			}
		})
	}
}

// TestStripJoins checks that Strip keeps going when a removal joins the text
// around it into a new finding.
func TestStripJoins(t *testing.T) {
	empty := sanitize.MustPolicy(sanitize.WithRegion("GB"), sanitize.WithReplacement(sanitize.AllKinds, ""))
	text := "x 0800 123 evil.com 4567 y"
	res := empty.Strip(text)
	if res.Text != "x  y" {
		t.Errorf("Strip(%q) = %q, want %q", text, res.Text, "x  y")
	}
	if len(res.Removed) != 1 || res.Removed[0].Kind != sanitize.Phone || res.Removed[0].Text != "0800 123 evil.com 4567" {
		t.Errorf("Strip(%q) removed %v, want the phone number around the link as one finding", text, res.Removed)
	}
}

// TestStripJoinsInvalidUTF8: removing a link joins the invalid bytes on its
// two sides into a zero-width space that hides a new link ("0\u200b.AC");
// Strip removes that one too, with a finding that spans the invalid bytes
// (found by FuzzStrip).
func TestStripJoinsInvalidUTF8(t *testing.T) {
	empty := sanitize.MustPolicy(sanitize.WithRegion("IN"), sanitize.WithReplacement(sanitize.AllKinds, ""))
	text := "0\xe2\x800\u3002AC\x8b.AC"
	res := empty.Strip(text)
	if res.Text != "" {
		t.Errorf("Strip(%q) = %q, want the joined link removed too", text, res.Text)
	}
	if len(res.Removed) != 1 || res.Removed[0].Text != text {
		t.Errorf("Strip(%q) removed %v, want one finding over the whole text", text, res.Removed)
	}
	if fs := sanitize.Find(text); len(fs) != 1 || fs[0].Text != "0\u3002AC" {
		t.Errorf("Find(%q) = %v, want only the fullwidth-dot link", text, fs)
	}
}

func TestCheck(t *testing.T) {
	p := sanitize.MustPolicy(sanitize.WithKinds(sanitize.Link | sanitize.Phone))
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
		opt    sanitize.Option
		option string
	}{
		{"unknown region", sanitize.WithRegion("XX"), "WithRegion"},
		{"empty region", sanitize.WithRegion(""), "WithRegion"},
		{"no kinds", sanitize.WithKinds(0), "WithKinds"},
		{"unknown kind", sanitize.WithKinds(1 << 6), "WithKinds"},
		{"replacement with a digit", sanitize.WithReplacement(sanitize.Link, "[link 1]"), "WithReplacement"},
		{"replacement that is a link", sanitize.WithReplacement(sanitize.Link, "see example dot com"), "WithReplacement"},
		{"replacement with a dot", sanitize.WithReplacement(sanitize.Phone, "removed."), "WithReplacement"},
		{"replacement not UTF-8", sanitize.WithReplacement(sanitize.Phone, "\xff"), "WithReplacement"},
		{"replacement too long", sanitize.WithReplacement(sanitize.Phone, strings.Repeat("x", 101)), "WithReplacement"},
		{"replacement for no kind", sanitize.WithReplacement(0, "x"), "WithReplacement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := sanitize.NewPolicy(tc.opt)
			if p != nil || !errors.Is(err, sanitize.ErrInvalidPolicy) {
				t.Fatalf("NewPolicy = %v, %v, want ErrInvalidPolicy", p, err)
			}
			var pe *sanitize.PolicyError
			if !errors.As(err, &pe) || pe.Option != tc.option || !strings.HasPrefix(err.Error(), "sanitize: ") {
				t.Errorf("error = %v, want a *PolicyError for %s", err, tc.option)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("MustPolicy with a bad option did not panic")
		}
	}()
	sanitize.MustPolicy(sanitize.WithRegion("XX"))
}

func TestPolicyAccessors(t *testing.T) {
	p := sanitize.MustPolicy(sanitize.WithRegion("gb"), sanitize.WithKinds(sanitize.Phone),
		sanitize.WithReplacement(sanitize.Phone|sanitize.ShortCode, "[redacted]"))
	if p.Region() != "GB" || p.Kinds() != sanitize.Phone {
		t.Errorf("Region, Kinds = %q, %v", p.Region(), p.Kinds())
	}
	for k, want := range map[sanitize.Kind]string{
		sanitize.Phone: "[redacted]", sanitize.ShortCode: "[redacted]",
		sanitize.Link: sanitize.DefaultLinkReplacement, sanitize.Email: sanitize.DefaultEmailReplacement,
	} {
		if got := p.Replacement(k); got != want {
			t.Errorf("Replacement(%v) = %q, want %q", k, got, want)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{sanitize.Link.String(), "link"},
		{sanitize.ShortCode.String(), "short code"},
		{sanitize.AllKinds.String(), "link|email|phone|short code"},
		{sanitize.Kind(0).String(), "none"},
		{sanitize.Kind(1 << 7).String(), "unknown"},
		{(sanitize.Defanged | sanitize.Vanity).String(), "defanged|vanity"},
		{sanitize.Evasion(0).String(), "none"},
		{sanitize.Evasion(1 << 15).String(), "unknown"},
		{sanitize.Finding{Kind: sanitize.Link, Start: 1, End: 9, Text: "evil.com", Normalized: "http://evil.com",
			Evasions: sanitize.Invisible}.String(), `link "evil.com" at 1-9 (http://evil.com) [invisible]`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestLogValueMasksNumbers(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	for _, f := range sanitize.Find("call +44 20 7946 0018 or visit evil.com") {
		log.Info("removed", "finding", f)
	}
	want := `level=INFO msg=removed finding.kind=phone finding.start=5 finding.end=21 finding.text="+44 ** **** 0018" finding.normalized=+44******0018
level=INFO msg=removed finding.kind=link finding.start=31 finding.end=39 finding.text=evil.com finding.normalized=http://evil.com
`
	if buf.String() != want {
		t.Errorf("logged\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestWorkLimit checks that a text with more candidates than the per-text
// limit still has all of them stripped, the late ones as Unverified.
func TestWorkLimit(t *testing.T) {
	p := sanitize.MustPolicy(sanitize.WithRegion("GB"))
	numbers := strings.Repeat("call 09061701461 now ", 2000)
	links := strings.Repeat("see https://evil.com/x ", 2000)
	for name, text := range map[string]string{"numbers": numbers, "links": links} {
		t.Run(name, func(t *testing.T) {
			res := p.Strip(text)
			if len(res.Removed) != 2000 {
				t.Fatalf("removed %d findings, want 2000", len(res.Removed))
			}
			if res.Removed[0].Unverified || !res.Removed[1999].Unverified {
				t.Errorf("first finding %v should be verified, last %v not", res.Removed[0], res.Removed[1999])
			}
			if strings.Contains(res.Text, "0906") || strings.Contains(res.Text, "evil") {
				t.Error("something was left behind")
			}
		})
	}
}

// TestConcurrent shares one policy between goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	p := sanitize.MustPolicy(sanitize.WithRegion("GB"))
	texts := seeds(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, s := range texts {
				p.Strip(s)
				p.Check(s)
			}
		})
	}
	wg.Wait()
}
