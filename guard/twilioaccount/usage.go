package twilioaccount

import (
	"fmt"
	"net/url"
	"time"
)

// UsageTrigger is what Twilio sends when a usage trigger fires.
type UsageTrigger struct {
	// AccountSID is the account whose usage fired the trigger: the main
	// account or a subaccount.
	AccountSID string
	// SID is the trigger's SID ("UT...").
	SID string
	// UsageCategory, TriggerBy and Recurring are the trigger's settings
	// ("totalprice", "price", "daily").
	UsageCategory, TriggerBy, Recurring string
	// TriggerValue is the threshold and CurrentValue the usage that
	// crossed it, as Twilio writes them ("30", "30.52").
	TriggerValue, CurrentValue string
	// DateFired is when the trigger fired; zero when Twilio did not say.
	DateFired time.Time
	// UsageRecordURI is the usage record the trigger watches, relative to
	// https://api.twilio.com.
	UsageRecordURI string
	// IdempotencyToken is the same on Twilio's retries of one callback.
	IdempotencyToken string
}

// parseUsageTrigger reads a usage-trigger callback's parameters. The
// account and trigger SIDs are required; the rest is taken as it comes.
func parseUsageTrigger(form url.Values) (UsageTrigger, error) {
	t := UsageTrigger{
		AccountSID: form.Get("AccountSid"), SID: form.Get("UsageTriggerSid"),
		UsageCategory: form.Get("UsageCategory"), TriggerBy: form.Get("TriggerBy"), Recurring: form.Get("Recurring"),
		TriggerValue: form.Get("TriggerValue"), CurrentValue: form.Get("CurrentValue"),
		UsageRecordURI: form.Get("UsageRecordUri"), IdempotencyToken: form.Get("IdempotencyToken"),
	}
	if !isSID(t.AccountSID, "AC") || !isSID(t.SID, "UT") {
		return UsageTrigger{}, fmt.Errorf("twilioaccount: usage-trigger callback without an AccountSid and a UsageTriggerSid")
	}
	if d := form.Get("DateFired"); d != "" {
		if ts, err := time.Parse(time.RFC1123Z, d); err == nil {
			t.DateFired = ts
		}
	}
	return t, nil
}

// reason says why a trigger tripped the switch, for logs and OnTrip.
func (t UsageTrigger) reason() string {
	return fmt.Sprintf("Twilio usage trigger %s fired on account %s: %s by %s reached %s (threshold %s, %s)",
		t.SID, t.AccountSID, t.UsageCategory, t.TriggerBy, t.CurrentValue, t.TriggerValue, t.Recurring)
}
