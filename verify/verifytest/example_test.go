package verifytest_test

import (
	"fmt"

	"github.com/antifraud-go/antifraud/verify/verifytest"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// A test drives its own code, which uses twilio-go, against the fake.
func Example() {
	srv := verifytest.NewServer()
	defer srv.Close()
	api := srv.RestClient().VerifyV2 // hand this to the code under test

	params := &openapi.CreateVerificationParams{}
	params.SetTo("+15005550006")
	params.SetChannel("sms")
	v, err := api.CreateVerification(verifytest.ServiceSID, params)
	if err != nil {
		panic(err)
	}
	fmt.Println("sent:", *v.Status)

	code, _ := srv.Code("+15005550006") // what the user would have received
	check := &openapi.CreateVerificationCheckParams{}
	check.SetTo("+15005550006")
	check.SetCode(code)
	res, err := api.CreateVerificationCheck(verifytest.ServiceSID, check)
	if err != nil {
		panic(err)
	}
	fmt.Println("checked:", *res.Status)
	fmt.Println("requests:", len(srv.Requests()))
	// Output:
	// sent: pending
	// checked: approved
	// requests: 2
}

// FailNext makes the fake answer with a Twilio error, here Fraud Guard's.
func ExampleServer_FailNext() {
	srv := verifytest.NewServer()
	defer srv.Close()
	srv.FailNext(verifytest.CreateVerification, verifytest.Error{Code: 60410})

	params := &openapi.CreateVerificationParams{}
	params.SetTo("+15005550006")
	params.SetChannel("sms")
	_, err := srv.RestClient().VerifyV2.CreateVerification(verifytest.ServiceSID, params)
	fmt.Println(err)
	// Output:
	// Status: 403 - ApiError 60410: Verification delivery attempt blocked (null) More info: https://www.twilio.com/docs/errors/60410
}
