package guard

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
)

// Twilio's published vectors: the security documentation's example and the
// SDKs' tests (twilio-go client/request_validator_test.go).
const (
	vecToken = "12345"
	vecURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	// The JSON body of the SDK tests and its SHA-256.
	vecJSON     = `{"property": "value", "boolean": true}`
	vecJSONHash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
)

// docsParams is the documentation's form (https://www.twilio.com/docs/usage/security).
func docsParams() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
}

// sdkParams is the SDKs' test form: the documentation's with other numbers.
func sdkParams() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "To": {"+18005551212"},
	}
}

// trapParams adds a name that is a prefix of another: sorting the pairs by
// name gives Reason before ReasonConferenceEnded; sorting the concatenated
// name+value strings gives the opposite, and a wrong signature.
func trapParams() url.Values {
	p := sdkParams()
	p.Set("Reason", "Participant")
	p.Set("ReasonConferenceEnded", "test")
	return p
}

func TestTwilioSignatureVectors(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		params url.Values
		want   string
	}{
		{"documentation", vecURL, docsParams(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{"sdk form", vecURL, sdkParams(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"sdk form with :443", "https://mycompany.com:443/myapp.php?foo=1&bar=2", sdkParams(), "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"sorting trap", vecURL, trapParams(), "vOEb5UThFn24KEfnOFLQY2AE5FY="},
		{"sorting trap over http", "http://mycompany.com/myapp.php?foo=1&bar=2", trapParams(), "n2xBNyzSW7rfYStDtOFiFMv7qNo="},
		{"json body", vecURL + "&bodySHA256=" + vecJSONHash, nil, "a9nBmqA0ju/hNViExpshrM61xv4="},
		{"json body alone", "https://mycompany.com/myapp.php?bodySHA256=" + vecJSONHash, nil, "y77kIzt2vzLz71DgmJGsen2scGs="},
		{"small form", vecURL, url.Values{"property": {"value"}, "boolean": {"true"}}, "NBdBDr/T/lgjI+tlgpXjKZQZs/k="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TwilioSignature(vecToken, tt.url, tt.params); got != tt.want {
				t.Errorf("TwilioSignature = %s, want %s", got, tt.want)
			}
		})
	}
	// The wrong order of the trap, for the record.
	if got := TwilioSignature(vecToken, vecURL, trapParams()); got == "95+Bu0JVPi0r/SsESZCVf0dWAjw=" {
		t.Error("signed the trap in concatenated-string order")
	}
	if sum := sha256.Sum256([]byte(vecJSON)); hex.EncodeToString(sum[:]) != vecJSONHash {
		t.Error("JSON body hash vector does not match the body")
	}
}

// newTestWebhook returns a Webhook for the vectors' token.
func newTestWebhook(t testing.TB, cfg WebhookConfig, tokens ...string) *Webhook {
	t.Helper()
	if len(tokens) == 0 {
		tokens = []string{vecToken}
	}
	w, err := NewWebhook(tokens, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// formRequest is a POST of body to target, as it reaches the server.
func formRequest(target, body, signature string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		r.Header.Set(headerTwilioSignature, signature)
	}
	return r
}

func TestWebhookAcceptsVectors(t *testing.T) {
	jsonURL := vecURL + "&bodySHA256=" + vecJSONHash
	tests := []struct {
		name      string
		publicURL string
		target    string // where the request arrives
		body      string
		json      bool
		sig       string
	}{
		{"documentation", "", vecURL, docsParams().Encode(), false, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{"documentation behind a proxy", "https://mycompany.com", "http://10.0.0.7:8080/myapp.php?foo=1&bar=2", docsParams().Encode(), false, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{"trap", "", vecURL, trapParams().Encode(), false, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
		{"signed with :443, called without", "https://mycompany.com", "http://app/myapp.php?foo=1&bar=2", sdkParams().Encode(), false, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"signed without port, configured with :443", "https://mycompany.com:443", "http://app/myapp.php?foo=1&bar=2", sdkParams().Encode(), false, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"signed with :443, request Host has it", "", "https://mycompany.com:443/myapp.php?foo=1&bar=2", sdkParams().Encode(), false, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"signed without port, request Host has :443", "", "https://mycompany.com:443/myapp.php?foo=1&bar=2", sdkParams().Encode(), false, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"json", "", jsonURL, vecJSON, true, "a9nBmqA0ju/hNViExpshrM61xv4="},
		{"json behind a proxy with a prefix", "https://mycompany.com/", "http://app/myapp.php?foo=1&bar=2&bodySHA256=" + vecJSONHash, vecJSON, true, "a9nBmqA0ju/hNViExpshrM61xv4="},
		{"form as twilio-go tests it", "", vecURL, "property=value&boolean=true", false, "NBdBDr/T/lgjI+tlgpXjKZQZs/k="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWebhook(t, WebhookConfig{PublicURL: tt.publicURL})
			r := formRequest(tt.target, tt.body, tt.sig)
			if tt.json {
				r.Header.Set("Content-Type", "application/json")
			}
			if err := w.Check(r); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

func TestWebhookPathPrefix(t *testing.T) {
	// Twilio calls https://example.com/twilio/sms; the proxy strips /twilio.
	params := url.Values{"Body": {"hi"}, "From": {"+15005550006"}}
	sig := TwilioSignature(vecToken, "https://example.com/twilio/sms", params)
	w := newTestWebhook(t, WebhookConfig{PublicURL: "https://example.com/twilio"})
	if err := w.Check(formRequest("http://app:8080/sms", params.Encode(), sig)); err != nil {
		t.Fatal(err)
	}
}

// Repeated names: Twilio signs every value, sorted. twilio-go's
// ValidateBody keeps the first value of each name and refuses the request.
func TestRepeatedNamesAllValuesSorted(t *testing.T) {
	// A group MMS as Conversations posts it (twilio-node#722).
	body := "AccountSid=AC123&EventType=onConversationAdd" +
		"&MessagingBinding.Address=%2B18550000000&MessagingBinding.Address=%2B18330000000" +
		"&MessagingBinding.AuthorAddress=%2B16020000000&Source=SMS"
	params, _ := url.ParseQuery(body)
	target := "https://example.com/conversations"
	sig := TwilioSignature(vecToken, target, params)

	// By hand: +1833 sorts before +1855.
	mac := hmac.New(sha1.New, []byte(vecToken))
	mac.Write([]byte(target + "AccountSidAC123EventTypeonConversationAdd" +
		"MessagingBinding.Address+18330000000MessagingBinding.Address+18550000000" +
		"MessagingBinding.AuthorAddress+16020000000SourceSMS"))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want {
		t.Fatalf("TwilioSignature = %s, want %s", sig, want)
	}

	w := newTestWebhook(t, WebhookConfig{})
	if err := w.Check(formRequest(target, body, sig)); err != nil {
		t.Fatalf("Check refused a genuine request with a repeated name: %v", err)
	}
	tg := client.NewRequestValidator(vecToken)
	if tg.ValidateBody(target, []byte(body), sig) {
		t.Error("twilio-go accepted a repeated name: its first-value-only bug is fixed; update this test")
	}
	// Order of the values on the wire does not matter.
	swapped := strings.Replace(body, "%2B18550000000&MessagingBinding.Address=%2B18330000000", "%2B18330000000&MessagingBinding.Address=%2B18550000000", 1)
	if err := w.Check(formRequest(target, swapped, sig)); err != nil {
		t.Errorf("values in the other order: %v", err)
	}
}

// twilio-node de-duplicates identical repeated pairs before signing; Python
// and the documentation do not. Only the latter is accepted: the former
// would let anyone add a copy of a signed pair.
func TestRepeatedIdenticalPairs(t *testing.T) {
	body := "A=1&B=x&B=x&C=2"
	target := "https://example.com/hook"
	withDup := TwilioSignature(vecToken, target, url.Values{"A": {"1"}, "B": {"x", "x"}, "C": {"2"}})
	deduped := TwilioSignature(vecToken, target, url.Values{"A": {"1"}, "B": {"x"}, "C": {"2"}})
	w := newTestWebhook(t, WebhookConfig{})
	if err := w.Check(formRequest(target, body, withDup)); err != nil {
		t.Errorf("both copies signed: %v", err)
	}
	if err := w.Check(formRequest(target, body, deduped)); err == nil {
		t.Errorf("accepted a pair added to a de-duplicated signature")
	}
}

// Twilio's signature puts nothing between a name and its value, so the '='
// can move within a pair without changing it. This documents the blind
// spot (the Webhook doc tells handlers to refuse requests that lack a
// parameter they expect).
func TestBoundaryBlindSpot(t *testing.T) {
	target := "https://example.com/sms"
	sig := TwilioSignature(vecToken, target, url.Values{"Body": {"Hi"}})
	w := newTestWebhook(t, WebhookConfig{})
	if err := w.Check(formRequest(target, "BodyH=i", sig)); err != nil {
		t.Errorf("Twilio's scheme cannot tell Body=Hi from BodyH=i; the check did: %v", err)
	}
}

// Twilio signs apostrophes unescaped; a client or proxy may deliver them as
// %27 (twilio-node#1059, twilio-ruby#528).
func TestApostropheVariant(t *testing.T) {
	signed := "https://example.com/gather?msg=Couldn't+find"
	sig := TwilioSignature(vecToken, signed, url.Values{"Digits": {"1"}})
	w := newTestWebhook(t, WebhookConfig{})
	for _, target := range []string{signed, "https://example.com/gather?msg=Couldn%27t+find"} {
		if err := w.Check(formRequest(target, "Digits=1", sig)); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
	// The path is not rewritten.
	sig = TwilioSignature(vecToken, "https://example.com/it's", nil)
	if err := w.Check(formRequest("https://example.com/it%27s", "", sig)); err == nil {
		t.Error("rewrote %27 in the path")
	}
}

// GET webhooks carry their parameters in the URL, which is signed as it is,
// in Twilio's order (not sorted, not re-encoded).
func TestGETRawQuery(t *testing.T) {
	raw := "https://example.com/voice?Digits=1&Retry=1&RetryMessage=Couldn%27t+find+an+address&AccountSid=AC1&CalledCity="
	sig := TwilioSignature(vecToken, raw, nil)
	w := newTestWebhook(t, WebhookConfig{})
	r := httptest.NewRequest(http.MethodGet, raw, nil)
	r.Header.Set(headerTwilioSignature, sig)
	if err := w.Check(r); err != nil {
		t.Fatal(err)
	}
	// The same parameters sorted and re-encoded are another URL.
	r = httptest.NewRequest(http.MethodGet, "https://example.com/voice?AccountSid=AC1&CalledCity=&Digits=1&Retry=1&RetryMessage=Couldn%27t%20find%20an%20address", nil)
	r.Header.Set(headerTwilioSignature, sig)
	if err := w.Check(r); err == nil {
		t.Error("accepted a re-ordered query")
	}
}

// A genuine request must be refused once anything Twilio signed changes:
// the URL, any parameter, the body, the key.
func TestForgeriesRefused(t *testing.T) {
	target := "https://example.com/sms?tenant=7"
	params := url.Values{
		"AccountSid": {"AC0123456789abcdef0123456789abcdef"}, "Body": {"Your code is 1234"},
		"From": {"+15005550006"}, "To": {"+15005550001"}, "MessageSid": {"SM1"},
		"MediaUrl0": {"https://api.twilio.com/a", "https://api.twilio.com/b"},
	}
	body := params.Encode()
	sig := TwilioSignature(vecToken, target, params)
	jsonTarget := "https://example.com/events?bodySHA256=" + vecJSONHash
	jsonSig := TwilioSignature(vecToken, jsonTarget, nil)

	w := newTestWebhook(t, WebhookConfig{PublicURL: "https://example.com"})
	if err := w.Check(formRequest("http://app/sms?tenant=7", body, sig)); err != nil {
		t.Fatalf("genuine request refused: %v", err)
	}

	with := func(f func(url.Values)) string {
		p := url.Values{}
		for k, v := range params {
			p[k] = slices.Clone(v)
		}
		f(p)
		return p.Encode()
	}
	forgeries := []struct {
		name, target, body, ct, sig string
		header                      map[string]string
	}{
		{name: "changed value", body: with(func(p url.Values) { p.Set("Body", "Your code is 9999") })},
		{name: "changed one of repeated values", body: with(func(p url.Values) { p["MediaUrl0"][1] = "https://evil.example/b" })},
		{name: "dropped one of repeated values", body: with(func(p url.Values) { p["MediaUrl0"] = p["MediaUrl0"][:1] })},
		{name: "repeated value duplicated", body: body + "&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fa"},
		{name: "dropped param", body: with(func(p url.Values) { p.Del("To") })},
		{name: "added param", body: body + "&Extra=1"},
		{name: "added empty param", body: body + "&Extra="},
		{name: "value moved to another name", body: with(func(p url.Values) { p.Set("To", "+15005550006"); p.Set("From", "+15005550001") })},
		{name: "other path", target: "http://app/voice?tenant=7"},
		{name: "other query", target: "http://app/sms?tenant=8"},
		{name: "query dropped", target: "http://app/sms"},
		{name: "query param added", target: "http://app/sms?tenant=7&x=1"},
		{name: "other token", sig: TwilioSignature("54321", target, params)},
		{name: "other host", sig: TwilioSignature(vecToken, "https://evil.example/sms?tenant=7", params)},
		{name: "other scheme", sig: TwilioSignature(vecToken, "http://example.com/sms?tenant=7", params)},
		{name: "non-default port", sig: TwilioSignature(vecToken, "https://example.com:8443/sms?tenant=7", params)},
		{name: "signature of the URL alone", sig: TwilioSignature(vecToken, target, nil)},
		{name: "no signature", sig: "-"},
		{name: "empty signature", header: map[string]string{headerTwilioSignature: ""}},
		{name: "malformed signature", sig: "not base64 at all, not at all!"},
		{name: "signature one bit off", sig: flipBit(sig)},
		{name: "sha256-sized signature without settings", sig: base64.StdEncoding.EncodeToString(make([]byte, 32))},
		{name: "signed params sent as JSON", ct: "application/json"},
		{name: "signed params with no content type", ct: "-"},
		{name: "json body changed", target: "http://app/events?bodySHA256=" + vecJSONHash, body: strings.Replace(vecJSON, "true", "false", 1), ct: "application/json", sig: jsonSig},
		{name: "json body with the hash dropped from the URL", target: "http://app/events", body: vecJSON, ct: "application/json", sig: jsonSig},
		{name: "json hash given twice", target: "http://app/events?bodySHA256=" + vecJSONHash + "&bodySHA256=" + vecJSONHash, body: vecJSON, ct: "application/json", sig: jsonSig},
		{name: "json hash malformed", target: "http://app/events?bodySHA256=zz", body: vecJSON, ct: "application/json", sig: TwilioSignature(vecToken, "https://example.com/events?bodySHA256=zz", nil)},
		{name: "form body unsigned beside a JSON hash", target: "http://app/events?bodySHA256=" + vecJSONHash, body: "To=%2B1", sig: jsonSig},
		{name: "unknown shared key", header: map[string]string{headerSignatureSet: "key=KS1,algorithm=HMAC_SHA256"}},
		{name: "unknown algorithm", header: map[string]string{headerSignatureSet: "algorithm=HMAC_MD5"}},
	}
	for _, f := range forgeries {
		t.Run(f.name, func(t *testing.T) {
			tgt, b, s := "http://app/sms?tenant=7", body, sig
			if f.target != "" {
				tgt = f.target
			}
			if f.body != "" {
				b = f.body
			}
			if f.sig != "" {
				s = f.sig
			}
			if s == "-" {
				s = ""
			}
			r := formRequest(tgt, b, s)
			switch f.ct {
			case "":
			case "-":
				r.Header.Del("Content-Type")
			default:
				r.Header.Set("Content-Type", f.ct)
			}
			for k, v := range f.header {
				r.Header.Set(k, v)
			}
			err := w.Check(r)
			if err == nil {
				t.Fatal("forgery accepted")
			}
			if !isRefusal(err) {
				t.Fatalf("error %v is not a refusal", err)
			}
		})
	}
}

func isRefusal(err error) bool {
	return errors.Is(err, ErrSignature)
}

func flipBit(sig string) string {
	b, _ := base64.StdEncoding.DecodeString(sig)
	b[7] ^= 0x10
	return base64.StdEncoding.EncodeToString(b)
}

// randomForm returns a form like Twilio's, with names drawn from a small set
// so that some repeat when repeats is set.
func randomForm(rng *rand.Rand, n int, repeats bool) url.Values {
	names := []string{"AccountSid", "ApiVersion", "Body", "From", "FromCountry", "MessageSid",
		"NumMedia", "SmsStatus", "To", "ToCity", "Reason", "ReasonConferenceEnded", "a", "A", "a b", "ä"}
	alphabet := []rune("abcXYZ019 +&=%?/#'\"éü€😀.-_~")
	p := url.Values{}
	for range n {
		name := names[rng.IntN(len(names))]
		if !repeats && p.Has(name) {
			continue
		}
		v := make([]rune, rng.IntN(12))
		for i := range v {
			v[i] = alphabet[rng.IntN(len(alphabet))]
		}
		p.Add(name, string(v))
	}
	return p
}

// twilio-go's RequestValidator is right for forms without repeated names:
// it and the Webhook accept exactly the same signatures there.
func TestAgreesWithTwilioGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tg := client.NewRequestValidator(vecToken)
	w := newTestWebhook(t, WebhookConfig{})
	targets := []string{"https://example.com/sms", "https://example.com/sms?foo=1&bar=2", "https://example.com:443/a/b?x=%2F"}
	for i := range 500 {
		params := randomForm(rng, 1+rng.IntN(14), false)
		target := targets[i%len(targets)]
		body := params.Encode()
		good := TwilioSignature(vecToken, target, params)
		candidates := []string{good, flipBit(good), TwilioSignature("other", target, params)}
		for _, sig := range candidates {
			theirs := tg.ValidateBody(target, []byte(body), sig)
			ours := w.Check(formRequest(target, body, sig)) == nil
			if theirs != ours {
				t.Fatalf("body %q sig %s: twilio-go %v, Webhook %v", body, sig, theirs, ours)
			}
		}
		if !tg.ValidateBody(target, []byte(body), good) {
			t.Fatalf("twilio-go refused a genuine request: %q", body)
		}
	}
	// JSON bodies.
	jsonTarget := vecURL + "&bodySHA256=" + vecJSONHash
	sig := TwilioSignature(vecToken, jsonTarget, nil)
	r := formRequest(jsonTarget, vecJSON, sig)
	r.Header.Set("Content-Type", "application/json")
	if !tg.ValidateBody(jsonTarget, []byte(vecJSON), sig) || w.Check(r) != nil {
		t.Fatal("disagree on the JSON vector")
	}
}

// Every single-byte change of a genuine body is refused, unless it decodes
// to the same parameters (+ and %20 are both a space): then Twilio signed
// the same thing, and it is no forgery.
func TestByteMutationsRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := newTestWebhook(t, WebhookConfig{})
	target := "https://example.com/sms"
	var tried, refused int
	for range 200 {
		params := randomForm(rng, 1+rng.IntN(12), true)
		body := params.Encode()
		sig := TwilioSignature(vecToken, target, params)
		for range 10 {
			b := []byte(body)
			i := rng.IntN(len(b))
			b[i] = "abc%+=&2B0"[rng.IntN(10)]
			mutated, err := url.ParseQuery(string(b))
			same := err == nil && sameMultiset(mutated, params)
			if string(b) == body || same {
				continue
			}
			tried++
			if w.Check(formRequest(target, string(b), sig)) != nil {
				refused++
			} else {
				t.Errorf("accepted %q for %q", b, body)
			}
		}
	}
	t.Logf("%d of %d forgeries refused", refused, tried)
	if tried < 1000 {
		t.Fatalf("only %d forgeries tried", tried)
	}
}

func sameMultiset(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		x, y := slices.Clone(va), slices.Clone(b[k])
		slices.Sort(x)
		slices.Sort(y)
		if !slices.Equal(x, y) {
			return false
		}
	}
	return true
}

func TestParseSignedFormMatchesParseQuery(t *testing.T) {
	for _, body := range []string{
		"", "&", "&&a=1&&", "a", "a=", "=b", "a=1&a=2", "a+b=c+d", "%41=%42", "a=1;b=2",
		"a==b", "a=%e2%82%ac", "k=%2B1%20x",
	} {
		pairs := parsePairs(t, body)
		q, err := url.ParseQuery(body)
		if err != nil && !strings.Contains(body, ";") {
			t.Errorf("%q: ParseQuery: %v", body, err)
		}
		if err == nil && !sameMultiset(q, pairs) {
			t.Errorf("%q: parsed %v, ParseQuery %v", body, pairs, q)
		}
	}
	for _, bad := range []string{"a=%", "a=%4", "a=%zz", "%=1"} {
		if _, _, err := parseSignedForm(append(make([]byte, 0, 2*len(bad)), bad...), len(bad), nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func parsePairs(t testing.TB, body string) url.Values {
	t.Helper()
	buf, pairs, err := parseSignedForm(append(make([]byte, 0, 2*len(body)), body...), len(body), nil)
	if err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	v := url.Values{}
	for _, p := range pairs {
		v.Add(string(p.name.of(buf)), string(p.value.of(buf)))
	}
	return v
}

func TestTogglePort(t *testing.T) {
	for _, tt := range []struct{ scheme, host, want string }{
		{"https", "example.com", "example.com:443"},
		{"https", "example.com:443", "example.com"},
		{"http", "example.com", "example.com:80"},
		{"http", "example.com:80", "example.com"},
		{"https", "example.com:8443", "example.com"},
		{"https", "[::1]", "[::1]:443"},
		{"https", "[::1]:443", "[::1]"},
		{"https", "[2001:db8::1]:8443", "[2001:db8::1]"},
	} {
		if got := togglePort(tt.scheme, tt.host); got != tt.want {
			t.Errorf("togglePort(%s, %s) = %s, want %s", tt.scheme, tt.host, got, tt.want)
		}
	}
}

func TestParsePublicURL(t *testing.T) {
	for _, tt := range []struct{ in, base, alt string }{
		{"https://example.com", "https://example.com", "https://example.com:443"},
		{"https://example.com/", "https://example.com", "https://example.com:443"},
		{"https://example.com:443/twilio/", "https://example.com:443/twilio", "https://example.com/twilio"},
		{"http://[::1]:8080", "http://[::1]:8080", "http://[::1]"},
		{"https://user:pw@example.com/p", "https://user:pw@example.com/p", "https://user:pw@example.com:443/p"},
	} {
		base, alt, err := parsePublicURL(tt.in)
		if err != nil || base != tt.base || alt != tt.alt {
			t.Errorf("parsePublicURL(%q) = %q, %q, %v; want %q, %q", tt.in, base, alt, err, tt.base, tt.alt)
		}
	}
	for _, bad := range []string{"example.com", "ftp://example.com", "https://", "https://example.com/?a=1", "https://example.com/#x", "https://exa mple.com"} {
		if _, _, err := parsePublicURL(bad); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("parsePublicURL(%q): %v, want ErrInvalidConfig", bad, err)
		}
	}
}

// sharedKeySignature signs as a Webhooks Rule with a SharedKey does.
func sharedKeySignature(secret, target string, params url.Values) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(target))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			mac.Write([]byte(k + v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestSharedKey(t *testing.T) {
	target := "https://example.com/sms"
	params := url.Values{"Body": {"hello"}, "From": {"+15005550006"}}
	w := newTestWebhook(t, WebhookConfig{SharedKeys: map[string]string{"KS1": "s3cret", "KS2": "n3w"}})
	tests := []struct {
		name, settings, sig string
		ok                  bool
	}{
		{"sha256 with the named key", "key=KS1,algorithm=HMAC_SHA256", sharedKeySignature("s3cret", target, params), true},
		{"the other key", "key=KS2, algorithm=HMAC_SHA256", sharedKeySignature("n3w", target, params), true},
		{"named key, other's secret", "key=KS1,algorithm=HMAC_SHA256", sharedKeySignature("n3w", target, params), false},
		{"sha1 with a shared key", "key=KS1,algorithm=HMAC_SHA1", TwilioSignature("s3cret", target, params), true},
		{"auth token with the shared-key header", "key=KS1,algorithm=HMAC_SHA1", TwilioSignature(vecToken, target, params), false},
		{"shared key without the header", "", TwilioSignature("s3cret", target, params), false},
		{"auth token without the header", "", TwilioSignature(vecToken, target, params), true},
		{"sha1 length, sha256 named", "key=KS1,algorithm=HMAC_SHA256", TwilioSignature("s3cret", target, params), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := formRequest(target, params.Encode(), tt.sig)
			if tt.settings != "" {
				r.Header.Set(headerSignatureSet, tt.settings)
			}
			if err := w.Check(r); (err == nil) != tt.ok {
				t.Errorf("Check = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	// A key configured under "" is tried whatever the header names.
	any := newTestWebhook(t, WebhookConfig{SharedKeys: map[string]string{"": "s3cret"}})
	r := formRequest(target, params.Encode(), sharedKeySignature("s3cret", target, params))
	r.Header.Set(headerSignatureSet, "key=KSwhatever,algorithm=HMAC_SHA256")
	if err := any.Check(r); err != nil {
		t.Error(err)
	}
}

func TestQueryValue(t *testing.T) {
	for _, tt := range []struct {
		q, v         string
		found, isErr bool
	}{
		{"", "", false, false},
		{"a=1&bodySHA256=ab", "ab", true, false},
		{"bodySHA256", "", true, false},
		{"bodySHA256x=1", "", false, false},
		{"bodySHA256=a&bodySHA256=a", "", true, true},
	} {
		v, found, err := queryValue(tt.q, "bodySHA256")
		if v != tt.v || found != tt.found || (err != nil) != tt.isErr {
			t.Errorf("queryValue(%q) = %q, %v, %v", tt.q, v, found, err)
		}
	}
}
