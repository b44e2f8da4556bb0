// Command twilio-audit reads a Twilio account and prints what the
// anti-fraud guide asks to lock down, one line per finding with a verdict
// (PASS, WARN, FAIL): voice dialing permissions per country against the
// high-risk dataset of package numbers, SIP domains without an IP access
// control list or without TLS, usage triggers present or missing,
// subaccounts and their status. It exits non-zero on a failure, so that a
// deploy pipeline can run it:
//
//	TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=... go run ./examples/twilio-audit -countries US,CA
//
// With -fix-triggers URL it also creates the recommended usage triggers
// (daily spend, SMS and call spend at -daily dollars), calling URL.
//
// Without credentials in the environment it audits a demonstration account
// that exists only in this process, and says so.
//
// Flags:
//
//	-countries L      ISO codes of the countries the app calls, such as US,CA;
//	                  a country open to calls and not listed fails
//	-strict           exit 1 on warnings too
//	-max-subaccounts  subaccounts whose triggers are read (default 100)
//	-fix-triggers URL create the recommended usage triggers, calling URL (https)
//	-daily N          the daily spend those triggers fire at (default 30)
//	-timeout D        bound on the whole audit (default 1m)
//
// Exit status: 0 when nothing failed, 1 on a failure (or a warning with
// -strict), 2 on usage errors and on requests Twilio could not answer.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/antifraud-go/antifraud/guard/twilioaccount"
	"github.com/antifraud-go/antifraud/internal/twiliofake"
	"github.com/twilio/twilio-go/client"
)

// Exit statuses.
const (
	exitClean    = 0
	exitFindings = 1
	exitError    = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

// run is the command. connect, when not nil, replaces the client built from
// the environment (tests pass one wired to a fake).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, connect client.BaseClient) int {
	fs := flag.NewFlagSet("twilio-audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	countries := fs.String("countries", "", "ISO codes of the countries the app calls, comma-separated (US,CA)")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	maxSubs := fs.Int("max-subaccounts", 100, "subaccounts whose usage triggers are read")
	fix := fs.String("fix-triggers", "", "create the recommended usage triggers, calling this https URL")
	daily := fs.Float64("daily", 30, "daily spend the recommended triggers fire at")
	timeout := fs.Duration("timeout", time.Minute, "bound on the whole audit")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() > 0 || *maxSubs < 1 || *daily <= 0 || *timeout <= 0 {
		fmt.Fprintln(stderr, "twilio-audit: unexpected arguments; see -h")
		return exitError
	}
	cfg := twilioaccount.AuditConfig{MaxSubaccounts: *maxSubs}
	if *countries != "" {
		cfg.VoiceCountries = []string{}
		for c := range strings.SplitSeq(*countries, ",") {
			c = strings.ToUpper(strings.TrimSpace(c))
			if len(c) != 2 {
				fmt.Fprintf(stderr, "twilio-audit: -countries: %q is not an ISO 3166 code\n", c)
				return exitError
			}
			cfg.VoiceCountries = append(cfg.VoiceCountries, c)
		}
	}

	c := connect
	if c == nil {
		var cleanup func()
		c, cleanup = fromEnv(getenv, stdout)
		defer cleanup()
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	if *fix != "" {
		n, err := twilioaccount.EnsureTriggers(ctx, c, c.AccountSid(), *fix, twilioaccount.RecommendedTriggers(*daily)...)
		if err != nil {
			fmt.Fprintln(stderr, "twilio-audit:", err)
			return exitError
		}
		fmt.Fprintf(stdout, "created %d usage triggers\n", n)
	}
	findings, err := twilioaccount.Audit(ctx, c, cfg)
	worst := twilioaccount.Pass
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
		worst = max(worst, f.Verdict)
	}
	if err != nil {
		fmt.Fprintln(stderr, "twilio-audit:", err)
		return exitError
	}
	if worst == twilioaccount.Fail || (*strict && worst == twilioaccount.Warn) {
		return exitFindings
	}
	return exitClean
}

// fromEnv returns a client for the account in TWILIO_ACCOUNT_SID and
// TWILIO_AUTH_TOKEN (or an API key in TWILIO_API_KEY and TWILIO_API_SECRET),
// or, without them, one for a demonstration account in this process.
func fromEnv(getenv func(string) string, stdout io.Writer) (client.BaseClient, func()) {
	sid, token := getenv("TWILIO_ACCOUNT_SID"), getenv("TWILIO_AUTH_TOKEN")
	key, secret := getenv("TWILIO_API_KEY"), getenv("TWILIO_API_SECRET")
	switch {
	case sid != "" && key != "" && secret != "":
		c := &client.Client{Credentials: client.NewCredentials(key, secret)}
		c.SetAccountSid(sid)
		return c, func() {}
	case sid != "" && token != "":
		c := &client.Client{Credentials: client.NewCredentials(sid, token)}
		c.SetAccountSid(sid)
		return c, func() {}
	}
	fmt.Fprintln(stdout, "# no TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: auditing a demonstration account")
	fake := demoAccount()
	return fake.Client(), fake.Close
}

// demoAccount is an account with the usual mistakes: calls open to a
// top-ten fraud destination and to premium numbers, a SIP domain that
// trusts credentials alone, no spend trigger, a subaccount left without
// one.
func demoAccount() *twiliofake.Server {
	fake := twiliofake.NewServer()
	fake.SetCountries(
		twiliofake.Country{ISO: "US", Name: "United States", Continent: "NORTH_AMERICA", CountryCodes: []string{"+1"}, LowRisk: true},
		twiliofake.Country{ISO: "CA", Name: "Canada", Continent: "NORTH_AMERICA", CountryCodes: []string{"+1"}, LowRisk: true},
		twiliofake.Country{ISO: "GB", Name: "United Kingdom", Continent: "EUROPE", CountryCodes: []string{"+44"}, LowRisk: true, HighRiskSpecial: true},
		twiliofake.Country{ISO: "LV", Name: "Latvia", Continent: "EUROPE", CountryCodes: []string{"+371"}, LowRisk: true},
		twiliofake.Country{ISO: "FR", Name: "France", Continent: "EUROPE", CountryCodes: []string{"+33"}},
	)
	fake.AddSIPDomain(twiliofake.SIPDomain{Name: "office-pbx", CredentialLists: 1})
	fake.AddSubaccount("tenant: acme", "active")
	fake.AddSubaccount("tenant: gone", "suspended")
	return fake
}
