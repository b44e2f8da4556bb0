package guard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/antifraud-go/antifraud/guard"
)

// A webhook for inbound SMS behind a proxy that terminates TLS: Twilio
// calls https://example.com/sms, the app sees http://10.0.0.7:8080/sms.
func ExampleWebhook() {
	const authToken = "0123456789abcdef0123456789abcdef" // from the environment in a real app
	wh, err := guard.NewWebhook([]string{authToken}, guard.WebhookConfig{
		PublicURL: "https://example.com",
	})
	if err != nil {
		panic(err)
	}
	sms := wh.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("message from", r.PostFormValue("From"))
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, "<Response/>")
	}))

	// What Twilio sends.
	form := url.Values{"From": {"+15005550006"}, "To": {"+15005550001"}, "Body": {"Hi"}}
	send := func(form url.Values, signature string) int {
		r := httptest.NewRequest(http.MethodPost, "http://10.0.0.7:8080/sms", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Twilio-Signature", signature)
		rec := httptest.NewRecorder()
		sms.ServeHTTP(rec, r)
		return rec.Code
	}
	signature := guard.TwilioSignature(authToken, "https://example.com/sms", form)
	fmt.Println(send(form, signature))

	// The same signature on another message is refused.
	form.Set("Body", "Click http://phish.example")
	fmt.Println(send(form, signature))
	// Output:
	// message from +15005550006
	// 200
	// 403
}

// Rotating the auth token without refusing a webhook: accept both tokens,
// promote the new one at Twilio, then drop the old one.
func ExampleWebhook_SetAuthTokens() {
	oldToken, newToken := "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	wh, _ := guard.NewWebhook([]string{oldToken}, guard.WebhookConfig{})

	check := func(token string) error {
		r := httptest.NewRequest(http.MethodPost, "https://example.com/voice", nil)
		r.Header.Set("X-Twilio-Signature", guard.TwilioSignature(token, "https://example.com/voice", nil))
		return wh.Check(r)
	}
	_ = wh.SetAuthTokens(oldToken, newToken) // during the rotation
	fmt.Println(check(oldToken) == nil, check(newToken) == nil)
	_ = wh.SetAuthTokens(newToken) // once Twilio signs with the new token
	fmt.Println(check(oldToken) == nil, check(newToken) == nil)
	// Output:
	// true true
	// false true
}
