// Command verify is a runnable example of packages verify and guard: a small
// web page and two endpoints, POST /verify/start and POST /verify/check,
// guarded by a number policy, a growing resend cooldown and rate limits, and
// mounted by guard, which reads the bodies, finds the client's address and
// answers errors as RFC 9457 problems.
//
// By default it uses verify.UnsafeLocalSender, which prints codes to the
// terminal: no credentials and no internet needed. With TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN and TWILIO_VERIFY_SERVICE_SID set, it sends real codes
// with Twilio Verify.
//
//	go run ./examples/verify
//	go run ./examples/verify -addr localhost:8080 -region GB
//
// Then open http://localhost:8080, or:
//
//	curl -i localhost:8080/verify/start -H 'Content-Type: application/json' -d '{"phone":"+1 415 555 0100"}'
//	curl -i localhost:8080/verify/check -H 'Content-Type: application/json' -d '{"phone":"+1 415 555 0100","code":"123456"}'
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/verify/v2"
)

//go:embed index.html
var indexHTML []byte

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	region := flag.String("region", "US", "region assumed for numbers typed without a country code")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app, err := newApp(os.Getenv, os.Stderr, nil, *region, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		os.Exit(1)
	}
	defer app.Close()

	srv := &http.Server{Addr: *addr, Handler: app.Handler, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("listening", "url", "http://"+*addr, "sender", app.Mode)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server failed", "err", err)
		os.Exit(1)
	}
}

// app is the example's handler and what it needs closed.
type app struct {
	Handler http.Handler
	// Mode is "twilio" or "local".
	Mode  string
	store *ratelimit.MemoryStore
}

// Close stops the limiter's housekeeping.
func (a *app) Close() { _ = a.store.Close(context.Background()) }

// newApp builds the example. getenv reads the Twilio settings; out receives
// the local sender's codes; hc, when not nil, is the HTTP client for Twilio
// (tests pass the fake's).
func newApp(getenv func(string) string, out io.Writer, hc *http.Client, region string, logger *slog.Logger) (*app, error) {
	sender, mode, err := newSender(getenv, out, hc)
	if err != nil {
		return nil, err
	}
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.New(store, ratelimit.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	event := func(kind string) func(verify.Event) {
		return func(e verify.Event) {
			// Events carry masked numbers only, so they are safe to log.
			logger.Info("verify "+kind, "op", e.Op, "to", e.Masked, "region", e.Region, "reason", e.Reason, "scope", e.Scope)
		}
	}
	svc, err := verify.New(sender, limiter, verify.Config{
		DefaultRegion: region,
		Logger:        logger,
		Hooks: verify.Hooks{
			Started: event("started"), Approved: event("approved"),
			Failed: event("failed"), Blocked: event("blocked"), Refused: event("refused"),
		},
	})
	if err != nil {
		return nil, err
	}

	// The guard mounts the Service: behind a reverse proxy, declare it
	// with guard.WithTrustedProxies so that limits key on the client.
	g, err := guard.New(limiter, guard.WithRegion(region), guard.WithLogger(logger))
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	})
	mux.Handle("POST /verify/start", g.VerifyStart(svc))
	mux.Handle("POST /verify/check", g.VerifyCheck(svc, nil))
	// Browsers must not be able to post to these endpoints from other sites.
	protected := http.NewCrossOriginProtection().Handler(mux)
	return &app{Handler: protected, Mode: mode, store: store}, nil
}

// newSender returns Twilio Verify when all three settings are there, the
// local development sender when none is, and an error otherwise.
func newSender(getenv func(string) string, out io.Writer, hc *http.Client) (verify.Sender, string, error) {
	sid, token, service := getenv("TWILIO_ACCOUNT_SID"), getenv("TWILIO_AUTH_TOKEN"), getenv("TWILIO_VERIFY_SERVICE_SID")
	switch {
	case sid != "" && token != "" && service != "":
		// A twilio-go client without the root twilio package, which would
		// pull every Twilio API into the build.
		c := &client.Client{Credentials: client.NewCredentials(sid, token), HTTPClient: hc}
		c.SetAccountSid(sid)
		s, err := verify.NewTwilioSender(openapi.NewApiServiceWithClient(c), service)
		return s, "twilio", err
	case sid != "" || token != "" || service != "":
		return nil, "", fmt.Errorf("set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_VERIFY_SERVICE_SID, or none")
	}
	s, err := verify.NewUnsafeLocalSender(verify.LocalConfig{Out: out})
	return s, "local", err
}
