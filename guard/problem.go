package guard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/httplimit"
	"github.com/antifraud-go/antifraud/sanitize"
	"github.com/antifraud-go/antifraud/verify"
)

// Problem types. The IETF RateLimit draft registers quota-exceeded and
// temporary-reduced-capacity; the others name the documentation of the
// error behind them.
const (
	typeQuota    = "https://iana.org/assignments/http-problem-types#quota-exceeded"
	typeCapacity = "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity"
	typeDocs     = "https://pkg.go.dev/github.com/antifraud-go/antifraud/"
)

// Problem is an RFC 9457 problem details object: what the guard answers a
// refused request with, and what ProblemFor makes of any error of the
// library. Its ServeHTTP writes it, so it can serve as a deny handler.
type Problem struct {
	// Type is a URI naming the kind of problem.
	Type string `json:"type"`
	// Title is a short summary of the kind of problem.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence, in words fit for the end user.
	Detail string `json:"detail,omitempty"`
	// Instance optionally identifies this occurrence.
	Instance string `json:"instance,omitempty"`
	// RetryAfter, when positive, is sent as Retry-After, in whole seconds
	// rounded up.
	RetryAfter time.Duration `json:"-"`
}

// ServeHTTP writes p: Content-Type application/problem+json, Retry-After
// when set, Cache-Control no-store, and the JSON body. A 413 also closes
// the connection, so that the rest of the body is not read.
func (p *Problem) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.RetryAfter > 0 {
		httplimit.SetRetryAfter(h, p.RetryAfter)
	}
	if p.Status == http.StatusRequestEntityTooLarge {
		h.Set("Connection", "close")
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeProblem is the default deny handler.
func writeProblem(w http.ResponseWriter, r *http.Request) {
	ProblemFor(FailureReason(r)).ServeHTTP(w, r)
}

// ProblemFor returns the problem to answer err with, for an error from any
// package of the library. The answer tells the user what to do and no
// more: not which limit fired, not which rule blocked a number, not
// whether a verification exists (a wrong code and an expired one get the
// same answer), not what the provider said.
//
//	numbers.ErrBlocked, verify.ErrBlocked                 403
//	numbers.ErrInvalid, verify.ErrInvalidNumber           422
//	verify.ErrInvalidChannel                              422
//	verify.ErrInvalidCode, verify.ErrExpired              422
//	verify.ErrInvalidLocale                               422
//	sanitize.ErrCallToAction                              422
//	ErrRateLimited, verify.ErrRateLimited,
//	verify.ErrCooldown, verify.ErrTooManyAttempts         429 quota-exceeded, Retry-After
//	ratelimit.ErrUnavailable                              503 temporary-reduced-capacity
//	verify.ErrProvider                                    503 when unreachable or 5xx, else 502
//	ErrNoClientAddr                                       400
//	ErrSignature, a source not allowed (AllowFrom)        403
//	ErrReplayed                                           409
//	ErrOverBudget                                         503 temporary-reduced-capacity
//	*http.MaxBytesError                                   413
//	ErrBadRequest                                         400, 405, 413 or 415
//	context.DeadlineExceeded                              503
//	anything else                                         500
func ProblemFor(err error) *Problem {
	var re *requestError
	if errors.As(err, &re) {
		return &Problem{Type: "about:blank", Title: http.StatusText(re.status), Status: re.status, Detail: sentence(re.detail)}
	}
	retry := retryAfter(err)
	switch {
	case err == nil:
	case errors.Is(err, numbers.ErrInvalid), errors.Is(err, verify.ErrInvalidNumber):
		return &Problem{Type: typeDocs + "numbers#ErrInvalid", Title: "Unusable number", Status: http.StatusUnprocessableEntity,
			Detail: "This is not a phone number that can be used here. Check it and try again."}
	case errors.Is(err, verify.ErrInvalidLocale):
		return &Problem{Type: typeDocs + "verify#ErrInvalidLocale", Title: "Language not available", Status: http.StatusUnprocessableEntity,
			Detail: "Codes cannot be sent in this language. Choose another one."}
	case errors.Is(err, verify.ErrInvalidChannel):
		return &Problem{Type: typeDocs + "verify#ErrInvalidChannel", Title: "Channel not available", Status: http.StatusUnprocessableEntity,
			Detail: "Codes cannot be sent this way. Choose another channel."}
	case errors.Is(err, sanitize.ErrCallToAction):
		return &Problem{Type: typeDocs + "sanitize#ErrCallToAction", Title: "Message not allowed", Status: http.StatusUnprocessableEntity,
			Detail: "Messages cannot carry links, email addresses or phone numbers."}
	case errors.Is(err, ratelimit.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &Problem{Type: typeCapacity, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "This is unavailable right now. Try again later."}
	case errors.Is(err, ErrRateLimited), errors.Is(err, verify.ErrRateLimited), errors.Is(err, verify.ErrCooldown):
		return &Problem{Type: typeQuota, Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: "Too many requests. Try again in " + seconds(retry) + ".", RetryAfter: retry}
	case errors.Is(err, verify.ErrTooManyAttempts):
		detail := "Too many attempts. Request a new code later."
		if retry > 0 {
			detail = "Too many attempts. Try again in " + seconds(retry) + "."
		}
		return &Problem{Type: typeQuota, Title: "Too many attempts", Status: http.StatusTooManyRequests,
			Detail: detail, RetryAfter: retry}
	// After the limits: an address over its allowance of refusals gets a
	// 429 that wraps the policy's refusal.
	case errors.Is(err, numbers.ErrBlocked), errors.Is(err, verify.ErrBlocked):
		return &Problem{Type: typeDocs + "numbers#ErrBlocked", Title: "Number not allowed", Status: http.StatusForbidden,
			Detail: "This number cannot be used here."}
	case errors.Is(err, verify.ErrInvalidCode), errors.Is(err, verify.ErrExpired):
		return &Problem{Type: typeDocs + "verify#ErrInvalidCode", Title: "Invalid code", Status: http.StatusUnprocessableEntity,
			Detail: "The code is incorrect or has expired."}
	case errors.Is(err, verify.ErrProvider):
		status := http.StatusBadGateway
		var pe *verify.ProviderError
		if errors.As(err, &pe) && (pe.Status == 0 || pe.Status >= 500) {
			status = http.StatusServiceUnavailable
		}
		return &Problem{Type: typeCapacity, Title: "Service unavailable", Status: status,
			Detail: "This is unavailable right now. Try again later."}
	case errors.Is(err, ErrSignature), errors.Is(err, errSourceNotAllowed):
		return &Problem{Type: "about:blank", Title: http.StatusText(http.StatusForbidden), Status: http.StatusForbidden}
	case errors.Is(err, ErrReplayed):
		return &Problem{Type: "about:blank", Title: http.StatusText(http.StatusConflict), Status: http.StatusConflict,
			Detail: "This request was already received."}
	case errors.Is(err, ErrOverBudget):
		return &Problem{Type: typeCapacity, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "This is unavailable right now. Try again later."}
	case errors.As(err, new(*http.MaxBytesError)):
		return &Problem{Type: "about:blank", Title: http.StatusText(http.StatusRequestEntityTooLarge), Status: http.StatusRequestEntityTooLarge,
			Detail: "The request body is too large."}
	case errors.Is(err, ErrNoClientAddr):
		return &Problem{Type: "about:blank", Title: http.StatusText(http.StatusBadRequest), Status: http.StatusBadRequest,
			Detail: "The client address could not be determined."}
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError}
}

// retryAfter is the wait err asks for, rounded up to a whole second and
// at least one when it asks for any.
func retryAfter(err error) time.Duration {
	var d time.Duration
	var le *LimitError
	var vle *verify.LimitError
	switch {
	case errors.As(err, &le):
		d = le.RetryAfter
	case errors.As(err, &vle):
		d = vle.RetryAfter
	}
	if d <= 0 {
		return 0
	}
	return time.Duration(max(1, ceilSeconds(d))) * time.Second
}

func seconds(d time.Duration) string {
	n := max(1, ceilSeconds(d))
	if n == 1 {
		return "1 second"
	}
	return strconv.FormatInt(n, 10) + " seconds"
}

// sentence makes a detail start with a capital letter and end with a dot.
func sentence(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if 'a' <= b[0] && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	if b[len(b)-1] != '.' {
		b = append(b, '.')
	}
	return string(b)
}
