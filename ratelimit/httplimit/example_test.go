package httplimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/httplimit"
)

func ExampleSetHeaders() {
	// A fixed clock, so that the output is the same on every run.
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	limiter, _ := ratelimit.New(store)
	defer limiter.Close(context.Background())

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lim := ratelimit.PerMinute(2)
		res, err := limiter.Allow(r.Context(), ratelimit.KeyRoute(r.Method, r.URL.Path), lim)
		if err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		httplimit.SetHeaders(w.Header(), lim, res, httplimit.Options{IETF: true, Policy: "sms"})
		if !res.Allowed {
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		fmt.Fprintln(w, "code sent")
	})
	var rec *httptest.ResponseRecorder
	for i := 0; i < 3; i++ {
		rec = httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("POST", "/verify/start", nil))
		fmt.Printf("%d RateLimit: %s Retry-After: %q\n", rec.Code, rec.Header().Get("RateLimit"), rec.Header().Get("Retry-After"))
		now = now.Add(10 * time.Second)
	}
	fmt.Println("RateLimit-Policy:", rec.Header().Get("RateLimit-Policy"))
	// Output:
	// 200 RateLimit: "sms";r=1;t=30 Retry-After: ""
	// 200 RateLimit: "sms";r=0;t=20 Retry-After: ""
	// 429 RateLimit: "sms";r=0;t=10 Retry-After: "10"
	// RateLimit-Policy: "sms";q=2;w=60
}

func ExampleSetRetryAfter() {
	h := http.Header{}
	httplimit.SetRetryAfter(h, 300*time.Millisecond)
	fmt.Println(h.Get("Retry-After"))
	// Output: 1
}
