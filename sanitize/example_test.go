package sanitize_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/sanitize"
)

func ExampleStrip() {
	text, removed := sanitize.Strip("Your parcel is held. Pay the fee at hxxps://parcel-fee[.]com or call +44 20 7946 0018.")
	fmt.Println(text)
	for _, f := range removed {
		fmt.Println(f.Kind, f.Normalized, f.Evasions)
	}
	// Output:
	// Your parcel is held. Pay the fee at [link removed] or call [number removed].
	// link https://parcel-fee.com defanged
	// phone +442079460018 none
}

func ExampleFind() {
	for _, f := range sanitize.Find("Log in at https://www.paypal.com@evil.example.com or ｅｖｉｌ．ｃｏｍ") {
		fmt.Printf("%d-%d %s %s\n", f.Start, f.End, f.Normalized, f.Evasions)
	}
	// Output:
	// 10-49 https://evil.example.com spoofed
	// 53-77 http://evil.com lookalike
}

// Numbers are found whatever country they are from; the region hint only
// decides which country a national number is read for.
func ExamplePolicy_ForRegion() {
	p, err := sanitize.NewPolicy()
	if err != nil {
		panic(err)
	}
	const msg = "URGENT! Call 09061701461 to claim"
	for _, region := range []string{"GB", "IN", ""} {
		f := p.ForRegion(region).Find(msg)[0] // FromCountry of an inbound SMS
		fmt.Printf("%q %s %s\n", region, f.Text, f.Number.Region)
	}
	// Output:
	// "GB" 09061701461 GB
	// "IN" 09061701461 IN
	// "" 09061701461 NL
}

func ExampleCheck() {
	err := sanitize.Check("Great to see you! Text me on 1-800-FLOWERS")
	var cta *sanitize.CallToActionError
	if errors.As(err, &cta) {
		fmt.Println(err)
		fmt.Println(cta.Findings[0].Normalized)
	}
	// Output:
	// sanitize: text carries a call to action (phone)
	// +18003569377
}

// An outbound check: the numbers in a user's message can be judged by a
// numbers.Policy.
func ExampleFinding_Number() {
	text := "Claim your prize: call 09061701461"
	for _, f := range sanitize.Find(text) {
		if f.Kind == sanitize.Phone && f.Number.E164 != "" {
			d := numbers.ModeratePolicy().Check(f.Number, numbers.Voice)
			fmt.Println(f.Number, f.Number.Type(), d.Allowed)
		}
	}
	// Output:
	// +31******1461 PREMIUM_RATE false
}

func ExampleNewPolicy() {
	p, err := sanitize.NewPolicy(
		sanitize.WithRegion("GB"),
		sanitize.WithKinds(sanitize.Link|sanitize.Phone),
		sanitize.WithReplacement(sanitize.Link|sanitize.Phone, "[removed]"),
	)
	if err != nil {
		panic(err)
	}
	text, _ := p.Strip("WINNER! Call09061701461.Claim at www.dbuk.net or txt WIN to 87121")
	fmt.Println(text)
	// Output:
	// WINNER! Call[removed].Claim at [removed] or txt WIN to 87121
}

func ExampleFinding_LogValue() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	for _, f := range sanitize.Find("call +44 20 7946 0018") {
		log.Info("removed", "finding", f)
	}
	// Output:
	// level=INFO msg=removed finding.kind=phone finding.start=5 finding.end=21 finding.number=+44******0018
}

// An inbound-SMS policy that keeps the app's own links and support number
// and strips everyone else's: a link to the app's site is not phishing.
func ExampleWithAllow() {
	p, err := sanitize.NewPolicy(sanitize.WithAllow("example.com", "+14155550100"))
	if err != nil {
		panic(err)
	}
	out, _ := p.Strip("Reset it at https://example.com/reset or call +1 415 555 0100, not bit.ly/x2 or +1 415 555 0199")
	fmt.Println(out)
	// Output:
	// Reset it at https://example.com/reset or call +1 415 555 0100, not [link removed] or [number removed]
}
