// Command inbound-sms is a runnable example of an inbound-message webhook
// that Twilio calls when someone texts the app's number: guard checks that
// Twilio signed the request, then takes the calls to action (links, phone
// numbers, email addresses, short codes) out of the message before it is
// stored and shown to the staff who read the inbox. A phishing text
// forwarded to support then carries nothing to click or call.
//
//	go run ./examples/inbound-sms
//
// serves the inbox on http://localhost:8082 and the webhook on
// POST /twilio/sms. Without TWILIO_AUTH_TOKEN it signs with a development
// token, and plays Twilio itself:
//
//	go run ./examples/inbound-sms -send 'Your parcel is held. Pay the fee at hxxps://parcel-fee[.]com or call +44 20 7946 0018'
//
// posts that text to the running server, signed as Twilio would sign it.
// With TWILIO_AUTH_TOKEN set, point the messaging webhook of a Twilio
// number at https://<your host>/twilio/sms (behind a proxy that terminates
// TLS, give -public-url https://<your host>).
//
// Flags:
//
//	-addr A        the address to serve on (default localhost:8082)
//	-public-url U  the URL Twilio calls, without the path (default: from the request)
//	-send TEXT     post TEXT to the running server as an inbound message, and exit
//	-from N        the sender of -send (default +14155550100)
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
)

// devToken signs webhooks when TWILIO_AUTH_TOKEN is not set: the server and
// -send agree on it, and nothing else accepts it.
const devToken = "local-development-token-not-a-secret"

const webhookPath = "/twilio/sms"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inbound-sms", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "localhost:8082", "the `address` to serve on")
	publicURL := fs.String("public-url", "", "the `URL` Twilio calls, without the path")
	send := fs.String("send", "", "post `text` to the running server as an inbound message, and exit")
	from := fs.String("from", "+14155550100", "the sender of -send")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	token, mode := getenv("TWILIO_AUTH_TOKEN"), "Twilio's auth token (TWILIO_AUTH_TOKEN)"
	if token == "" {
		token, mode = devToken, "a development token (set TWILIO_AUTH_TOKEN for Twilio's requests)"
	}
	if *send != "" {
		base := *publicURL
		if base == "" {
			base = "http://" + *addr
		}
		status, err := post(ctx, http.DefaultClient, token, base+webhookPath, url.Values{
			"MessageSid": {"SM" + strings.Repeat("0", 32)}, "From": {*from}, "To": {"+15005550006"}, "Body": {*send},
		})
		if err != nil {
			fmt.Fprintln(stderr, "inbound-sms:", err)
			return 1
		}
		fmt.Fprintln(stdout, "posted, answer", status)
		return 0
	}

	h, err := newInbox(token, *publicURL, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		fmt.Fprintln(stderr, "inbound-sms:", err)
		return 1
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(stdout, "inbox on http://%s/, webhook POST http://%s%s, signatures checked with %s\n", *addr, *addr, webhookPath, mode)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "inbound-sms:", err)
		return 1
	}
	return 0
}

// message is an inbound message as stored: the text cleaned, the sender
// masked for display, and what was taken out.
type message struct {
	Received time.Time
	From     string // masked
	Body     string // without calls to action
	Removed  []string
}

// inbox is the app: the webhook and the page that shows what it stored.
type inbox struct {
	http.Handler
	mu       sync.Mutex
	messages []message // newest first, at most maxMessages
}

const maxMessages = 100

//go:embed inbox.html
var inboxHTML string

var inboxPage = template.Must(template.New("inbox").Parse(inboxHTML))

// newInbox returns the app. Requests to the webhook must carry a Twilio
// signature made with token for publicURL (or the request's own URL when
// publicURL is empty).
func newInbox(token, publicURL string, logger *slog.Logger) (*inbox, error) {
	wh, err := guard.NewWebhook([]string{token}, guard.WebhookConfig{PublicURL: publicURL, Logger: logger})
	if err != nil {
		return nil, err
	}
	in := &inbox{}
	mux := http.NewServeMux()
	// The signature is checked on the message as Twilio sent it; then the
	// calls to action come out; only then does the handler see it.
	mux.Handle("POST "+webhookPath, wh.Handler(guard.InboundSMS(nil)(http.HandlerFunc(in.receive))))
	mux.HandleFunc("GET /{$}", in.page)
	in.Handler = mux
	return in, nil
}

// receive stores an inbound message. Its Body is already clean.
func (in *inbox) receive(w http.ResponseWriter, r *http.Request) {
	m := message{Received: time.Now(), Body: r.PostFormValue("Body"), From: "unknown"}
	if n, err := numbers.Parse(r.PostFormValue("From"), ""); err == nil {
		m.From = n.String() // masked
	}
	for _, f := range guard.SMSRemoved(r) {
		m.Removed = append(m.Removed, f.Kind.String())
	}
	in.mu.Lock()
	in.messages = append([]message{m}, in.messages[:min(len(in.messages), maxMessages-1)]...)
	in.mu.Unlock()
	// An empty TwiML answer: no reply to the sender.
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
}

func (in *inbox) page(w http.ResponseWriter, _ *http.Request) {
	in.mu.Lock()
	msgs := append([]message(nil), in.messages...)
	in.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = inboxPage.Execute(w, msgs)
}

// post sends params to url as Twilio would: a form, signed with token.
func post(ctx context.Context, hc *http.Client, token, u string, params url.Values) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(params.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", guard.TwilioSignature(token, u, params))
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}
