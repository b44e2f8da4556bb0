package guard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/sanitize"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// newLimiter is the limiter of the examples: a memory store for one
// process (ratelimit/redisstore for several).
func newLimiter() (*ratelimit.Limiter, func()) {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	lim, err := ratelimit.New(store)
	if err != nil {
		panic(err)
	}
	return lim, func() { _ = store.Close(context.Background()) }
}

// show posts body to h and prints the answer.
func show(h http.Handler, body string) {
	r := httptest.NewRequest(http.MethodPost, "/call-me", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"), strings.TrimSpace(rec.Body.String()))
}

// A "call me" endpoint: the number from the JSON body, the voice policy,
// then three limits in one take.
func ExampleGuard_Phone() {
	limiter, done := newLimiter()
	defer done()
	g, err := guard.New(limiter, guard.WithRegion("US"))
	if err != nil {
		panic(err)
	}
	callMe := g.Phone("call-me", numbers.Voice,
		guard.PerAddr(ratelimit.PerHour(10)),
		guard.PerPhone(ratelimit.PerDay(1)),
		guard.PerBlock(3, ratelimit.PerHour(20)),
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := guard.Number(r) // parsed and checked: call n.E164
		fmt.Fprintln(w, "calling", n)
	})
	h := callMe(handler)

	show(h, `{"phone": "(415) 555-2671"}`)
	show(h, `{"phone": "+1 415 555 2671"}`)   // the same number, once a day
	show(h, `{"phone": "+1 876 555 0100"}`)   // Jamaica: a pumping target
	show(h, `{"phone": "tomorrow at noon"}`)  // not a number
	show(h, `{"phone": ["+1 415 555 2671"]}`) // not a string
	// Output:
	// 200  calling +1******2671
	// 429 86400 {"type":"https://iana.org/assignments/http-problem-types#quota-exceeded","title":"Too many requests","status":429,"detail":"Too many requests. Try again in 86400 seconds."}
	// 403  {"type":"https://pkg.go.dev/github.com/antifraud-go/antifraud/numbers#ErrBlocked","title":"Number not allowed","status":403,"detail":"This number cannot be used here."}
	// 422  {"type":"https://pkg.go.dev/github.com/antifraud-go/antifraud/numbers#ErrInvalid","title":"Unusable number","status":422,"detail":"This is not a phone number that can be used here. Check it and try again."}
	// 400  {"type":"about:blank","title":"Bad Request","status":400,"detail":"The phone field must be a string."}
}

// Limits without a phone number, behind a load balancer: the limit keys on
// the client, not on the balancer.
func ExampleGuard_Limit() {
	limiter, done := newLimiter()
	defer done()
	g, err := guard.New(limiter, guard.WithTrustedProxies("10.0.0.0/8"))
	if err != nil {
		panic(err)
	}
	h := g.Limit("login", guard.PerAddr(ratelimit.PerMinute(2)))(http.NotFoundHandler())
	for _, client := range []string{"198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.1"} {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = "10.0.0.5:40000"
		r.Header.Set("X-Forwarded-For", "203.0.113.9, "+client) // the first is the client's own claim
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(client, rec.Code, rec.Header().Get("RateLimit"))
	}
	// Output:
	// 198.51.100.1 404 "login";r=1;t=30
	// 198.51.100.1 404 "login";r=0;t=30
	// 198.51.100.2 404 "login";r=1;t=30
	// 198.51.100.1 429 "login";r=0;t=30
}

// A deny handler of the app's own, which learns why from FailureReason.
func ExampleFailureReason() {
	limiter, done := newLimiter()
	defer done()
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := guard.FailureReason(r)
		var le *guard.LimitError
		switch {
		case errors.As(err, &le):
			fmt.Println("limited by", le.Rule) // for the logs, not for the client
		case errors.Is(err, numbers.ErrBlocked):
			fmt.Println("refused by the policy")
		}
		guard.ProblemFor(err).ServeHTTP(w, r)
	})
	g, err := guard.New(limiter, guard.WithDenyHandler(deny))
	if err != nil {
		panic(err)
	}
	h := g.Phone("signup", numbers.SMS, guard.PerPhone(ratelimit.PerHour(1)))(http.NotFoundHandler())
	for _, body := range []string{`{"phone":"+447400123456"}`, `{"phone":"+447400123456"}`, `{"phone":"+37190012345"}`} {
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	// Output:
	// limited by phone
	// refused by the policy
}

// Before sending a user's message to a number the user chose.
func ExampleGuard_CheckOutbound() {
	limiter, done := newLimiter()
	defer done()
	g, err := guard.New(limiter)
	if err != nil {
		panic(err)
	}
	invite := func(to, text string) {
		n, err := g.CheckOutbound(context.Background(), "invite",
			guard.Outbound{To: to, Text: text, User: "user-42", Addr: netip.MustParseAddr("192.0.2.7")},
			guard.PerPhone(ratelimit.PerDay(1)), guard.PerUser(ratelimit.PerDay(20)))
		var le *guard.LimitError
		var cta *sanitize.CallToActionError
		switch {
		case err == nil:
			fmt.Println("send to", n)
		case errors.As(err, &le):
			fmt.Println("limit per", le.Rule)
		case errors.As(err, &cta):
			fmt.Println("text refused:", cta.Findings[0].Kind, cta.Findings[0].Text)
		case errors.Is(err, numbers.ErrBlocked):
			fmt.Println("destination refused")
		}
	}
	invite("+44 7400 123456", "Join me!")
	invite("+44 7400 123456", "Join me!")
	invite("+44 7400 654321", "Claim your prize at prize-now.com")
	invite("+37190012345", "Join me!")
	// Output:
	// send to +44******3456
	// limit per phone
	// text refused: link prize-now.com
	// destination refused
}

// The verify handlers, mounted in front of Twilio Verify (here the fake
// of package verifytest).
func ExampleGuard_VerifyStart() {
	srv := verifytest.NewServer()
	defer srv.Close()
	sender, err := verify.NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		panic(err)
	}
	limiter, done := newLimiter()
	defer done()
	policy, err := numbers.SMSVerificationPolicy("US", "CA")
	if err != nil {
		panic(err)
	}
	svc, err := verify.New(sender, limiter, verify.Config{Policy: policy, DefaultRegion: "US"})
	if err != nil {
		panic(err)
	}
	g, err := guard.New(limiter)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /verify/start", g.VerifyStart(svc))
	mux.Handle("POST /verify/check", g.VerifyCheck(svc, nil))
	app := httptest.NewServer(mux)
	defer app.Close()

	post := func(path, body string) {
		res, err := http.Post(app.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, strings.TrimSpace(string(b)))
	}
	post("/verify/start", `{"phone": "(415) 555-0100"}`)
	post("/verify/start", `{"phone": "+44 7400 123456"}`)
	post("/verify/check", `{"phone": "4155550100", "code": "000000"}`)
	code, _ := srv.Code("+14155550100")
	post("/verify/check", `{"phone": "4155550100", "code": "`+code+`"}`)
	// Output:
	// 202 {"status":"pending","to":"+1******0100","channel":"sms","resend_after":30}
	// 403 {"type":"https://pkg.go.dev/github.com/antifraud-go/antifraud/numbers#ErrBlocked","title":"Number not allowed","status":403,"detail":"This number cannot be used here."}
	// 422 {"type":"https://pkg.go.dev/github.com/antifraud-go/antifraud/verify#ErrInvalidCode","title":"Invalid code","status":422,"detail":"The code is incorrect or has expired."}
	// 200 {"status":"approved"}
}
