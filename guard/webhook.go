package guard

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// Errors of the webhook checks. A refused request's error wraps one of them
// (or *http.MaxBytesError for a body over the bound, or
// ratelimit.ErrUnavailable when the replay store failed closed).
var (
	// ErrSignature: the request does not carry a valid Twilio signature for
	// the URL Twilio called and what it sent. Answered 403.
	ErrSignature = errors.New("guard: request not signed by Twilio")
	// ErrReplayed: a signed request whose I-Twilio-Idempotency-Token was
	// already seen within the replay window. Answered 409.
	ErrReplayed = errors.New("guard: webhook already received")
)

const (
	headerTwilioSignature = "X-Twilio-Signature"
	headerSignatureSet    = "X-Twilio-Webhooks-Signature-Settings"
	headerIdempotency     = "I-Twilio-Idempotency-Token"
)

// defaultWebhookMaxBody bounds a webhook body. Twilio's form posts are a few
// kilobytes: an SMS body is at most 1600 characters.
const defaultWebhookMaxBody = 64 << 10

// defaultReplayWindow is how long an idempotency token is remembered.
// Twilio retries a webhook within the seconds to minutes of its connection
// overrides, never hours later.
const defaultReplayWindow = time.Hour

// WebhookConfig configures a [Webhook]. The zero value is ready to use: URL
// from the request, 64 KiB bodies, no shared keys, no replay protection, a
// problem+json denial, no logging.
type WebhookConfig struct {
	// PublicURL is the scheme, host and optional path prefix of the URL
	// configured at Twilio, such as "https://example.com", or
	// "https://example.com/twilio" when a proxy strips /twilio before the
	// request reaches the app. The request's path and query, as they came,
	// are appended to it. Twilio signs the URL it called, so behind a proxy
	// that terminates TLS or changes the host this must be set.
	//
	// Empty means the URL is taken from the request: https when it came
	// over TLS, and its Host header.
	PublicURL string

	// SharedKeys are the secrets of Twilio SharedKeys, by SharedKey id, for
	// webhooks that a Webhooks Rule signs with a SharedKey instead of the
	// auth token (such a request carries
	// X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256).
	// A request that names an id not here is refused. An empty id ("")
	// stands for any key: its secret is tried whatever the request names.
	SharedKeys map[string]string

	// MaxBody bounds the body read. A larger body is refused with 413
	// without being read further. Zero means 64 KiB.
	MaxBody int64

	// Replay, when set, enables replay protection: the
	// I-Twilio-Idempotency-Token of every signed request is remembered for
	// ReplayWindow in this limiter's store (so instances sharing a Redis
	// store share it), and a second request with the same token is refused
	// with ErrReplayed. A request without the header passes. The header is
	// not signed: this stops Twilio's retries being processed twice and a
	// captured request replayed as it was, not a replay with the header
	// changed. Nothing can stop that: Twilio signs no timestamp or nonce.
	Replay *ratelimit.Limiter

	// ReplayWindow is how long a token is remembered. Zero means one hour.
	ReplayWindow time.Duration

	// DenyHandler, when set, answers refused requests instead of the
	// problem+json default; FailureReason(r) tells it why.
	DenyHandler http.Handler

	// Logger receives a record for every refused request (the URL without
	// its query, and the reason; never a signature or a parameter). Nil
	// means no logging.
	Logger *slog.Logger
}

// Webhook checks that requests to a Twilio webhook come from Twilio: the
// X-Twilio-Signature must be Twilio's HMAC of the URL it called and of every
// form parameter it sent, or of the URL with bodySHA256 and the raw body for
// JSON webhooks. It is safe for concurrent use.
//
// # The URL
//
// The signed URL is WebhookConfig.PublicURL followed by the request's path
// and query exactly as they arrived, so that no re-encoding of the query
// (the bug of many validators) changes a byte. When that does not match,
// the Webhook also tries the URL with the default port added or removed
// (Twilio's signing is inconsistent about ports, so its SDKs try both) and
// with %27 in the query read as an apostrophe (Twilio signs apostrophes
// unescaped; twilio-node#1059, twilio-ruby#528).
//
// Twilio sorts the query of TwiML action URLs before calling them but
// signs them as written (twilio-php#790): write action URLs with their
// query parameters sorted by name.
//
// # The body
//
// A form body counts with all values of repeated names, sorted by name and
// then by value. A body that the signature does not cover (not a form, and
// no bodySHA256 in the URL) is refused: only signed bytes reach the handler,
// which reads the body exactly as it came.
//
// Twilio's signature has two blind spots that no validator can close. The
// order of a repeated name's values is not signed, so read them as a set.
// And names and values are signed with nothing between them, so moving the
// '=' within a pair (Body=Hi to BodyH=i) keeps the signature: read the
// parameters you expect and refuse a request that lacks one.
//
// # Keys
//
// Several auth tokens can be accepted at once: the old and the new one
// while a token is rotated, or the tokens of subaccounts whose webhooks
// share the endpoint. [Webhook.SetAuthTokens] changes them while serving.
// Signatures are compared in constant time.
type Webhook struct {
	base, baseAlt string // PublicURL and PublicURL with the default port toggled
	maxBody       int64
	shared        map[string][2]*sigKey // by id: SHA-1 and SHA-256 MACs
	replay        *ratelimit.Limiter
	replayLimit   ratelimit.Limit
	deny          http.Handler
	log           *slog.Logger

	tokens atomic.Pointer[[]*sigKey]
}

// NewWebhook returns a Webhook accepting requests signed with any of
// authTokens (and with cfg.SharedKeys). At least one token or shared key is
// needed.
func NewWebhook(authTokens []string, cfg WebhookConfig) (*Webhook, error) {
	w := &Webhook{maxBody: cfg.MaxBody, replay: cfg.Replay, deny: cfg.DenyHandler, log: cfg.Logger}
	if w.maxBody == 0 {
		w.maxBody = defaultWebhookMaxBody
	}
	if w.maxBody < 0 {
		return nil, fmt.Errorf("guard: WebhookConfig.MaxBody %d is negative: %w", cfg.MaxBody, ErrInvalidConfig)
	}
	if cfg.PublicURL != "" {
		base, alt, err := parsePublicURL(cfg.PublicURL)
		if err != nil {
			return nil, err
		}
		w.base, w.baseAlt = base, alt
	}
	for id, secret := range cfg.SharedKeys {
		if err := checkSecret("SharedKeys["+id+"]", secret); err != nil {
			return nil, err
		}
		if w.shared == nil {
			w.shared = make(map[string][2]*sigKey, len(cfg.SharedKeys))
		}
		w.shared[id] = [2]*sigKey{newSigKey(secret, algSHA1), newSigKey(secret, algSHA256)}
	}
	if cfg.Replay != nil {
		window := cfg.ReplayWindow
		if window == 0 {
			window = defaultReplayWindow
		}
		w.replayLimit = ratelimit.Limit{Rate: 1, Period: window, Burst: 1}
		if err := w.replayLimit.Validate(); err != nil {
			return nil, fmt.Errorf("guard: WebhookConfig.ReplayWindow %v: %v: %w", cfg.ReplayWindow, err, ErrInvalidConfig)
		}
	} else if cfg.ReplayWindow != 0 {
		return nil, fmt.Errorf("guard: WebhookConfig.ReplayWindow set without Replay: %w", ErrInvalidConfig)
	}
	if len(authTokens) == 0 && len(w.shared) == 0 {
		return nil, fmt.Errorf("guard: a Webhook needs an auth token or a shared key: %w", ErrInvalidConfig)
	}
	if err := w.setTokens(authTokens); err != nil {
		return nil, err
	}
	return w, nil
}

// SetAuthTokens replaces the accepted auth tokens; requests being checked
// finish with the old set. To rotate a token without refusing a webhook,
// accept the old and the new one, promote the new one at Twilio, then
// drop the old one.
func (w *Webhook) SetAuthTokens(tokens ...string) error {
	if len(tokens) == 0 && len(w.shared) == 0 {
		return fmt.Errorf("guard: SetAuthTokens: no token and no shared key: %w", ErrInvalidConfig)
	}
	return w.setTokens(tokens)
}

func (w *Webhook) setTokens(tokens []string) error {
	keys := make([]*sigKey, 0, len(tokens))
	for i, t := range tokens {
		if err := checkSecret(fmt.Sprintf("auth token %d", i), t); err != nil {
			return err
		}
		keys = append(keys, newSigKey(t, algSHA1))
	}
	w.tokens.Store(&keys)
	return nil
}

// checkSecret refuses an empty secret and one with surrounding white space,
// the trailing newline of a secrets file, which would fail every request.
func checkSecret(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("guard: %s is empty: %w", what, ErrInvalidConfig)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("guard: %s has white space around it: %w", what, ErrInvalidConfig)
	}
	return nil
}

// parsePublicURL checks a PublicURL and returns it without a trailing slash,
// and the same with its port toggled (see togglePort).
func parsePublicURL(s string) (base, alt string, err error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("guard: WebhookConfig.PublicURL: %v: %w", err, ErrInvalidConfig)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", "", fmt.Errorf("guard: WebhookConfig.PublicURL %q is not http(s)://host[/prefix]: %w", s, ErrInvalidConfig)
	}
	base = strings.TrimSuffix(s, "/")
	origin := u.Scheme + "://" + u.Host
	if u.User != nil {
		origin = u.Scheme + "://" + u.User.String() + "@" + u.Host
	}
	if !strings.HasPrefix(base, origin) {
		// url.Parse accepted a form that does not start with the origin as
		// written (upper-case scheme, say); keep the string as given.
		return base, base, nil
	}
	rest := base[len(origin):]
	return base, origin[:len(origin)-len(u.Host)] + togglePort(u.Scheme, u.Host) + rest, nil
}

// togglePort returns host without its port when it has one, and with the
// default port of scheme when it has none. Twilio's SDKs try both forms
// ("signature generation on the back end is inconsistent"); a non-default
// port is dropped as they drop it. IPv6 literals keep their brackets.
func togglePort(scheme, host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	if scheme == "https" {
		return host + ":443"
	}
	return host + ":80"
}

// Check reports whether r is a genuine Twilio webhook request: nil when it
// is, otherwise an error wrapping ErrSignature, ErrReplayed,
// *http.MaxBytesError or ratelimit.ErrUnavailable. It reads the body and
// puts it back, so the handler reads it as it came. With replay protection,
// a successful Check records the request's idempotency token.
func (w *Webhook) Check(r *http.Request) error {
	s := getSigScratch()
	err := w.check(r, s)
	if r.Body == &s.reader {
		// The request outlives the scratch: give it a reader of its own
		// over a body that is no longer pooled.
		b := &restoredBody{}
		b.Reset(s.body)
		r.Body = b
		s.body = nil
	}
	putSigScratch(s)
	return err
}

// Handler returns a handler that calls h for genuine Twilio requests and
// refuses the others: 403 for a bad or missing signature, 413 for a body
// over the bound, 409 for a replay, 503 when the replay store failed
// closed; or the DenyHandler.
//
// The body the handler reads is its own, not a pooled buffer: a handler
// may go on reading it after Handler returns (under http.TimeoutHandler,
// say), and must not see the next request's bytes.
func (w *Webhook) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := w.Check(r); err != nil {
			w.refuse(rw, r, err)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

func (w *Webhook) refuse(rw http.ResponseWriter, r *http.Request, err error) {
	if w.log != nil {
		w.log.LogAttrs(r.Context(), slog.LevelWarn, "guard: webhook refused",
			slog.String("url", w.logURL(r)), slog.String("reason", err.Error()))
	}
	if w.deny != nil {
		w.deny.ServeHTTP(rw, withFailureReason(r, err))
		return
	}
	ProblemFor(err).ServeHTTP(rw, r)
}

// logURL is the signed URL without its query, which can hold phone numbers.
func (w *Webhook) logURL(r *http.Request) string {
	base := w.base
	if base == "" {
		base = requestOrigin(r)
	}
	return base + r.URL.EscapedPath()
}

func (w *Webhook) check(r *http.Request, s *sigScratch) error {
	var sigBuf [sha256Size + 1]byte
	sig, ok := decodeSignature(&sigBuf, headerValue(r.Header, headerTwilioSignature))
	if !ok {
		return fmt.Errorf("%w: missing or malformed %s", ErrSignature, headerTwilioSignature)
	}
	keys, err := w.keysFor(headerValue(r.Header, headerSignatureSet), len(sig))
	if err != nil {
		return err
	}
	if err := s.readBody(r, w.maxBody); err != nil {
		return err
	}
	uri := requestURI(r)
	if err := s.signedContent(r, uri); err != nil {
		return err
	}
	if !w.verify(s, keys, sig, r, uri) {
		return fmt.Errorf("%w: no key signed this URL and content", ErrSignature)
	}
	return w.checkReplay(r)
}

// sha256Size is sha256.Size, the largest MAC.
const sha256Size = sha256.Size

// keysFor returns the keys that may have signed a request with the given
// X-Twilio-Webhooks-Signature-Settings header and a MAC of macLen bytes.
func (w *Webhook) keysFor(settings string, macLen int) ([]*sigKey, error) {
	if settings == "" {
		if macLen != algSHA1.size() {
			return nil, fmt.Errorf("%w: signature is not an HMAC-SHA1", ErrSignature)
		}
		return *w.tokens.Load(), nil
	}
	id, alg, err := parseSignatureSettings(settings)
	if err != nil {
		return nil, err
	}
	if macLen != alg.size() {
		return nil, fmt.Errorf("%w: signature length does not fit %s", ErrSignature, headerSignatureSet)
	}
	var keys []*sigKey
	if k, ok := w.shared[id]; ok && id != "" {
		keys = append(keys, k[alg])
	}
	if k, ok := w.shared[""]; ok {
		keys = append(keys, k[alg])
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: signed with a shared key that is not configured", ErrSignature)
	}
	return keys, nil
}

// parseSignatureSettings reads "key=<id>,algorithm=HMAC_SHA256".
func parseSignatureSettings(h string) (id string, alg sigAlgorithm, err error) {
	var algName string
	for f := range strings.SplitSeq(h, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "key":
			id = strings.TrimSpace(v)
		case "algorithm":
			algName = strings.TrimSpace(v)
		}
	}
	switch strings.ToUpper(algName) {
	case "HMAC_SHA256":
		return id, algSHA256, nil
	case "HMAC_SHA1", "":
		return id, algSHA1, nil
	}
	return "", 0, fmt.Errorf("%w: unsupported signing algorithm in %s", ErrSignature, headerSignatureSet)
}

// verify tries the keys on the URL as it came, then on its variants: the
// other port form, %27 as an apostrophe. The URL as it came is what Twilio signs today, so a genuine
// request costs one MAC per key tried.
func (w *Webhook) verify(s *sigScratch, keys []*sigKey, sig []byte, r *http.Request, uri string) bool {
	var bases [2]string
	if w.base != "" {
		bases = [2]string{w.base, w.baseAlt}
	} else {
		origin := requestOrigin(r)
		bases[0] = origin
		if i := strings.Index(origin, "://"); i >= 0 {
			bases[1] = origin[:i+3] + togglePort(origin[:i], origin[i+3:])
		}
	}
	uris := [2]string{uri, apostropheVariant(uri)}
	for bi, base := range bases {
		if bi > 0 && (base == "" || base == bases[0]) {
			continue
		}
		for ui, u := range uris {
			if ui > 0 && (u == "" || u == uri) {
				continue
			}
			s.url = append(append(s.url[:0], base...), u...)
			for _, k := range keys {
				if k.matches(&s.sum, sig, s.url, s.tail) {
					return true
				}
			}
		}
	}
	return false
}

// headerValue is h.Get(key) for a key already in canonical form, without
// canonicalizing it again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// requestURI is the path and query of r as they came on the wire.
func requestURI(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// requestOrigin is scheme://host as r reached this server.
func requestOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// apostropheVariant returns uri with %27 in its query read as an
// apostrophe, or "" when it has none.
func apostropheVariant(uri string) string {
	q := strings.IndexByte(uri, '?')
	if q < 0 {
		return ""
	}
	query := uri[q:]
	if !strings.Contains(query, "%27") {
		return ""
	}
	return uri[:q] + strings.ReplaceAll(query, "%27", "'")
}

// checkReplay records r's idempotency token and refuses one seen before.
func (w *Webhook) checkReplay(r *http.Request) error {
	if w.replay == nil {
		return nil
	}
	tok := headerValue(r.Header, headerIdempotency)
	if tok == "" {
		return nil
	}
	if len(tok) > 128 {
		sum := sha256.Sum256([]byte(tok))
		tok = hex.EncodeToString(sum[:])
	}
	res, err := w.replay.Allow(r.Context(), "twilio-idem:"+tok, w.replayLimit)
	if err != nil {
		return err
	}
	if !res.Allowed {
		return ErrReplayed
	}
	return nil
}

// sigScratch holds the buffers of one check. They are pooled, but for the
// body, which goes on to the handler.
type sigScratch struct {
	body   []byte // the body, then its decoded form fields
	tail   []byte
	url    []byte
	pairs  []formPair
	reader restoredBody
	sum    [sha256Size]byte
}

// maxPooledScratch is the largest buffer kept in the pool.
const maxPooledScratch = 64 << 10

var sigScratchPool = sync.Pool{New: func() any { return new(sigScratch) }}

func getSigScratch() *sigScratch { return sigScratchPool.Get().(*sigScratch) }

func putSigScratch(s *sigScratch) {
	if cap(s.body) > 2*maxPooledScratch || cap(s.tail) > maxPooledScratch {
		return
	}
	s.pairs = s.pairs[:0]
	s.reader.Reset(nil)
	sigScratchPool.Put(s)
}

// restoredBody gives the handler the body that was read.
type restoredBody struct{ bytes.Reader }

func (*restoredBody) Close() error { return nil }

// readBody reads r's body into s.body, at most limit bytes, and replaces
// r.Body with a reader of what was read.
func (s *sigScratch) readBody(r *http.Request, limit int64) error {
	s.body = s.body[:0]
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	if r.ContentLength > 0 && int64(cap(s.body)) < 2*r.ContentLength {
		// Twice the body: a form's decoded fields go after it.
		s.body = make([]byte, 0, 2*r.ContentLength)
	}
	for {
		if len(s.body) == cap(s.body) {
			s.body = append(s.body, 0)[:len(s.body)]
		}
		n, err := r.Body.Read(s.body[len(s.body):cap(s.body)])
		s.body = s.body[:len(s.body)+n]
		if int64(len(s.body)) > limit {
			return &http.MaxBytesError{Limit: limit}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("guard: reading webhook body: %w", err)
		}
	}
	r.Body.Close()
	s.reader.Reset(s.body)
	r.Body = &s.reader
	return nil
}

// signedContent works out what the signature covers besides the URL: the
// body's hash (checked here) for a URL with bodySHA256, the sorted form
// parameters for a form body, nothing for an empty body. Any other body is
// not covered by the signature and is refused.
func (s *sigScratch) signedContent(r *http.Request, uri string) error {
	s.tail = s.tail[:0]
	_, query, _ := strings.Cut(uri, "?")
	want, found, err := queryValue(query, "bodySHA256")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if found {
		var wantSum [sha256.Size]byte
		if n, err := hex.Decode(wantSum[:], []byte(want)); err != nil || n != len(wantSum) {
			return fmt.Errorf("%w: bodySHA256 is not a hex SHA-256", ErrSignature)
		}
		if sum := sha256.Sum256(s.body); !hmac.Equal(sum[:], wantSum[:]) {
			return fmt.Errorf("%w: body does not match bodySHA256", ErrSignature)
		}
		return nil
	}
	if len(s.body) == 0 {
		return nil
	}
	if !isFormContentType(headerValue(r.Header, "Content-Type")) {
		return fmt.Errorf("%w: body is neither a form nor covered by bodySHA256", ErrSignature)
	}
	n := len(s.body)
	if cap(s.body) < 2*n {
		s.body = append(make([]byte, 0, 2*n), s.body...)
		s.reader.Reset(s.body)
	}
	var buf []byte
	buf, s.pairs, err = parseSignedForm(s.body, n, s.pairs[:0])
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	sortFormPairs(buf, s.pairs)
	s.tail = appendSignedTail(s.tail, buf, s.pairs)
	return nil
}

// isFormContentType reports whether ct is application/x-www-form-urlencoded,
// with or without parameters.
func isFormContentType(ct string) bool {
	const form = "application/x-www-form-urlencoded"
	if len(ct) < len(form) || !strings.EqualFold(ct[:len(form)], form) {
		return false
	}
	rest := strings.TrimLeft(ct[len(form):], " \t")
	return rest == "" || rest[0] == ';'
}
