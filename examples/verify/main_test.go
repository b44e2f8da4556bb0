package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/antifraud-go/antifraud/verify/verifytest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func newTestApp(t *testing.T, getenv func(string) string, out io.Writer, hc *http.Client) (*app, *httptest.Server) {
	t.Helper()
	a, err := newApp(getenv, out, hc, "US", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return a, srv
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, m
}

func TestLocalFlow(t *testing.T) {
	out := &syncBuffer{}
	a, srv := newTestApp(t, env(nil), out, nil)
	if a.Mode != "local" {
		t.Fatalf("mode %q", a.Mode)
	}
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if code, body := post(t, srv.URL+"/verify/start", `{"phone":"(415) 555-0100"}`); code != http.StatusAccepted {
		t.Fatalf("start: %d %v", code, body)
	}
	m := regexp.MustCompile(`is (\d{6})`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no code printed: %q", out)
	}
	if code, body := post(t, srv.URL+"/verify/check", `{"phone":"415 555 0100","code":"`+m[1]+`"}`); code != http.StatusOK || body["status"] != "approved" {
		t.Fatalf("check: %d %v", code, body)
	}
	if code, _ := post(t, srv.URL+"/verify/start", `{"phone":"+371 2001 2345"}`); code != http.StatusForbidden {
		t.Fatalf("blocked number: %d", code)
	}
}

func TestTwilioFlow(t *testing.T) {
	fake := verifytest.NewServer()
	defer fake.Close()
	a, srv := newTestApp(t, env(map[string]string{
		"TWILIO_ACCOUNT_SID":        verifytest.AccountSID,
		"TWILIO_AUTH_TOKEN":         verifytest.AuthToken,
		"TWILIO_VERIFY_SERVICE_SID": verifytest.ServiceSID,
	}), io.Discard, fake.BaseClient().HTTPClient)
	if a.Mode != "twilio" {
		t.Fatalf("mode %q", a.Mode)
	}
	if code, body := post(t, srv.URL+"/verify/start", `{"phone":"+1 415 555 0100"}`); code != http.StatusAccepted {
		t.Fatalf("start: %d %v", code, body)
	}
	otp, ok := fake.Code("+14155550100")
	if !ok {
		t.Fatal("no verification at the fake")
	}
	if code, body := post(t, srv.URL+"/verify/check", `{"phone":"+1 415 555 0100","code":"`+otp+`"}`); code != http.StatusOK {
		t.Fatalf("check: %d %v", code, body)
	}
}

func TestPartialTwilioSettings(t *testing.T) {
	_, err := newApp(env(map[string]string{"TWILIO_ACCOUNT_SID": "AC123"}), io.Discard, nil, "US", slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("partial settings accepted")
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	_, srv := newTestApp(t, env(nil), io.Discard, nil)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/verify/start", strings.NewReader(`{"phone":"+14155550100"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", res.StatusCode)
	}
}
