package twilioaccount

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/antifraud-go/antifraud/internal/twilioctx"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// Trigger is a Twilio usage trigger: when the usage of a category reaches
// Value within the Recurring period (in GMT), Twilio calls the callback
// URL, about once a minute at most.
type Trigger struct {
	// FriendlyName names the trigger; EnsureTriggers matches existing
	// triggers by it. At most 64 characters.
	FriendlyName string
	// UsageCategory is a Twilio usage category: "totalprice" (all spend),
	// "sms", "calls", ...
	UsageCategory string
	// TriggerBy is what Value counts: "price" (the account's currency),
	// "usage" (minutes, messages) or "count".
	TriggerBy string
	// Value is the threshold, such as "30"; "+30" is 30 above the current
	// usage when the trigger is created.
	Value string
	// Recurring is "daily", "monthly", "yearly" or "alltime" (fires once).
	Recurring string
}

// RecommendedTriggers returns the usage triggers the anti-fraud guide
// recommends for an app whose normal spend is well under daily a day: the
// whole account's daily spend, which is the kill switch ("suspend a
// subaccount ... spending more than $30 per day"), and the daily spend on
// SMS and on calls, which say where a runaway spend comes from.
func RecommendedTriggers(daily float64) []Trigger {
	v := strconv.FormatFloat(daily, 'f', -1, 64)
	return []Trigger{
		{FriendlyName: "antifraud: daily spend", UsageCategory: "totalprice", TriggerBy: "price", Value: v, Recurring: "daily"},
		{FriendlyName: "antifraud: daily SMS spend", UsageCategory: "sms", TriggerBy: "price", Value: v, Recurring: "daily"},
		{FriendlyName: "antifraud: daily call spend", UsageCategory: "calls", TriggerBy: "price", Value: v, Recurring: "daily"},
	}
}

// EnsureTriggers makes the usage triggers of accountSID (the main account
// or a subaccount of it) include triggers, each calling callbackURL: a
// trigger whose FriendlyName is already there with the same settings is
// kept, one with other settings is replaced (Twilio cannot change a
// trigger's value), a missing one is created. Other triggers are left
// alone. It returns how many triggers it created. It is idempotent, for a
// deploy pipeline.
func EnsureTriggers(ctx context.Context, c client.BaseClient, accountSID, callbackURL string, triggers ...Trigger) (created int, err error) {
	if c == nil {
		return 0, errors.New("twilioaccount: nil twilio client")
	}
	if !isSID(accountSID, "AC") {
		return 0, fmt.Errorf("twilioaccount: %q is not an account SID", accountSID)
	}
	if u, err := url.Parse(callbackURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return 0, fmt.Errorf("twilioaccount: callback URL %q is not an https URL", callbackURL)
	}
	for _, t := range triggers {
		if t.FriendlyName == "" || len(t.FriendlyName) > 64 {
			return 0, fmt.Errorf("twilioaccount: trigger name %q is empty or longer than 64 characters", t.FriendlyName)
		}
	}
	existing, err := listTriggers(ctx, c, accountSID)
	if err != nil {
		return 0, err
	}
	for _, want := range triggers {
		keep := false
		for _, have := range existing {
			if str(have.FriendlyName) != want.FriendlyName {
				continue
			}
			if sameTrigger(have, want, callbackURL) && !keep {
				keep = true
				continue
			}
			if err := deleteTrigger(ctx, c, accountSID, str(have.Sid)); err != nil {
				return created, err
			}
		}
		if keep {
			continue
		}
		if err := createTrigger(ctx, c, accountSID, callbackURL, want); err != nil {
			return created, err
		}
		created++
	}
	return created, nil
}

func sameTrigger(have api.ApiV2010UsageTrigger, want Trigger, callbackURL string) bool {
	return str(have.UsageCategory) == want.UsageCategory && str(have.TriggerBy) == want.TriggerBy &&
		str(have.Recurring) == want.Recurring && str(have.CallbackUrl) == callbackURL &&
		sameValue(str(have.TriggerValue), want.Value)
}

// sameValue compares trigger values as numbers ("30" and "30.00"). An
// offset ("+30") never matches: it was resolved when it was created.
func sameValue(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y && b[0] != '+'
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func listTriggers(ctx context.Context, c client.BaseClient, accountSID string) ([]api.ApiV2010UsageTrigger, error) {
	var out []api.ApiV2010UsageTrigger
	err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
		params := &api.ListUsageTriggerParams{}
		params.SetPathAccountSid(accountSID)
		var err error
		out, err = api.NewApiServiceWithClient(bc).ListUsageTrigger(params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("twilioaccount: listing the usage triggers of %s: %w", accountSID, err)
	}
	return out, nil
}

func createTrigger(ctx context.Context, c client.BaseClient, accountSID, callbackURL string, t Trigger) error {
	err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
		params := &api.CreateUsageTriggerParams{}
		params.SetPathAccountSid(accountSID)
		params.SetCallbackUrl(callbackURL)
		params.SetCallbackMethod("POST")
		params.SetFriendlyName(t.FriendlyName)
		params.SetUsageCategory(t.UsageCategory)
		params.SetTriggerValue(t.Value)
		if t.TriggerBy != "" {
			params.SetTriggerBy(t.TriggerBy)
		}
		if t.Recurring != "" {
			params.SetRecurring(t.Recurring)
		}
		_, err := api.NewApiServiceWithClient(bc).CreateUsageTrigger(params)
		return err
	})
	if err != nil {
		return fmt.Errorf("twilioaccount: creating trigger %q on %s: %w", t.FriendlyName, accountSID, err)
	}
	return nil
}

func deleteTrigger(ctx context.Context, c client.BaseClient, accountSID, sid string) error {
	err := twilioctx.Run(ctx, c, func(bc client.BaseClient) error {
		params := &api.DeleteUsageTriggerParams{}
		params.SetPathAccountSid(accountSID)
		return api.NewApiServiceWithClient(bc).DeleteUsageTrigger(sid, params)
	})
	if err != nil {
		return fmt.Errorf("twilioaccount: deleting trigger %s on %s: %w", sid, accountSID, err)
	}
	return nil
}
