package twilioaccount

import (
	"context"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/internal/twiliofake"
)

// lockDownFake is an account with something of everything to report.
func lockDownFake(t *testing.T) *twiliofake.Server {
	fake := newFake(t)
	fake.SetCountries(
		twiliofake.Country{ISO: "US", Name: "United States", Continent: "NORTH_AMERICA", CountryCodes: []string{"+1"}, LowRisk: true},
		twiliofake.Country{ISO: "LV", Name: "Latvia", Continent: "EUROPE", CountryCodes: []string{"+371"}, LowRisk: true},
		twiliofake.Country{ISO: "GB", Name: "United Kingdom", Continent: "EUROPE", CountryCodes: []string{"+44"}, LowRisk: true},
		twiliofake.Country{ISO: "DE", Name: "Germany", Continent: "EUROPE", CountryCodes: []string{"+49"}, HighRiskSpecial: true},
		twiliofake.Country{ISO: "FR", Name: "France", Continent: "EUROPE", CountryCodes: []string{"+33"}},
		twiliofake.Country{ISO: "JM", Name: "Jamaica", Continent: "NORTH_AMERICA", CountryCodes: []string{"+1 876"}, LowRisk: true},
		twiliofake.Country{ISO: "CA", Name: "Canada", Continent: "NORTH_AMERICA", CountryCodes: []string{"+1"}},
	)
	return fake
}

func verdicts(fs []Finding) map[string]Verdict {
	m := map[string]Verdict{}
	for _, f := range fs {
		m[f.Area+" "+f.Subject] = f.Verdict
	}
	return m
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	fake := lockDownFake(t)
	tenant := fake.AddSubaccount("tenant", "active")
	guarded := fake.AddSubaccount("guarded", "active")
	fake.AddSubaccount("old", "closed")
	fake.AddTrigger(twiliofake.Trigger{AccountSID: guarded, FriendlyName: "d", CallbackURL: "https://e.x/u", UsageCategory: "totalprice", TriggerBy: "price", TriggerVal: "5", Recurring: "daily"})
	credsOnly := fake.AddSIPDomain(twiliofake.SIPDomain{Name: "pbx", CredentialLists: 1, Secure: true})
	guardedSIP := fake.AddSIPDomain(twiliofake.SIPDomain{Name: "office", CredentialLists: 1, IPACLs: 1})
	legacy := fake.AddSIPDomain(twiliofake.SIPDomain{Name: "old", LegacyIPACLs: 2, Secure: true})
	fake.AddTrigger(twiliofake.Trigger{AccountSID: twiliofake.AccountSID, FriendlyName: "plain", CallbackURL: "http://e.x/u", UsageCategory: "sms", TriggerBy: "count", TriggerVal: "100", Recurring: "daily"})

	fs, err := Audit(ctx, fake.Client(), AuditConfig{VoiceCountries: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		t.Log(f)
	}
	v := verdicts(fs)
	want := map[string]Verdict{
		"voice US United States":                               Pass,
		"voice LV Latvia":                                      Fail, // high-risk dataset
		"voice GB United Kingdom":                              Fail, // not expected
		"voice DE Germany":                                     Fail, // special numbers
		"voice JM Jamaica":                                     Fail, // NANP area code in the dataset
		"voice other countries":                                Pass, // FR, CA
		"sip " + credsOnly + " pbx.sip.twilio.com":             Fail, // credentials without an IP ACL
		"sip " + legacy + " old.sip.twilio.com":                Pass,
		"triggers " + twiliofake.AccountSID:                    Fail, // no daily spend trigger
		`subaccounts ` + tenant + ` "tenant"`:                  Warn,
		`subaccounts ` + guarded + ` "guarded"`:                Pass,
		`subaccounts AC00000000000000000000000000000003 "old"`: Pass,
	}
	for k, w := range want {
		if got, ok := v[k]; !ok || got != w {
			t.Errorf("%s: %v (present %v), want %v", k, got, ok, w)
		}
	}
	var plain Finding
	for _, f := range fs {
		if strings.Contains(f.Subject, `"plain"`) {
			plain = f
		}
		if f.Area == "voice" && f.Subject == "LV Latvia" && !strings.Contains(f.Detail, "top10") {
			t.Errorf("LV detail does not cite the dataset: %s", f.Detail)
		}
	}
	var office []Finding
	for _, f := range fs {
		if f.Area == "sip" && strings.HasPrefix(f.Subject, guardedSIP) {
			office = append(office, f)
		}
	}
	if len(office) != 2 || office[0].Verdict != Pass || office[1].Verdict != Warn || !strings.Contains(office[1].Detail, "TLS") {
		t.Errorf("SIP domain with an ACL but not secure: %v", office)
	}
	if plain.Verdict != Warn || !strings.Contains(plain.Detail, "not https") {
		t.Errorf("http callback: %+v", plain)
	}
	if got := fs[len(fs)-1].String(); !strings.HasPrefix(got, "PASS  subaccounts ") {
		t.Errorf("String() = %q", got)
	}
}

func TestAuditLockedDown(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t)
	fake.SetCountries(twiliofake.Country{ISO: "US", Name: "United States", CountryCodes: []string{"+1"}, LowRisk: true},
		twiliofake.Country{ISO: "FR", Name: "France", CountryCodes: []string{"+33"}})
	if _, err := EnsureTriggers(ctx, fake.Client(), twiliofake.AccountSID, "https://e.x/usage", RecommendedTriggers(30)...); err != nil {
		t.Fatal(err)
	}
	fs, err := Audit(ctx, fake.Client(), AuditConfig{VoiceCountries: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Verdict != Pass {
			t.Errorf("locked-down account: %v", f)
		}
	}
	// Without a list of countries, an open country is for review.
	fs, _ = Audit(ctx, fake.Client(), AuditConfig{})
	if v := verdicts(fs)["voice US United States"]; v != Warn {
		t.Errorf("US without a country list: %v", v)
	}
}

func TestAuditMaxSubaccountsAndErrors(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t)
	for range 5 {
		fake.AddSubaccount("t", "active")
	}
	fs, err := Audit(ctx, fake.Client(), AuditConfig{MaxSubaccounts: 2})
	if err != nil {
		t.Fatal(err)
	}
	last := fs[len(fs)-1]
	if last.Verdict != Warn || !strings.Contains(last.Detail, "3 more") {
		t.Errorf("last finding %v", last)
	}
	fake.FailNext("/Usage/Triggers", 20429)
	if fs, err := Audit(ctx, fake.Client(), AuditConfig{}); err == nil || len(fs) == 0 {
		t.Errorf("failed request: %d findings, %v", len(fs), err)
	}
}
