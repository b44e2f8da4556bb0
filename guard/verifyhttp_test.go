package guard_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

type verifyEnv struct {
	*env
	srv *verifytest.Server
	svc *verify.Service
}

func newVerifyEnv(t *testing.T, limits *verify.Limits, opts ...guard.Option) *verifyEnv {
	t.Helper()
	e := &verifyEnv{env: newEnv(t, opts...)}
	e.srv = verifytest.NewServer(verifytest.WithNow(e.clock.Now))
	t.Cleanup(e.srv.Close)
	sender, err := verify.NewTwilioSender(e.srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = verify.New(sender, e.lim, verify.Config{Now: e.clock.Now, Limits: limits,
		Channels: []numbers.Channel{numbers.SMS, numbers.Email}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func post(h http.Handler, ctype, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/verify", strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	return do(h, r)
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return m
}

func TestVerifyStart(t *testing.T) {
	e := newVerifyEnv(t, nil)
	h := e.g.VerifyStart(e.svc)
	rec := post(h, "application/json", `{"phone":"+44 7400 123456","channel":"sms"}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := decode(t, rec)
	if body["status"] != "pending" || body["channel"] != "sms" || body["resend_after"] != float64(30) ||
		strings.Contains(rec.Body.String(), "123456") {
		t.Fatalf("body %v", body)
	}
	// Again at once: the cooldown, 429 with Retry-After, as a problem
	// that does not say it is a cooldown.
	rec = post(h, "application/x-www-form-urlencoded", "phone=%2B447400123456")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "30" {
		t.Fatalf("cooldown: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	problemOf(t, rec)
	if strings.Contains(rec.Body.String(), "cooldown") {
		t.Fatalf("problem names the limit: %s", rec.Body)
	}
}

func TestVerifyStartErrors(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		status            int
	}{
		{"blocked", "application/json", `{"phone":"+37190012345"}`, http.StatusForbidden},
		{"unusable", "application/json", `{"phone":"not a number"}`, http.StatusUnprocessableEntity},
		{"bad channel", "application/json", `{"phone":"+447400123456","channel":"fax"}`, http.StatusUnprocessableEntity},
		{"channel not enabled", "application/json", `{"phone":"+447400123456","channel":"call"}`, http.StatusUnprocessableEntity},
		{"malformed", "application/json", `{"phone":`, http.StatusBadRequest},
		{"repeated", "application/x-www-form-urlencoded", `phone=1&phone=2`, http.StatusBadRequest},
		{"media type", "text/plain", `phone=1`, http.StatusUnsupportedMediaType},
		{"too large", "application/json", `{"phone":"` + strings.Repeat("1", 70<<10) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newVerifyEnv(t, nil)
			rec := post(e.g.VerifyStart(e.svc), tt.ctype, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			problemOf(t, rec)
		})
	}
	e := newVerifyEnv(t, nil)
	rec := do(e.g.VerifyStart(e.svc), httptest.NewRequest(http.MethodGet, "/verify", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Fatalf("GET: %d %v", rec.Code, rec.Header())
	}
}

// The handlers find the client's address as the guard does: behind a
// trusted proxy, the verify limits key on the client.
func TestVerifyStartClientAddr(t *testing.T) {
	var reason error
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reason = guard.FailureReason(r)
		guard.ProblemFor(reason).ServeHTTP(w, r)
	})
	e := newVerifyEnv(t, &verify.Limits{IP: ratelimit.PerHour(1)},
		guard.WithTrustedProxies("10.0.0.0/8"), guard.WithDenyHandler(deny))
	h := e.g.VerifyStart(e.svc)
	send := func(client, body string) int {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = "10.0.0.1:1234"
		r.Header.Set("X-Forwarded-For", client)
		return do(h, r).Code
	}
	if c := send("192.0.2.10", `{"phone":"+447400123456"}`); c != http.StatusAccepted {
		t.Fatalf("first: %d", c)
	}
	if c := send("192.0.2.10", `{"phone":"+14155550100"}`); c != http.StatusTooManyRequests {
		t.Fatalf("same client: %d", c)
	}
	var rl *verify.LimitError
	if !errors.As(reason, &rl) || rl.Scope != "ip" {
		t.Fatalf("deny handler got %v", reason)
	}
	if c := send("192.0.2.11", `{"phone":"+14155550100"}`); c != http.StatusAccepted {
		t.Fatalf("other client: %d", c)
	}
}

func TestVerifyCheck(t *testing.T) {
	e := newVerifyEnv(t, nil)
	const uk = "+447400123456"
	if rec := post(e.g.VerifyStart(e.svc), "application/json", `{"phone":"+447400123456"}`); rec.Code != http.StatusAccepted {
		t.Fatal(rec.Body)
	}
	code, _ := e.srv.Code(uk)

	rec := post(e.g.VerifyCheck(e.svc, nil), "application/json", `{"phone":"+447400123456","code":"0000"}`)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d %s", rec.Code, rec.Body)
	}
	wrong := rec.Body.String()
	var approved verify.CheckResult
	h := e.g.VerifyCheck(e.svc, func(w http.ResponseWriter, r *http.Request, res verify.CheckResult) {
		approved = res
		w.WriteHeader(http.StatusNoContent)
	})
	rec = post(h, "application/x-www-form-urlencoded", "phone=%2B447400123456&code="+code)
	if rec.Code != http.StatusNoContent || approved.To != uk {
		t.Fatalf("approve: %d %s %+v", rec.Code, rec.Body, approved)
	}
	// The code is spent: the same answer as a wrong code.
	rec = post(e.g.VerifyCheck(e.svc, nil), "application/json", `{"phone":"+447400123456","code":"`+code+`"}`)
	if rec.Code != http.StatusUnprocessableEntity || rec.Body.String() != wrong {
		t.Fatalf("spent code: %d %s", rec.Code, rec.Body)
	}
}

func TestVerifyCheckDefaultApproved(t *testing.T) {
	e := newVerifyEnv(t, nil)
	post(e.g.VerifyStart(e.svc), "application/json", `{"phone":"+447400123456"}`)
	code, _ := e.srv.Code("+447400123456")
	rec := post(e.g.VerifyCheck(e.svc, nil), "application/json", `{"phone":"+447400123456","code":"`+code+`"}`)
	if rec.Code != http.StatusOK || decode(t, rec)["status"] != "approved" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
