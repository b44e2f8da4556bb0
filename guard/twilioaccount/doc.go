// Package twilioaccount is the account side of the anti-fraud guide: it
// acts on Twilio's usage triggers and debugger alarms, suspends
// subaccounts, creates the recommended usage triggers, and audits an
// account's lock-down.
//
// It is a package of its own because it imports twilio-go's REST API for
// accounts (rest/api/v2010) and voice (rest/voice/v1), which add seconds
// to a cold build: package guard does not pay for them.
//
// # Alarms
//
// A [Monitor] serves two webhooks, both behind a guard.Webhook so that
// only requests signed by Twilio are acted on:
//
//   - [Monitor.UsageTriggerHandler], the callback of usage triggers: it
//     trips the kill switch (a guard.Budget), and can suspend the
//     subaccount whose trigger fired ("suspend a subaccount in response to
//     a usage trigger being fired for spending more than $30 per day");
//   - [Monitor.AlarmHandler], the account's debugger webhook: it counts
//     alarms by Twilio error code, calls a hook, and trips the switch on
//     bursts ([DefaultAlarmRules]: SIP 32201, 32202, 32203; Verify Fraud
//     Guard 60410).
//
// # Triggers and suspension
//
// [EnsureTriggers] creates the [RecommendedTriggers] (daily spend, SMS and
// call spend), idempotently, for a deploy pipeline. [Suspend] and
// [Reactivate] change a subaccount's status; a main account is suspended
// by Twilio support only.
//
// # Audit
//
// [Audit] reads an account and grades what the guide asks to lock down:
// voice dialing permissions per country against numbers' high-risk
// dataset, usage triggers, subaccounts. The command examples/twilio-audit
// prints it and exits non-zero on a failure.
//
// All requests go through twilio-go; a context bounds each of them.
package twilioaccount
