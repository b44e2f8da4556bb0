package guard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// Numbers used throughout: an allowed GB mobile, and a Latvian
// premium-rate number that the default policy refuses.
const (
	okNumber      = "+447400123456"
	blockedNumber = "+37190012345"
)

type env struct {
	t     *testing.T
	clock *testkit.Clock
	store *ratelimit.MemoryStore
	lim   *ratelimit.Limiter
	g     *guard.Guard
}

func newEnv(t *testing.T, opts ...guard.Option) *env {
	t.Helper()
	e := &env{t: t, clock: testkit.NewClock()}
	var err error
	e.store, err = ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: e.clock.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.store.Close(context.Background()) })
	e.lim, err = ratelimit.New(e.store)
	if err != nil {
		t.Fatal(err)
	}
	e.g, err = guard.New(e.lim, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// ok is the handler behind the guard: it echoes the body it got and the
// number the guard parsed.
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if n, found := guard.Number(r); found {
		w.Header().Set("X-Number", n.E164)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
})

func do(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func postJSON(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/call-me", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want a problem: %d %s", ct, rec.Code, rec.Body)
	}
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", rec.Body, err)
	}
	if p["status"] != float64(rec.Code) {
		t.Fatalf("problem status %v, response %d", p["status"], rec.Code)
	}
	return p
}

func TestPhoneMiddleware(t *testing.T) {
	e := newEnv(t)
	h := e.g.Phone("call-me", numbers.Voice,
		guard.PerAddr(ratelimit.PerHour(10)),
		guard.PerPhone(ratelimit.PerHour(2)),
		guard.PerBlock(3, ratelimit.PerHour(20)),
	)(ok)

	body := `{"phone": "+44 7400 123456", "name": "Ada"}`
	for i := range 2 {
		rec := do(h, postJSON(body))
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
		if rec.Body.String() != body {
			t.Fatalf("next handler read %q, want the body as sent", rec.Body)
		}
		if rec.Header().Get("X-Number") != okNumber {
			t.Fatalf("Number(r) = %q", rec.Header().Get("X-Number"))
		}
		if rec.Header().Get("RateLimit") == "" || rec.Header().Get("RateLimit-Policy") == "" {
			t.Fatalf("no RateLimit headers: %v", rec.Header())
		}
	}
	rec := do(h, postJSON(body))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("third request: %d %s", rec.Code, rec.Body)
	}
	p := problemOf(t, rec)
	if p["type"] != "https://iana.org/assignments/http-problem-types#quota-exceeded" {
		t.Fatalf("problem %v", p)
	}
	// A per-phone limit of 2 an hour: the next token in 30 minutes.
	if got := rec.Header().Get("Retry-After"); got != "1800" {
		t.Fatalf("Retry-After %q, want 1800", got)
	}
	if rec.Header().Get("RateLimit-Policy") != "" {
		t.Fatalf("a refusal names the policy that fired: %v", rec.Header())
	}
	for _, leak := range []string{"phone", "addr", "block", "rule"} {
		if strings.Contains(strings.ToLower(rec.Body.String()), leak) {
			t.Fatalf("problem says which limit fired (%q): %s", leak, rec.Body)
		}
	}
}

func TestPhoneStatuses(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		status            int
		reason            error
	}{
		{"allowed", "application/json", `{"phone":"+447400123456"}`, 200, nil},
		{"national with region", "application/json", `{"phone":"07400 123456"}`, 200, nil},
		{"blocked", "application/json", `{"phone":"` + blockedNumber + `"}`, 403, numbers.ErrBlocked},
		{"not a number", "application/json", `{"phone":"call me maybe"}`, 422, numbers.ErrInvalid},
		{"missing", "application/json", `{"name":"Ada"}`, 422, numbers.ErrInvalid},
		{"null", "application/json", `{"phone":null}`, 422, numbers.ErrInvalid},
		{"array", "application/json", `{"phone":["+447400123456"]}`, 400, guard.ErrBadRequest},
		{"object", "application/json", `{"phone":{"n":"+447400123456"}}`, 400, guard.ErrBadRequest},
		{"JSON number", "application/json", `{"phone":447400123456}`, 400, guard.ErrBadRequest},
		{"duplicate key", "application/json", `{"phone":"+447400123456","phone":"` + blockedNumber + `"}`, 400, guard.ErrBadRequest},
		{"duplicate key, other case", "application/json", `{"phone":"+447400123456","PHONE":"` + blockedNumber + `"}`, 400, guard.ErrBadRequest},
		{"duplicate key, escaped", "application/json", `{"phone":"+447400123456","\u0070hone":"` + blockedNumber + `"}`, 400, guard.ErrBadRequest},
		{"malformed", "application/json", `{"phone":`, 400, guard.ErrBadRequest},
		{"trailing data", "application/json", `{"phone":"+447400123456"} {}`, 400, guard.ErrBadRequest},
		{"not an object", "application/json", `["+447400123456"]`, 400, guard.ErrBadRequest},
		{"form", "application/x-www-form-urlencoded", "name=Ada&phone=%2B447400123456", 200, nil},
		{"form repeated", "application/x-www-form-urlencoded", "phone=%2B447400123456&phone=%2B37190012345", 400, guard.ErrBadRequest},
		{"form semicolon", "application/x-www-form-urlencoded", "phone=%2B447400123456;x=1", 400, guard.ErrBadRequest},
		{"form bad escape", "application/x-www-form-urlencoded", "phone=%ZZ", 400, guard.ErrBadRequest},
		{"media type", "text/plain", "phone=+447400123456", 415, guard.ErrBadRequest},
		{"no media type", "", "phone=+447400123456", 415, guard.ErrBadRequest},
		{"too large", "application/json", `{"phone":"+447400123456","pad":"` + strings.Repeat("x", 70<<10) + `"}`, 413, guard.ErrBadRequest},
		{"field too long", "application/json", `{"phone":"` + strings.Repeat("1", 300) + `"}`, 400, guard.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reason error
			deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reason = guard.FailureReason(r)
				guard.ProblemFor(reason).ServeHTTP(w, r)
			})
			e := newEnv(t, guard.WithRegion("GB"), guard.WithDenyHandler(deny))
			h := e.g.Phone("signup", numbers.SMS, guard.PerAddr(ratelimit.PerHour(10)))(ok)
			r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			rec := do(h, r)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 200 {
				if rec.Body.String() != tt.body {
					t.Fatalf("body %q, want %q", rec.Body, tt.body)
				}
				return
			}
			problemOf(t, rec)
			if !errors.Is(reason, tt.reason) {
				t.Fatalf("FailureReason %v, want %v", reason, tt.reason)
			}
			if tt.body != "" && len(tt.body) < 200 && strings.Contains(rec.Body.String(), tt.body) {
				t.Fatalf("problem echoes the request: %s", rec.Body)
			}
		})
	}
}

// Multipart bodies: the field is a form part; a file part of the same name
// is not the field, as for Request.FormValue.
func TestPhoneMultipart(t *testing.T) {
	e := newEnv(t)
	h := e.g.Phone("signup", numbers.SMS)(ok)
	mk := func(parts ...string) (*http.Request, string) {
		var b bytes.Buffer
		for i := 0; i < len(parts); i += 2 {
			b.WriteString("--XyZ\r\n")
			b.WriteString(parts[i] + "\r\n\r\n" + parts[i+1] + "\r\n")
		}
		b.WriteString("--XyZ--\r\n")
		body := b.String()
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(body))
		r.Header.Set("Content-Type", `multipart/form-data; boundary=XyZ`)
		return r, body
	}
	r, body := mk(`Content-Disposition: form-data; name="phone"`, okNumber,
		`Content-Disposition: form-data; name="phone"; filename="x.txt"`, blockedNumber)
	rec := do(h, r)
	if rec.Code != 200 || rec.Body.String() != body || rec.Header().Get("X-Number") != okNumber {
		t.Fatalf("%d %q %q", rec.Code, rec.Header().Get("X-Number"), rec.Body)
	}
	r, _ = mk(`Content-Disposition: form-data; name="phone"`, okNumber,
		`Content-Disposition: form-data; name="phone"`, blockedNumber)
	if rec := do(h, r); rec.Code != 400 {
		t.Fatalf("repeated part: %d %s", rec.Code, rec.Body)
	}
	r = httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader("--XyZ\r\nbroken"))
	r.Header.Set("Content-Type", `multipart/form-data; boundary=XyZ`)
	if rec := do(h, r); rec.Code != 400 {
		t.Fatalf("malformed multipart: %d %s", rec.Code, rec.Body)
	}
}

// The query counts as a place for the field, as it does for
// Request.FormValue: a phone in the query and another in the body is
// refused, since the handler might read either.
func TestPhoneQuery(t *testing.T) {
	e := newEnv(t)
	h := e.g.Phone("signup", numbers.SMS)(ok)
	r := httptest.NewRequest(http.MethodGet, "/signup?phone=%2B447400123456", nil)
	if rec := do(h, r); rec.Code != 200 || rec.Header().Get("X-Number") != okNumber {
		t.Fatalf("query only: %d %s", rec.Code, rec.Body)
	}
	r = postJSON(`{"phone":"+447400123456"}`)
	r.URL.RawQuery = "phone=%2B37190012345"
	if rec := do(h, r); rec.Code != 400 {
		t.Fatalf("query and body: %d %s", rec.Code, rec.Body)
	}
}

func TestNestedField(t *testing.T) {
	e := newEnv(t, guard.WithField("user.contact.phone"))
	h := e.g.Phone("signup", numbers.SMS)(ok)
	rec := do(h, postJSON(`{"user":{"name":"x","contact":{"phone":"+447400123456"}},"phone":"`+blockedNumber+`"}`))
	if rec.Code != 200 || rec.Header().Get("X-Number") != okNumber {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = do(h, postJSON(`{"user":{"contact":{"phone":"+447400123456"}},"User":{"contact":{}}}`))
	if rec.Code != 400 {
		t.Fatalf("duplicate parent: %d %s", rec.Code, rec.Body)
	}
}

// countingBody counts the bytes read from it.
type countingBody struct {
	r io.Reader
	n int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
func (c *countingBody) Close() error { return nil }

func TestLargeBodyUnread(t *testing.T) {
	e := newEnv(t)
	h := e.g.Phone("signup", numbers.SMS)(ok)
	big := &countingBody{r: io.LimitReader(zeros{}, 10<<20)}
	r := httptest.NewRequest(http.MethodPost, "/signup", nil)
	r.Body, r.ContentLength = big, 10<<20
	r.Header.Set("Content-Type", "application/json")
	rec := do(h, r)
	if rec.Code != http.StatusRequestEntityTooLarge || big.n != 0 {
		t.Fatalf("status %d, %d bytes read", rec.Code, big.n)
	}
	if rec.Header().Get("Connection") != "close" {
		t.Fatalf("413 keeps the connection: %v", rec.Header())
	}
	// Without a Content-Length: read up to the bound, no further.
	big = &countingBody{r: io.LimitReader(zeros{}, 10<<20)}
	r = httptest.NewRequest(http.MethodPost, "/signup", nil)
	r.Body, r.ContentLength = big, -1
	r.Header.Set("Content-Type", "application/json")
	rec = do(h, r)
	if rec.Code != http.StatusRequestEntityTooLarge || big.n > 64<<10+1 {
		t.Fatalf("chunked: status %d, %d bytes read", rec.Code, big.n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A number the policy refuses spends nothing; a request refused by one
// rule spends nothing from the others.
func TestAllOrNothing(t *testing.T) {
	e := newEnv(t, guard.WithRefusalLimit(ratelimit.Limit{}))
	h := e.g.Phone("signup", numbers.SMS,
		guard.PerAddr(ratelimit.PerHour(3)),
		guard.PerPhone(ratelimit.PerHour(1)),
	)(ok)
	for range 5 {
		if rec := do(h, postJSON(`{"phone":"`+blockedNumber+`"}`)); rec.Code != 403 {
			t.Fatalf("blocked: %d", rec.Code)
		}
	}
	if rec := do(h, postJSON(`{"phone":"+447400123456"}`)); rec.Code != 200 {
		t.Fatalf("refused numbers spent the address's allowance: %d", rec.Code)
	}
	// The phone limit is spent: this one is refused, and the address
	// keeps its two remaining tokens.
	for range 3 {
		if rec := do(h, postJSON(`{"phone":"+447400123456"}`)); rec.Code != 429 {
			t.Fatalf("phone limit: %d", rec.Code)
		}
	}
	for _, n := range []string{"+447400123457", "+447400123458"} {
		if rec := do(h, postJSON(`{"phone":"`+n+`"}`)); rec.Code != 200 {
			t.Fatalf("%s: %d (denials spent the address's tokens)", n, rec.Code)
		}
	}
	if rec := do(h, postJSON(`{"phone":"+447400123459"}`)); rec.Code != 429 {
		t.Fatalf("address limit: %d", rec.Code)
	}
}

// Issue 16: probing the number policy from one address gets it boxed,
// and the box holds for numbers the policy allows.
func TestRefusalsBoxTheAddress(t *testing.T) {
	var refused, denied []error
	var reason error
	e := newEnv(t,
		guard.WithHooks(guard.Hooks{
			Refused: func(ev guard.Event) { refused = append(refused, ev.Err) },
			Denied:  func(ev guard.Event) { denied = append(denied, ev.Err) },
		}),
		guard.WithDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reason = guard.FailureReason(r)
			guard.ProblemFor(reason).ServeHTTP(w, r)
		})))
	h := e.g.Phone("signup", numbers.SMS, guard.PerAddr(ratelimit.PerHour(100)))(ok)
	n := 0
	for ; n < 100; n++ {
		rec := do(h, postJSON(`{"phone":"+447400123456"}`))
		if rec.Code == 429 {
			break
		}
		if rec.Code != 200 {
			t.Fatalf("good number: %d", rec.Code)
		}
		if rec := do(h, postJSON(`{"phone":"`+blockedNumber+`"}`)); rec.Code != 403 {
			t.Fatalf("blocked number: %d", rec.Code)
		}
	}
	// A burst of 20 refusals, then the address waits for tokens.
	if n != 20 {
		t.Fatalf("stopped after %d refusals, want 20", n)
	}
	// Over its allowance, the address learns nothing more about the
	// policy: 429, not 403.
	if rec := do(h, postJSON(`{"phone":"`+blockedNumber+`"}`)); rec.Code != 429 {
		t.Fatalf("refusal over the allowance: %d", rec.Code)
	}
	var le *guard.LimitError
	if !errors.As(reason, &le) || le.Rule != "refusals" || !errors.Is(reason, numbers.ErrBlocked) {
		t.Fatalf("reason %v", reason)
	}
	// Nine more refusals within ten minutes: ten denials box it.
	for range 9 {
		do(h, postJSON(`{"phone":"`+blockedNumber+`"}`))
	}
	e.clock.Advance(3 * time.Minute) // tokens are back, the box holds
	rec := do(h, postJSON(`{"phone":"+447400123456"}`))
	if rec.Code != 429 {
		t.Fatalf("boxed address sent a code: %d", rec.Code)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "3420" {
		t.Fatalf("Retry-After %q, want the rest of the one-hour box", ra)
	}
	if !errors.As(denied[len(denied)-1], &le) || le.Rule != "refusals" || !le.Penalized {
		t.Fatalf("last denial %v", denied[len(denied)-1])
	}
	if len(refused) != 30 {
		t.Fatalf("Refused hook called %d times, want 30", len(refused))
	}
	for _, err := range refused {
		if !errors.Is(err, numbers.ErrBlocked) {
			t.Fatalf("Refused with %v", err)
		}
	}
	for _, err := range denied {
		if errors.Is(err, numbers.ErrBlocked) {
			t.Fatalf("Denied with a policy refusal %v", err)
		}
	}
	// Another address is not affected.
	r := postJSON(`{"phone":"+447400123456"}`)
	r.RemoteAddr = "198.51.100.9:1234"
	if rec := do(h, r); rec.Code != 200 {
		t.Fatalf("other address: %d", rec.Code)
	}
}

func TestLimitMiddleware(t *testing.T) {
	e := newEnv(t)
	h := e.g.Limit("api", guard.PerAddr(ratelimit.PerMinute(2)), guard.PerRoute(ratelimit.PerMinute(100)))(ok)
	for i := range 2 {
		rec := do(h, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
		want := []string{`"api";r=1;t=30`, `"api";r=0;t=30`}[i]
		if got := rec.Header().Get("RateLimit"); got != want {
			t.Fatalf("RateLimit %q, want %q", got, want)
		}
		if got := rec.Header().Get("RateLimit-Policy"); got != `"api";q=2;w=60` {
			t.Fatalf("RateLimit-Policy %q", got)
		}
	}
	rec := do(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "30" || rec.Header().Get("RateLimit") != `"api";r=0;t=30` {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	// Another client is another bucket.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "[2001:db8::1]:443"
	if rec := do(h, r); rec.Code != 200 {
		t.Fatalf("other client: %d", rec.Code)
	}
	// ... but not another address of the same IPv6 /64.
	for i := range 2 {
		r.RemoteAddr = "[2001:db8::" + string(rune('2'+i)) + "]:443"
		rec = do(h, r)
	}
	if rec.Code != 429 {
		t.Fatalf("same /64: %d", rec.Code)
	}
}

func TestWithoutRateLimitHeaders(t *testing.T) {
	e := newEnv(t, guard.WithoutRateLimitHeaders())
	h := e.g.Limit("api", guard.PerAddr(ratelimit.PerMinute(1)))(ok)
	rec := do(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Header().Get("RateLimit") != "" || rec.Header().Get("RateLimit-Policy") != "" {
		t.Fatalf("headers %v", rec.Header())
	}
	rec = do(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "60" || rec.Header().Get("RateLimit") != "" {
		t.Fatalf("refusal headers %d %v", rec.Code, rec.Header())
	}
}

// The store stopped mid-request: fail closed answers 503, fail open lets
// the request through and says so to the hooks.
func TestStoreFailure(t *testing.T) {
	for _, open := range []bool{false, true} {
		t.Run(map[bool]string{false: "closed", true: "open"}[open], func(t *testing.T) {
			var allowedErr error
			opts := []guard.Option{guard.WithHooks(guard.Hooks{Allowed: func(ev guard.Event) { allowedErr = ev.Err }})}
			if open {
				opts = append(opts, guard.WithFailOpen())
			}
			e := newEnv(t, opts...)
			stop := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_ = e.store.Close(r.Context())
					next.ServeHTTP(w, r)
				})
			}
			h := e.g.Phone("signup", numbers.SMS, guard.PerPhone(ratelimit.PerHour(5)))(ok)
			rec := do(stop(h), postJSON(`{"phone":"+447400123456"}`))
			if open {
				if rec.Code != 200 || !errors.Is(allowedErr, ratelimit.ErrUnavailable) {
					t.Fatalf("fail open: %d, hook err %v", rec.Code, allowedErr)
				}
				return
			}
			if rec.Code != 503 {
				t.Fatalf("fail closed: %d %s", rec.Code, rec.Body)
			}
			if p := problemOf(t, rec); p["type"] != "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity" {
				t.Fatalf("problem %v", p)
			}
		})
	}
}

// stoppingStore is a Store stopped while a take is in flight: the take
// waits until the test stops the store, then fails as a store that went
// away does.
type stoppingStore struct {
	ratelimit.Store
	entered, stop chan struct{}
}

func (s *stoppingStore) Take(ctx context.Context, r ratelimit.Request) (ratelimit.Result, error) {
	s.entered <- struct{}{}
	<-s.stop
	return ratelimit.Result{}, fmt.Errorf("connection reset: %w", ratelimit.ErrUnavailable)
}

func (s *stoppingStore) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (bool, int, error) {
	s.entered <- struct{}{}
	<-s.stop
	return false, 0, fmt.Errorf("connection reset: %w", ratelimit.ErrUnavailable)
}

func TestStoreStoppedInFlight(t *testing.T) {
	for _, open := range []bool{false, true} {
		t.Run(map[bool]string{false: "closed", true: "open"}[open], func(t *testing.T) {
			e := newEnv(t)
			st := &stoppingStore{Store: e.store, entered: make(chan struct{}), stop: make(chan struct{})}
			lim, err := ratelimit.New(st)
			if err != nil {
				t.Fatal(err)
			}
			var opts []guard.Option
			if open {
				opts = append(opts, guard.WithFailOpen())
			}
			g, err := guard.New(lim, opts...)
			if err != nil {
				t.Fatal(err)
			}
			h := g.Phone("signup", numbers.SMS, guard.PerPhone(ratelimit.PerHour(5)))(ok)
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- do(h, postJSON(`{"phone":"+447400123456"}`)) }()
			<-st.entered // the take is in the store
			close(st.stop)
			rec := <-done
			want := map[bool]int{false: 503, true: 200}[open]
			if rec.Code != want {
				t.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
			}
		})
	}
}

func TestDenyHandler(t *testing.T) {
	var reason error
	e := newEnv(t, guard.WithDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reason = guard.FailureReason(r)
		n, _ := guard.Number(r)
		w.Header().Set("X-Masked", n.String())
		w.WriteHeader(http.StatusTeapot)
	})))
	h := e.g.Phone("signup", numbers.SMS)(ok)
	rec := do(h, postJSON(`{"phone":"`+blockedNumber+`"}`))
	var be *numbers.BlockedError
	if rec.Code != http.StatusTeapot || !errors.As(reason, &be) || rec.Header().Get("X-Masked") != numbers.Mask(blockedNumber) {
		t.Fatalf("%d %v %v", rec.Code, reason, rec.Header())
	}
	if guard.FailureReason(httptest.NewRequest("GET", "/", nil)) != nil {
		t.Fatal("FailureReason of a request never refused")
	}
}

func TestNoClientAddr(t *testing.T) {
	e := newEnv(t)
	h := e.g.Limit("api", guard.PerAddr(ratelimit.PerMinute(2)))(ok)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "@" // a Unix socket
	rec := do(h, r)
	if rec.Code != 400 {
		t.Fatalf("%d", rec.Code)
	}
	// A route without address rules does not need one.
	h = e.g.Limit("api2", guard.PerRoute(ratelimit.PerMinute(2)))(ok)
	if rec := do(h, r); rec.Code != 200 {
		t.Fatalf("no address needed: %d", rec.Code)
	}
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if err := e.g.Check(r, "api", guard.PerAddr(ratelimit.PerMinute(1))); err != nil {
		t.Fatal(err)
	}
	err := e.g.Check(r, "api", guard.PerAddr(ratelimit.PerMinute(1)))
	var le *guard.LimitError
	if !errors.As(err, &le) || le.Rule != "addr" || le.RetryAfter != time.Minute || !errors.Is(err, guard.ErrRateLimited) {
		t.Fatalf("%v", err)
	}
	// The same name with other rules is another route, not the one
	// remembered.
	if err := e.g.Check(r, "api", guard.PerAddr(ratelimit.PerMinute(1)), guard.PerRoute(ratelimit.PerMinute(5))); !errors.Is(err, guard.ErrRateLimited) {
		t.Fatalf("%v", err)
	}
	if err := e.g.Check(r, "api", guard.PerRoute(ratelimit.PerMinute(5))); err != nil {
		t.Fatalf("route rule alone: %v", err)
	}
	if err := e.g.Check(r, "api", guard.PerPhone(ratelimit.PerMinute(1))); !errors.Is(err, guard.ErrInvalidConfig) {
		t.Fatalf("phone rule without a number: %v", err)
	}
	if err := e.g.Check(r, "api", guard.Rule{}); !errors.Is(err, guard.ErrInvalidConfig) {
		t.Fatalf("zero rule: %v", err)
	}
}

func TestCheckPhone(t *testing.T) {
	e := newEnv(t)
	body := `{"phone":"+447400123456"}`
	r := postJSON(body)
	n, err := e.g.CheckPhone(r, "signup", numbers.SMS, guard.PerPhone(ratelimit.PerHour(1)))
	if err != nil || n.E164 != okNumber {
		t.Fatalf("%v %v", n, err)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != body {
		t.Fatalf("body after CheckPhone %q", b)
	}
	_, err = e.g.CheckPhone(postJSON(body), "signup", numbers.SMS, guard.PerPhone(ratelimit.PerHour(1)))
	if !errors.Is(err, guard.ErrRateLimited) {
		t.Fatalf("%v", err)
	}
}

func TestMiddlewarePanicsOnBadRoute(t *testing.T) {
	e := newEnv(t)
	for name, f := range map[string]func(){
		"empty name":     func() { e.g.Limit("") },
		"space in name":  func() { e.g.Limit("a b") },
		"phone rule":     func() { e.g.Limit("x", guard.PerPhone(ratelimit.PerHour(1))) },
		"invalid limit":  func() { e.g.Phone("x", numbers.SMS, guard.PerPhone(ratelimit.Limit{})) },
		"block drop":     func() { e.g.Phone("x", numbers.SMS, guard.PerBlock(0, ratelimit.PerHour(1))) },
		"too many rules": func() { e.g.Limit("x", make([]guard.Rule, 9)...) },
		"zero rule":      func() { e.g.Limit("x", guard.Rule{}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, guard.ErrInvalidConfig) {
					t.Fatalf("recovered %v", err)
				}
			}()
			f()
		})
	}
}

func TestNewErrors(t *testing.T) {
	store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	lim, _ := ratelimit.New(store)
	for name, opts := range map[string][]guard.Option{
		"region":        {guard.WithRegion("uk")},
		"proxy":         {guard.WithTrustedProxies("10.0.0.0/33")},
		"zoned proxy":   {guard.WithTrustedProxies("fe80::1%eth0")},
		"hops":          {guard.WithProxyHops(-1)},
		"hops header":   {guard.WithProxyHops(1), guard.WithProxyHeader("X-Real-IP")},
		"header":        {guard.WithProxyHeader("X Bad")},
		"field":         {guard.WithField("user..phone")},
		"field unicode": {guard.WithField("téléphone")},
		"max body":      {guard.WithMaxBody(10)},
		"refusals":      {guard.WithRefusalLimit(ratelimit.Limit{Rate: 1})},
		"nil policy":    {guard.WithPolicy(nil)},
		"channel":       {guard.WithPolicy(numbers.ModeratePolicy(), numbers.Channel(7))},
	} {
		if _, err := guard.New(lim, opts...); !errors.Is(err, guard.ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := guard.New(nil); !errors.Is(err, guard.ErrInvalidConfig) {
		t.Errorf("nil limiter: %v", err)
	}
}

func TestWith(t *testing.T) {
	e := newEnv(t, guard.WithRegion("GB"))
	g2, err := e.g.With(guard.WithField("to"))
	if err != nil {
		t.Fatal(err)
	}
	h := g2.Phone("invite", numbers.SMS)(ok)
	if rec := do(h, postJSON(`{"to":"07400 123456"}`)); rec.Code != 200 || rec.Header().Get("X-Number") != okNumber {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if _, err := e.g.With(guard.WithRegion("x")); !errors.Is(err, guard.ErrInvalidConfig) {
		t.Fatal(err)
	}
}

func TestLogsAndHooks(t *testing.T) {
	var buf testkit.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var allowed, denied []guard.Event
	e := newEnv(t, guard.WithLogger(logger), guard.WithHooks(guard.Hooks{
		Allowed: func(ev guard.Event) { allowed = append(allowed, ev) },
		Denied:  func(ev guard.Event) { denied = append(denied, ev) },
		Refused: func(ev guard.Event) { denied = append(denied, ev) },
	}))
	h := e.g.Phone("signup", numbers.SMS, guard.PerPhone(ratelimit.PerHour(1)))(ok)
	do(h, postJSON(`{"phone":"+447400123456"}`))
	do(h, postJSON(`{"phone":"+447400123456"}`))
	do(h, postJSON(`{"phone":"`+blockedNumber+`"}`))
	do(h, postJSON(`{"phone":"nope"}`))
	if len(allowed) != 1 || len(denied) != 3 {
		t.Fatalf("%d allowed, %d denied", len(allowed), len(denied))
	}
	if ev := allowed[0]; ev.Route != "signup" || ev.Number.E164 != okNumber || ev.Addr.String() != "192.0.2.1" || ev.Err != nil {
		t.Fatalf("allowed %+v", ev)
	}
	if !errors.Is(denied[0].Err, guard.ErrRateLimited) || !errors.Is(denied[1].Err, numbers.ErrBlocked) ||
		!errors.Is(denied[2].Err, numbers.ErrInvalid) {
		t.Fatalf("denied %v %v %v", denied[0].Err, denied[1].Err, denied[2].Err)
	}
	out := buf.String()
	if strings.Count(out, "guard: allowed") != 1 || strings.Count(out, "guard: denied") != 3 {
		t.Fatalf("log:\n%s", out)
	}
	for _, full := range []string{"447400123456", "37190012345", "nope"} {
		if strings.Contains(out, full) {
			t.Fatalf("log carries %q:\n%s", full, out)
		}
	}
	if !strings.Contains(out, numbers.Mask(okNumber)) {
		t.Fatalf("log without the masked number:\n%s", out)
	}
}

// Store failures are logged at Warn, at most once a second.
func TestStoreFailureLogged(t *testing.T) {
	var buf testkit.Buffer
	e := newEnv(t, guard.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	h := e.g.Limit("api", guard.PerAddr(ratelimit.PerHour(100)))(ok)
	_ = e.store.Close(context.Background())
	for range 50 {
		if rec := do(h, httptest.NewRequest(http.MethodGet, "/", nil)); rec.Code != 503 {
			t.Fatalf("%d", rec.Code)
		}
	}
	if n := strings.Count(buf.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings:\n%s", n, buf.String())
	}
}

// Many goroutines through one Guard: the race detector watches the pooled
// scratch, the keys and the headers.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, guard.WithRefusalLimit(ratelimit.Limit{}))
	h := e.g.Phone("signup", numbers.SMS, guard.PerAddr(ratelimit.PerHour(1000)), guard.PerPhone(ratelimit.PerHour(5)))(ok)
	var wg sync.WaitGroup
	codes := make([][]int, 8)
	for w := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				r := postJSON(fmt.Sprintf(`{"phone":"+4474001234%02d"}`, i%10))
				r.RemoteAddr = fmt.Sprintf("192.0.2.%d:1", w)
				rec := do(h, r)
				codes[w] = append(codes[w], rec.Code)
				if rec.Code == 200 && rec.Header().Get("X-Number") != fmt.Sprintf("+4474001234%02d", i%10) {
					t.Errorf("number %q for request %d", rec.Header().Get("X-Number"), i)
				}
			}
		}()
	}
	wg.Wait()
	okCount := 0
	for _, c := range codes {
		for _, code := range c {
			if code == 200 {
				okCount++
			}
		}
	}
	// Ten numbers, five each.
	if okCount != 50 {
		t.Fatalf("%d allowed, want 50", okCount)
	}
}
