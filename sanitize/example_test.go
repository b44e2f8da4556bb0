package sanitize_test

import (
	"errors"
	"fmt"

	"github.com/antifraud-go/antifraud/sanitize"
)

func ExampleStrip() {
	res := sanitize.Strip("Your parcel is held. Pay the fee at hxxps://parcel-fee[.]com or call +44 20 7946 0018.")
	fmt.Println(res.Text)
	for _, f := range res.Removed {
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
	// 10-49 https://evil.example.com userinfo
	// 53-77 http://evil.com fullwidth
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

func ExampleNewPolicy() {
	p, err := sanitize.NewPolicy(
		sanitize.WithRegion("GB"),
		sanitize.WithKinds(sanitize.Link|sanitize.Phone),
		sanitize.WithReplacement(sanitize.Link|sanitize.Phone, "[removed]"),
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Strip("WINNER! Call09061701461.Claim at www.dbuk.net or txt WIN to 87121").Text)
	// Output:
	// WINNER! Call[removed].Claim at [removed] or txt WIN to 87121
}
