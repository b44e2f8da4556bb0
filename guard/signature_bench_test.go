package guard

import (
	"crypto/hmac"
	"crypto/sha1"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

// twelveParams is a typical inbound SMS webhook: the twelve parameters
// Twilio posts for a one-segment message without media.
func twelveParams() url.Values {
	return url.Values{
		"ToCountry":     {"US"},
		"ToState":       {"CA"},
		"SmsMessageSid": {"SM0123456789abcdef0123456789abcdef"},
		"NumMedia":      {"0"},
		"ToCity":        {"SAN FRANCISCO"},
		"FromZip":       {"94105"},
		"SmsSid":        {"SM0123456789abcdef0123456789abcdef"},
		"FromState":     {"CA"},
		"SmsStatus":     {"received"},
		"FromCity":      {"SAN FRANCISCO"},
		"Body":          {"Hello, is this the right number to reach support?"},
		"From":          {"+14155550100"},
	}
}

const benchURL = "https://example.com/twilio/sms"

// signedBytes is what Twilio's HMAC covers for the twelve-parameter form.
func signedBytes() []byte {
	p := twelveParams()
	var b strings.Builder
	b.WriteString(benchURL)
	for _, k := range slices.Sorted(maps.Keys(p)) {
		b.WriteString(k + p.Get(k))
	}
	return []byte(b.String())
}

// BenchmarkSignature compares, side by side, the bare HMAC-SHA1 of the
// signed bytes with the Webhook's whole check of the same request (body
// read, form decoding and sorting, HMAC, constant-time comparison) and with
// twilio-go's RequestValidator.ValidateBody.
func BenchmarkSignature(b *testing.B) {
	params := twelveParams()
	body := params.Encode()
	sig := TwilioSignature(vecToken, benchURL, params)
	data := signedBytes()

	b.Run("impl=hmac-sha1", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		var sum [sha1.Size]byte
		for b.Loop() {
			mac := hmac.New(sha1.New, []byte(vecToken))
			mac.Write(data)
			mac.Sum(sum[:0])
		}
	})
	b.Run("impl=hmac-sha1-rekeyed", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		mac := hmac.New(sha1.New, []byte(vecToken))
		var sum [sha1.Size]byte
		for b.Loop() {
			mac.Reset()
			mac.Write(data)
			mac.Sum(sum[:0])
		}
	})
	b.Run("impl=webhook", func(b *testing.B) {
		w := newTestWebhook(b, WebhookConfig{PublicURL: "https://example.com/twilio"})
		r := formRequest("http://app/sms", body, sig)
		br := &reusableBody{}
		s := getSigScratch()
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			br.Reset(body)
			r.Body = br
			if err := w.check(r, s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=twilio-go", func(b *testing.B) {
		v := client.NewRequestValidator(vecToken)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if !v.ValidateBody(benchURL, []byte(body), sig) {
				b.Fatal("twilio-go refused")
			}
		}
	})
}

// BenchmarkWebhookHandler is the middleware around an empty handler.
func BenchmarkWebhookHandler(b *testing.B) {
	params := twelveParams()
	body := params.Encode()
	sig := TwilioSignature(vecToken, benchURL, params)
	h := newTestWebhook(b, WebhookConfig{PublicURL: "https://example.com/twilio"}).
		Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := formRequest("http://app/sms", body, sig)
	br := &reusableBody{}
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(body)
		r.Body = br
		h.ServeHTTP(rec, r)
	}
}

// BenchmarkSignatureRatio measures Webhook.Check (the whole check: body
// read into a buffer of the request's own, form decoding and sorting, HMAC,
// constant-time comparison) against the bare HMAC-SHA1 of the same bytes,
// in alternating rounds, and reports the ratio of the fastest round of each: on a shared machine, other load only ever
// adds time, so the minimum is the cost of the code. The bare HMAC is
// keyed for each message, as a validator does (hmac.New); "rekeyed" reuses
// one keyed MAC, the hashing alone. twilio-go's ValidateBody is measured
// alongside. Run it with -benchtime 1x; each iteration is 200 rounds of
// 2,000 calls of each.
func BenchmarkSignatureRatio(b *testing.B) {
	params := twelveParams()
	body := params.Encode()
	sig := TwilioSignature(vecToken, benchURL, params)
	data := signedBytes()
	w := newTestWebhook(b, WebhookConfig{PublicURL: "https://example.com/twilio"})
	r := formRequest("http://app/sms", body, sig)
	br := &reusableBody{}
	mac := hmac.New(sha1.New, []byte(vecToken))
	var sum [sha1.Size]byte
	tg := client.NewRequestValidator(vecToken)

	const rounds, per = 200, 2000
	impls := []struct {
		name string
		run  func()
	}{
		{"hmac", func() {
			mac := hmac.New(sha1.New, []byte(vecToken))
			mac.Write(data)
			mac.Sum(sum[:0])
		}},
		{"hmac-rekeyed", func() {
			mac.Reset()
			mac.Write(data)
			mac.Sum(sum[:0])
		}},
		{"webhook", func() {
			br.Reset(body)
			r.Body = br
			if err := w.Check(r); err != nil {
				b.Fatal(err)
			}
		}},
		{"twilio-go", func() {
			if !tg.ValidateBody(benchURL, []byte(body), sig) {
				b.Fatal("twilio-go refused")
			}
		}},
	}
	best := make([]float64, len(impls))
	for b.Loop() {
		for range rounds {
			for i, impl := range impls {
				start := time.Now()
				for range per {
					impl.run()
				}
				ns := float64(time.Since(start).Nanoseconds()) / per
				if best[i] == 0 || ns < best[i] {
					best[i] = ns
				}
			}
		}
	}
	for i, impl := range impls {
		b.ReportMetric(best[i], impl.name+"-ns/op")
	}
	b.ReportMetric(best[2]/best[0], "x-hmac")
	b.ReportMetric(best[2]/best[1], "x-hmac-rekeyed")
	b.ReportMetric(best[3]/best[2], "twilio-go-x")
}
