package verifytest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/verify/verifytest"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

const to = "+15005550006"

// Twilio Verify's rules, as the package documentation states them.
const (
	maxSends   = 5
	sendWindow = 10 * time.Minute
	maxChecks  = 5
	ttl        = 10 * time.Minute
)

// newServer is a Server on a fake clock, with its Verify v2 API service.
func newServer(t *testing.T) (*verifytest.Server, *testkit.Clock, *openapi.ApiService) {
	t.Helper()
	c := testkit.NewClock()
	srv := verifytest.NewServer(verifytest.WithNow(c.Now))
	t.Cleanup(srv.Close)
	return srv, c, srv.RestClient().VerifyV2
}

func send(api *openapi.ApiService, to, channel string) (*openapi.VerifyV2Verification, error) {
	p := &openapi.CreateVerificationParams{}
	p.SetTo(to)
	p.SetChannel(channel)
	return api.CreateVerification(verifytest.ServiceSID, p)
}

func check(api *openapi.ApiService, to, code string) (*openapi.VerifyV2VerificationCheck, error) {
	p := &openapi.CreateVerificationCheckParams{}
	p.SetTo(to)
	p.SetCode(code)
	return api.CreateVerificationCheck(verifytest.ServiceSID, p)
}

func twilioCode(err error) int {
	var e *client.TwilioRestError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestSendWindow(t *testing.T) {
	srv, c, api := newServer(t)

	var sid string
	for i := range maxSends {
		v, err := send(api, to, "sms")
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if *v.Status != "pending" || *v.To != to {
			t.Fatalf("send %d: %+v", i, v)
		}
		if i == 0 {
			sid = *v.Sid
		} else if *v.Sid != sid {
			t.Fatalf("resend made a new verification %s, want %s", *v.Sid, sid)
		}
		c.Advance(time.Minute)
	}
	if _, err := send(api, to, "sms"); twilioCode(err) != 60203 {
		t.Fatalf("6th send: %v, want 60203", err)
	}
	if n := srv.Sends(to); n != maxSends {
		t.Fatalf("Sends = %d", n)
	}
	// Another number is not affected.
	if _, err := send(api, "+15005550007", "call"); err != nil {
		t.Fatal(err)
	}
	// The window slides: 10 minutes after the first send, one more is allowed.
	c.Advance(sendWindow - 5*time.Minute)
	if _, err := send(api, to, "sms"); err != nil {
		t.Fatalf("after window: %v", err)
	}
	if _, err := send(api, to, "sms"); twilioCode(err) != 60203 {
		t.Fatalf("second after window: %v, want 60203", err)
	}
}

func TestCheckRules(t *testing.T) {
	srv, c, api := newServer(t)

	if _, err := check(api, to, "123456"); twilioCode(err) != 20404 {
		t.Fatalf("check without verification: %v", err)
	}
	if _, err := send(api, to, "sms"); err != nil {
		t.Fatal(err)
	}
	code, ok := srv.Code(to)
	if !ok || len(code) != 6 {
		t.Fatalf("Code = %q, %v", code, ok)
	}
	if _, err := check(api, to, "12"); twilioCode(err) != 60200 {
		t.Fatalf("short code: %v", err)
	}
	res, err := check(api, to, code)
	if err != nil || *res.Status != "approved" || !*res.Valid {
		t.Fatalf("right code: %+v, %v", res, err)
	}
	if _, ok := srv.Code(to); ok {
		t.Fatal("approved verification still pending")
	}

	// Expiry.
	if _, err := send(api, to, "sms"); err != nil {
		t.Fatal(err)
	}
	code, _ = srv.Code(to)
	c.Advance(ttl)
	if _, err := check(api, to, code); twilioCode(err) != 20404 {
		t.Fatalf("expired: %v", err)
	}

	// Max checks.
	if _, err := send(api, to, "sms"); err != nil {
		t.Fatal(err)
	}
	code, _ = srv.Code(to)
	wrong := "0000"
	if strings.HasPrefix(code, "0000") {
		wrong = "1111"
	}
	for i := range maxChecks {
		res, err := check(api, to, wrong)
		if err != nil || *res.Status != "pending" || *res.Valid {
			t.Fatalf("wrong code %d: %+v, %v", i, res, err)
		}
	}
	if _, err := check(api, to, code); twilioCode(err) != 60202 {
		t.Fatalf("after max checks: %v", err)
	}
}

func TestValidation(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	api := srv.RestClient().VerifyV2
	tests := []struct{ to, channel string }{
		{"447700900123", "sms"},
		{"+44 7700 900123", "sms"},
		{"+447700900123", "pigeon"},
		{"+447700900123", ""},
		{"+447700900123", "email"},
	}
	for _, tt := range tests {
		if _, err := send(api, tt.to, tt.channel); twilioCode(err) != 60200 {
			t.Errorf("%q %q: %v, want 60200", tt.to, tt.channel, err)
		}
	}
	if _, err := send(api, "someone@example.com", "email"); err != nil {
		t.Errorf("email: %v", err)
	}
	if _, err := openapi.NewApiServiceWithClient(srv.BaseClient()).CreateVerification("VA00000000000000000000000000000000", (&openapi.CreateVerificationParams{}).SetTo(to).SetChannel("sms")); twilioCode(err) != 20404 {
		t.Errorf("unknown service: %v", err)
	}
}

func TestAuthentication(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	c := srv.BaseClient()
	c.Credentials = client.NewCredentials(verifytest.AccountSID, "wrongtoken")
	if _, err := send(openapi.NewApiServiceWithClient(c), to, "sms"); twilioCode(err) != 20003 {
		t.Fatalf("wrong token: %v", err)
	}
}

func TestFailNextQueues(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	api := srv.RestClient().VerifyV2
	srv.FailNext(verifytest.CreateVerification, verifytest.Error{Code: 60410})
	srv.FailNext(verifytest.CreateVerification, verifytest.Error{Code: 60605, Message: "Geo permission"})
	srv.FailNext(verifytest.CheckVerification, verifytest.Error{Status: 503, Code: 20503})
	_, err1 := send(api, to, "sms")
	_, err2 := send(api, to, "sms")
	_, err3 := send(api, to, "sms")
	_, err4 := check(api, to, "123456")
	if twilioCode(err1) != 60410 || twilioCode(err2) != 60605 || err3 != nil || twilioCode(err4) != 20503 {
		t.Fatalf("got %v, %v, %v, %v", err1, err2, err3, err4)
	}
	reqs := srv.Requests()
	if len(reqs) != 4 || reqs[0].Status != 403 || reqs[0].ErrorCode != 60410 || reqs[2].Status != http.StatusCreated || reqs[3].Status != 503 {
		t.Fatalf("requests: %+v", reqs)
	}
	if srv.Sends(to) != 1 {
		t.Fatalf("failed sends counted: %d", srv.Sends(to))
	}
	if !strings.Contains(err2.Error(), "Geo permission") {
		t.Errorf("message not kept: %v", err2)
	}
	// Every known code gets Twilio's status and a message.
	for code, status := range map[int]int{20404: 404, 20429: 429, 60200: 400, 60202: 429, 60203: 429, 60212: 429, 60410: 403, 60605: 403, 12345: 400} {
		srv.FailNext(verifytest.CheckVerification, verifytest.Error{Code: code})
		_, err := check(api, to, "123456")
		var e *client.TwilioRestError
		if !errors.As(err, &e) || e.Code != code || e.Status != status || e.Message == "" {
			t.Errorf("code %d: %v, want status %d", code, err, status)
		}
	}
}

func TestTransportRefusesOtherHosts(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	for _, u := range []string{"https://example.com/", "https://twilio.com.evil.example/", "https://nottwilio.com/"} {
		res, err := srv.BaseClient().HTTPClient.Get(u)
		if err == nil {
			res.Body.Close()
			t.Errorf("%s: request sent", u)
		}
	}
	// Regional hosts are routed to the fake too.
	res, err := srv.BaseClient().HTTPClient.Get("https://verify.dublin.ie1.twilio.com/v2/nothing")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", res.StatusCode)
	}
}

func TestStallReleasedByClose(t *testing.T) {
	srv := verifytest.NewServer()
	arrived, _ := srv.Stall(verifytest.CreateVerification)
	done := make(chan error, 1)
	go func() {
		_, err := send(srv.RestClient().VerifyV2, to, "sms")
		done <- err
	}()
	<-arrived
	srv.Close() // must not hang on the stalled handler
	<-done
}
