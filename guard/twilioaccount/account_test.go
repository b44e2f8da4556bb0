package twilioaccount

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/internal/twiliofake"
	"github.com/twilio/twilio-go/client"
)

func newFake(t *testing.T) *twiliofake.Server {
	t.Helper()
	s := twiliofake.NewServer()
	t.Cleanup(s.Close)
	return s
}

func TestSuspendAndReactivate(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t)
	c := fake.Client()
	sub := fake.AddSubaccount("tenant 1", "active")

	if err := Suspend(ctx, c, sub); err != nil {
		t.Fatal(err)
	}
	if a, _ := fake.Account(sub); a.Status != "suspended" {
		t.Fatalf("status %q", a.Status)
	}
	if err := Suspend(ctx, c, sub); err != nil {
		t.Errorf("suspending again: %v", err)
	}
	if err := Reactivate(ctx, c, sub); err != nil {
		t.Fatal(err)
	}
	if a, _ := fake.Account(sub); a.Status != "active" {
		t.Fatalf("status %q", a.Status)
	}
	// The request went through twilio-go to the right endpoint.
	last := fake.Requests()[len(fake.Requests())-1]
	if last.Method != "POST" || last.Host != "api.twilio.com" || last.Path != "/2010-04-01/Accounts/"+sub+".json" || last.Form.Get("Status") != "active" {
		t.Errorf("last request %+v", last)
	}
}

func TestSuspendRefusals(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t)
	c := fake.Client()
	if err := Suspend(ctx, c, twiliofake.AccountSID); !errors.Is(err, ErrMainAccount) {
		t.Errorf("main account: %v", err)
	}
	if err := Suspend(ctx, c, "AC123"); err == nil {
		t.Error("malformed SID accepted")
	}
	if err := Suspend(ctx, nil, "AC123"); err == nil {
		t.Error("nil client accepted")
	}
	locked := fake.AddSubaccount("locked", "active")
	fake.LockByTwilio(locked)
	err := Reactivate(ctx, c, locked)
	var rest *client.TwilioRestError
	if !errors.As(err, &rest) || rest.Code != 21478 {
		t.Errorf("account suspended by Twilio: %v", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want the one for the locked account", n)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	sub := fake.AddSubaccount("x", "active")
	if err := Suspend(canceled, c, sub); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

func TestEnsureTriggers(t *testing.T) {
	ctx := context.Background()
	fake := newFake(t)
	c := fake.Client()
	cb := "https://example.com/twilio/usage"
	fake.AddTrigger(twiliofake.Trigger{AccountSID: twiliofake.AccountSID, FriendlyName: "mine", CallbackURL: "https://other.example/x",
		UsageCategory: "calls", TriggerBy: "usage", TriggerVal: "1000", Recurring: "monthly"})

	n, err := EnsureTriggers(ctx, c, twiliofake.AccountSID, cb, RecommendedTriggers(30)...)
	if err != nil || n != 3 {
		t.Fatalf("EnsureTriggers = %d, %v", n, err)
	}
	got := fake.Triggers(twiliofake.AccountSID)
	if len(got) != 4 {
		t.Fatalf("%d triggers: %+v", len(got), got)
	}
	daily := got[1]
	if daily.FriendlyName != "antifraud: daily spend" || daily.UsageCategory != "totalprice" || daily.TriggerBy != "price" ||
		daily.Recurring != "daily" || daily.TriggerVal != "30" || daily.CallbackURL != cb || daily.CallbackMethod != "POST" {
		t.Errorf("daily trigger %+v", daily)
	}

	// Idempotent.
	if n, err := EnsureTriggers(ctx, c, twiliofake.AccountSID, cb, RecommendedTriggers(30)...); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v", n, err)
	}
	// A new budget replaces the three, and leaves the app's own trigger.
	if n, err := EnsureTriggers(ctx, c, twiliofake.AccountSID, cb, RecommendedTriggers(50)...); err != nil || n != 3 {
		t.Fatalf("new budget = %d, %v", n, err)
	}
	got = fake.Triggers(twiliofake.AccountSID)
	if len(got) != 4 || got[0].FriendlyName != "mine" || got[1].TriggerVal != "50" {
		t.Errorf("after the change: %+v", got)
	}

	// On a subaccount.
	sub := fake.AddSubaccount("tenant", "active")
	if n, err := EnsureTriggers(ctx, c, sub, cb, RecommendedTriggers(5)[0]); err != nil || n != 1 || len(fake.Triggers(sub)) != 1 {
		t.Fatalf("subaccount: %d, %v", n, err)
	}

	for _, bad := range []struct{ cb, name string }{
		{"http://example.com/usage", "x"}, {"not a url", "x"}, {cb, ""}, {cb, strings.Repeat("x", 65)},
	} {
		if _, err := EnsureTriggers(ctx, c, twiliofake.AccountSID, bad.cb, Trigger{FriendlyName: bad.name, UsageCategory: "sms", Value: "1"}); err == nil {
			t.Errorf("accepted callback %q name %q", bad.cb, bad.name)
		}
	}
	// Twilio's refusal comes back as twilio-go's error.
	_, err = EnsureTriggers(ctx, c, twiliofake.AccountSID, cb, Trigger{FriendlyName: "bad", UsageCategory: "sms", TriggerBy: "price", Value: "-1", Recurring: "daily"})
	var rest *client.TwilioRestError
	if !errors.As(err, &rest) || rest.Code != 21612 {
		t.Errorf("bad value: %v", err)
	}
}
