package numbers_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

func ExampleParse() {
	n, err := numbers.Parse("(415) 555-2671 ext. 12", "US")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.E164, n.Region, n.Extension, n.Type())

	n, _ = numbers.Parse("+1 876 210 1234", "")
	fmt.Println(n.Region, n.NANPOutsideUSCA)

	_, err = numbers.Parse("call 0800 123 4567 now", "GB")
	var pe *numbers.ParseError
	fmt.Println(errors.As(err, &pe), pe.Reason, pe.Offset)
	// Output:
	// +14155552671 US 12 FIXED_LINE_OR_MOBILE
	// JM true
	// true invalid_character 0
}

func ExampleModeratePolicy() {
	p := numbers.ModeratePolicy()
	for _, s := range []string{"+14155552671", "+18762101234", "+37121234567", "+44 20 7946 0018", "+44 20 79"} {
		n, err := numbers.Parse(s, "GB")
		if err != nil {
			fmt.Println(err)
			continue
		}
		d := p.Check(n, numbers.SMS)
		fmt.Println(n, n.Region, d.Allowed, d.Reason)
	}
	// Output:
	// +1******2671 US true allowed
	// +1******1234 JM false high_risk_destination
	// +371****4567 LV false high_risk_destination
	// +44******0018 GB false type_denied
	// numbers: too short: local number without its area code
}

func ExampleSMSVerificationPolicy() {
	p, err := numbers.SMSVerificationPolicy("US", "CA")
	if err != nil {
		panic(err)
	}
	n, err := numbers.Parse("+44 7400 123456", "US")
	if err != nil {
		panic(err)
	}
	d := p.Check(n, numbers.SMS)
	fmt.Println(d)
	fmt.Println(errors.Is(d.Err(), numbers.ErrBlocked))
	// Output:
	// denied region_denied: region allow-list US CA [GB] (source: numbers.SMSVerificationPolicy)
	// true
}

func ExampleNewPolicy() {
	p, err := numbers.NewPolicy(
		numbers.WithName("signup"),
		numbers.DenyDataset(numbers.HighRisk(), numbers.CategoryTopTen),
		numbers.DenyPrefixes("+44 70"),                     // UK personal numbers
		numbers.SafeNumbers("+37121234567"),                // our tester in Riga
		numbers.DenyTypes(numbers.Voice, numbers.TollFree), // no calls to free-phone
	)
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"+447012345678", "+37121234567", "+18002345678"} {
		n, _ := numbers.Parse(s, "")
		fmt.Println(p.Check(n, numbers.Voice))
	}
	// Output:
	// denied prefix_denied: deny prefix [+4470] (source: signup)
	// allowed: safe number [+371****4567] (source: signup)
	// denied type_denied: voice allows FIXED_LINE, MOBILE, FIXED_LINE_OR_MOBILE, VOIP [TOLL_FREE] (source: signup)
}

func ExamplePrefixSet() {
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	blocked := &numbers.PrefixSet{Name: "conversion-monitor", Now: func() time.Time { return now }}
	p, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(blocked))
	if err != nil {
		panic(err)
	}
	n, _ := numbers.Parse("+44 7400 123456", "")

	// A monitor sees codes sent to +44 7400 but never confirmed.
	err = blocked.Add(numbers.Entry{Prefix: "+447400", Note: "2 of 500 codes confirmed", Expires: now.Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Check(n, numbers.SMS))

	now = now.Add(time.Hour)
	fmt.Println(p.Check(n, numbers.SMS), len(blocked.Entries()))
	// Output:
	// denied prefix_blocked: prefix set conversion-monitor [+447400: 2 of 500 codes confirmed] (source: conversion-monitor)
	// allowed 0
}

func ExampleDenyDataset() {
	// The whole embedded dataset, SMS blocklists included, for a signup form
	// that texts codes; numbers of new ranges are let through.
	p, err := numbers.NewPolicy(
		numbers.WithName("signup"),
		numbers.DenyDataset(numbers.HighRisk()),
		numbers.AllowTypes(numbers.SMS, numbers.UnknownType),
	)
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"+62 812 345 678", "+44 7700 900123"} {
		n, _ := numbers.Parse(s, "")
		d := p.Check(n, numbers.SMS)
		fmt.Println(n, d.Allowed, d.Reason, d.Rule)
	}
	// Output:
	// +62*****5678 false high_risk_destination high-risk dataset 2026.11.24 sms-blocklist
	// +44******0123 true unknown_range sms allows numbers outside known ranges
}

func ExampleMask() {
	fmt.Println(numbers.Mask("+447700900123"))
	// Output: +44******0123
}
