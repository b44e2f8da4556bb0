package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/verify"
)

func TestProblemFor(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"blocked", &verify.BlockedError{Reason: "premium_rate", Rule: "type:premium"}, http.StatusForbidden, ""},
		{"invalid number", fmt.Errorf("wrapped: %w", verify.ErrInvalidNumber), http.StatusUnprocessableEntity, ""},
		{"rate limited", &verify.LimitError{RetryAfter: 1500 * time.Millisecond, Scope: "ip"}, http.StatusTooManyRequests, "2"},
		{"cooldown", &verify.LimitError{RetryAfter: 30 * time.Second, Scope: "cooldown"}, http.StatusTooManyRequests, "30"},
		{"attempts with wait", &verify.LimitError{RetryAfter: time.Minute, Scope: "check_phone"}, http.StatusTooManyRequests, "60"},
		{"attempts without wait", &verify.LimitError{Scope: "attempts"}, http.StatusTooManyRequests, ""},
		{"invalid code", verify.ErrInvalidCode, http.StatusUnprocessableEntity, ""},
		{"expired", verify.ErrExpired, http.StatusUnprocessableEntity, ""},
		{"provider down", &verify.ProviderError{Op: "send", Err: context.DeadlineExceeded}, http.StatusServiceUnavailable, ""},
		{"provider 500", &verify.ProviderError{Op: "send", Code: 20500, Status: 500}, http.StatusServiceUnavailable, ""},
		{"provider 401", &verify.ProviderError{Op: "send", Code: 20003, Status: 401}, http.StatusBadGateway, ""},
		{"unknown", errors.New("boom"), http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := verify.ProblemFor(tt.err)
			rec := httptest.NewRecorder()
			p.Write(rec)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != verify.ProblemContentType {
				t.Fatalf("Content-Type %q", ct)
			}
			if ra := rec.Header().Get("Retry-After"); ra != tt.retryAfter {
				t.Fatalf("Retry-After %q, want %q", ra, tt.retryAfter)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["status"] != float64(tt.status) || body["title"] == "" || body["type"] == "" {
				t.Fatalf("body %v", body)
			}
		})
	}
}

// TestProblemRevealsNoDetails checks that what fired and where stays out of
// the response: the limit's scope, the policy rule, the provider's message.
func TestProblemRevealsNoDetails(t *testing.T) {
	errs := []error{
		&verify.LimitError{RetryAfter: time.Second, Scope: "prefix"},
		&verify.BlockedError{Reason: "premium_rate", Rule: "prefix:+37190"},
		&verify.ProviderError{Op: "send", Code: 60999, Status: 400, Message: "secret provider detail"},
	}
	for _, err := range errs {
		rec := httptest.NewRecorder()
		verify.ProblemFor(err).Write(rec)
		for _, leak := range []string{"prefix", "premium", "+371", "secret", "60999"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("%v: response %q reveals %q", err, rec.Body, leak)
			}
		}
	}
	// A wrong code and an expired verification look the same.
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	verify.ProblemFor(verify.ErrInvalidCode).Write(a)
	verify.ProblemFor(verify.ErrExpired).Write(b)
	if a.Body.String() != b.Body.String() || a.Code != b.Code {
		t.Errorf("invalid code %q and expired %q differ", a.Body, b.Body)
	}
}
