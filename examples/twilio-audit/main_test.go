package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/internal/twiliofake"
)

func noEnv(string) string { return "" }

func TestAuditCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		setup    func(*twiliofake.Server)
		exit     int
		contains []string // substrings of stdout, in order
	}{
		{
			name: "demo account",
			args: []string{"-countries", "us,CA"},
			exit: exitFindings,
			contains: []string{
				"PASS  voice       US United States",
				"PASS  voice       CA Canada",
				"FAIL  voice       GB United Kingdom: calls to high-risk special numbers",
				"FAIL  voice       GB United Kingdom: calls are enabled to a country the app does not call",
				"FAIL  voice       LV Latvia: calls are enabled to a high-risk destination (top10",
				"PASS  voice       other countries: 1 closed to calls",
				"FAIL  sip         SD00000000000000000000000000000001 office-pbx.sip.twilio.com: calls are authenticated by credentials alone",
				"WARN  sip         SD00000000000000000000000000000001 office-pbx.sip.twilio.com: secure SIP is off",
				"FAIL  triggers    AC00000000000000000000000000000000: no daily spend trigger",
				`WARN  subaccounts AC00000000000000000000000000000002 "tenant: acme": active, without a daily spend trigger`,
				`PASS  subaccounts AC00000000000000000000000000000003 "tenant: gone": suspended`,
			},
		},
		{
			name: "locked down",
			args: []string{"-countries", "US"},
			setup: func(f *twiliofake.Server) {
				f.SetCountries(twiliofake.Country{ISO: "US", Name: "United States", CountryCodes: []string{"+1"}, LowRisk: true})
				f.AddTrigger(twiliofake.Trigger{AccountSID: twiliofake.AccountSID, FriendlyName: "d", CallbackURL: "https://e.x/u",
					UsageCategory: "totalprice", TriggerBy: "price", TriggerVal: "30", Recurring: "daily"})
			},
			exit:     exitClean,
			contains: []string{"PASS  voice       US United States", `PASS  triggers    UT`},
		},
		{
			name:     "warnings with -strict",
			args:     []string{"-strict"},
			setup:    func(f *twiliofake.Server) { f.AddTrigger(dailyTrigger()); f.AddSubaccount("t", "active") },
			exit:     exitFindings,
			contains: []string{"PASS  voice       other countries: 0 closed to calls", "PASS  triggers", "WARN  subaccounts"},
		},
		{
			name:     "warnings without -strict",
			args:     nil,
			setup:    func(f *twiliofake.Server) { f.AddTrigger(dailyTrigger()); f.AddSubaccount("t", "active") },
			exit:     exitClean,
			contains: []string{"WARN  subaccounts"},
		},
		{
			name:     "fix the triggers",
			args:     []string{"-fix-triggers", "https://example.com/twilio/usage", "-daily", "50"},
			exit:     exitClean,
			contains: []string{"created 3 usage triggers", `"antifraud: daily spend": totalprice by price at 50, daily`},
		},
		{name: "bad country", args: []string{"-countries", "USA"}, exit: exitError},
		{name: "stray argument", args: []string{"now"}, exit: exitError},
		{name: "http callback refused", args: []string{"-fix-triggers", "http://example.com/u"}, exit: exitError},
		{
			name:  "Twilio unavailable",
			setup: func(f *twiliofake.Server) { f.FailNext("DialingPermissions", 20429) },
			exit:  exitError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fake *twiliofake.Server
			if tt.name == "demo account" {
				fake = demoAccount()
			} else {
				fake = twiliofake.NewServer()
			}
			defer fake.Close()
			if tt.setup != nil {
				tt.setup(fake)
			}
			var stdout, stderr bytes.Buffer
			exit := run(context.Background(), tt.args, noEnv, &stdout, &stderr, fake.Client())
			if exit != tt.exit {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", exit, tt.exit, stdout.String(), stderr.String())
			}
			out := stdout.String()
			for _, want := range tt.contains {
				i := strings.Index(out, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q:\n%s", want, stdout.String())
				}
				out = out[i+len(want):]
			}
		})
	}
}

func dailyTrigger() twiliofake.Trigger {
	return twiliofake.Trigger{AccountSID: twiliofake.AccountSID, FriendlyName: "d", CallbackURL: "https://e.x/u",
		UsageCategory: "totalprice", TriggerBy: "price", TriggerVal: "30", Recurring: "daily"}
}

// Without credentials the command audits its demonstration account.
func TestAuditCommandDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	exit := run(context.Background(), nil, noEnv, &stdout, &stderr, nil)
	if exit != exitFindings || !strings.Contains(stdout.String(), "demonstration account") || !strings.Contains(stdout.String(), "FAIL  voice       LV Latvia") {
		t.Errorf("exit %d\n%s%s", exit, stdout.String(), stderr.String())
	}
}

// Credentials in the environment make a client for that account (not
// called here: that would reach Twilio).
func TestFromEnv(t *testing.T) {
	env := map[string]string{"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "x"}
	var out bytes.Buffer
	c, cleanup := fromEnv(func(k string) string { return env[k] }, &out)
	defer cleanup()
	if c.AccountSid() != env["TWILIO_ACCOUNT_SID"] || out.Len() != 0 {
		t.Errorf("client for %s, output %q", c.AccountSid(), out.String())
	}
	env["TWILIO_API_KEY"], env["TWILIO_API_SECRET"] = "SK1", "s"
	c, cleanup = fromEnv(func(k string) string { return env[k] }, &out)
	defer cleanup()
	if c.AccountSid() != env["TWILIO_ACCOUNT_SID"] {
		t.Errorf("API key client for %s", c.AccountSid())
	}
}
