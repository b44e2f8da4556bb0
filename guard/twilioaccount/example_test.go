package twilioaccount_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/guard/twilioaccount"
	"github.com/antifraud-go/antifraud/internal/twiliofake"
)

// The kill switch thrown by a Twilio usage trigger: the app mounts the
// Monitor's handler at the URL its usage triggers call.
func ExampleMonitor() {
	const authToken = "0123456789abcdef0123456789abcdef"
	budget, _ := guard.NewBudget(nil, guard.BudgetConfig{
		OnTrip: func(reason string) { fmt.Println("paging the on-call") },
	})
	wh, _ := guard.NewWebhook([]string{authToken}, guard.WebhookConfig{PublicURL: "https://example.com"})
	monitor, err := twilioaccount.NewMonitor(wh, twilioaccount.Config{Budget: budget})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /twilio/usage", monitor.UsageTriggerHandler())
	mux.Handle("POST /twilio/debugger", monitor.AlarmHandler())

	// Twilio calls when the account has spent $30 today.
	form := url.Values{
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "UsageTriggerSid": {"UT0123456789abcdef0123456789abcdef"},
		"UsageCategory": {"totalprice"}, "TriggerBy": {"price"}, "Recurring": {"daily"},
		"TriggerValue": {"30"}, "CurrentValue": {"30.07"},
	}
	r := httptest.NewRequest(http.MethodPost, "/twilio/usage", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", guard.TwilioSignature(authToken, "https://example.com/twilio/usage", form))
	mux.ServeHTTP(httptest.NewRecorder(), r)

	// Every guarded send is refused now.
	fmt.Println(errors.Is(budget.Check(context.Background()), guard.ErrOverBudget))
	// Output:
	// paging the on-call
	// true
}

// Creating the recommended usage triggers from a deploy pipeline; the
// second run finds them in place.
func ExampleEnsureTriggers() {
	fake := twiliofake.NewServer() // stands in for Twilio here
	defer fake.Close()
	c := fake.Client() // a twilio-go *client.Client with your credentials

	ctx := context.Background()
	for range 2 {
		n, err := twilioaccount.EnsureTriggers(ctx, c, c.AccountSid(), "https://example.com/twilio/usage",
			twilioaccount.RecommendedTriggers(30)...)
		fmt.Println(n, err)
	}
	// Output:
	// 3 <nil>
	// 0 <nil>
}

// An audit of an account open to calls to Latvia, a top-ten destination of
// toll fraud.
func ExampleAudit() {
	fake := twiliofake.NewServer()
	defer fake.Close()
	fake.SetCountries(
		twiliofake.Country{ISO: "US", Name: "United States", CountryCodes: []string{"+1"}, LowRisk: true},
		twiliofake.Country{ISO: "LV", Name: "Latvia", CountryCodes: []string{"+371"}, LowRisk: true},
	)
	findings, err := twilioaccount.Audit(context.Background(), fake.Client(), twilioaccount.AuditConfig{
		VoiceCountries: []string{"US"},
	})
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Println(f.Verdict, f.Area, f.Subject)
	}
	// Output:
	// PASS voice US United States
	// FAIL voice LV Latvia
	// PASS voice other countries
	// FAIL triggers AC00000000000000000000000000000000
}
