package sanitize

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"mvdan.cc/xurls/v2"
)

// xurlsSpans is what xurls' Relaxed expression finds in tok, less bare
// IPv6 addresses, which findURLs leaves out.
func xurlsSpans(tok string) (spans []urlSpan, ipv6 bool) {
	re := xurls.Relaxed()
	email := re.SubexpIndex("relaxedEmail")
	for _, m := range re.FindAllStringSubmatchIndex(tok, -1) {
		text := tok[m[0]:m[1]]
		if !strings.Contains(text, "//") && strings.Count(text, ":") >= 2 && strings.Trim(text, "0123456789abcdefABCDEF:.") == "" {
			return nil, true
		}
		spans = append(spans, urlSpan{m[0], m[1], m[2*email] >= 0})
	}
	return spans, false
}

// checkURLs compares findURLs with xurls on tok.
func checkURLs(t *testing.T, tok string) {
	t.Helper()
	want, ipv6 := xurlsSpans(tok)
	if ipv6 {
		return
	}
	var m urlMatcher
	got := findURLs(tok, nil, &m)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findURLs(%q) = %v, xurls finds %v", tok, got, want)
	}
}

// urlTokens are tokens written to reach the corners of xurls' expression.
var urlTokens = []string{
	"example.com", "www.example.co.uk", "EXAMPLE.COM", "example.com.", "example.com,", "(example.com)",
	"example.com/path?q=1#frag", "example.com/path.", "example.com/a(b)c", "example.com/a(b", "example.com/(a(b)c)",
	"example.com/[x]", "example.com/{x}", "example.com/a((b))", "example.com:8080/x", "example.com:x", "example.com/",
	"http://example.com", "HTTPS://EXAMPLE.COM/X", "xhttp://a.b", "http://", "http://.", "http://a", "ftp://x.y/z",
	"mailto:a@b.com", "tel:+442079460018", "sms:87121", "TEL:123", "magnet:?xt=urn", "geo:1,2",
	"a@b.com", "a.b@c.com", "a+b%c@d-e.co.uk", "@b.com", "a@b", "a@b.", "a@b.c", "a@b.com@c.com", "www.paypal.com@evil.com",
	"a@b.a@b.a@b.", "a.a.a.a.a", "a.a.a.com", "com.com", "x.com-y.net", "x.comé", "x.com_y", "x.com1", "x.co-m",
	"-x.com", "x-.com", "x..com", ".x.com", "x.-com", "a-b.com", "é.com", "пример.рф", "ПРИМЕР.РФ", "example.xn--p1ai",
	"example.XN--P1AI", "a.xn--", "a.xn---", "1.2.3.4", "1.2.3.4/x", "256.1.1.1", "01.2.3.4", "1.2.3.4.5", "a1.2.3.4",
	"1.2.3.4a", "10.0.0.1:80/a", "3.14", "v1.2.3", "README.md", "tomorrow.call", "hello.how", "e.g.", "U.S.A.",
	"example.com/é", "example.com/a—b", "example.com/a…", "example.com/a!", "example.com/a!b", "http://a.com/x?y=z.",
	"x.com/a\\b", "x.com/%20", "x.com/a'", "x.com/a'b", "x.com/a*", "x.com/a;b", "x.com/a,b,", "x.com/a:b",
	"foo.http://x.com", "x.com/http://y.com", "x.onion", "x.example", "x.localhost", "x.test1", "bit.ly/3abc",
	"ab.c", "a.b.c.d", "a_b.com", "a.b_c.com", "1.com", "0.0", "日本.jp", "例え.テスト", "x.ελ", "a.com\u200b",
}

func TestFindURLsMatchesXurls(t *testing.T) {
	for _, tok := range urlTokens {
		checkURLs(t, tok)
	}
	for _, s := range seedsIn(t) {
		for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isTokenBreak(byte(r)) }) {
			checkURLs(t, tok)
		}
	}
	// Random tokens from pieces that matter to the expression.
	pieces := []string{"a", "b", "x", "com", "net", "co", "uk", "xn--", "é", "р", "ф", ".", ".", "-", "_", "@", "/",
		":", "://", "http", "tel", "1", "25", "(", ")", "[", "]", "{", "}", "?", "#", "%", "'", ",", "!", "~", "+", "="}
	rng := rand.New(rand.NewPCG(5, 6))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		var b strings.Builder
		for k := rng.IntN(12) + 1; k > 0; k-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		checkURLs(t, b.String())
	}
}

// seedsIn reads testdata/seeds.txt as the external tests do.
func seedsIn(t *testing.T) []string {
	t.Helper()
	data, err := readSeedFile()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzFindURLs compares findURLs with xurls' Relaxed expression.
func FuzzFindURLs(f *testing.F) {
	for _, tok := range urlTokens {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if len(tok) > 200 || strings.ContainsFunc(tok, func(r rune) bool { return r < 0x80 && isTokenBreak(byte(r)) }) {
			return
		}
		checkURLs(t, tok)
	})
}

// readSeedFile returns the lines of testdata/seeds.txt, escapes left as
// they are.
func readSeedFile() ([]string, error) {
	data, err := os.ReadFile("testdata/seeds.txt")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, nil
}

// TestFindURLsCorpus compares findURLs with xurls on the tokens of the SMS
// corpus, when it is there: of every tenth message, or of all with
// ANTIFRAUD_LONG set (xurls' expression is slow, more so under the race
// detector).
func TestFindURLsCorpus(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "testdata", "sms", "SMSSpamCollection.tsv")
	if env := os.Getenv("ANTIFRAUD_SMS_CORPUS"); env != "" {
		path = filepath.Join(env, "SMSSpamCollection.tsv")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("SMS corpus not available: %v", err)
	}
	long := os.Getenv("ANTIFRAUD_LONG") != ""
	for i, line := range strings.Split(string(data), "\n") {
		if !long && i%10 != 0 {
			continue
		}
		for _, tok := range strings.FieldsFunc(line, func(r rune) bool { return r < 0x80 && isTokenBreak(byte(r)) }) {
			checkURLs(t, tok)
		}
	}
}
