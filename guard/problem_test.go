package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/sanitize"
	"github.com/antifraud-go/antifraud/verify"
)

func TestProblemFor(t *testing.T) {
	_, parseErr := numbers.Parse("nope", "")
	blocked := numbers.ModeratePolicy().Check(mustParse(t, "+37190012345"), numbers.SMS).Err()
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"numbers blocked", blocked, 403, ""},
		{"numbers invalid", parseErr, 422, ""},
		{"guard limit", &guard.LimitError{Rule: "phone", RetryAfter: 1500 * time.Millisecond}, 429, "2"},
		{"unavailable", fmt.Errorf("x: %w", ratelimit.ErrUnavailable), 503, ""},
		{"call to action", sanitize.Check("go to example.com now"), 422, ""},
		{"no client address", guard.ErrNoClientAddr, 400, ""},
		{"deadline", context.DeadlineExceeded, 503, ""},
		{"verify blocked", &verify.BlockedError{Reason: "premium_rate", Rule: "type:premium"}, 403, ""},
		{"verify invalid number", fmt.Errorf("wrapped: %w", verify.ErrInvalidNumber), 422, ""},
		{"verify invalid channel", verify.ErrInvalidChannel, 422, ""},
		{"verify invalid locale", fmt.Errorf("x: %w", verify.ErrInvalidLocale), 422, ""},
		{"verify rate limited", &verify.LimitError{RetryAfter: 1500 * time.Millisecond, Scope: "ip"}, 429, "2"},
		{"verify cooldown", &verify.LimitError{RetryAfter: 30 * time.Second, Scope: "cooldown"}, 429, "30"},
		{"verify attempts with wait", &verify.LimitError{RetryAfter: time.Minute, Scope: "check_phone"}, 429, "60"},
		{"verify attempts without wait", &verify.LimitError{Scope: "attempts"}, 429, ""},
		{"verify invalid code", verify.ErrInvalidCode, 422, ""},
		{"verify expired", verify.ErrExpired, 422, ""},
		{"provider down", &verify.ProviderError{Op: "send", Err: context.DeadlineExceeded}, 503, ""},
		{"provider 500", &verify.ProviderError{Op: "send", Code: 20500, Status: 500}, 503, ""},
		{"provider 401", &verify.ProviderError{Op: "send", Code: 20003, Status: 401}, 502, ""},
		{"unknown", errors.New("boom"), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			guard.ProblemFor(tt.err).ServeHTTP(rec, nil)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if ra := rec.Header().Get("Retry-After"); ra != tt.retryAfter {
				t.Fatalf("Retry-After %q, want %q", ra, tt.retryAfter)
			}
			body := problemOf(t, rec)
			if body["title"] == "" || body["type"] == "" {
				t.Fatalf("body %v", body)
			}
			if tt.status == 429 && body["type"] != "https://iana.org/assignments/http-problem-types#quota-exceeded" {
				t.Fatalf("429 type %v", body["type"])
			}
		})
	}
}

// What fired and where stays out of the response: the rule, the limit's
// scope, the policy's rule, the findings, the provider's message.
func TestProblemRevealsNoDetails(t *testing.T) {
	errs := []error{
		&guard.LimitError{Rule: "block", RetryAfter: time.Second},
		&verify.LimitError{RetryAfter: time.Second, Scope: "prefix"},
		&verify.BlockedError{Reason: "premium_rate", Rule: "prefix:+37190"},
		numbers.ModeratePolicy().Check(mustParse(t, "+37190012345"), numbers.SMS).Err(),
		sanitize.Check("call +44 7400 123456 or see evil.example"),
		&verify.ProviderError{Op: "send", Code: 60999, Status: 400, Message: "secret provider detail"},
	}
	for _, err := range errs {
		rec := httptest.NewRecorder()
		guard.ProblemFor(err).ServeHTTP(rec, nil)
		for _, leak := range []string{"block", "prefix", "premium", "+371", "secret", "60999", "evil", "7400"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("%v: response %q reveals %q", err, rec.Body, leak)
			}
		}
	}
	a, b := httptest.NewRecorder(), httptest.NewRecorder()
	guard.ProblemFor(verify.ErrInvalidCode).ServeHTTP(a, nil)
	guard.ProblemFor(verify.ErrExpired).ServeHTTP(b, nil)
	if a.Body.String() != b.Body.String() || a.Code != b.Code {
		t.Errorf("invalid code %q and expired %q differ", a.Body, b.Body)
	}
	// A policy refusal by the guard and by verify look the same.
	a, b = httptest.NewRecorder(), httptest.NewRecorder()
	guard.ProblemFor(errs[2]).ServeHTTP(a, nil)
	guard.ProblemFor(errs[3]).ServeHTTP(b, nil)
	if a.Body.String() != b.Body.String() {
		t.Errorf("verify %q and numbers %q refusals differ", a.Body, b.Body)
	}
}

func TestProblemJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	(&guard.Problem{Type: "about:blank", Title: "T", Status: 418, Detail: "d", Instance: "/x", RetryAfter: 2500 * time.Millisecond}).ServeHTTP(rec, nil)
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 5 || m["instance"] != "/x" || rec.Header().Get("Retry-After") != "3" ||
		rec.Header().Get("Cache-Control") != "no-store" || rec.Code != 418 {
		t.Fatalf("%v %v", m, rec.Header())
	}
}

func mustParse(t *testing.T, s string) numbers.Number {
	t.Helper()
	n, err := numbers.Parse(s, "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}
