package guard

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/antifraud-go/antifraud/sanitize"
)

// maxSMSForm bounds the form InboundSMS reads when no Webhook in front of
// it has: an SMS webhook is a few kilobytes.
const maxSMSForm = 64 << 10

// smsRemovedKey is the context key of what InboundSMS removed.
type smsRemovedKey struct{}

// InboundSMS returns middleware for the webhook of inbound messages that
// takes the calls to action (links, phone numbers, email addresses, short
// codes: what policy strips) out of the message's Body before the handler
// sees it, so that a phishing text forwarded to staff or shown in an inbox
// carries nothing to click or call. What was removed is kept for audit:
// SMSRemoved returns it. A nil policy means sanitize's defaults; give a
// policy built with sanitize.WithAllow to keep links to the app's own site
// and its own numbers. Twilio's FromCountry, when the webhook carries it,
// is the region hint for the numbers in the message (sanitize's
// Policy.ForRegion).
//
// The handler reads the cleaned Body however it reads the request:
// r.FormValue, r.PostForm, or the raw body, which is re-encoded when
// something was removed and left byte for byte otherwise. A GET webhook's
// Body, in the query, is cleaned the same way.
//
// The sender's country, Twilio's FromCountry, is the region hint
// (sanitize.Policy.ForRegion): it decides which country a number written in
// national format is read for, never whether it is removed.
//
// Mount it inside the signature check, which needs the message as Twilio
// signed it: webhook.Handler(guard.InboundSMS(p)(sms)). A body that cannot
// be read is answered 400 (413 over 64 KiB); form pairs that net/http
// would drop (with a ';') are dropped.
func InboundSMS(policy *sanitize.Policy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			removed, err := cleanSMS(r, policy)
			if err != nil {
				if _, ok := err.(*http.MaxBytesError); !ok {
					err = badRequest("unreadable message")
				}
				ProblemFor(err).ServeHTTP(w, r)
				return
			}
			if removed != nil {
				r = r.WithContext(context.WithValue(r.Context(), smsRemovedKey{}, removed))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// defaultSMSPolicy is sanitize's default policy, for ForRegion.
var defaultSMSPolicy = func() *sanitize.Policy {
	p, _ := sanitize.NewPolicy() // the defaults are valid
	return p
}()

// SMSRemoved returns what InboundSMS removed from the message of r, with
// offsets into the message as it came, or nil when it removed nothing. A
// Finding logged through log/slog masks phone numbers.
func SMSRemoved(r *http.Request) []sanitize.Finding {
	f, _ := r.Context().Value(smsRemovedKey{}).([]sanitize.Finding)
	return f
}

// cleanSMS strips the Body values of r's query and form body, and leaves
// r with its form parsed and its body readable.
func cleanSMS(r *http.Request, policy *sanitize.Policy) ([]sanitize.Finding, error) {
	var removed []sanitize.Finding
	if policy == nil {
		policy = defaultSMSPolicy
	}
	var hinted *sanitize.Policy
	strip := func(vs url.Values) bool {
		changed := false
		for i, text := range vs["Body"] {
			text, found := hinted.Strip(text)
			if found != nil {
				vs["Body"][i] = text
				removed = append(removed, found...)
				changed = true
			}
		}
		return changed
	}

	// Pairs that url.ParseQuery cannot read (a ';') are dropped, as
	// net/http's ParseForm drops them; the rest is read.
	query, _ := url.ParseQuery(r.URL.RawQuery)
	post := url.Values{}
	var raw []byte
	form := r.Body != nil && r.Body != http.NoBody && isFormContentType(r.Header.Get("Content-Type"))
	if form {
		var err error
		raw, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, maxSMSForm))
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		post, _ = url.ParseQuery(string(raw))
	}
	from := post.Get("FromCountry")
	if from == "" {
		from = query.Get("FromCountry")
	}
	hinted = policy.ForRegion(from)

	if strip(query) {
		u := *r.URL
		u.RawQuery = query.Encode()
		r.URL = &u
	}
	if form {
		if strip(post) {
			raw = []byte(post.Encode())
			r.ContentLength = int64(len(raw))
			r.Header.Set("Content-Length", strconv.Itoa(len(raw)))
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
	}
	// The form as net/http would parse it, with the cleaned values: the
	// handler's ParseForm is then a no-op.
	r.PostForm = post
	r.Form = url.Values{}
	for k, vs := range post {
		r.Form[k] = append(r.Form[k], vs...)
	}
	for k, vs := range query {
		r.Form[k] = append(r.Form[k], vs...)
	}
	return removed, nil
}
