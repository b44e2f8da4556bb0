package guard

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
)

func smsParams() url.Values {
	return url.Values{
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "Body": {"Hello there"},
		"From": {"+15005550006"}, "To": {"+15005550001"}, "MessageSid": {"SM0123"},
	}
}

func TestWebhookHandlerRestoresBody(t *testing.T) {
	params := smsParams()
	body := params.Encode()
	target := "https://example.com/sms"
	var got []byte
	var form url.Values
	h := newTestWebhook(t, WebhookConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		if got, err = io.ReadAll(r.Body); err != nil {
			t.Error(err)
		}
		r.Body = io.NopCloser(strings.NewReader(string(got)))
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		form = r.PostForm
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, formRequest(target, body, TwilioSignature(vecToken, target, params)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if string(got) != body {
		t.Errorf("handler read %q, want %q", got, body)
	}
	if !sameMultiset(form, params) {
		t.Errorf("handler parsed %v", form)
	}
}

func TestWebhookHandlerParseFormDirectly(t *testing.T) {
	params := smsParams()
	target := "https://example.com/sms"
	var from string
	h := newTestWebhook(t, WebhookConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from = r.FormValue("From")
	}))
	h.ServeHTTP(httptest.NewRecorder(), formRequest(target, params.Encode(), TwilioSignature(vecToken, target, params)))
	if from != "+15005550006" {
		t.Errorf("FormValue(From) = %q", from)
	}
}

func TestWebhookRefusals(t *testing.T) {
	target := "https://example.com/sms"
	params := smsParams()
	sig := TwilioSignature(vecToken, target, params)
	called := false
	h := newTestWebhook(t, WebhookConfig{MaxBody: 1024}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	tests := []struct {
		name   string
		r      *http.Request
		status int
	}{
		{"no signature", formRequest(target, params.Encode(), ""), http.StatusForbidden},
		{"bad signature", formRequest(target, params.Encode(), flipBit(sig)), http.StatusForbidden},
		{"too large", formRequest(target, strings.Repeat("a", 1025), sig), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called = false
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if called {
				t.Error("handler called")
			}
			if b := rec.Body.String(); strings.Contains(b, "signature") || strings.Contains(b, "+1500") {
				t.Errorf("body says too much: %s", b)
			}
		})
	}
}

// webhookCountingReader counts what is read from it.
type webhookCountingReader struct {
	r io.Reader
	n int
}

func (c *webhookCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestWebhookLargeBodyNotRead(t *testing.T) {
	w := newTestWebhook(t, WebhookConfig{MaxBody: 4096})
	sig := TwilioSignature(vecToken, "https://example.com/sms", nil)

	// Declared too large: refused before reading.
	body := &webhookCountingReader{r: strings.NewReader(strings.Repeat("a=b&", 10<<20/4))}
	r := httptest.NewRequest(http.MethodPost, "https://example.com/sms", body)
	r.ContentLength = 10 << 20
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(headerTwilioSignature, sig)
	var mbe *http.MaxBytesError
	if err := w.Check(r); !errors.As(err, &mbe) {
		t.Fatalf("Check = %v, want *http.MaxBytesError", err)
	}
	if body.n != 0 {
		t.Errorf("read %d bytes of a body declared too large", body.n)
	}

	// Length unknown: read up to the bound and no further.
	body = &webhookCountingReader{r: strings.NewReader(strings.Repeat("a=b&", 10<<20/4))}
	r = httptest.NewRequest(http.MethodPost, "https://example.com/sms", body)
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(headerTwilioSignature, sig)
	if err := w.Check(r); !errors.As(err, &mbe) {
		t.Fatalf("Check = %v, want *http.MaxBytesError", err)
	}
	if body.n > 2*4096+512 {
		t.Errorf("read %d bytes for a bound of 4096", body.n)
	}

	// Without a signature nothing is read at all.
	body = &webhookCountingReader{r: strings.NewReader("a=b")}
	r = httptest.NewRequest(http.MethodPost, "https://example.com/sms", body)
	if err := w.Check(r); !errors.Is(err, ErrSignature) || body.n != 0 {
		t.Errorf("unsigned request: %v, %d bytes read", err, body.n)
	}
}

func webhookTestLimiter(t testing.TB, now func() time.Time) *ratelimit.Limiter {
	t.Helper()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ratelimit.New(store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

func TestWebhookReplay(t *testing.T) {
	clock := testkit.NewClock()
	w := newTestWebhook(t, WebhookConfig{Replay: webhookTestLimiter(t, clock.Now), ReplayWindow: 10 * time.Minute})
	target := "https://example.com/sms"
	params := smsParams()
	sig := TwilioSignature(vecToken, target, params)
	send := func(token string) error {
		r := formRequest(target, params.Encode(), sig)
		if token != "" {
			r.Header.Set(headerIdempotency, token)
		}
		return w.Check(r)
	}
	if err := send("tok-1"); err != nil {
		t.Fatal(err)
	}
	if err := send("tok-1"); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second delivery: %v, want ErrReplayed", err)
	}
	if err := send("tok-2"); err != nil {
		t.Errorf("another token: %v", err)
	}
	if err := send(""); err != nil {
		t.Errorf("no token: %v", err)
	}
	long := strings.Repeat("x", 4096)
	if err := send(long); err != nil {
		t.Errorf("long token: %v", err)
	}
	if err := send(long); !errors.Is(err, ErrReplayed) {
		t.Errorf("long token again: %v", err)
	}
	clock.Advance(10 * time.Minute)
	if err := send("tok-1"); err != nil {
		t.Errorf("after the window: %v", err)
	}
	// A forged request does not burn a token.
	r := formRequest(target, params.Encode(), flipBit(sig))
	r.Header.Set(headerIdempotency, "tok-3")
	if err := w.Check(r); !errors.Is(err, ErrSignature) {
		t.Fatal(err)
	}
	if err := send("tok-3"); err != nil {
		t.Errorf("token seen only on a forgery: %v", err)
	}

	rec := httptest.NewRecorder()
	r = formRequest(target, params.Encode(), sig)
	r.Header.Set(headerIdempotency, "tok-1")
	w.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	if rec.Code != http.StatusConflict {
		t.Errorf("replay answered %d, want 409", rec.Code)
	}
}

// webhookDownStore is a store that cannot answer.
type webhookDownStore struct{}

func (webhookDownStore) Take(context.Context, ratelimit.Request) (ratelimit.Result, error) {
	return ratelimit.Result{}, ratelimit.ErrUnavailable
}

func (webhookDownStore) TakeAll(context.Context, []ratelimit.Request, []ratelimit.Result) (bool, int, error) {
	return false, 0, ratelimit.ErrUnavailable
}
func (webhookDownStore) Close(context.Context) error { return nil }

func TestWebhookReplayStoreDown(t *testing.T) {
	target := "https://example.com/sms"
	params := smsParams()
	sig := TwilioSignature(vecToken, target, params)
	for _, tt := range []struct {
		name   string
		opts   []ratelimit.Option
		status int
	}{
		{"fail closed", nil, http.StatusServiceUnavailable},
		{"fail open", []ratelimit.Option{ratelimit.WithFailOpen()}, http.StatusOK},
	} {
		l, err := ratelimit.New(webhookDownStore{}, tt.opts...)
		if err != nil {
			t.Fatal(err)
		}
		h := newTestWebhook(t, WebhookConfig{Replay: l}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		r := formRequest(target, params.Encode(), sig)
		r.Header.Set(headerIdempotency, "tok")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.status)
		}
	}
}

func TestWebhookTokenRotation(t *testing.T) {
	target := "https://example.com/sms"
	params := smsParams()
	oldTok, newTok := "0ld0123456789abcdef0123456789abc", "new0123456789abcdef0123456789abc"
	w := newTestWebhook(t, WebhookConfig{}, oldTok)
	check := func(tok string) error {
		return w.Check(formRequest(target, params.Encode(), TwilioSignature(tok, target, params)))
	}
	if check(oldTok) != nil || check(newTok) == nil {
		t.Fatal("before rotation")
	}
	if err := w.SetAuthTokens(oldTok, newTok); err != nil {
		t.Fatal(err)
	}
	if check(oldTok) != nil || check(newTok) != nil {
		t.Fatal("during rotation both must pass")
	}
	if err := w.SetAuthTokens(newTok); err != nil {
		t.Fatal(err)
	}
	if check(oldTok) == nil || check(newTok) != nil {
		t.Fatal("after rotation only the new token")
	}
	if err := w.SetAuthTokens(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SetAuthTokens() = %v", err)
	}
	if err := w.SetAuthTokens(newTok + "\n"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("token with a newline: %v", err)
	}
	if check(newTok) != nil {
		t.Error("a failed SetAuthTokens changed the tokens")
	}
}

// Tokens change while requests are being checked.
func TestWebhookRotationConcurrent(t *testing.T) {
	target := "https://example.com/sms"
	params := smsParams()
	a, b := "aaaa0123456789abcdef0123456789ab", "bbbb0123456789abcdef0123456789ab"
	w := newTestWebhook(t, WebhookConfig{}, a, b)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if err := w.Check(formRequest(target, params.Encode(), TwilioSignature(a, target, params))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 200 {
		if err := w.SetAuthTokens(a, b); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

func TestWebhookDenyHandlerAndLog(t *testing.T) {
	var logs testkit.Buffer
	var reason error
	w := newTestWebhook(t, WebhookConfig{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		DenyHandler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			reason = FailureReason(r)
			rw.WriteHeader(http.StatusTeapot)
		}),
	})
	rec := httptest.NewRecorder()
	r := formRequest("https://example.com/sms?From=%2B15005550006", smsParams().Encode(), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	w.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	if rec.Code != http.StatusTeapot {
		t.Errorf("status %d", rec.Code)
	}
	if !errors.Is(reason, ErrSignature) {
		t.Errorf("FailureReason = %v", reason)
	}
	out := logs.String()
	if !strings.Contains(out, "https://example.com/sms") || strings.Contains(out, "5550006") || strings.Contains(out, "AAAA") {
		t.Errorf("log: %s", out)
	}
	if FailureReason(httptest.NewRequest(http.MethodGet, "/", nil)) != nil {
		t.Error("FailureReason of an ordinary request")
	}
}

func TestNewWebhookConfigErrors(t *testing.T) {
	l := webhookTestLimiter(t, nil)
	for _, tt := range []struct {
		name   string
		tokens []string
		cfg    WebhookConfig
	}{
		{"no keys", nil, WebhookConfig{}},
		{"empty token", []string{""}, WebhookConfig{}},
		{"token with a newline", []string{"abc\n"}, WebhookConfig{}},
		{"empty shared key", nil, WebhookConfig{SharedKeys: map[string]string{"KS1": ""}}},
		{"negative MaxBody", []string{"t"}, WebhookConfig{MaxBody: -1}},
		{"bad PublicURL", []string{"t"}, WebhookConfig{PublicURL: "example.com"}},
		{"window without store", []string{"t"}, WebhookConfig{ReplayWindow: time.Hour}},
		{"window too small", []string{"t"}, WebhookConfig{Replay: l, ReplayWindow: time.Nanosecond}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewWebhook(tt.tokens, tt.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewWebhook = %v, want ErrInvalidConfig", err)
			}
		})
	}
	// Shared keys alone are enough.
	if _, err := NewWebhook(nil, WebhookConfig{SharedKeys: map[string]string{"KS1": "x"}}); err != nil {
		t.Error(err)
	}
}

// A genuine request costs two allocations: the body and its reader, which
// the handler keeps (see Webhook.Handler); everything else is pooled.
func TestWebhookCheckAllocations(t *testing.T) {
	if webhookRace {
		t.Skip("allocation counts are off under the race detector")
	}
	target := "https://example.com/sms"
	params := twelveParams()
	body := params.Encode()
	sig := TwilioSignature(vecToken, target, params)
	w := newTestWebhook(t, WebhookConfig{PublicURL: "https://example.com"})
	h := w.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := formRequest("http://app/sms", body, sig)
	br := &reusableBody{}
	rec := httptest.NewRecorder()
	allocs := testing.AllocsPerRun(100, func() {
		br.Reset(body)
		r.Body = br
		h.ServeHTTP(rec, r)
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if allocs > 2 {
		t.Errorf("%v allocations per request", allocs)
	}
}

// reusableBody is a request body that a test resets instead of allocating.
type reusableBody struct{ strings.Reader }

func (*reusableBody) Close() error { return nil }

// Regression (found by FuzzWebhook): Check left r.Body reading the pooled
// scratch, which the next check emptied.
func TestCheckLeavesBodyReadable(t *testing.T) {
	w := newTestWebhook(t, WebhookConfig{})
	target := "https://example.com/sms"
	params := smsParams()
	r := formRequest(target, params.Encode(), TwilioSignature(vecToken, target, params))
	if err := w.Check(r); err != nil {
		t.Fatal(err)
	}
	other := url.Values{"Body": {"other"}}
	for range 10 {
		if err := w.Check(formRequest(target, other.Encode(), TwilioSignature(vecToken, target, other))); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.ParseForm(); err != nil || !sameMultiset(r.PostForm, params) {
		t.Fatalf("after Check the handler reads %v (%v)", r.PostForm, err)
	}
}

// Regression: the handler's body must not be a pooled buffer that the next
// request overwrites, for a handler still reading after Handler returned
// (http.TimeoutHandler's goroutine does).
func TestWebhookHandlerBodyOutlivesRequest(t *testing.T) {
	w := newTestWebhook(t, WebhookConfig{})
	target := "https://example.com/sms"
	var kept []io.Reader
	h := w.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { kept = append(kept, r.Body) }))
	var bodies []string
	for i := range 20 {
		p := url.Values{"Body": {strings.Repeat(string(rune('a'+i)), 40)}}
		bodies = append(bodies, p.Encode())
		h.ServeHTTP(httptest.NewRecorder(), formRequest(target, p.Encode(), TwilioSignature(vecToken, target, p)))
	}
	for i, b := range kept {
		got, _ := io.ReadAll(b)
		if string(got) != bodies[i] {
			t.Fatalf("request %d: body read late is %q, want %q", i, got, bodies[i])
		}
	}
}
