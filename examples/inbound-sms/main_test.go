package main

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/internal/testkit"
)

const phishing = "URGENT: your parcel is held. Pay the fee at hxxps://parcel-fee[.]com or call +44 20 7946 0018"

func newServer(t *testing.T) (*inbox, *httptest.Server) {
	t.Helper()
	in, err := newInbox(devToken, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	return in, srv
}

func getInbox(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return html.UnescapeString(string(b))
}

func TestSignedMessageStoredClean(t *testing.T) {
	in, srv := newServer(t)
	status, err := post(context.Background(), srv.Client(), devToken, srv.URL+webhookPath, url.Values{
		"MessageSid": {"SM1"}, "From": {"+14155550100"}, "To": {"+15005550006"}, "Body": {phishing},
	})
	if err != nil || status != http.StatusOK {
		t.Fatalf("post: %d %v", status, err)
	}
	if len(in.messages) != 1 {
		t.Fatalf("%d messages stored", len(in.messages))
	}
	m := in.messages[0]
	if m.Body != "URGENT: your parcel is held. Pay the fee at [link removed] or call [number removed]" {
		t.Errorf("stored %q", m.Body)
	}
	if strings.Join(m.Removed, ",") != "link,phone" || m.From != "+1******0100" {
		t.Errorf("removed %v, from %q", m.Removed, m.From)
	}
	page := getInbox(t, srv)
	for _, bad := range []string{"parcel-fee", "7946", "+14155550100"} {
		if strings.Contains(page, bad) {
			t.Errorf("the inbox shows %q", bad)
		}
	}
	if !strings.Contains(page, "[link removed]") || !strings.Contains(page, "Removed: link, phone") {
		t.Errorf("inbox:\n%s", page)
	}
}

func TestForgedMessagesRefused(t *testing.T) {
	in, srv := newServer(t)
	params := url.Values{"From": {"+14155550100"}, "Body": {"hello"}}
	for name, sign := range map[string]func(*http.Request){
		"unsigned": func(*http.Request) {},
		"other token": func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", guard.TwilioSignature("another-token", srv.URL+webhookPath, params))
		},
		"tampered": func(r *http.Request) {
			r.Header.Set("X-Twilio-Signature", guard.TwilioSignature(devToken, srv.URL+webhookPath, url.Values{"From": {"+14155550100"}, "Body": {"hi"}}))
		},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+webhookPath, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sign(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	if len(in.messages) != 0 {
		t.Errorf("stored %d forged messages", len(in.messages))
	}
}

// -send plays Twilio against a running server.
func TestSendFlag(t *testing.T) {
	in, srv := newServer(t)
	out := &testkit.Buffer{}
	addr := strings.TrimPrefix(srv.URL, "http://")
	if status := run(context.Background(), []string{"-addr", addr, "-send", "Call me on +44 20 7946 0018"}, func(string) string { return "" }, out, io.Discard); status != 0 {
		t.Fatalf("exit %d: %s", status, out)
	}
	if len(in.messages) != 1 || in.messages[0].Body != "Call me on [number removed]" {
		t.Fatalf("messages %+v", in.messages)
	}
}
