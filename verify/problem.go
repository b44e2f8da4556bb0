package verify

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/httplimit"
)

// ProblemContentType is the media type of an RFC 9457 problem details body.
const ProblemContentType = "application/problem+json"

// problemTypeBase prefixes problem type URIs: each names the documentation of
// the sentinel error behind it.
const problemTypeBase = "https://pkg.go.dev/github.com/antifraud-go/antifraud/verify#"

// Problem is an RFC 9457 problem details object, as the handlers write it.
type Problem struct {
	// Type is a URI naming the kind of problem.
	Type string `json:"type"`
	// Title is a short, human-readable summary of the kind of problem.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence, in words fit for the end user.
	Detail string `json:"detail,omitempty"`
	// Instance optionally identifies this occurrence.
	Instance string `json:"instance,omitempty"`
	// RetryAfter, when positive, is sent as the Retry-After header in whole
	// seconds, rounded up.
	RetryAfter time.Duration `json:"-"`
}

// Write writes p as the response: Content-Type application/problem+json,
// Retry-After when set, Cache-Control no-store, and the JSON body.
func (p *Problem) Write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", ProblemContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.RetryAfter > 0 {
		httplimit.SetRetryAfter(h, p.RetryAfter)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// requestError is a problem with the HTTP request itself (method, media
// type, size, syntax), found before the Service is asked anything.
type requestError struct {
	status int
	detail string
	err    error
}

// Error implements error.
func (e *requestError) Error() string {
	if e.err != nil {
		return "verify: bad request: " + e.detail + ": " + e.err.Error()
	}
	return "verify: bad request: " + e.detail
}

// Unwrap returns the cause, such as an *http.MaxBytesError.
func (e *requestError) Unwrap() error { return e.err }

// ProblemFor returns the problem details the handlers answer err with. The
// answers tell the user what to do and nothing more: which limit fired, what
// rule blocked a number, whether a verification exists (a wrong code and an
// expired one get the same answer) and what the provider said stay out.
//
//	ErrInvalidNumber, ErrInvalidChannel 422
//	ErrBlocked                          403
//	ErrRateLimited, ErrCooldown         429, Retry-After
//	ErrTooManyAttempts                  429, Retry-After when known
//	ErrInvalidCode, ErrExpired          422
//	ErrProvider                         503 when unreachable or 5xx, else 502
//	ratelimit.ErrUnavailable            503 (the limiter failed closed)
//	a bad HTTP request                  400, 405, 413 or 415
//	anything else                       500
func ProblemFor(err error) *Problem {
	var re *requestError
	if errors.As(err, &re) {
		return &Problem{Type: "about:blank", Title: http.StatusText(re.status), Status: re.status, Detail: re.detail}
	}
	retry, _ := retryAfter(err)
	switch {
	case errors.Is(err, ErrBlocked):
		return &Problem{Type: problemTypeBase + "ErrBlocked", Title: "Number not allowed", Status: http.StatusForbidden,
			Detail: "Verification codes cannot be sent to this number."}
	case errors.Is(err, ErrInvalidNumber):
		return &Problem{Type: problemTypeBase + "ErrInvalidNumber", Title: "Unusable number", Status: http.StatusUnprocessableEntity,
			Detail: "This number cannot receive verification codes. Check it and try again."}
	case errors.Is(err, ErrInvalidChannel):
		return &Problem{Type: problemTypeBase + "ErrInvalidChannel", Title: "Channel not available", Status: http.StatusUnprocessableEntity,
			Detail: "Codes cannot be sent this way. Choose another channel."}
	case errors.Is(err, ratelimit.ErrUnavailable):
		return &Problem{Type: problemTypeBase + "ErrProvider", Title: "Verification unavailable", Status: http.StatusServiceUnavailable,
			Detail: "Verification is unavailable right now. Try again later."}
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrCooldown):
		return &Problem{Type: problemTypeBase + "ErrRateLimited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: "Too many requests. Try again in " + seconds(retry) + ".", RetryAfter: retry}
	case errors.Is(err, ErrTooManyAttempts):
		detail := "Too many attempts. Request a new code later."
		if retry > 0 {
			detail = "Too many attempts. Try again in " + seconds(retry) + "."
		}
		return &Problem{Type: problemTypeBase + "ErrTooManyAttempts", Title: "Too many attempts", Status: http.StatusTooManyRequests,
			Detail: detail, RetryAfter: retry}
	case errors.Is(err, ErrInvalidCode), errors.Is(err, ErrExpired):
		return &Problem{Type: problemTypeBase + "ErrInvalidCode", Title: "Invalid code", Status: http.StatusUnprocessableEntity,
			Detail: "The code is incorrect or has expired."}
	case errors.Is(err, ErrProvider):
		status := http.StatusBadGateway
		var pe *ProviderError
		if errors.As(err, &pe) && (pe.Status == 0 || pe.Status >= 500) {
			status = http.StatusServiceUnavailable
		}
		return &Problem{Type: problemTypeBase + "ErrProvider", Title: "Verification unavailable", Status: status,
			Detail: "Verification is unavailable right now. Try again later."}
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError}
}

func seconds(d time.Duration) string {
	n := int64(roundUpSecond(d) / time.Second)
	if n == 1 {
		return "1 second"
	}
	return strconv.FormatInt(n, 10) + " seconds"
}
