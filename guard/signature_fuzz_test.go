package guard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fuzzForms seeds the form fuzzers: the vectors' forms and the traps.
func fuzzForms() []string {
	return []string{
		docsParams().Encode(), trapParams().Encode(), twelveParams().Encode(),
		"MessagingBinding.Address=%2B18550000000&MessagingBinding.Address=%2B18330000000",
		"a=1;b=2", "=x", "a", "&&", "a=%zz", "a=%2", "Body=caf%C3%A9+%E2%82%AC&Body=", "k==v=",
	}
}

// FuzzParseSignedForm checks the form parser against net/url: every pair
// that ParseQuery (and so a handler's ParseForm) sees was signed, and when
// ParseQuery finds nothing wrong both see the same pairs, which sign as
// TwilioSignature signs ParseQuery's values.
func FuzzParseSignedForm(f *testing.F) {
	for _, s := range fuzzForms() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		buf, pairs, err := parseSignedForm(append(make([]byte, 0, 2*len(body)), body...), len(body), nil)
		if len(buf) > 2*len(body) || string(buf[:len(body)]) != body {
			t.Fatalf("decoding overflowed or changed the body: %q", buf)
		}
		q, qerr := url.ParseQuery(body)
		if err != nil {
			if qerr == nil {
				t.Fatalf("%q: we refuse (%v), ParseQuery accepts", body, err)
			}
			return // the Webhook refuses the request: nothing reaches a handler
		}
		ours := url.Values{}
		for _, p := range pairs {
			ours.Add(string(p.name.of(buf)), string(p.value.of(buf)))
		}
		for k, vs := range q {
			left := append([]string(nil), ours[k]...)
			for _, v := range vs {
				i := indexOf(left, v)
				if i < 0 {
					t.Fatalf("%q: ParseQuery sees %s=%q, which was not signed", body, k, v)
				}
				left = append(left[:i], left[i+1:]...)
			}
		}
		if qerr != nil {
			return
		}
		if !sameMultiset(ours, q) {
			t.Fatalf("%q: parsed %v, ParseQuery %v", body, ours, q)
		}
		want := TwilioSignature("tok", "https://e.x/", q)
		sorted := append([]formPair(nil), pairs...)
		sortFormPairs(buf, sorted)
		mac := newSigKey("tok", algSHA1)
		var sum [sha256Size]byte
		sig, _ := decodeSignature(new([sha256Size + 1]byte), want)
		if !mac.matches(&sum, sig, []byte("https://e.x/"), appendSignedTail(nil, buf, sorted)) {
			t.Fatalf("%q: signed content differs from TwilioSignature's", body)
		}
	})
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// FuzzWebhook signs arbitrary requests as Twilio would and checks that the
// Webhook accepts them, refuses them under another token or with a
// signature bit flipped, and never lets a handler read a parameter that
// was not signed.
func FuzzWebhook(f *testing.F) {
	for _, s := range fuzzForms() {
		f.Add("/sms?x=1", s, "12345", true)
	}
	f.Add("/myapp.php?foo=1&bar=2", "", "12345", false)
	f.Add("/it%27s?a=b%27c", "a=1", "tok", true)
	f.Fuzz(func(t *testing.T, pathQuery, body, token string, post bool) {
		if token == "" || strings.TrimSpace(token) != token || !strings.HasPrefix(pathQuery, "/") {
			return
		}
		u, err := url.ParseRequestURI("https://example.com" + pathQuery)
		if err != nil || u.Fragment != "" || strings.ContainsAny(pathQuery, "# \t\r\n") {
			return
		}
		params, perr := url.ParseQuery(body)
		if perr != nil || len(body) > 4096 {
			return
		}
		target := "https://example.com" + pathQuery
		if !post {
			body, params = "", nil
		}
		sig := TwilioSignature(token, target, params)
		w, err := NewWebhook([]string{token}, WebhookConfig{PublicURL: "https://example.com"})
		if err != nil {
			t.Fatal(err)
		}
		req := func(sig string) *http.Request {
			r, err := http.NewRequest(http.MethodPost, "http://app"+pathQuery, strings.NewReader(body))
			if err != nil {
				t.Skip()
			}
			r.RequestURI = pathQuery
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set(headerTwilioSignature, sig)
			return r
		}
		r := req(sig)
		if err := w.Check(r); err != nil {
			t.Fatalf("genuine request %q %q refused: %v", target, body, err)
		}
		if err := r.ParseForm(); err == nil && !sameMultiset(r.PostForm, params) {
			t.Fatalf("handler reads %v, signed %v", r.PostForm, params)
		}
		if w.Check(req(flipBit(sig))) == nil {
			t.Fatal("accepted a flipped signature")
		}
		if w.Check(req(TwilioSignature(token+"x", target, params))) == nil {
			t.Fatal("accepted another token's signature")
		}
	})
}

// FuzzSignatureSettings: X-Twilio-Webhooks-Signature-Settings is outside
// input; only the two algorithms Twilio names are ever accepted, and what
// is accepted reads back the same.
func FuzzSignatureSettings(f *testing.F) {
	f.Add("key=KS123,algorithm=HMAC_SHA256")
	f.Add(" algorithm = hmac_sha1 , key = ")
	f.Add("key=a=b,algorithm=HMAC_MD5,algorithm=HMAC_SHA256")
	f.Fuzz(func(t *testing.T, h string) {
		id, alg, err := parseSignatureSettings(h)
		if err != nil {
			return
		}
		if alg != algSHA1 && alg != algSHA256 {
			t.Fatalf("%q: algorithm %d", h, alg)
		}
		if strings.TrimSpace(id) != id {
			t.Fatalf("%q: key id %q not trimmed", h, id)
		}
	})
}
