package verify_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/verify"
)

var codeLine = regexp.MustCompile(`code for (\S+) is (\d+)`)

// lastCode returns the last code printed to out.
func lastCode(t *testing.T, out string) string {
	t.Helper()
	m := codeLine.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no code printed in %q", out)
	}
	return m[len(m)-1][2]
}

func newLocal(t *testing.T, cfg verify.LocalConfig) (*verify.UnsafeLocalSender, *testkit.Buffer, *testkit.Clock) {
	t.Helper()
	out := &testkit.Buffer{}
	clock := testkit.NewClock()
	cfg.Out, cfg.Now = out, clock.Now
	s, err := verify.NewUnsafeLocalSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, out, clock
}

func TestLocalSenderFlow(t *testing.T) {
	ctx := context.Background()
	s, out, _ := newLocal(t, verify.LocalConfig{})
	if !strings.Contains(out.String(), "never use it in production") {
		t.Fatalf("no warning printed: %q", out)
	}
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
		t.Fatal(err)
	}
	code := lastCode(t, out.String())
	if len(code) != 6 {
		t.Fatalf("code %q is not 6 digits", code)
	}
	if strings.Contains(out.String(), testPhone) {
		t.Fatalf("number printed unmasked: %q", out)
	}
	// A resend while pending prints the same code, as Twilio does.
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
		t.Fatal(err)
	}
	if again := lastCode(t, out.String()); again != code {
		t.Fatalf("resend printed %q, want %q", again, code)
	}
	wrong := code[:5] + string(rune('0'+(int(code[5]-'0')+1)%10))
	if err := s.CheckCode(ctx, testPhone, wrong); !errors.Is(err, verify.ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
	if err := s.CheckCode(ctx, testPhone, code); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := s.CheckCode(ctx, testPhone, code); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("reused code: %v", err)
	}
}

func TestLocalSenderExpiry(t *testing.T) {
	ctx := context.Background()
	s, out, clock := newLocal(t, verify.LocalConfig{TTL: time.Minute})
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
		t.Fatal(err)
	}
	code := lastCode(t, out.String())
	clock.Advance(time.Minute)
	if err := s.CheckCode(ctx, testPhone, code); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("expired code: %v", err)
	}
	// After expiry a send makes a fresh verification that works.
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if err := s.CheckCode(ctx, testPhone, lastCode(t, out.String())); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
}

func TestLocalSenderMaxAttempts(t *testing.T) {
	ctx := context.Background()
	s, out, _ := newLocal(t, verify.LocalConfig{MaxAttempts: 3, CodeLength: 8})
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); err != nil {
		t.Fatal(err)
	}
	code := lastCode(t, out.String())
	if len(code) != 8 {
		t.Fatalf("code %q is not 8 digits", code)
	}
	for range 3 {
		if err := s.CheckCode(ctx, testPhone, "nope"); !errors.Is(err, verify.ErrInvalidCode) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	err := s.CheckCode(ctx, testPhone, code)
	if !errors.Is(err, verify.ErrTooManyAttempts) {
		t.Fatalf("after max attempts: %v", err)
	}
	var le *verify.LimitError
	if !errors.As(err, &le) || le.RetryAfter != 10*time.Minute || le.Scope != "attempts" {
		t.Fatalf("LimitError %+v", le)
	}
}

func TestLocalSenderRefusesInProduction(t *testing.T) {
	for _, v := range []string{"production", "PROD", " Production "} {
		t.Run(v, func(t *testing.T) {
			t.Setenv("ANTIFRAUD_ENV", v)
			_, err := verify.NewUnsafeLocalSender(verify.LocalConfig{Out: &testkit.Buffer{}})
			if !errors.Is(err, verify.ErrInvalidConfig) || !strings.Contains(err.Error(), "production") {
				t.Fatalf("got %v, want ErrInvalidConfig saying production", err)
			}
		})
	}
	t.Run("development", func(t *testing.T) {
		t.Setenv("ANTIFRAUD_ENV", "development")
		if _, err := verify.NewUnsafeLocalSender(verify.LocalConfig{Out: &testkit.Buffer{}}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLocalSenderConfig(t *testing.T) {
	for _, cfg := range []verify.LocalConfig{
		{CodeLength: 3}, {CodeLength: 11}, {TTL: -time.Second}, {MaxAttempts: -1},
	} {
		cfg.Out = &testkit.Buffer{}
		if _, err := verify.NewUnsafeLocalSender(cfg); !errors.Is(err, verify.ErrInvalidConfig) {
			t.Errorf("%+v: got %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

func TestLocalSenderCodesLookRandom(t *testing.T) {
	ctx := context.Background()
	s, out, _ := newLocal(t, verify.LocalConfig{})
	seen := map[string]bool{}
	digits := map[rune]int{}
	for i := range 200 {
		to := "+4477009" + string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)) + "00"
		if err := s.SendCode(ctx, verify.SendRequest{To: to, Channel: numbers.SMS}); err != nil {
			t.Fatal(err)
		}
		code := lastCode(t, out.String())
		seen[code] = true
		for _, d := range code {
			digits[d]++
		}
	}
	// 200 six-digit codes: a repeat is possible (about 2%), many are not.
	if len(seen) < 195 {
		t.Fatalf("only %d distinct codes of 200", len(seen))
	}
	if len(digits) != 10 {
		t.Fatalf("digits used: %v", digits)
	}
}

func TestLocalSenderCanceled(t *testing.T) {
	s, _, _ := newLocal(t, verify.LocalConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.SendCode(ctx, verify.SendRequest{To: testPhone, Channel: numbers.SMS}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}
