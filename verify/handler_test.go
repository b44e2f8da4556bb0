package verify_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

func post(h http.Handler, ctype, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/verify", strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return m
}

func TestStartHandler(t *testing.T) {
	e := newEnv(t, nil)
	h := e.svc.StartHandler()
	rec := post(h, "application/json", `{"phone":"+44 7400 123456","channel":"sms"}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := decode(t, rec)
	if body["status"] != "pending" || body["channel"] != "sms" || body["resend_after"] != float64(30) ||
		strings.Contains(rec.Body.String(), "123456") {
		t.Fatalf("body %v", body)
	}
	// Again at once: cooldown, 429 with Retry-After, as a problem.
	rec = post(h, "application/x-www-form-urlencoded", "phone=%2B447400123456")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "30" ||
		rec.Header().Get("Content-Type") != verify.ProblemContentType {
		t.Fatalf("cooldown: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if strings.Contains(rec.Body.String(), "cooldown") {
		t.Fatalf("problem names the limit: %s", rec.Body)
	}
}

func TestStartHandlerErrors(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		status            int
	}{
		{"blocked", "application/json", `{"phone":"+37120012345"}`, http.StatusForbidden},
		{"unusable", "application/json", `{"phone":"not a number"}`, http.StatusUnprocessableEntity},
		{"bad channel", "application/json", `{"phone":"+447400123456","channel":"fax"}`, http.StatusUnprocessableEntity},
		{"malformed", "application/json", `{"phone":`, http.StatusBadRequest},
		{"media type", "text/plain", `phone=1`, http.StatusUnsupportedMediaType},
		{"too large", "application/json", `{"phone":"` + strings.Repeat("1", 5000) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := post(e.svc.StartHandler(), tt.ctype, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if p := decode(t, rec); p["status"] != float64(tt.status) {
				t.Fatalf("problem %v", p)
			}
		})
	}
	e := newEnv(t, nil)
	rec := httptest.NewRecorder()
	e.svc.StartHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/verify", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Fatalf("GET: %d %v", rec.Code, rec.Header())
	}
}

func TestHandlerOptions(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) { c.Limits = &verify.Limits{IP: ratelimit.PerHour(1)} })
	clientIP := func(r *http.Request) netip.Addr { return netip.MustParseAddr(r.Header.Get("X-Test-IP")) }
	var gotErr error
	h := e.svc.StartHandler(verify.WithClientIP(clientIP), verify.WithMaxBodyBytes(64),
		verify.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr = err
			verify.ProblemFor(err).Write(w)
		}))
	send := func(ip, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-IP", ip)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if c := send("192.0.2.10", `{"phone":"+447400123456"}`); c != http.StatusAccepted {
		t.Fatalf("first: %d", c)
	}
	if c := send("192.0.2.10", `{"phone":"+14155550100"}`); c != http.StatusTooManyRequests {
		t.Fatalf("same IP: %d", c)
	}
	var rl *verify.LimitError
	if !errors.As(gotErr, &rl) || rl.Scope != "ip" {
		t.Fatalf("error handler got %v", gotErr)
	}
	if c := send("192.0.2.11", `{"phone":"+14155550100"}`); c != http.StatusAccepted {
		t.Fatalf("other IP: %d", c)
	}
	if c := send("192.0.2.12", `{"phone":"+14155550100", "padding":"`+strings.Repeat("x", 64)+`"}`); c != http.StatusRequestEntityTooLarge {
		t.Fatalf("over WithMaxBodyBytes: %d", c)
	}
}

func TestCheckHandler(t *testing.T) {
	e := newEnv(t, nil)
	if rec := post(e.svc.StartHandler(), "application/json", `{"phone":"+447400123456"}`); rec.Code != http.StatusAccepted {
		t.Fatal(rec.Body)
	}
	code, _ := e.srv.Code(ukPhone)

	rec := post(e.svc.CheckHandler(), "application/json", `{"phone":"+447400123456","code":"0000"}`)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: %d %s", rec.Code, rec.Body)
	}
	var approved verify.CheckResult
	h := e.svc.CheckHandler(verify.WithApproved(func(w http.ResponseWriter, r *http.Request, res verify.CheckResult) {
		approved = res
		w.WriteHeader(http.StatusNoContent)
	}))
	rec = post(h, "application/x-www-form-urlencoded", "phone=%2B447400123456&code="+code)
	if rec.Code != http.StatusNoContent || approved.To != ukPhone {
		t.Fatalf("approve: %d %s %+v", rec.Code, rec.Body, approved)
	}
	// The code is spent: the same answer as a wrong code.
	rec = post(e.svc.CheckHandler(), "application/json", `{"phone":"+447400123456","code":"`+code+`"}`)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("spent code: %d %s", rec.Code, rec.Body)
	}
}

func TestCheckHandlerDefaultApproved(t *testing.T) {
	e := newEnv(t, nil)
	post(e.svc.StartHandler(), "application/json", `{"phone":"+447400123456"}`)
	code, _ := e.srv.Code(ukPhone)
	rec := post(e.svc.CheckHandler(), "application/json", `{"phone":"+447400123456","code":"`+code+`"}`)
	if rec.Code != http.StatusOK || decode(t, rec)["status"] != "approved" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
