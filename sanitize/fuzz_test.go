package sanitize_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/antifraud-go/antifraud/sanitize"
)

// seeds reads testdata/seeds.txt: one message per line, with \n, \t and
// \xNN escapes allowed so that invalid UTF-8 can be written down.
func seeds(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/seeds.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, unescape(line))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case 'n':
			b.WriteByte('\n')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case '\\':
			b.WriteByte('\\')
			i++
		case 'x':
			if i+3 < len(s) {
				if v, ok := hexByte(s[i+2 : i+4]); ok {
					b.WriteByte(v)
					i += 3
					continue
				}
			}
			b.WriteByte('\\')
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

func hexByte(h string) (byte, bool) {
	var v byte
	for i := 0; i < 2; i++ {
		c := h[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | (c - '0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// fuzzPolicies are the policies the fuzz targets run, with the
// replacement each uses for every kind.
var fuzzPolicies = []struct {
	p           *sanitize.Policy
	replacement func(sanitize.Kind) string
}{
	{mustPolicy(), defaultReplacement},
	{mustPolicy(sanitize.WithRegion("GB")), defaultReplacement},
	{mustPolicy(sanitize.WithRegion("IN"), sanitize.WithReplacement(allKinds, "")), func(sanitize.Kind) string { return "" }},
}

const allKinds = sanitize.Link | sanitize.Email | sanitize.Phone | sanitize.ShortCode

func defaultReplacement(k sanitize.Kind) string {
	return map[sanitize.Kind]string{
		sanitize.Link: "[link removed]", sanitize.Email: "[email removed]",
		sanitize.Phone: "[number removed]", sanitize.ShortCode: "[short code removed]",
	}[k]
}

// checkFindings checks the invariants of Find's result on text.
func checkFindings(t *testing.T, text string, fs []sanitize.Finding) {
	t.Helper()
	checkSpans(t, text, fs, false)
}

// checkSpans checks that findings are in order, within the text, without
// overlaps, and are the text they claim. Find's findings never hold invalid
// UTF-8; Strip's may, where removing a finding joined invalid fragments
// around it into a character (see Finding.Text).
func checkSpans(t *testing.T, text string, fs []sanitize.Finding, strip bool) {
	t.Helper()
	last := 0
	for _, f := range fs {
		if f.Start < last || f.End <= f.Start || f.End > len(text) {
			t.Fatalf("finding %v out of order or out of range (previous end %d, len %d) in %q", f, last, len(text), text)
		}
		if f.Text != text[f.Start:f.End] {
			t.Fatalf("finding %v: Text is not text[Start:End] = %q", f, text[f.Start:f.End])
		}
		if !strip && !utf8.ValidString(f.Text) {
			t.Fatalf("finding %v holds invalid UTF-8", f)
		}
		last = f.End
	}
}

// FuzzFind checks that Find never panics and that its findings are in
// order, within the text, without overlaps, and are the text they claim.
func FuzzFind(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, fp := range fuzzPolicies {
			checkFindings(t, text, fp.p.Find(text))
		}
	})
}

// FuzzStrip checks that Strip is idempotent, leaves nothing Find would
// report, keeps the text between findings byte for byte (invalid UTF-8
// included) and reports what it removed.
func FuzzStrip(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, fp := range fuzzPolicies {
			out, removed := fp.p.Strip(text)
			checkSpans(t, text, removed, true)
			// Rebuilding from the findings and the replacements gives the
			// result: the text between findings is kept byte for byte.
			var want strings.Builder
			last := 0
			for _, r := range removed {
				want.WriteString(text[last:r.Start])
				want.WriteString(fp.replacement(r.Kind))
				last = r.End
			}
			want.WriteString(text[last:])
			if want.String() != out {
				t.Fatalf("Strip(%q) = %q, want %q from its findings", text, out, want.String())
			}
			if left := fp.p.Find(out); len(left) > 0 {
				t.Fatalf("Strip(%q) = %q, in which Find still finds %v", text, out, left)
			}
			if again, _ := fp.p.Strip(out); again != out {
				t.Fatalf("Strip not idempotent: %q -> %q -> %q", text, out, again)
			}
		}
	})
}
