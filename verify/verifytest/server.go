package verifytest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
)

// Credentials and SIDs of every Server. They are well-formed but belong to
// no Twilio account.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "0123456789abcdef0123456789abcdef"
	ServiceSID = "VA0123456789abcdef0123456789abcdef"
)

// Twilio Verify's own rules, which the Server enforces (see the package
// documentation).
const (
	maxSends   = 5                // codes to one number within sendWindow (60203 after)
	sendWindow = 10 * time.Minute // the sliding window of maxSends
	maxChecks  = 5                // checks one verification answers (60202 after)
	ttl        = 10 * time.Minute // how long a verification stays pending
)

// maxBody bounds a request body, as Twilio's front end does.
const maxBody = 64 << 10

// Endpoint names one of the faked Verify v2 endpoints.
type Endpoint string

// The endpoints the Server fakes.
const (
	// CreateVerification is POST /v2/Services/{ServiceSid}/Verifications.
	CreateVerification Endpoint = "CreateVerification"
	// CheckVerification is POST /v2/Services/{ServiceSid}/VerificationCheck.
	CheckVerification Endpoint = "CheckVerification"
)

// Error is a Twilio REST error the Server can answer with (see
// [Server.FailNext]).
type Error struct {
	// Code is the Twilio error code, such as 60410.
	Code int
	// Status is the HTTP status. Zero means the status Twilio documents
	// for Code (403 for 60410, 429 for 60203, ...), or 400 for a code the
	// Server does not know.
	Status int
	// Message is the message. Empty means Twilio's for Code, or a generic
	// one.
	Message string
}

// knownErrors are the HTTP statuses and messages Twilio documents for the
// codes a Verify integration meets.
var knownErrors = map[int]Error{
	20003: {Status: 401, Message: "Authenticate"},
	20404: {Status: 404, Message: "The requested resource was not found"},
	20429: {Status: 429, Message: "Too Many Requests"},
	60200: {Status: 400, Message: "Invalid parameter"},
	60202: {Status: 429, Message: "Max check attempts reached"},
	60203: {Status: 429, Message: "Max send attempts reached"},
	60212: {Status: 429, Message: "Too many concurrent requests for phone number"},
	60410: {Status: 403, Message: "Verification delivery attempt blocked"},
	60605: {Status: 403, Message: "Verification delivery attempt blocked"},
}

// errorFor returns the Error the Server answers for a Twilio error code: the
// documented HTTP status for the codes above, 400 for others.
func errorFor(code int) Error {
	e, ok := knownErrors[code]
	if !ok {
		e = Error{Status: http.StatusBadRequest, Message: "Error " + strconv.Itoa(code)}
	}
	e.Code = code
	return e
}

// Request is one request the Server received, as recorded by
// [Server.Requests].
type Request struct {
	// Endpoint is the endpoint called, or "" for an unknown path.
	Endpoint Endpoint
	// Method and Path are the request's.
	Method, Path string
	// Host is the Twilio host the client addressed, such as
	// "verify.twilio.com".
	Host string
	// Form is the request's form.
	Form url.Values
	// To, Channel, Code and Locale are the form values of those names.
	To, Channel, Code, Locale string
	// Status is the HTTP status answered, and ErrorCode the Twilio error
	// code (0 on success).
	Status, ErrorCode int
	// Time is the Server's clock when the request arrived.
	Time time.Time
}

// Server is an in-process fake of the Twilio Verify v2 API: create a
// verification, check a verification. It makes codes, records requests,
// enforces Verify's rules (5 codes per number per 10 minutes, 5 checks per
// verification, verifications that expire after 10 minutes) and answers any
// error it is told to. It is safe for
// concurrent use.
type Server struct {
	// URL is the base URL of the underlying httptest.Server.
	URL string

	ts        *httptest.Server
	transport *rewriteTransport

	mu            sync.Mutex
	now           func() time.Time
	verifications map[string]*verification // by To
	sends         map[string][]time.Time   // send times per To, within sendWindow
	requests      []Request
	failures      map[Endpoint][]Error
	stalls        map[Endpoint]*stall
	closed        chan struct{}
}

type verification struct {
	sid      string
	to       string
	channel  string
	code     string
	created  time.Time
	checks   int
	attempts []attempt
}

type attempt struct {
	time    time.Time
	channel string
	sid     string
}

type stall struct {
	arrived chan struct{}
	release chan struct{}
}

// Option configures a [Server].
type Option func(*Server)

// WithNow replaces the Server's clock (time.Now by default), for tests of
// expiry and of the send window that never sleep: a fake clock shared with
// the code under test.
func WithNow(now func() time.Time) Option {
	return func(s *Server) {
		if now != nil {
			s.now = now
		}
	}
}

// NewServer starts a Server. Call Close when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		now:           time.Now,
		verifications: make(map[string]*verification),
		sends:         make(map[string][]time.Time),
		failures:      make(map[Endpoint][]Error),
		stalls:        make(map[Endpoint]*stall),
		closed:        make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/Services/{sid}/Verifications", s.handle(CreateVerification, s.create))
	mux.HandleFunc("POST /v2/Services/{sid}/VerificationCheck", s.handle(CheckVerification, s.check))
	mux.HandleFunc("/", s.handle("", func(r *http.Request, rec *Request) (int, any) {
		return errorBody(errorFor(20404), "The requested resource "+r.URL.Path+" was not found")
	}))
	for _, o := range opts {
		o(s)
	}
	s.ts = httptest.NewServer(mux)
	s.URL = s.ts.URL
	target, _ := url.Parse(s.ts.URL)
	s.transport = &rewriteTransport{target: target, next: s.ts.Client().Transport}
	return s
}

// Close releases stalled requests and shuts the server down.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.ts.Close()
}

// httpClient returns an http.Client whose transport sends requests for any
// *.twilio.com host to the Server (rewriting scheme and host) and refuses
// every other host, so that a test can never reach the real Twilio. It is
// configured as twilio-go configures its own (no redirects, 10 s timeout).
func (s *Server) httpClient() *http.Client {
	return &http.Client{
		Transport:     s.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// BaseClient returns a new twilio-go client with the Server's credentials
// ([AccountSID], [AuthToken]), wired to the Server: hand it to code that
// builds its own API services (openapi.NewApiServiceWithClient) or its own
// *twilio.RestClient (twilio.ClientParams.Client). Its http.Client sends
// requests for any *.twilio.com host to the Server and refuses every other
// host, so that a test can never reach the real Twilio.
func (s *Server) BaseClient() *client.Client {
	c := &client.Client{
		Credentials: client.NewCredentials(AccountSID, AuthToken),
		HTTPClient:  s.httpClient(),
	}
	c.SetAccountSid(AccountSID)
	return c
}

// RestClient returns a new *twilio.RestClient wired to the Server, as
// [Server.BaseClient] is: its VerifyV2 is what code under test calls. Only
// the Verify v2 endpoints are faked; others answer 404.
func (s *Server) RestClient() *twilio.RestClient {
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: s.BaseClient()})
}

// Code returns the code of the pending verification of to, and false when
// there is none (never sent, expired or approved).
func (s *Server) Code(to string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verifications[to]
	if !ok || !s.now().Before(v.created.Add(ttl)) {
		return "", false
	}
	return v.code, true
}

// Requests returns a copy of the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// Sends returns how many codes were sent to to within the current
// sendWindow.
func (s *Server) Sends(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recentSends(to, s.now()))
}

// FailNext makes the next request to ep fail with e: Twilio's error code,
// and the status Twilio documents for it unless e sets one. Calls queue: n
// calls fail the next n requests.
func (s *Server) FailNext(ep Endpoint, e Error) {
	known := errorFor(e.Code)
	if e.Status == 0 {
		e.Status = known.Status
	}
	if e.Message == "" {
		e.Message = known.Message
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[ep] = append(s.failures[ep], e)
}

// Stall makes requests to ep wait, before they are answered, until release
// is called, the client gives up, or the Server closes. arrived receives a
// value each time a request starts waiting (it holds up to 64 unread), so a
// test can cancel a call at a known point instead of sleeping.
func (s *Server) Stall(ep Endpoint) (arrived <-chan struct{}, release func()) {
	st := &stall{arrived: make(chan struct{}, 64), release: make(chan struct{})}
	s.mu.Lock()
	s.stalls[ep] = st
	s.mu.Unlock()
	var once sync.Once
	return st.arrived, func() {
		once.Do(func() {
			s.mu.Lock()
			if s.stalls[ep] == st {
				delete(s.stalls, ep)
			}
			s.mu.Unlock()
			close(st.release)
		})
	}
}

// handler answers one endpoint: it returns the HTTP status and the JSON body.
type handler func(r *http.Request, rec *Request) (int, any)

func (s *Server) handle(ep Endpoint, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		_ = r.ParseForm()
		s.mu.Lock()
		rec := Request{
			Endpoint: ep, Method: r.Method, Path: r.URL.Path, Host: r.Header.Get(originalHostHeader),
			Form: r.PostForm, To: r.PostForm.Get("To"), Channel: r.PostForm.Get("Channel"),
			Code: r.PostForm.Get("Code"), Locale: r.PostForm.Get("Locale"), Time: s.now(),
		}
		st := s.stalls[ep]
		s.mu.Unlock()

		if st != nil && ep != "" {
			select {
			case st.arrived <- struct{}{}:
			default:
			}
			select {
			case <-st.release:
			case <-r.Context().Done():
			case <-s.closed:
			}
		}

		status, body := s.answer(ep, h, r, &rec)
		rec.Status = status
		if eb, ok := body.(restError); ok {
			rec.ErrorCode = eb.Code
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

func (s *Server) answer(ep Endpoint, h handler, r *http.Request, rec *Request) (int, any) {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(AccountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(AuthToken)) != 1 {
		return errorBody(errorFor(20003), "")
	}
	if ep != "" {
		if r.PathValue("sid") != ServiceSID {
			return errorBody(errorFor(20404), "The requested resource "+r.URL.Path+" was not found")
		}
		s.mu.Lock()
		if q := s.failures[ep]; len(q) > 0 {
			e := q[0]
			s.failures[ep] = q[1:]
			s.mu.Unlock()
			return errorBody(e, "")
		}
		s.mu.Unlock()
	}
	return h(r, rec)
}

var (
	e164Re = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	codeRe = regexp.MustCompile(`^[0-9A-Za-z]{4,10}$`)
)

var channels = map[string]bool{"sms": true, "call": true, "whatsapp": true, "email": true, "sna": true, "auto": true}

func (s *Server) create(r *http.Request, rec *Request) (int, any) {
	to, ch := rec.To, rec.Channel
	if !channels[ch] {
		return errorBody(errorFor(60200), "Invalid parameter: Channel")
	}
	if ch == "email" && !strings.Contains(to, "@") || ch != "email" && !e164Re.MatchString(to) {
		return errorBody(errorFor(60200), "Invalid parameter: To")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := rec.Time
	recent := s.recentSends(to, now)
	if len(recent) >= maxSends {
		return errorBody(errorFor(60203), "Max send attempts reached")
	}
	s.sends[to] = append(recent, now)
	v, ok := s.verifications[to]
	if !ok || !now.Before(v.created.Add(ttl)) {
		v = &verification{sid: newSID("VE"), to: to, channel: ch, code: newCode(), created: now}
		s.verifications[to] = v
	}
	v.channel = ch
	v.attempts = append(v.attempts, attempt{time: now, channel: ch, sid: newSID("VL")})
	return http.StatusCreated, s.verificationBody(v, "pending", now)
}

func (s *Server) check(r *http.Request, rec *Request) (int, any) {
	code := rec.Code
	if !codeRe.MatchString(code) {
		return errorBody(errorFor(60200), "Invalid parameter: Code")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := rec.Time
	v := s.verifications[rec.To]
	if sid := rec.Form.Get("VerificationSid"); sid != "" && rec.To == "" {
		for _, c := range s.verifications {
			if c.sid == sid {
				v = c
			}
		}
	}
	if v == nil || !now.Before(v.created.Add(ttl)) {
		return errorBody(errorFor(20404), "The requested resource "+r.URL.Path+" was not found")
	}
	if v.checks >= maxChecks {
		return errorBody(errorFor(60202), "Max check attempts reached")
	}
	v.checks++
	status := "pending"
	if subtle.ConstantTimeCompare([]byte(code), []byte(v.code)) == 1 {
		status = "approved"
		delete(s.verifications, v.to)
	}
	return http.StatusOK, s.checkBody(v, status, now)
}

// recentSends returns the sends to to within sendWindow before now, dropping
// older ones. Called with s.mu held.
func (s *Server) recentSends(to string, now time.Time) []time.Time {
	times := s.sends[to]
	i := 0
	for i < len(times) && !times[i].After(now.Add(-sendWindow)) {
		i++
	}
	times = times[i:]
	if len(times) == 0 {
		delete(s.sends, to)
		return nil
	}
	s.sends[to] = times
	return times
}

type restError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func errorBody(e Error, message string) (int, any) {
	if message == "" {
		message = e.Message
	}
	return e.Status, restError{
		Code: e.Code, Message: message, Status: e.Status,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(e.Code),
	}
}

func (s *Server) verificationBody(v *verification, status string, now time.Time) map[string]any {
	attempts := make([]map[string]any, len(v.attempts))
	for i, a := range v.attempts {
		attempts[i] = map[string]any{"time": a.time.UTC().Format(time.RFC3339), "channel": a.channel, "attempt_sid": a.sid}
	}
	return map[string]any{
		"sid": v.sid, "service_sid": ServiceSID, "account_sid": AccountSID,
		"to": v.to, "channel": v.channel, "status": status, "valid": false,
		"lookup": map[string]any{}, "amount": nil, "payee": nil,
		"send_code_attempts": attempts,
		"date_created":       v.created.UTC().Format(time.RFC3339),
		"date_updated":       now.UTC().Format(time.RFC3339),
		"sna":                nil,
		"url":                "https://verify.twilio.com/v2/Services/" + ServiceSID + "/Verifications/" + v.sid,
	}
}

func (s *Server) checkBody(v *verification, status string, now time.Time) map[string]any {
	return map[string]any{
		"sid": v.sid, "service_sid": ServiceSID, "account_sid": AccountSID,
		"to": v.to, "channel": v.channel, "status": status, "valid": status == "approved",
		"amount": nil, "payee": nil,
		"date_created":             v.created.UTC().Format(time.RFC3339),
		"date_updated":             now.UTC().Format(time.RFC3339),
		"sna_attempts_error_codes": []any{},
	}
}

func newSID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// newCode returns six random digits. The modulo bias over 64 random bits is
// below one in 10^13.
func newCode() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000)
}

// originalHostHeader carries the host the client addressed to the handler.
const originalHostHeader = "X-Verifytest-Host"

// errNotTwilio is returned by the transport for a request to a host that is
// not Twilio's.
var errNotTwilio = errors.New("verifytest: refusing to send a request to a host that is not *.twilio.com")

type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if host != "twilio.com" && !strings.HasSuffix(host, ".twilio.com") {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %q", errNotTwilio, host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = t.target.Scheme
	out.URL.Host = t.target.Host
	out.Host = ""
	out.Header.Set(originalHostHeader, host)
	return t.next.RoundTrip(out)
}
