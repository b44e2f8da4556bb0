package verify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"

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

// The start and check handlers, mounted as they are, in front of Twilio
// Verify, here the fake of package verifytest.
func ExampleService_StartHandler() {
	srv := verifytest.NewServer()
	defer srv.Close()
	sender, err := verify.NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		panic(err)
	}
	store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	defer store.Close(context.Background())
	limiter, _ := ratelimit.New(store)
	policy, err := numbers.SMSVerificationPolicy("US", "CA")
	if err != nil {
		panic(err)
	}
	svc, err := verify.New(sender, limiter, verify.Config{Policy: policy, DefaultRegion: "US"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /verify/start", svc.StartHandler())
	mux.Handle("POST /verify/check", svc.CheckHandler())
	app := httptest.NewServer(mux)
	defer app.Close()

	post := func(path, body string) {
		res, err := http.Post(app.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, res.Header.Get("Retry-After"), strings.TrimSpace(string(b)))
	}
	post("/verify/start", `{"phone": "(415) 555-0100"}`)
	post("/verify/start", `{"phone": "+44 7400 123456"}`)
	post("/verify/check", `{"phone": "4155550100", "code": "000000"}`)
	code, _ := srv.Code("+14155550100")
	post("/verify/check", `{"phone": "4155550100", "code": "`+code+`"}`)
	// Output:
	// 202  {"status":"pending","to":"+1******0100","channel":"sms","resend_after":30}
	// 403  {"type":"https://pkg.go.dev/github.com/antifraud-go/antifraud/verify#ErrBlocked","title":"Number not allowed","status":403,"detail":"Verification codes cannot be sent to this number."}
	// 422  {"type":"https://pkg.go.dev/github.com/antifraud-go/antifraud/verify#ErrInvalidCode","title":"Invalid code","status":422,"detail":"The code is incorrect or has expired."}
	// 200  {"status":"approved"}
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
