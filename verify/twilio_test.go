package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/antifraud-go/antifraud/verify/verifytest"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

const (
	testPhone = "+447700900123"
	ukPhone   = "+447400123456" // GB mobile, for the number policy
)

func newTwilio(t *testing.T) (*verify.TwilioSender, *verifytest.Server) {
	t.Helper()
	srv := verifytest.NewServer()
	t.Cleanup(srv.Close)
	s, err := verify.NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

func TestTwilioSendAndCheck(t *testing.T) {
	ctx := context.Background()
	s, srv := newTwilio(t)
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS, Locale: "en"}); err != nil {
		t.Fatalf("SendCode: %v", err)
	}
	code, ok := srv.Code(testPhone)
	if !ok {
		t.Fatal("no code issued")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if err := s.CheckCode(ctx, testPhone, wrong); !errors.Is(err, verify.ErrInvalidCode) {
		t.Fatalf("wrong code: got %v, want ErrInvalidCode", err)
	}
	if err := s.CheckCode(ctx, testPhone, code); err != nil {
		t.Fatalf("right code: %v", err)
	}
	// Approved verifications are gone: Twilio answers 20404.
	if err := s.CheckCode(ctx, testPhone, code); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("second check: got %v, want ErrExpired", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 4 || reqs[0].Endpoint != verifytest.CreateVerification || reqs[0].Channel != "sms" ||
		reqs[0].Locale != "en" || reqs[0].Host != "verify.twilio.com" || reqs[3].ErrorCode != 20404 {
		t.Fatalf("recorded requests: %+v", reqs)
	}
}

func TestTwilioSenderChannelsAndBaseClient(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	fromRest, err := verify.NewTwilioSender(srv.RestClient().VerifyV2, verifytest.ServiceSID)
	if err != nil {
		t.Fatal(err)
	}
	fromBase, err := verify.NewTwilioSender(openapi.NewApiServiceWithClient(srv.BaseClient()), verifytest.ServiceSID)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range []struct {
		s    *verify.TwilioSender
		ch   numbers.Channel
		name string
	}{{fromRest, numbers.Voice, "call"}, {fromBase, numbers.SMS, "sms"}, {fromRest, numbers.WhatsApp, "whatsapp"}} {
		to := fmt.Sprintf("+1415555010%d", i)
		if err := tt.s.SendCode(context.Background(), verify.SendRequest{To: to, Channel: tt.ch}); err != nil {
			t.Fatal(err)
		}
		if got := srv.Requests()[2*i].Channel; got != tt.name {
			t.Errorf("%v sent as %q, want Twilio's %q", tt.ch, got, tt.name)
		}
		code, _ := srv.Code(to)
		if err := tt.s.CheckCode(context.Background(), to, code); err != nil {
			t.Fatal(err)
		}
	}
	if err := fromRest.SendCode(context.Background(), verify.SendRequest{To: "a@example.com", Channel: numbers.Email}); err != nil {
		t.Fatal(err)
	}
	if err := fromRest.SendCode(context.Background(), verify.SendRequest{To: testPhone, Channel: numbers.Channel(9)}); !errors.Is(err, verify.ErrInvalidChannel) {
		t.Fatalf("unknown channel: %v", err)
	}
}

// TestTwilioSenderLocale: a locale reaches Twilio only as one of its
// language tags, in Twilio's case; anything else is refused unsent.
func TestTwilioSenderLocale(t *testing.T) {
	s, srv := newTwilio(t)
	for in, want := range map[string]string{"pt-br": "pt-BR", "EN-gb": "en-GB", "iw": "he", "fil": "tl", "": ""} {
		if err := s.SendCode(context.Background(), verify.SendRequest{To: testPhone, Channel: numbers.SMS, Locale: in}); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		reqs := srv.Requests()
		if got := reqs[len(reqs)-1].Locale; got != want {
			t.Errorf("%q sent as %q, want %q", in, got, want)
		}
	}
	before := len(srv.Requests())
	for _, bad := range []string{"en\r\nX: y", "en_GB", "xx", "en-GB-x-foo", "zh-Hans", "und"} {
		if err := s.SendCode(context.Background(), verify.SendRequest{To: testPhone, Channel: numbers.SMS, Locale: bad}); !errors.Is(err, verify.ErrInvalidLocale) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if n := len(srv.Requests()) - before; n != 0 {
		t.Fatalf("%d requests with a bad locale reached Twilio", n)
	}
}

func TestNewTwilioSenderConfig(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	tests := []struct {
		name string
		sid  string
		api  bool
	}{
		{"nil api", verifytest.ServiceSID, false},
		{"empty sid", "", true},
		{"account sid", verifytest.AccountSID, true},
		{"short", "VA123", true},
		{"bad char", "VA0123456789abcdef0123456789abcde/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := srv.RestClient().VerifyV2
			if !tt.api {
				api = nil
			}
			if _, err := verify.NewTwilioSender(api, tt.sid); !errors.Is(err, verify.ErrInvalidConfig) {
				t.Fatalf("got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestTwilioErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		ep         verifytest.Endpoint
		fail       verifytest.Error
		want       error
		notWant    error
		retryAfter time.Duration
		reason     string
	}{
		{"60200 send", verifytest.CreateVerification, verifytest.Error{Code: 60200}, verify.ErrInvalidNumber, verify.ErrProvider, 0, ""},
		{"60200 check", verifytest.CheckVerification, verifytest.Error{Code: 60200}, verify.ErrInvalidCode, verify.ErrProvider, 0, ""},
		{"60202 check", verifytest.CheckVerification, verifytest.Error{Code: 60202}, verify.ErrTooManyAttempts, verify.ErrProvider, 10 * time.Minute, ""},
		{"60203 send", verifytest.CreateVerification, verifytest.Error{Code: 60203}, verify.ErrRateLimited, verify.ErrProvider, 10 * time.Minute, ""},
		{"60212 send", verifytest.CreateVerification, verifytest.Error{Code: 60212}, verify.ErrRateLimited, verify.ErrProvider, time.Second, ""},
		{"20429 send", verifytest.CreateVerification, verifytest.Error{Code: 20429}, verify.ErrRateLimited, verify.ErrProvider, time.Second, ""},
		{"20429 check", verifytest.CheckVerification, verifytest.Error{Code: 20429}, verify.ErrRateLimited, verify.ErrProvider, time.Second, ""},
		{"60410 send", verifytest.CreateVerification, verifytest.Error{Code: 60410}, verify.ErrBlocked, verify.ErrProvider, 0, "fraud_guard"},
		{"60605 send", verifytest.CreateVerification, verifytest.Error{Code: 60605}, verify.ErrBlocked, verify.ErrProvider, 0, "geo_permission"},
		{"20404 check", verifytest.CheckVerification, verifytest.Error{Code: 20404}, verify.ErrExpired, verify.ErrProvider, 0, ""},
		{"20404 send", verifytest.CreateVerification, verifytest.Error{Code: 20404}, verify.ErrProvider, verify.ErrExpired, 0, ""},
		{"20003 send", verifytest.CreateVerification, verifytest.Error{Code: 20003}, verify.ErrProvider, nil, 0, ""},
		{"unknown code", verifytest.CreateVerification, verifytest.Error{Code: 60999}, verify.ErrProvider, nil, 0, ""},
		{"503", verifytest.CheckVerification, verifytest.Error{Status: 503, Code: 20500, Message: "Service unavailable"}, verify.ErrProvider, verify.ErrInvalidCode, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := newTwilio(t)
			ctx := context.Background()
			if tt.ep == verifytest.CheckVerification {
				if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
					t.Fatal(err)
				}
			}
			srv.FailNext(tt.ep, tt.fail)
			var err error
			if tt.ep == verifytest.CheckVerification {
				err = s.CheckCode(ctx, testPhone, "123456")
			} else {
				err = s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS})
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Fatalf("%v also matches %v", err, tt.notWant)
			}
			var pe *verify.ProviderError
			if !errors.As(err, &pe) || pe.Code != tt.fail.Code || pe.Status < 400 || tt.fail.Status != 0 && pe.Status != tt.fail.Status {
				t.Fatalf("ProviderError: %#v", pe)
			}
			var rest *client.TwilioRestError
			if !errors.As(err, &rest) || rest.Code != tt.fail.Code {
				t.Fatalf("twilio-go error not reachable: %v", err)
			}
			var le *verify.LimitError
			if got := time.Duration(0); errors.As(err, &le) && le.RetryAfter != tt.retryAfter || !errors.As(err, &le) && tt.retryAfter != got {
				t.Fatalf("LimitError %v, want RetryAfter %v", le, tt.retryAfter)
			}
			var be *verify.BlockedError
			if tt.reason != "" && (!errors.As(err, &be) || be.Reason != tt.reason) {
				t.Fatalf("BlockedError: %#v", be)
			}
		})
	}
}

func TestTwilioProviderUnavailable(t *testing.T) {
	s, srv := newTwilio(t)
	srv.FailNext(verifytest.CreateVerification, verifytest.Error{Status: 503, Code: 20500})
	err := s.SendCode(context.Background(), verify.SendRequest{To: testPhone, Channel: numbers.SMS})
	var pe *verify.ProviderError
	if !errors.As(err, &pe) || pe.Status != 503 {
		t.Fatalf("503: got %v", err)
	}
	srv.FailNext(verifytest.CreateVerification, verifytest.Error{Code: 20003})
	err = s.SendCode(context.Background(), verify.SendRequest{To: testPhone, Channel: numbers.SMS})
	if !errors.As(err, &pe) || pe.Status != 401 {
		t.Fatalf("401: got %v", err)
	}
}

// stalledCall starts call in a goroutine against a stalled endpoint and
// returns its error once stop has been applied after the request arrived.
func stalledCall(t *testing.T, srv *verifytest.Server, ep verifytest.Endpoint, call func(context.Context) error, stop func(context.CancelFunc)) error {
	t.Helper()
	arrived, release := srv.Stall(ep)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	<-arrived
	stop(cancel)
	return <-done
}

func TestTwilioContextCancelEndsCall(t *testing.T) {
	for _, ep := range []verifytest.Endpoint{verifytest.CreateVerification, verifytest.CheckVerification} {
		t.Run(string(ep), func(t *testing.T) {
			s, srv := newTwilio(t)
			call := func(ctx context.Context) error {
				if ep == verifytest.CreateVerification {
					return s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS})
				}
				return s.CheckCode(ctx, testPhone, "123456")
			}
			err := stalledCall(t, srv, ep, call, func(cancel context.CancelFunc) { cancel() })
			if !errors.Is(err, context.Canceled) || !errors.Is(err, verify.ErrProvider) {
				t.Fatalf("got %v, want context.Canceled and ErrProvider", err)
			}
		})
	}
}

// deadlineCtx is a context whose deadline passes when expire is called, so
// that a test can reach a deadline at a known point without a timer.
type deadlineCtx struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newDeadlineCtx() *deadlineCtx {
	return &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
}

func (c *deadlineCtx) expire()                     { c.once.Do(func() { close(c.done) }) }
func (c *deadlineCtx) Done() <-chan struct{}       { return c.done }
func (c *deadlineCtx) Deadline() (time.Time, bool) { return time.Now().Add(time.Hour), true }
func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func TestTwilioContextDeadlineEndsCall(t *testing.T) {
	s, srv := newTwilio(t)
	arrived, release := srv.Stall(verifytest.CreateVerification)
	defer release()
	ctx := newDeadlineCtx()
	done := make(chan error, 1)
	go func() { done <- s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}) }()
	<-arrived // the request is at the server, which will never answer
	ctx.expire()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, verify.ErrProvider) {
		t.Fatalf("got %v, want context.DeadlineExceeded and ErrProvider", err)
	}
}

func TestTwilioContextAlreadyDone(t *testing.T) {
	s, srv := newTwilio(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent with a done context", n)
	}
}

// wrappedClient is a client.BaseClient that is not a *client.Client, so the
// sender cannot bind it to a context.
type wrappedClient struct{ *client.Client }

func (w wrappedClient) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	return w.Client.SendRequest(method, rawURL, data, headers, body...)
}

func TestTwilioCustomBaseClientCancel(t *testing.T) {
	srv := verifytest.NewServer()
	defer srv.Close()
	s, err := verify.NewTwilioSender(openapi.NewApiServiceWithClient(wrappedClient{srv.BaseClient()}), verifytest.ServiceSID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendCode(context.Background(), verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
		t.Fatalf("plain call: %v", err)
	}
	err = stalledCall(t, srv, verifytest.CheckVerification, func(ctx context.Context) error {
		return s.CheckCode(ctx, testPhone, "123456")
	}, func(cancel context.CancelFunc) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestTwilioCheckStatusNeverPassesUnlessApproved(t *testing.T) {
	s, srv := newTwilio(t)
	ctx := context.Background()
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
		t.Fatal(err)
	}
	code, _ := srv.Code(testPhone)
	for i := range 5 { // Twilio Verify answers 5 checks of a code
		wrong := code[:5] + string(rune('0'+(int(code[5]-'0')+1+i)%10))
		if err := s.CheckCode(ctx, testPhone, wrong); !errors.Is(err, verify.ErrInvalidCode) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// The server's 6th check is refused whatever the code.
	if err := s.CheckCode(ctx, testPhone, code); !errors.Is(err, verify.ErrTooManyAttempts) {
		t.Fatalf("after max checks: %v", err)
	}
	if err := s.CheckCode(ctx, testPhone, ""); !errors.Is(err, verify.ErrInvalidCode) {
		t.Fatalf("empty code: %v", err)
	}
}
