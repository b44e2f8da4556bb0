package guard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/sanitize"
)

type smsSeen struct {
	formValue, postForm, raw string
	removed                  []sanitize.Finding
	called                   bool
}

func smsHandler(seen *smsSeen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.called = true
		seen.formValue = r.FormValue("Body")
		seen.postForm = r.PostForm.Get("Body")
		raw, _ := io.ReadAll(r.Body)
		seen.raw = string(raw)
		seen.removed = SMSRemoved(r)
	})
}

func TestInboundSMSStripsBody(t *testing.T) {
	var seen smsSeen
	h := InboundSMS(nil)(smsHandler(&seen))
	form := url.Values{"From": {"+15005550006"}, "Body": {"Your parcel is held: pay at http://parcel-fee.example/x or call +44 906 170 1461"}, "FromCountry": {"GB"}}
	r := formRequest("https://example.com/sms", form.Encode(), "")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !seen.called {
		t.Fatal("handler not called")
	}
	if strings.Contains(seen.formValue, "parcel-fee") || strings.Contains(seen.formValue, "906 170") {
		t.Errorf("FormValue still has the call to action: %q", seen.formValue)
	}
	if seen.postForm != seen.formValue {
		t.Errorf("PostForm %q, FormValue %q", seen.postForm, seen.formValue)
	}
	reparsed, _ := url.ParseQuery(seen.raw)
	if reparsed.Get("Body") != seen.formValue || reparsed.Get("From") != "+15005550006" {
		t.Errorf("raw body %q", seen.raw)
	}
	if len(seen.removed) != 2 || seen.removed[0].Kind != sanitize.Link {
		t.Errorf("removed %v", seen.removed)
	}
}

// TestInboundSMSFromCountry: the sender's country decides which country a
// national number is read for, never whether it is removed.
func TestInboundSMSFromCountry(t *testing.T) {
	for _, tc := range []struct{ from, region string }{{"GB", "GB"}, {"IN", "IN"}, {"", "NL"}, {"XX", "NL"}} {
		var seen smsSeen
		h := InboundSMS(nil)(smsHandler(&seen))
		form := url.Values{"From": {"+15005550006"}, "Body": {"URGENT call 09061701461"}, "FromCountry": {tc.from}}
		h.ServeHTTP(httptest.NewRecorder(), formRequest("https://example.com/sms", form.Encode(), ""))
		if seen.formValue != "URGENT call [number removed]" || len(seen.removed) != 1 || seen.removed[0].Number.Region != tc.region {
			t.Errorf("FromCountry %q: Body %q, removed %v, want the number read for %s", tc.from, seen.formValue, seen.removed, tc.region)
		}
	}
}

func TestInboundSMSCleanMessageUntouched(t *testing.T) {
	var seen smsSeen
	h := InboundSMS(nil)(smsHandler(&seen))
	body := "To=%2B15005550001&Body=See+you+at+5%2C+bring+the+%2410&From=%2B15005550006"
	h.ServeHTTP(httptest.NewRecorder(), formRequest("https://example.com/sms", body, ""))
	if seen.raw != body || seen.formValue != "See you at 5, bring the $10" || seen.removed != nil {
		t.Errorf("raw %q, Body %q, removed %v", seen.raw, seen.formValue, seen.removed)
	}
}

func TestInboundSMSGET(t *testing.T) {
	var seen smsSeen
	h := InboundSMS(nil)(smsHandler(&seen))
	r := httptest.NewRequest(http.MethodGet, "/sms?From=%2B15005550006&Body=go+to+bit.ly%2Fabc123", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if strings.Contains(seen.formValue, "bit.ly") || len(seen.removed) != 1 {
		t.Errorf("Body %q, removed %v", seen.formValue, seen.removed)
	}
}

// Inside the signature check: the signature is over the message as Twilio
// sent it, the handler reads it cleaned.
func TestInboundSMSBehindWebhook(t *testing.T) {
	var seen smsSeen
	w := newTestWebhook(t, WebhookConfig{})
	links, err := sanitize.NewPolicy(sanitize.WithKinds(sanitize.Link))
	if err != nil {
		t.Fatal(err)
	}
	h := w.Handler(InboundSMS(links)(smsHandler(&seen)))
	form := url.Values{"From": {"+15005550006"}, "Body": {"Call +44 906 170 1461 or visit evil-login.com/x"}}
	target := "https://example.com/sms"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, formRequest(target, form.Encode(), TwilioSignature(vecToken, target, form)))
	if rec.Code != http.StatusOK || !seen.called {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(seen.formValue, "evil-login") || !strings.Contains(seen.formValue, "906 170 1461") {
		t.Errorf("policy of links only: Body %q", seen.formValue)
	}
}

func TestInboundSMSTooLarge(t *testing.T) {
	var seen smsSeen
	rec := httptest.NewRecorder()
	InboundSMS(nil)(smsHandler(&seen)).ServeHTTP(rec, formRequest("https://example.com/sms", "Body="+strings.Repeat("a", maxSMSForm), ""))
	if rec.Code != http.StatusRequestEntityTooLarge || seen.called {
		t.Errorf("status %d, called %v", rec.Code, seen.called)
	}
}

// FuzzInboundSMS: whatever the form, the handler's Body carries no call to
// action, and every other parameter is as net/http reads it.
func FuzzInboundSMS(f *testing.F) {
	f.Add("Body=visit+example.com&From=%2B1")
	f.Add("Body=call+%2B44+7911+123456&Body=x")
	f.Add("Body=a;b=c&x=%zz")
	f.Add("From=%2B15005550006&Body=See+you+at+5")
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 4096 {
			return
		}
		var seen smsSeen
		var others url.Values
		h := InboundSMS(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.called = true
			for _, b := range r.Form["Body"] {
				if fs := sanitize.Find(b); len(fs) > 0 {
					t.Fatalf("Body %q still carries %v", b, fs)
				}
			}
			others = r.PostForm
		}))
		h.ServeHTTP(httptest.NewRecorder(), formRequest("https://example.com/sms", body, ""))
		if !seen.called {
			t.Fatal("handler not called")
		}
		want, _ := url.ParseQuery(body)
		for k, vs := range want {
			if k != "Body" && !sameMultiset(url.Values{k: others[k]}, url.Values{k: vs}) {
				t.Fatalf("%s: %q, want %q", k, others[k], vs)
			}
		}
	})
}
