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
	fmt.Println(errors.As(err, &pe), pe.Reason)
	// Output:
	// +14155552671 US 12 FIXED_LINE_OR_MOBILE
	// JM true
	// true letters
}

func ExampleModeratePolicy() {
	p := numbers.ModeratePolicy()
	for _, s := range []string{"+14155552671", "+18762101234", "+37121234567"} {
		n, d, err := p.CheckString(s, "", numbers.SMS)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(n.Masked(), d.Allowed, d.Reason, n.Region)
	}
	// Output:
	// +1******2671 true allowed US
	// +1******1234 false high_risk_destination JM
	// +371****4567 false high_risk_destination LV
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
	// denied region_not_allowed: region allow-list US CA [GB] (source: numbers.SMSVerificationPolicy)
	// true
}

func ExampleNewPolicy() {
	p, err := numbers.NewPolicy(
		numbers.WithName("signup"),
		numbers.DenyDataset(numbers.HighRisk().Filter(numbers.CategoryTopTen)),
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
	// allowed safe_listed: safe number [+371****4567] (source: signup)
	// denied type_denied: voice allows FIXED_LINE, MOBILE, FIXED_LINE_OR_MOBILE, VOIP [TOLL_FREE] (source: signup)
}

func ExamplePrefixSet() {
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	blocked := numbers.NewPrefixSet("conversion-monitor", numbers.WithClock(func() time.Time { return now }))
	p, _ := numbers.ModeratePolicy().With(numbers.WithPrefixSet(blocked))
	n, _ := numbers.Parse("+44 7400 123456", "")

	// A monitor sees codes sent to +44 7400 but never confirmed.
	_ = blocked.Add("+447400", time.Hour, "2 of 500 codes confirmed")
	fmt.Println(p.Check(n, numbers.SMS))

	now = now.Add(time.Hour)
	fmt.Println(p.Check(n, numbers.SMS))
	// Output:
	// denied prefix_blocked: prefix set conversion-monitor [+447400 2 of 500 codes confirmed] (source: conversion-monitor)
	// allowed
}

func ExampleMask() {
	fmt.Println(numbers.Mask("+447700900123"))
	// Output: +44******0123
}
