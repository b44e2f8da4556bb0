package twilioaccount

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Alarm is an error or warning that Twilio's debugger reports to the
// account's debugger webhook.
type Alarm struct {
	// SID identifies the alarm ("NO...").
	SID string
	// AccountSID is the account it happened on; ParentAccountSID its
	// parent, for a subaccount ("" otherwise).
	AccountSID, ParentAccountSID string
	// Level is "Error" or "Warning".
	Level string
	// Timestamp is when it happened; zero when Twilio did not say.
	Timestamp time.Time
	// ErrorCode is the Twilio error code, such as 32201.
	ErrorCode int
	// ResourceSID and ServiceSID name what it happened to (a call, a
	// message, a Verify service), when Twilio says.
	ResourceSID, ServiceSID string
	// Payload is the JSON document Twilio sent, for the details this type
	// does not carry (more_info, webhook).
	Payload json.RawMessage
}

// alarmPayload is the part of a debugger Payload this package reads.
// Twilio writes error_code as a string; a number is accepted too.
type alarmPayload struct {
	ErrorCode   json.RawMessage `json:"error_code"`
	ResourceSID *string         `json:"resource_sid"`
	ServiceSID  *string         `json:"service_sid"`
}

// parseAlarm reads a debugger webhook's parameters.
func parseAlarm(form url.Values) (Alarm, error) {
	a := Alarm{
		SID: form.Get("Sid"), AccountSID: form.Get("AccountSid"), ParentAccountSID: form.Get("ParentAccountSid"),
		Level: form.Get("Level"),
	}
	if !isSID(a.AccountSID, "AC") {
		return Alarm{}, fmt.Errorf("twilioaccount: debugger event without an AccountSid")
	}
	if ts := form.Get("Timestamp"); ts != "" {
		if t, err := time.Parse(time.RFC3339, ts); err == nil {
			a.Timestamp = t
		}
	}
	raw := []byte(form.Get("Payload"))
	var p alarmPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Alarm{}, fmt.Errorf("twilioaccount: debugger event Payload is not JSON: %w", err)
	}
	code, err := errorCode(p.ErrorCode)
	if err != nil {
		return Alarm{}, err
	}
	a.ErrorCode, a.Payload = code, raw
	if p.ResourceSID != nil {
		a.ResourceSID = *p.ResourceSID
	}
	if p.ServiceSID != nil {
		a.ServiceSID = *p.ServiceSID
	}
	return a, nil
}

// errorCode reads error_code, "32201" or 32201.
func errorCode(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("twilioaccount: debugger event error_code: %w", err)
		}
		raw = []byte(s)
	}
	code, err := strconv.Atoi(string(raw))
	if err != nil || code <= 0 || code > 99999 {
		return 0, fmt.Errorf("twilioaccount: debugger event error_code %q is not a Twilio error code", raw)
	}
	return code, nil
}

// AlarmRule trips the kill switch on a burst of alarms: Count alarms with
// one of Codes on one account in quick succession, or coming faster than
// Count per Within for longer (a token bucket of Count-1 that refills at
// Count per Within). Alarms spread out more thinly never trip it.
type AlarmRule struct {
	// Name says what the burst means, in the trip's reason.
	Name string
	// Codes are the Twilio error codes counted together.
	Codes []int
	// Count is the size of a burst; 1 trips at the first alarm.
	Count int
	// Within is the span Count alarms must come within.
	Within time.Duration
	// Suspend also suspends the subaccount the burst comes from (with
	// Config.Client). A burst on the main account only trips the switch.
	Suspend bool
}

// DefaultAlarmRules are the bursts the anti-fraud guide asks to watch:
// SIP toll fraud (32201 source IP not in the ACL, 32202 bad credentials,
// 32203 number blocked: 10 within 5 minutes means someone is trying the
// SIP domain) and SMS pumping that Verify's Fraud Guard is already
// blocking (60410: 20 blocked prefixes within 10 minutes mean an attack on
// the app's verification endpoint, which the app's own limits should stop
// before Twilio has to).
func DefaultAlarmRules() []AlarmRule {
	return []AlarmRule{
		{Name: "SIP toll-fraud attempts", Codes: []int{32201, 32202, 32203}, Count: 10, Within: 5 * time.Minute},
		{Name: "Verify Fraud Guard blocks", Codes: []int{60410}, Count: 20, Within: 10 * time.Minute},
	}
}
