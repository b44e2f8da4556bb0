package verify

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
)

// productionEnvVar is the environment variable NewUnsafeLocalSender reads
// to learn whether it runs in production.
const productionEnvVar = "ANTIFRAUD_ENV"

// LocalConfig configures an [UnsafeLocalSender]. The zero value is usable.
type LocalConfig struct {
	// Out is where codes are printed, one line each. Nil means os.Stderr.
	Out io.Writer
	// Logger, when set, also receives each code, at Warn, under the
	// message "verify: UNSAFE local sender code". Nil logs nothing.
	Logger *slog.Logger
	// CodeLength is the number of digits in a code. Zero means 6; it must
	// be between 4 and 10, as Twilio's.
	CodeLength int
	// TTL is how long a code stays valid. Zero means 10 minutes, as
	// Twilio's.
	TTL time.Duration
	// MaxAttempts is how many checks a verification allows before it is
	// spent. Zero means 5, as Twilio's.
	MaxAttempts int
	// Now returns the current time. Nil means time.Now. Tests pass a fake
	// clock.
	Now func() time.Time
}

// UnsafeLocalSender is a [Sender] for development, tests and examples: it
// makes codes itself (crypto/rand) and prints them instead of sending them.
// It is unsafe in production, as its name says: anyone who can read the
// program's output can read every code. It is safe for concurrent use.
//
// It behaves like Twilio Verify where that matters to a caller: sending
// again to a number with a pending verification prints the same code; a
// code expires after TTL; a verification is spent by a correct check or by
// MaxAttempts checks; codes are compared in constant time.
//
// It keeps verifications in memory, and forgets expired ones as new ones
// arrive.
type UnsafeLocalSender struct {
	out         io.Writer
	logger      *slog.Logger
	length      int
	ttl         time.Duration
	maxAttempts int
	now         func() time.Time

	mu      sync.Mutex
	pending map[string]*localVerification
	writeMu sync.Mutex
}

type localVerification struct {
	code     string
	expires  time.Time
	attempts int
}

// NewUnsafeLocalSender returns a development sender, and prints a warning
// to cfg.Out. It refuses to run in production: when the environment
// variable ANTIFRAUD_ENV is "production" or "prod" (in any case), its error
// wraps [ErrInvalidConfig] and says so. Its other errors, about cfg, wrap
// [ErrInvalidConfig] too.
func NewUnsafeLocalSender(cfg LocalConfig) (*UnsafeLocalSender, error) {
	if env := strings.TrimSpace(os.Getenv(productionEnvVar)); strings.EqualFold(env, "production") || strings.EqualFold(env, "prod") {
		return nil, fmt.Errorf("%w: the unsafe local sender prints codes and refuses to run in production (%s=%s)", ErrInvalidConfig, productionEnvVar, env)
	}
	s := &UnsafeLocalSender{
		out:         cfg.Out,
		logger:      cfg.Logger,
		length:      cfg.CodeLength,
		ttl:         cfg.TTL,
		maxAttempts: cfg.MaxAttempts,
		now:         cfg.Now,
		pending:     make(map[string]*localVerification),
	}
	if s.out == nil {
		s.out = os.Stderr
	}
	if s.length == 0 {
		s.length = 6
	}
	if s.length < 4 || s.length > 10 {
		return nil, fmt.Errorf("%w: CodeLength %d out of 4..10", ErrInvalidConfig, cfg.CodeLength)
	}
	if s.ttl == 0 {
		s.ttl = 10 * time.Minute
	}
	if s.ttl < 0 {
		return nil, fmt.Errorf("%w: negative TTL", ErrInvalidConfig)
	}
	if s.maxAttempts == 0 {
		s.maxAttempts = 5
	}
	if s.maxAttempts < 0 {
		return nil, fmt.Errorf("%w: negative MaxAttempts", ErrInvalidConfig)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.println("verify: WARNING: UnsafeLocalSender prints verification codes; never use it in production (set " + productionEnvVar + "=production to make it refuse)")
	if s.logger != nil {
		s.logger.Warn("verify: UNSAFE local sender in use; never use it in production")
	}
	return s, nil
}

// SendCode prints a code for req.To: a new one, or the pending one when
// there is one.
func (s *UnsafeLocalSender) SendCode(ctx context.Context, req SendRequest) error {
	if err := ctx.Err(); err != nil {
		return &ProviderError{Op: opSend, Err: err}
	}
	if req.To == "" {
		return ErrInvalidNumber
	}
	now := s.now()
	s.mu.Lock()
	v, ok := s.pending[req.To]
	if !ok || !now.Before(v.expires) {
		code, err := randomDigits(s.length)
		if err != nil {
			s.mu.Unlock()
			return &ProviderError{Op: opSend, Err: err}
		}
		s.sweep(now)
		v = &localVerification{code: code, expires: now.Add(s.ttl)}
		s.pending[req.To] = v
	}
	code := v.code
	s.mu.Unlock()

	masked := maskDestination(req.To)
	s.println(fmt.Sprintf("verify: UNSAFE local sender: %s code for %s is %s", req.Channel, masked, code))
	if s.logger != nil {
		s.logger.Warn("verify: UNSAFE local sender code", "to", masked, "channel", req.Channel.String(), "code", code)
	}
	return nil
}

// CheckCode checks code for to in constant time. A correct code consumes
// the verification.
func (s *UnsafeLocalSender) CheckCode(ctx context.Context, to, code string) error {
	if err := ctx.Err(); err != nil {
		return &ProviderError{Op: opCheck, Err: err}
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.pending[to]
	if !ok {
		return ErrExpired
	}
	if !now.Before(v.expires) {
		delete(s.pending, to)
		return ErrExpired
	}
	if v.attempts >= s.maxAttempts {
		return &LimitError{RetryAfter: roundUpSecond(v.expires.Sub(now)), Scope: "attempts"}
	}
	v.attempts++
	if subtle.ConstantTimeCompare([]byte(code), []byte(v.code)) == 1 {
		delete(s.pending, to)
		return nil
	}
	return ErrInvalidCode
}

// sweep forgets expired verifications once the map has grown, so memory
// stays bounded by the number sent within one TTL. Called with s.mu held.
func (s *UnsafeLocalSender) sweep(now time.Time) {
	if len(s.pending) < 1024 {
		return
	}
	for k, v := range s.pending {
		if !now.Before(v.expires) {
			delete(s.pending, k)
		}
	}
}

func (s *UnsafeLocalSender) println(line string) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, _ = io.WriteString(s.out, line+"\n")
}

// randomDigits returns n uniformly random decimal digits from crypto/rand.
// Bytes of 250 and above are rejected, so that every digit is equally likely.
func randomDigits(n int) (string, error) {
	out := make([]byte, 0, n)
	var buf [16]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < 250 && len(out) < n {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out), nil
}

// maskDestination masks a phone number or an email address for output.
func maskDestination(to string) string {
	if at := strings.LastIndexByte(to, '@'); at >= 0 {
		if at <= 1 {
			return "*" + to[at:]
		}
		return to[:1] + strings.Repeat("*", at-1) + to[at:]
	}
	return numbers.Mask(to)
}
