package twilioaccount

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/antifraud-go/antifraud/internal/twilioctx"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	voice "github.com/twilio/twilio-go/rest/voice/v1"
)

// Verdict grades a Finding.
type Verdict uint8

const (
	// Pass: as the guide asks.
	Pass Verdict = iota
	// Warn: to review; it may be intended.
	Warn
	// Fail: to lock down.
	Fail
)

// String returns "PASS", "WARN" or "FAIL".
func (v Verdict) String() string {
	switch v {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	}
	return "FAIL"
}

// Finding is one line of an audit.
type Finding struct {
	Verdict Verdict
	// Area is "voice", "sip", "triggers" or "subaccounts".
	Area string
	// Subject is what the finding is about: a country, a trigger, an
	// account.
	Subject string
	// Detail says what was found and what to do.
	Detail string
}

// String formats f as one line: verdict, area, subject, detail.
func (f Finding) String() string {
	return fmt.Sprintf("%s  %-11s %s: %s", f.Verdict, f.Area, f.Subject, f.Detail)
}

// AuditConfig configures Audit. The zero value audits with the embedded
// high-risk dataset and reports every country open to calls for review.
type AuditConfig struct {
	// VoiceCountries are the ISO codes of the countries the app is meant to
	// call. A country open to calls and not listed fails. Nil means no
	// list: each country open to calls is a warning to review, and a
	// high-risk one fails.
	VoiceCountries []string
	// Dataset is the high-risk dataset countries are checked against. Nil
	// means numbers.HighRisk().
	Dataset *numbers.Dataset
	// MaxSubaccounts bounds the subaccounts whose usage triggers are read
	// (one request each). Zero means 100.
	MaxSubaccounts int
}

// Audit reads the account c authenticates as and reports what the
// anti-fraud guide asks to lock down:
//
//   - voice dialing permissions, country by country: a country open to
//     calls that is in the high-risk dataset, or not in VoiceCountries,
//     fails; high-risk special numbers (premium rate, shared cost) and
//     Twilio's toll-fraud ranges fail wherever they are open ("restrict
//     calling only to countries you expect to call ... and block all
//     others");
//   - SIP domains: one that authenticates calls with credentials and no IP
//     access control list fails ("use IP allow lists with SIP
//     credentials"), one without TLS and SRTP warns ("enable TLS for SIP
//     signaling ... enable SRTP");
//   - usage triggers: an account without a daily spend trigger fails
//     ("implement usage triggers"), a callback that is not https warns;
//   - subaccounts: their status, and a warning for an active subaccount
//     without a daily spend trigger of its own.
//
// Findings come in that order. The error is for requests that failed; the
// findings made before are returned with it.
func Audit(ctx context.Context, c client.BaseClient, cfg AuditConfig) ([]Finding, error) {
	if c == nil {
		return nil, errors.New("twilioaccount: Audit: nil twilio client")
	}
	if cfg.Dataset == nil {
		cfg.Dataset = numbers.HighRisk()
	}
	if cfg.MaxSubaccounts == 0 {
		cfg.MaxSubaccounts = 100
	}
	findings, err := auditVoice(ctx, c, cfg)
	if err != nil {
		return findings, err
	}
	main := c.AccountSid()
	sip, err := auditSIP(ctx, c, main)
	findings = append(findings, sip...)
	if err != nil {
		return findings, err
	}
	triggers, err := listTriggers(ctx, c, main)
	if err != nil {
		return findings, err
	}
	findings = append(findings, auditTriggers(main, triggers, true)...)
	subs, err := auditSubaccounts(ctx, c, main, cfg.MaxSubaccounts)
	return append(findings, subs...), err
}

// wholeCountry returns the dataset entry that covers all of a country
// (its prefix is one of the country's calling codes, or shorter), if any.
func wholeCountry(entries []numbers.Entry, countryCodes []string) (numbers.Entry, bool) {
	for _, cc := range countryCodes {
		digits := onlyDigits(cc)
		if digits == "" {
			continue
		}
		for _, e := range entries {
			if p := onlyDigits(e.Prefix); p != "" && strings.HasPrefix(digits, p) {
				return e, true
			}
		}
	}
	return numbers.Entry{}, false
}

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func auditVoice(ctx context.Context, c client.BaseClient, cfg AuditConfig) ([]Finding, error) {
	var countries []voice.VoiceV1DialingPermissionsCountry
	err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
		var err error
		countries, err = voice.NewApiServiceWithClient(bc).ListDialingPermissionsCountry(&voice.ListDialingPermissionsCountryParams{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("twilioaccount: reading voice dialing permissions: %w", err)
	}
	entries := cfg.Dataset.Entries
	var out []Finding
	closed := 0
	for _, ct := range countries {
		iso := str(ct.IsoCode)
		subject := strings.TrimSpace(iso + " " + str(ct.Name))
		var codes []string
		if ct.CountryCodes != nil {
			codes = *ct.CountryCodes
		}
		open := ct.LowRiskNumbersEnabled != nil && *ct.LowRiskNumbersEnabled
		special := ct.HighRiskSpecialNumbersEnabled != nil && *ct.HighRiskSpecialNumbersEnabled
		tollFraud := ct.HighRiskTollfraudNumbersEnabled != nil && *ct.HighRiskTollfraudNumbersEnabled
		if tollFraud {
			out = append(out, Finding{Fail, "voice", subject, "calls to Twilio's high-risk toll-fraud ranges are enabled: disable them"})
		}
		if special {
			out = append(out, Finding{Fail, "voice", subject, "calls to high-risk special numbers (premium rate, shared cost) are enabled: disable them"})
		}
		if !open {
			if !tollFraud && !special {
				closed++
			}
			continue
		}
		expected := slices.Contains(cfg.VoiceCountries, iso)
		e, risky := wholeCountry(entries, codes)
		switch {
		case risky && !expected:
			out = append(out, Finding{Fail, "voice", subject, fmt.Sprintf("calls are enabled to a high-risk destination (%s: %s): disable them unless the app must call there", e.Category, e.Note)})
		case risky:
			out = append(out, Finding{Warn, "voice", subject, fmt.Sprintf("calls are enabled to a high-risk destination the app expects to call (%s: %s): watch its spend", e.Category, e.Note)})
		case cfg.VoiceCountries == nil:
			out = append(out, Finding{Warn, "voice", subject, "calls are enabled: disable them unless the app calls there"})
		case !expected:
			out = append(out, Finding{Fail, "voice", subject, "calls are enabled to a country the app does not call: disable them"})
		default:
			out = append(out, Finding{Pass, "voice", subject, "calls are enabled, as expected"})
		}
	}
	out = append(out, Finding{Pass, "voice", "other countries", fmt.Sprintf("%d closed to calls", closed)})
	return out, nil
}

// isDailySpend reports whether t watches the whole spend per day.
func isDailySpend(t api.ApiV2010UsageTrigger) bool {
	return str(t.UsageCategory) == "totalprice" && str(t.TriggerBy) == "price" && str(t.Recurring) == "daily"
}

func auditTriggers(account string, triggers []api.ApiV2010UsageTrigger, main bool) []Finding {
	var out []Finding
	daily := false
	for _, t := range triggers {
		subject := fmt.Sprintf("%s %q", str(t.Sid), str(t.FriendlyName))
		desc := fmt.Sprintf("%s by %s at %s, %s", str(t.UsageCategory), str(t.TriggerBy), str(t.TriggerValue), orDefault(str(t.Recurring), "once"))
		if isDailySpend(t) {
			daily = true
		}
		if u := str(t.CallbackUrl); !strings.HasPrefix(u, "https://") {
			out = append(out, Finding{Warn, "triggers", subject, desc + "; its callback is not https: Twilio's alarm travels in the clear"})
			continue
		}
		if main {
			out = append(out, Finding{Pass, "triggers", subject, desc})
		}
	}
	switch {
	case daily && main:
	case main:
		out = append(out, Finding{Fail, "triggers", account, "no daily spend trigger (totalprice, by price, daily): create one (twilioaccount.EnsureTriggers)"})
	case !daily:
		out = append(out, Finding{Warn, "subaccounts", account, "active, without a daily spend trigger of its own: a runaway subaccount is only caught by the parent's total"})
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func auditSubaccounts(ctx context.Context, c client.BaseClient, main string, max int) ([]Finding, error) {
	var accounts []api.ApiV2010Account
	err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
		var err error
		accounts, err = api.NewApiServiceWithClient(bc).ListAccount(&api.ListAccountParams{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("twilioaccount: listing subaccounts: %w", err)
	}
	var out []Finding
	checked, skipped := 0, 0
	for _, a := range accounts {
		sid := str(a.Sid)
		if sid == main {
			continue
		}
		subject := fmt.Sprintf("%s %q", sid, str(a.FriendlyName))
		status := str(a.Status)
		if status != "active" {
			out = append(out, Finding{Pass, "subaccounts", subject, status})
			continue
		}
		if checked == max {
			skipped++
			continue
		}
		checked++
		triggers, err := listTriggers(ctx, c, sid)
		if err != nil {
			return out, err
		}
		if f := auditTriggers(subject, triggers, false); len(f) > 0 {
			out = append(out, f...)
		} else {
			out = append(out, Finding{Pass, "subaccounts", subject, "active, with a daily spend trigger"})
		}
	}
	if skipped > 0 {
		out = append(out, Finding{Warn, "subaccounts", "others", fmt.Sprintf("%d more active subaccounts were not checked (AuditConfig.MaxSubaccounts)", skipped)})
	}
	return out, nil
}

func auditSIP(ctx context.Context, c client.BaseClient, main string) ([]Finding, error) {
	var domains []api.ApiV2010SipDomain
	err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
		params := &api.ListSipDomainParams{}
		params.SetPathAccountSid(main)
		var err error
		domains, err = api.NewApiServiceWithClient(bc).ListSipDomain(params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("twilioaccount: listing SIP domains: %w", err)
	}
	var out []Finding
	for _, d := range domains {
		sid := str(d.Sid)
		subject := strings.TrimSpace(sid + " " + str(d.DomainName))
		var acls, legacy, creds int
		err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
			svc := api.NewApiServiceWithClient(bc)
			p1 := &api.ListSipAuthCallsIpAccessControlListMappingParams{}
			p1.SetPathAccountSid(main)
			a, err := svc.ListSipAuthCallsIpAccessControlListMapping(sid, p1)
			if err != nil {
				return err
			}
			p2 := &api.ListSipIpAccessControlListMappingParams{}
			p2.SetPathAccountSid(main)
			l, err := svc.ListSipIpAccessControlListMapping(sid, p2)
			if err != nil {
				return err
			}
			p3 := &api.ListSipAuthCallsCredentialListMappingParams{}
			p3.SetPathAccountSid(main)
			cr, err := svc.ListSipAuthCallsCredentialListMapping(sid, p3)
			acls, legacy, creds = len(a), len(l), len(cr)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("twilioaccount: reading the authentication of SIP domain %s: %w", sid, err)
		}
		switch {
		case acls+legacy == 0 && creds > 0:
			out = append(out, Finding{Fail, "sip", subject, "calls are authenticated by credentials alone: add an IP access control list, so that stolen credentials are useless elsewhere"})
		case acls+legacy == 0:
			out = append(out, Finding{Warn, "sip", subject, "no call authentication is configured"})
		default:
			out = append(out, Finding{Pass, "sip", subject, fmt.Sprintf("calls are limited by IP access control lists (%d)", acls+legacy)})
		}
		if d.Secure == nil || !*d.Secure {
			out = append(out, Finding{Warn, "sip", subject, "secure SIP is off: enable it for TLS signaling and SRTP media"})
		}
	}
	return out, nil
}
