package twilioaccount

import (
	"net/url"
	"testing"

	"github.com/antifraud-go/antifraud/internal/twiliofake"
)

// FuzzParseUsageTrigger feeds the usage-trigger parser arbitrary forms: it
// never panics, and what it accepts has well-formed SIDs.
func FuzzParseUsageTrigger(f *testing.F) {
	f.Add(usageForm(twiliofake.AccountSID).Encode())
	f.Add("AccountSid=AC0&UsageTriggerSid=UT0")
	f.Add("DateFired=Sun%2C+04+Oct+2026+12%3A00%3A00+%2B0000")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		u, err := parseUsageTrigger(form)
		if err != nil {
			return
		}
		if !isSID(u.AccountSID, "AC") || !isSID(u.SID, "UT") {
			t.Fatalf("accepted %+v", u)
		}
		_ = u.reason()
	})
}

// FuzzParseAlarm feeds the debugger-event parser arbitrary forms and
// payloads: it never panics, and what it accepts has an account SID and
// an error code in Twilio's range.
func FuzzParseAlarm(f *testing.F) {
	f.Add(twiliofake.AccountSID, `{"error_code":"32201","resource_sid":"CA1"}`, "2026-10-04T12:00:00Z")
	f.Add(twiliofake.AccountSID, `{"error_code":60410}`, "")
	f.Add(twiliofake.AccountSID, `{"error_code":"0x1"}`, "x")
	f.Add("AC", `[`, "")
	f.Fuzz(func(t *testing.T, account, payload, ts string) {
		a, err := parseAlarm(url.Values{"AccountSid": {account}, "Payload": {payload}, "Timestamp": {ts}})
		if err != nil {
			return
		}
		if !isSID(a.AccountSID, "AC") || a.ErrorCode <= 0 || a.ErrorCode > 99999 {
			t.Fatalf("accepted %+v", a)
		}
	})
}
