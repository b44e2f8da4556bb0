package guard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/antifraud-go/antifraud/guard"
)

// An inbound SMS webhook that forwards messages to staff: the phishing
// link never reaches them, and what was removed is kept for audit.
func ExampleInboundSMS() {
	sms := guard.InboundSMS(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("forwarded:", r.FormValue("Body"))
		for _, f := range guard.SMSRemoved(r) {
			fmt.Println("removed:", f.Kind, f.Text)
		}
	}))
	// In the app: mux.Handle("POST /twilio/sms", webhook.Handler(sms))

	form := url.Values{"From": {"+15005550006"}, "Body": {"Your account is locked, sign in at https://secure-bank-login.com/verify"}}
	r := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sms.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// forwarded: Your account is locked, sign in at [link removed]
	// removed: link https://secure-bank-login.com/verify
}
