package twilioaccount

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/internal/twiliofake"
	"github.com/antifraud-go/antifraud/ratelimit"
)

const publicURL = "https://example.com"

// signedPost is a POST of form to path, signed as Twilio signs it with the
// fake's auth token.
func signedPost(path string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://app"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", guard.TwilioSignature(twiliofake.AuthToken, publicURL+path, form))
	return r
}

func serve(h http.Handler, r *http.Request) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

type monitorEnv struct {
	fake    *twiliofake.Server
	budget  *guard.Budget
	monitor *Monitor
	mu      sync.Mutex
	trips   []string
	usage   []UsageTrigger
	alarms  []Alarm
}

func newMonitorEnv(t *testing.T, cfg Config) *monitorEnv {
	t.Helper()
	env := &monitorEnv{fake: twiliofake.NewServer()}
	t.Cleanup(env.fake.Close)
	var err error
	env.budget, err = guard.NewBudget(nil, guard.BudgetConfig{OnTrip: func(reason string) {
		env.mu.Lock()
		env.trips = append(env.trips, reason)
		env.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := guard.NewWebhook([]string{twiliofake.AuthToken}, guard.WebhookConfig{PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Budget = env.budget
	if cfg.Client == nil {
		cfg.Client = env.fake.Client()
	}
	cfg.OnUsageTrigger = func(_ context.Context, u UsageTrigger) {
		env.mu.Lock()
		env.usage = append(env.usage, u)
		env.mu.Unlock()
	}
	cfg.OnAlarm = func(_ context.Context, a Alarm) {
		env.mu.Lock()
		env.alarms = append(env.alarms, a)
		env.mu.Unlock()
	}
	if env.monitor, err = NewMonitor(wh, cfg); err != nil {
		t.Fatal(err)
	}
	return env
}

func usageForm(account string) url.Values {
	return url.Values{
		"AccountSid": {account}, "UsageTriggerSid": {"UT0123456789abcdef0123456789abcdef"},
		"DateFired": {"Sun, 04 Oct 2026 12:00:00 +0000"}, "Recurring": {"daily"}, "UsageCategory": {"totalprice"},
		"TriggerBy": {"price"}, "TriggerValue": {"30"}, "CurrentValue": {"30.52"},
		"UsageRecordUri":   {"/2010-04-01/Accounts/" + account + "/Usage/Records/Today.json?Category=totalprice"},
		"IdempotencyToken": {"idem-1"},
	}
}

func TestUsageTriggerTripsAndSuspends(t *testing.T) {
	env := newMonitorEnv(t, Config{SuspendSubaccounts: true})
	sub := env.fake.AddSubaccount("tenant", "active")
	h := env.monitor.UsageTriggerHandler()

	if code := serve(h, signedPost("/twilio/usage", usageForm(sub))); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if a, _ := env.fake.Account(sub); a.Status != "suspended" {
		t.Errorf("subaccount %s", a.Status)
	}
	err := env.budget.Check(context.Background())
	if !errors.Is(err, guard.ErrOverBudget) || !strings.Contains(err.Error(), "UT0123456789abcdef0123456789abcdef") {
		t.Errorf("budget: %v", err)
	}
	if len(env.usage) != 1 {
		t.Fatalf("OnUsageTrigger calls: %d", len(env.usage))
	}
	u := env.usage[0]
	if u.AccountSID != sub || u.CurrentValue != "30.52" || u.TriggerValue != "30" || u.UsageCategory != "totalprice" ||
		!u.DateFired.Equal(time.Date(2026, 10, 4, 12, 0, 0, 0, time.UTC)) || u.IdempotencyToken != "idem-1" {
		t.Errorf("parsed %+v", u)
	}
}

func TestUsageTriggerMainAccountNotSuspended(t *testing.T) {
	env := newMonitorEnv(t, Config{SuspendSubaccounts: true})
	if code := serve(env.monitor.UsageTriggerHandler(), signedPost("/twilio/usage", usageForm(twiliofake.AccountSID))); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if env.budget.Check(context.Background()) == nil {
		t.Error("switch not tripped")
	}
	if n := len(env.fake.Requests()); n != 0 {
		t.Errorf("%d requests to Twilio for a trigger on the main account", n)
	}
}

func TestUsageTriggerRefusals(t *testing.T) {
	env := newMonitorEnv(t, Config{SuspendSubaccounts: true})
	sub := env.fake.AddSubaccount("tenant", "active")
	h := env.monitor.UsageTriggerHandler()

	forged := signedPost("/twilio/usage", usageForm(sub))
	forged.Header.Set("X-Twilio-Signature", guard.TwilioSignature("not the token", publicURL+"/twilio/usage", usageForm(sub)))
	if code := serve(h, forged); code != http.StatusForbidden {
		t.Errorf("forged: %d", code)
	}
	bad := usageForm(sub)
	bad.Del("UsageTriggerSid")
	if code := serve(h, signedPost("/twilio/usage", bad)); code != http.StatusBadRequest {
		t.Errorf("no trigger SID: %d", code)
	}
	if env.budget.Check(context.Background()) != nil || len(env.fake.Requests()) != 0 || len(env.usage) != 0 {
		t.Fatal("a refused callback acted")
	}

	env.fake.FailNext("/Accounts/"+sub, 30000)
	if code := serve(h, signedPost("/twilio/usage", usageForm(sub))); code != http.StatusBadGateway {
		t.Errorf("suspension failed: %d", code)
	}
	if env.budget.Check(context.Background()) == nil {
		t.Error("the switch must trip even when the suspension fails")
	}
}

func alarmForm(account, parent string, code string) url.Values {
	f := url.Values{
		"Sid": {"NO0123456789abcdef0123456789abcdef"}, "AccountSid": {account}, "Level": {"Error"},
		"Timestamp": {"2026-10-04T12:00:00Z"}, "PayloadType": {"application/json"},
		"Payload": {`{"resource_sid":"CA0123456789abcdef0123456789abcdef","service_sid":null,"error_code":` + code +
			`,"more_info":{"msg":"Source IP address not in ACL"},"webhook":{"type":"application/json"}}`},
	}
	if parent != "" {
		f.Set("ParentAccountSid", parent)
	}
	return f
}

func TestAlarmBurstTrips(t *testing.T) {
	env := newMonitorEnv(t, Config{})
	h := env.monitor.AlarmHandler()
	for i := range 9 {
		if code := serve(h, signedPost("/twilio/debugger", alarmForm(twiliofake.AccountSID, "", `"32201"`))); code != http.StatusOK {
			t.Fatalf("alarm %d: %d", i, code)
		}
	}
	// Other codes count, but trip nothing.
	for range 30 {
		serve(h, signedPost("/twilio/debugger", alarmForm(twiliofake.AccountSID, "", `11200`)))
	}
	if env.budget.Check(context.Background()) != nil {
		t.Fatal("tripped before the burst")
	}
	serve(h, signedPost("/twilio/debugger", alarmForm(twiliofake.AccountSID, "", `32202`)))
	err := env.budget.Check(context.Background())
	if !errors.Is(err, guard.ErrOverBudget) || !strings.Contains(err.Error(), "SIP toll-fraud") {
		t.Fatalf("after 10 SIP alarms: %v", err)
	}
	counts := env.monitor.AlarmCounts()
	if counts[32201] != 9 || counts[32202] != 1 || counts[11200] != 30 {
		t.Errorf("counts %v", counts)
	}
	a := env.alarms[0]
	if a.ErrorCode != 32201 || a.ResourceSID != "CA0123456789abcdef0123456789abcdef" || a.Level != "Error" ||
		!a.Timestamp.Equal(time.Date(2026, 10, 4, 12, 0, 0, 0, time.UTC)) || !strings.Contains(string(a.Payload), "more_info") {
		t.Errorf("parsed %+v", a)
	}
	if len(env.trips) != 1 {
		t.Errorf("OnTrip calls: %q", env.trips)
	}
}

func TestAlarmRuleSuspends(t *testing.T) {
	env := newMonitorEnv(t, Config{AlarmRules: []AlarmRule{{Name: "fraud guard", Codes: []int{60410}, Count: 3, Within: time.Minute, Suspend: true}}})
	sub := env.fake.AddSubaccount("tenant", "active")
	h := env.monitor.AlarmHandler()
	for range 5 {
		serve(h, signedPost("/twilio/debugger", alarmForm(sub, twiliofake.AccountSID, `"60410"`)))
	}
	if a, _ := env.fake.Account(sub); a.Status != "suspended" {
		t.Errorf("subaccount %s", a.Status)
	}
	suspensions := 0
	for _, r := range env.fake.Requests() {
		if r.Method == "POST" {
			suspensions++
		}
	}
	if suspensions != 1 {
		t.Errorf("%d suspension requests for one burst", suspensions)
	}
	// A burst on the main account trips, and suspends nothing.
	env2 := newMonitorEnv(t, Config{AlarmRules: []AlarmRule{{Name: "any", Codes: []int{60410}, Count: 1, Suspend: true}}})
	serve(env2.monitor.AlarmHandler(), signedPost("/twilio/debugger", alarmForm(twiliofake.AccountSID, "", `60410`)))
	if env2.budget.Check(context.Background()) == nil || len(env2.fake.Requests()) != 0 {
		t.Error("main-account burst")
	}
}

// Instances that share a limiter count one burst together.
func TestAlarmBurstSharedLimiter(t *testing.T) {
	store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
	l, _ := ratelimit.New(store)
	defer l.Close(context.Background())
	rules := []AlarmRule{{Name: "sip", Codes: []int{32201}, Count: 4, Within: time.Hour}}
	a := newMonitorEnv(t, Config{Limiter: l, AlarmRules: rules})
	b := newMonitorEnv(t, Config{Limiter: l, AlarmRules: rules})
	for _, env := range []*monitorEnv{a, b, a, b} {
		serve(env.monitor.AlarmHandler(), signedPost("/twilio/debugger", alarmForm(twiliofake.AccountSID, "", `32201`)))
	}
	if b.budget.Check(context.Background()) == nil {
		t.Error("the fourth alarm, on the second instance, did not trip it")
	}
}

func TestAlarmRefusals(t *testing.T) {
	env := newMonitorEnv(t, Config{AlarmRules: []AlarmRule{{Name: "x", Codes: []int{32201}, Count: 1}}})
	h := env.monitor.AlarmHandler()
	for _, payload := range []string{"", "not json", `{"error_code":"abc"}`, `{"error_code":-1}`, `{"error_code":123456}`, `{}`} {
		f := alarmForm(twiliofake.AccountSID, "", "1")
		f.Set("Payload", payload)
		if code := serve(h, signedPost("/twilio/debugger", f)); code != http.StatusBadRequest {
			t.Errorf("payload %q: %d", payload, code)
		}
	}
	r := signedPost("/twilio/debugger", alarmForm(twiliofake.AccountSID, "", "32201"))
	r.Header.Set("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	if code := serve(h, r); code != http.StatusForbidden {
		t.Errorf("unsigned: %d", code)
	}
	if env.budget.Check(context.Background()) != nil || len(env.monitor.AlarmCounts()) != 0 {
		t.Error("a refused alarm acted")
	}
}

func TestNewMonitorConfigErrors(t *testing.T) {
	wh, _ := guard.NewWebhook([]string{"t"}, guard.WebhookConfig{})
	for _, tt := range []struct {
		name string
		wh   *guard.Webhook
		cfg  Config
	}{
		{"no webhook", nil, Config{}},
		{"suspend without client", wh, Config{SuspendSubaccounts: true}},
		{"rule suspends without client", wh, Config{AlarmRules: []AlarmRule{{Codes: []int{1}, Count: 1, Suspend: true}}}},
		{"rule without codes", wh, Config{AlarmRules: []AlarmRule{{Count: 2, Within: time.Minute}}}},
		{"rule without window", wh, Config{AlarmRules: []AlarmRule{{Codes: []int{1}, Count: 2}}}},
	} {
		if _, err := NewMonitor(tt.wh, tt.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for in, want := range map[string]int{`"32201"`: 32201, `32201`: 32201, ` 60410 `: 60410} {
		if got, err := errorCode([]byte(in)); err != nil || got != want {
			t.Errorf("errorCode(%s) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{``, `null`, `"x"`, `0`, `100000`, `1.5`, `"32201`} {
		if _, err := errorCode([]byte(in)); err == nil {
			t.Errorf("errorCode(%s) accepted", in)
		}
	}
}
