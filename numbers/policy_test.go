package numbers_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
)

// Example numbers from libphonenumber's metadata (testdata/corpus.csv).
const (
	usNumber      = "+12015550123"  // US FIXED_LINE_OR_MOBILE
	caNumber      = "+15062345678"  // CA FIXED_LINE_OR_MOBILE
	jmMobile      = "+18762101234"  // JM MOBILE
	lvMobile      = "+37121234567"  // LV MOBILE
	lvPremium     = "+37190123456"  // LV PREMIUM_RATE
	gbMobile      = "+447400123456" // GB MOBILE
	gbFixed       = "+441212345678" // GB FIXED_LINE
	gbPremium     = "+449012345678" // GB PREMIUM_RATE
	gbVoIP        = "+445612345678" // GB VOIP
	deMobile      = "+4915123456789"
	usPremium     = "+19002345678"  // US PREMIUM_RATE
	gbUnknown     = "+447700900123" // a possible GB length in no known range (Ofcom drama range)
	nonGeoMobile  = "+8823421234"   // 001 MOBILE
	frSharedCost  = "+33884012345"
	somaliaMobile = "+25271123456"
)

func mustParse(t testing.TB, s string) numbers.Number {
	t.Helper()
	n, err := numbers.Parse(s, "")
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return n
}

func mustPolicy(t testing.TB, opts ...numbers.Option) *numbers.Policy {
	t.Helper()
	p, err := numbers.NewPolicy(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyRules(t *testing.T) {
	clock := testkit.NewClock()
	set := &numbers.PrefixSet{Name: "monitor", Now: clock.Now}
	if err := set.Add(numbers.Entry{Prefix: "+49151", Note: "codes sent, none confirmed", Expires: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   []numbers.Option
		number string
		ch     numbers.Channel
		want   numbers.Reason
		allow  bool
		entry  string
	}{
		{"default allows a US number by SMS", nil, usNumber, numbers.SMS, numbers.ReasonAllowed, true, ""},
		{"default denies a landline by SMS", nil, gbFixed, numbers.SMS, numbers.ReasonTypeDenied, false, "FIXED_LINE"},
		{"default allows a landline by voice", nil, gbFixed, numbers.Voice, numbers.ReasonAllowed, true, ""},
		{"default denies premium rate by voice", nil, gbPremium, numbers.Voice, numbers.ReasonTypeDenied, false, "PREMIUM_RATE"},
		{"default denies shared cost by voice", nil, frSharedCost, numbers.Voice, numbers.ReasonTypeDenied, false, "SHARED_COST"},
		{"default allows VoIP by voice", nil, gbVoIP, numbers.Voice, numbers.ReasonAllowed, true, ""},
		{"DenyTypes VoIP", []numbers.Option{numbers.DenyTypes(numbers.Voice, numbers.VoIP)}, gbVoIP, numbers.Voice, numbers.ReasonTypeDenied, false, "VOIP"},
		{"AllowTypes landline for SMS", []numbers.Option{numbers.AllowTypes(numbers.SMS, numbers.FixedLine)}, gbFixed, numbers.SMS, numbers.ReasonAllowed, true, ""},
		{"WhatsApp follows SMS by default", nil, gbFixed, numbers.WhatsApp, numbers.ReasonTypeDenied, false, "FIXED_LINE"},
		{"default denies unknown ranges", nil, gbUnknown, numbers.SMS, numbers.ReasonUnknownRange, false, ""},
		{"unknown ranges allowed", []numbers.Option{numbers.AllowTypes(numbers.SMS, numbers.UnknownType)}, gbUnknown, numbers.SMS, numbers.ReasonUnknownRange, true, ""},
		{"unknown ranges allowed on SMS only", []numbers.Option{numbers.AllowTypes(numbers.SMS, numbers.UnknownType)}, gbUnknown, numbers.Voice, numbers.ReasonUnknownRange, false, ""},
		{"unknown ranges denied again", []numbers.Option{numbers.AllowTypes(numbers.SMS, numbers.UnknownType), numbers.DenyTypes(numbers.SMS, numbers.UnknownType)}, gbUnknown, numbers.SMS, numbers.ReasonUnknownRange, false, ""},
		{"allow-list", []numbers.Option{numbers.AllowRegions("US", "CA")}, jmMobile, numbers.SMS, numbers.ReasonRegionDenied, false, "JM"},
		{"allow-list lets CA in", []numbers.Option{numbers.AllowRegions("us", "ca")}, caNumber, numbers.SMS, numbers.ReasonAllowed, true, ""},
		{"allow-list and non-geographic", []numbers.Option{numbers.AllowRegions("US")}, nonGeoMobile, numbers.SMS, numbers.ReasonRegionDenied, false, "001"},
		{"deny-list", []numbers.Option{numbers.DenyRegions("LV")}, lvMobile, numbers.SMS, numbers.ReasonRegionDenied, false, "LV"},
		{"deny-list non-geographic", []numbers.Option{numbers.DenyRegions("001")}, nonGeoMobile, numbers.SMS, numbers.ReasonRegionDenied, false, "001"},
		{"calling code", []numbers.Option{numbers.DenyPrefixes("+252")}, somaliaMobile, numbers.SMS, numbers.ReasonPrefixDenied, false, "+252"},
		{"area code", []numbers.Option{numbers.DenyPrefixes("+1 876")}, jmMobile, numbers.SMS, numbers.ReasonPrefixDenied, false, "+1876"},
		{"longer allow prefix wins", []numbers.Option{numbers.DenyPrefixes("+1876"), numbers.AllowPrefixes("+1876210")}, jmMobile, numbers.SMS, numbers.ReasonAllowed, true, ""},
		{"longer deny prefix wins", []numbers.Option{numbers.AllowPrefixes("+1876"), numbers.DenyPrefixes("+1876210")}, jmMobile, numbers.SMS, numbers.ReasonPrefixDenied, false, "+1876210"},
		{"allow prefix does not bypass type", []numbers.Option{numbers.AllowPrefixes("+44")}, gbFixed, numbers.SMS, numbers.ReasonTypeDenied, false, "FIXED_LINE"},
		{"1000-number block", []numbers.Option{numbers.DenyPrefixes("+447400123")}, gbMobile, numbers.SMS, numbers.ReasonPrefixDenied, false, "+447400123"},
		{"dataset", []numbers.Option{numbers.DenyDataset(numbers.HighRisk())}, lvMobile, numbers.SMS, numbers.ReasonHighRisk, false, "+371 Latvia (LV): guide top ten #1 Latvia"},
		{"dataset longest entry", []numbers.Option{numbers.DenyDataset(numbers.HighRisk())}, lvPremium, numbers.Voice, numbers.ReasonHighRisk, false, "+3719"},
		{"own rule beats dataset", []numbers.Option{numbers.DenyDataset(numbers.HighRisk()), numbers.AllowPrefixes("+371")}, lvMobile, numbers.SMS, numbers.ReasonAllowed, true, ""},
		{"prefix set", []numbers.Option{numbers.WithPrefixSet(set)}, deMobile, numbers.SMS, numbers.ReasonPrefixBlocked, false, "+49151: codes sent, none confirmed"},
		{"prefix set beats allow prefix", []numbers.Option{numbers.WithPrefixSet(set), numbers.AllowPrefixes("+4915")}, deMobile, numbers.SMS, numbers.ReasonPrefixBlocked, false, "+49151: codes sent, none confirmed"},
		{"safe number beats everything", []numbers.Option{numbers.DenyRegions("LV"), numbers.DenyDataset(numbers.HighRisk()), numbers.DenyTypes(numbers.SMS, numbers.Mobile), numbers.SafeNumbers(lvMobile)}, lvMobile, numbers.SMS, numbers.ReasonAllowed, true, "+371****4567"},
		{"safe number is exact", []numbers.Option{numbers.DenyRegions("LV"), numbers.SafeNumbers("+3712123456")}, lvMobile, numbers.SMS, numbers.ReasonRegionDenied, false, "LV"},
		{"safe block beats prefix set", []numbers.Option{numbers.WithPrefixSet(set), numbers.SafeBlocks("+4915123")}, deMobile, numbers.SMS, numbers.ReasonAllowed, true, "+4915123"},
		{"safe block beats allow-list", []numbers.Option{numbers.AllowRegions("US"), numbers.SafeBlocks("+1876210")}, jmMobile, numbers.SMS, numbers.ReasonAllowed, true, "+1876210"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.opts...)
			d := p.Check(mustParse(t, tt.number), tt.ch)
			if d.Reason != tt.want || d.Allowed != tt.allow {
				t.Fatalf("Check = %v, want allowed=%v reason %s", d, tt.allow, tt.want)
			}
			if tt.entry != "" && !strings.HasPrefix(d.Entry, tt.entry) {
				t.Errorf("Entry %q, want prefix %q", d.Entry, tt.entry)
			}
			if d.Allowed != (d.Err() == nil) {
				t.Errorf("Err() = %v for allowed=%v", d.Err(), d.Allowed)
			}
		})
	}
}

func TestPrefixSetExpiryInPolicy(t *testing.T) {
	clock := testkit.NewClock()
	set := &numbers.PrefixSet{Name: "monitor", Now: clock.Now}
	p := mustPolicy(t, numbers.WithPrefixSet(set))
	n := mustParse(t, deMobile)
	if d := p.Check(n, numbers.SMS); !d.Allowed {
		t.Fatalf("before block: %v", d)
	}
	if err := set.Add(numbers.Entry{Prefix: "+4915", Note: "pumping", Expires: clock.Now().Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if d := p.Check(n, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonPrefixBlocked || d.Source != "monitor" || d.Rule != "prefix set monitor" {
		t.Fatalf("while blocked: %v", d)
	}
	clock.Advance(10 * time.Minute)
	if d := p.Check(n, numbers.SMS); !d.Allowed {
		t.Fatalf("after expiry: %v", d)
	}
}

func TestReadyMadePolicies(t *testing.T) {
	sms, err := numbers.SMSVerificationPolicy("US", "CA")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		policy *numbers.Policy
		number string
		ch     numbers.Channel
		want   numbers.Reason
		allow  bool
	}{
		{sms, usNumber, numbers.SMS, numbers.ReasonAllowed, true},
		{sms, caNumber, numbers.SMS, numbers.ReasonAllowed, true},
		{sms, jmMobile, numbers.SMS, numbers.ReasonRegionDenied, false},
		{sms, gbMobile, numbers.SMS, numbers.ReasonRegionDenied, false},
		{sms, gbUnknown, numbers.SMS, numbers.ReasonRegionDenied, false},
		{sms, "+12015550100", numbers.Voice, numbers.ReasonAllowed, true},
		{sms, usPremium, numbers.SMS, numbers.ReasonHighRisk, false},
		{sms, "+12015550100", numbers.SMS, numbers.ReasonAllowed, true},
		{numbers.ModeratePolicy(), usNumber, numbers.SMS, numbers.ReasonAllowed, true},
		{numbers.ModeratePolicy(), gbMobile, numbers.SMS, numbers.ReasonAllowed, true},
		{numbers.ModeratePolicy(), jmMobile, numbers.SMS, numbers.ReasonHighRisk, false},
		{numbers.ModeratePolicy(), lvMobile, numbers.SMS, numbers.ReasonHighRisk, false},
		{numbers.ModeratePolicy(), nonGeoMobile, numbers.SMS, numbers.ReasonHighRisk, false},
		{numbers.ModeratePolicy(), gbPremium, numbers.Voice, numbers.ReasonHighRisk, false},
		{numbers.ModeratePolicy(), gbFixed, numbers.SMS, numbers.ReasonTypeDenied, false},
		{numbers.ModeratePolicy(), gbUnknown, numbers.SMS, numbers.ReasonUnknownRange, true},
		{numbers.ModeratePolicy(), gbUnknown, numbers.Voice, numbers.ReasonUnknownRange, false},
		{numbers.ModeratePolicy(), gbUnknown, numbers.WhatsApp, numbers.ReasonUnknownRange, true},
		{numbers.ModeratePolicy(), gbFixed, numbers.Voice, numbers.ReasonAllowed, true},
		{numbers.ModeratePolicy(), gbVoIP, numbers.Voice, numbers.ReasonAllowed, true},
		{numbers.ModeratePolicy(), frSharedCost, numbers.Voice, numbers.ReasonTypeDenied, false},
		{numbers.ModeratePolicy(), somaliaMobile, numbers.Voice, numbers.ReasonHighRisk, false},
		{numbers.ModeratePolicy(), "+62812345678", numbers.SMS, numbers.ReasonAllowed, true}, // sms-blocklist is not used
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i)+"/"+tt.number+"/"+tt.ch.String(), func(t *testing.T) {
			d := tt.policy.Check(mustParse(t, tt.number), tt.ch)
			if d.Reason != tt.want || d.Allowed != tt.allow {
				t.Errorf("Check = %v, want allowed=%v reason %s", d, tt.allow, tt.want)
			}
		})
	}
}

func TestPolicyConfigErrors(t *testing.T) {
	bad := &numbers.Dataset{Version: "bad", Entries: []numbers.Entry{{Prefix: "371", Category: "x", Source: "s"}}}
	expiring := &numbers.Dataset{Version: "exp", Entries: []numbers.Entry{{Prefix: "+371", Category: "x", Source: "s", Expires: time.Now()}}}
	allowing := &numbers.Dataset{Version: "allow", Entries: []numbers.Entry{{Prefix: "+371", Category: "x", Source: "s", Allow: true}}}
	tests := []struct {
		name string
		opt  numbers.Option
		msg  string // in the error message
	}{
		{"unknown region", numbers.AllowRegions("US", "XX"), `AllowRegions: unknown region "XX"`},
		{"deny unknown region", numbers.DenyRegions("Latvia"), `DenyRegions: unknown region "Latvia"`},
		{"letters in prefix", numbers.DenyPrefixes("+1 87x"), `DenyPrefixes: prefix "+1 87x"`},
		{"empty prefix", numbers.AllowPrefixes("+"), `AllowPrefixes: prefix "+"`},
		{"zero prefix", numbers.SafeBlocks("+0123"), `SafeBlocks: prefix "+0123"`},
		{"too long prefix", numbers.SafeNumbers("+1234567890123456"), "SafeNumbers: "},
		{"unknown channel", numbers.DenyTypes(numbers.Channel(9), numbers.VoIP), "DenyTypes: unknown channel 9"},
		{"unknown type", numbers.AllowTypes(numbers.SMS, numbers.Type(12)), "AllowTypes: unknown type Type(12)"},
		{"nil dataset", numbers.DenyDataset(nil), "DenyDataset: nil dataset"},
		{"unknown category", numbers.DenyDataset(numbers.HighRisk(), "top-10"), `DenyDataset: no entry of dataset "2026.11.24" has category "top-10"`},
		{"bad dataset entry", numbers.DenyDataset(bad), `DenyDataset: dataset "bad" entry 0: prefix "371"`},
		{"expiring dataset entry", numbers.DenyDataset(expiring), "has an expiry"},
		{"allowing dataset entry", numbers.DenyDataset(allowing), "allows"},
		{"nil prefix set", numbers.WithPrefixSet(nil), "WithPrefixSet: nil prefix set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := numbers.NewPolicy(numbers.WithName("ok"), tt.opt)
			if !errors.Is(err, numbers.ErrInvalidConfig) || p != nil {
				t.Fatalf("NewPolicy = %v, %v; want an ErrInvalidConfig error", p, err)
			}
			if !strings.HasPrefix(err.Error(), "numbers: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q, want it to contain %q", err, tt.msg)
			}
			// With checks the same way.
			if p, err := numbers.ModeratePolicy().With(tt.opt); !errors.Is(err, numbers.ErrInvalidConfig) || p != nil {
				t.Errorf("With = %v, %v", p, err)
			}
		})
	}
	if _, err := numbers.SMSVerificationPolicy(); !errors.Is(err, numbers.ErrInvalidConfig) {
		t.Errorf("SMSVerificationPolicy() error %v", err)
	}
	if _, err := numbers.SMSVerificationPolicy("US", "USA"); !errors.Is(err, numbers.ErrInvalidConfig) {
		t.Errorf("SMSVerificationPolicy(USA) error %v", err)
	}
}

// TestOptionsApplyInOrder: type rules and prefix rules of later options win.
func TestOptionsApplyInOrder(t *testing.T) {
	n := mustParse(t, gbVoIP)
	p := mustPolicy(t, numbers.DenyTypes(numbers.Voice, numbers.VoIP), numbers.AllowTypes(numbers.Voice, numbers.VoIP))
	if d := p.Check(n, numbers.Voice); !d.Allowed {
		t.Errorf("deny then allow: %v", d)
	}
	p = mustPolicy(t, numbers.AllowTypes(numbers.Voice, numbers.VoIP), numbers.DenyTypes(numbers.Voice, numbers.VoIP))
	if d := p.Check(n, numbers.Voice); d.Allowed || d.Entry != "VOIP" {
		t.Errorf("allow then deny: %v", d)
	}
	p = mustPolicy(t, numbers.DenyPrefixes("+4456"), numbers.AllowPrefixes("+4456"))
	if d := p.Check(n, numbers.Voice); !d.Allowed {
		t.Errorf("deny then allow the same prefix: %v", d)
	}
}

func TestPolicyWithDoesNotChangeOriginal(t *testing.T) {
	base := numbers.ModeratePolicy()
	derived, err := base.With(numbers.DenyRegions("GB"), numbers.WithName("strict"))
	if err != nil {
		t.Fatal(err)
	}
	n := mustParse(t, gbMobile)
	if d := base.Check(n, numbers.SMS); !d.Allowed {
		t.Errorf("base: %v", d)
	}
	if d := derived.Check(n, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonRegionDenied || d.Source != "strict" {
		t.Errorf("derived: %v", d)
	}
	if d := derived.Check(mustParse(t, lvMobile), numbers.SMS); d.Reason != numbers.ReasonHighRisk {
		t.Errorf("derived lost the dataset: %v", d)
	}
	if d := base.Check(mustParse(t, gbFixed), numbers.SMS); d.Source != "numbers.ModeratePolicy" {
		t.Errorf("base: %v", d)
	}
}

func TestCheckOddInputs(t *testing.T) {
	p := numbers.ModeratePolicy()
	if d := p.Check(numbers.Number{}, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonNotANumber {
		t.Errorf("zero Number: %v", d)
	}
	if d := p.Check(numbers.Number{E164: usNumber, CallingCode: 1, Region: "US"}, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonNotANumber || d.Rule != "number not produced by Parse" {
		t.Errorf("hand-made Number: %v", d)
	}
	if d := p.Check(mustParse(t, usNumber), numbers.Channel(200)); d.Allowed || d.Reason != numbers.ReasonTypeDenied || d.Rule != "unknown channel" {
		t.Errorf("unknown channel: %v", d)
	}
}

func TestCheckVanity(t *testing.T) {
	n, err := numbers.Parse("1-800-FLOWERS", "US", numbers.AllowVanity())
	if err != nil || n.Type() != numbers.TollFree {
		t.Fatalf("Parse(vanity) = %v, %v", n.Type(), err)
	}
	p := numbers.ModeratePolicy()
	if d := p.Check(n, numbers.Voice); !d.Allowed {
		t.Errorf("voice: %v", d)
	}
	if d := p.Check(n, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonTypeDenied || d.Entry != "TOLL_FREE" {
		t.Errorf("sms: %v", d)
	}
}

func TestDecisionExplains(t *testing.T) {
	p := numbers.ModeratePolicy()
	d := p.Check(mustParse(t, lvMobile), numbers.SMS)
	want := "denied high_risk_destination: high-risk dataset " + numbers.HighRisk().Version +
		" top10 [+371 Latvia (LV): guide top ten #1 Latvia] (source: https://www.twilio.com/docs/usage/anti-fraud-developer-guide)"
	if d.String() != want {
		t.Errorf("String() =\n%s\nwant\n%s", d, want)
	}
	err := d.Err()
	var be *numbers.BlockedError
	if !errors.Is(err, numbers.ErrBlocked) || !errors.As(err, &be) || be.Decision != d {
		t.Errorf("Err() = %v", err)
	}
	if err.Error() != "numbers: blocked: "+want {
		t.Errorf("Error() = %q", err)
	}
	if s := p.Check(mustParse(t, usNumber), numbers.SMS).String(); s != "allowed" {
		t.Errorf("allowed String() = %q", s)
	}
}

// TestPolicyConcurrent checks one policy and one Number from many goroutines
// while the prefix set changes; run with -race.
func TestPolicyConcurrent(t *testing.T) {
	set := &numbers.PrefixSet{Name: "monitor"}
	p := numbers.ModeratePolicy()
	p, err := p.With(numbers.WithPrefixSet(set))
	if err != nil {
		t.Fatal(err)
	}
	shared := mustParse(t, gbMobile) // type computed concurrently on first use
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				d := p.Check(shared, numbers.SMS)
				if d.Reason != numbers.ReasonAllowed && d.Reason != numbers.ReasonPrefixBlocked {
					t.Errorf("goroutine %d: %v", g, d)
					return
				}
				if g == 0 && i%10 == 0 {
					if err := set.Add(numbers.Entry{Prefix: "+447400", Note: "test", Expires: time.Now().Add(time.Minute)}); err != nil {
						t.Error(err)
					}
					set.Remove("+447400")
				}
			}
		})
	}
	wg.Wait()
}

func TestCheckDoesNotAllocate(t *testing.T) {
	set := &numbers.PrefixSet{Name: "monitor"}
	if err := set.Add(numbers.Entry{Prefix: "+4915", Note: "test", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	p, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(set), numbers.AllowRegions("GB", "LV", "DE", "US"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{gbMobile, lvMobile, deMobile, jmMobile, gbFixed, usNumber} {
		n := mustParse(t, s)
		n.Type() // computed once, remembered
		if a := testing.AllocsPerRun(100, func() { p.Check(n, numbers.SMS) }); a != 0 {
			t.Errorf("Check(%s) allocates %v times", n, a)
		}
	}
}

// TestRegressionSharedCodeBypassedAllowList: a number of a shared calling
// code that matches none of its regions (Region "") slipped past a region
// allow-list that holds none of those regions. Found by FuzzCheck.
func TestRegressionSharedCodeBypassedAllowList(t *testing.T) {
	n := mustParse(t, gbUnknown) // +44 is GB, GG, IM and JE; this matches none
	if n.Region != "" {
		t.Fatalf("region %q; the test needs an unresolved region", n.Region)
	}
	p, err := numbers.SMSVerificationPolicy("US", "CA")
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Check(n, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonRegionDenied || d.Entry != "+44" {
		t.Errorf("Check = %v", d)
	}
	p, err = numbers.SMSVerificationPolicy("US", "JE")
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Check(n, numbers.SMS); !d.Allowed || d.Reason != numbers.ReasonUnknownRange {
		t.Errorf("allow-list with one region of +44: %v", d)
	}
	deny := mustPolicy(t, numbers.DenyRegions("GB", "GG", "IM", "JE"), numbers.AllowTypes(numbers.SMS, numbers.UnknownType))
	if d := deny.Check(n, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonRegionDenied {
		t.Errorf("deny-list: %v", d)
	}
	partial := mustPolicy(t, numbers.DenyRegions("GB"), numbers.AllowTypes(numbers.SMS, numbers.UnknownType))
	if d := partial.Check(n, numbers.SMS); !d.Allowed {
		t.Errorf("deny-list of one region of four: %v", d)
	}
}

// TestRegressionNonCanonicalE164: "0001000000" from AX parsed to
// +358001000000, whose E.164 form parses as +35801000000. A policy that
// allows unknown ranges allowed it, and a sender would have texted another
// number. Found by FuzzCheck.
func TestRegressionNonCanonicalE164(t *testing.T) {
	n, err := numbers.Parse("0001000000", "AX")
	if err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, numbers.AllowTypes(numbers.SMS, numbers.UnknownType))
	if d := p.Check(n, numbers.SMS); d.Allowed || d.Reason != numbers.ReasonUnknownRange {
		t.Errorf("Check(%s) = %v", n.E164, d)
	}
	if d := p.Check(mustParse(t, gbUnknown), numbers.SMS); !d.Allowed {
		t.Errorf("a canonical unknown-range number: %v", d)
	}
}
