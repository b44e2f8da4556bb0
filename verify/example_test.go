package verify_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// A TwilioSender over the fake Verify API of package verifytest, as a test
// of a sign-up flow would use it.
func ExampleTwilioSender() {
	srv := verifytest.NewServer()
	defer srv.Close()
	sender, err := verify.NewTwilioSender(srv.VerifyV2(), verifytest.ServiceSID)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := sender.SendCode(ctx, verify.SendRequest{To: "+15005550006", Channel: verify.SMS}); err != nil {
		panic(err)
	}
	fmt.Println(errors.Is(sender.CheckCode(ctx, "+15005550006", "000"), verify.ErrInvalidCode))
	code, _ := srv.Code("+15005550006")
	fmt.Println(sender.CheckCode(ctx, "+15005550006", code))
	// Output:
	// true
	// <nil>
}
