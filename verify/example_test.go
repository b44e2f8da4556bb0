package verify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// A Service with the development sender, which prints codes instead of
// sending them. Here they go to a buffer, where the example reads them back.
func Example() {
	ctx := context.Background()
	var out bytes.Buffer
	sender, err := verify.NewUnsafeLocalSender(verify.LocalConfig{Out: &out})
	if err != nil {
		panic(err)
	}
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	defer store.Close(ctx)
	limiter, err := ratelimit.New(store)
	if err != nil {
		panic(err)
	}
	svc, err := verify.New(sender, limiter, verify.Config{DefaultRegion: "GB"})
	if err != nil {
		panic(err)
	}
	client := netip.MustParseAddr("203.0.113.7")

	res, err := svc.Start(ctx, verify.StartRequest{Phone: "07400 123456", ClientIP: client})
	fmt.Println(res.Masked, res.Channel, res.ResendAfter, err)

	_, err = svc.Start(ctx, verify.StartRequest{Phone: "+44 7400 123456", ClientIP: client})
	fmt.Println(err)

	_, err = svc.Start(ctx, verify.StartRequest{Phone: "+371 2001 2345", ClientIP: client})
	var blocked *verify.BlockedError
	if errors.As(err, &blocked) {
		fmt.Println("blocked:", blocked.Reason)
	}

	code := regexp.MustCompile(`is (\d+)`).FindStringSubmatch(out.String())[1]
	ok, err := svc.Check(ctx, verify.CheckRequest{Phone: "+447400123456", Code: code, ClientIP: client})
	fmt.Println("verified:", ok.To, err)
	// Output:
	// +44******3456 sms 30s <nil>
	// verify: resend cooldown, retry after 30s
	// blocked: high_risk_destination
	// verified: +447400123456 <nil>
}

// A TwilioSender alone, over the fake Verify API of package verifytest.
func ExampleTwilioSender() {
	srv := verifytest.NewServer()
	defer srv.Close()
	sender, err := verify.NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := sender.SendCode(ctx, verify.SendRequest{To: "+15005550006", Channel: numbers.SMS}); err != nil {
		panic(err)
	}
	fmt.Println(errors.Is(sender.CheckCode(ctx, "+15005550006", "000000"), verify.ErrInvalidCode))
	code, _ := srv.Code("+15005550006")
	fmt.Println(sender.CheckCode(ctx, "+15005550006", code))
	// Output:
	// true
	// <nil>
}
