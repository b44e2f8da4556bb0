package sanitize_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/nyaruka/phonenumbers/v2"
	"mvdan.cc/xurls/v2"

	"github.com/antifraud-go/antifraud/sanitize"
)

// The evaluation corpus is the UCI SMS Spam Collection (Almeida & Gómez
// Hidalgo, 2011), which is not redistributed here. It is read from
// ../shared/testdata/sms beside the module, or from the file or directory in
// $ANTIFRAUD_SMS_CORPUS; the tests that need it skip when it is absent.
const corpusFile = "SMSSpamCollection.tsv"

type message struct {
	spam bool
	text string
}

func loadCorpus(tb testing.TB) []message {
	tb.Helper()
	path := filepath.Join("..", "..", "shared", "testdata", "sms", corpusFile)
	if env := os.Getenv("ANTIFRAUD_SMS_CORPUS"); env != "" {
		path = env
		if fi, err := os.Stat(env); err == nil && fi.IsDir() {
			path = filepath.Join(env, corpusFile)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("SMS corpus not available (%v); set ANTIFRAUD_SMS_CORPUS", err)
	}
	defer f.Close()
	var msgs []message
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		label, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok || (label != "spam" && label != "ham") {
			tb.Fatalf("%s: bad line %q", path, sc.Text())
		}
		msgs = append(msgs, message{spam: label == "spam", text: text})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(msgs) != 5574 {
		tb.Fatalf("%s: %d messages, want the 5,574 of the SMS Spam Collection v.1", path, len(msgs))
	}
	return msgs
}

func mustPolicy(opts ...sanitize.Option) *sanitize.Policy {
	p, err := sanitize.NewPolicy(opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// reference reports what an independent check still finds in text: a URL
// with a scheme (xurls Strict) or a number libphonenumber validates for GB.
func reference(text string) (link, number bool) {
	link = xurls.Strict().MatchString(text)
	for range phonenumbers.FindNumbers(text, "GB") {
		number = true
		break
	}
	return link, number
}

// genuineHam lists, by the text removed, the links and addresses that ham
// messages of the corpus really carry, checked by hand: the senders'
// footers of free SMS gateways, a bank, a blog, a university page. Strip is
// right to remove them; anything else it removes from ham is a false
// positive.
var genuineHam = map[string]bool{
	"yijue@hotmail.com":         true, // an email address
	"fullonsms.com":             true, // "sent via fullonsms.com" footer (4 messages)
	"www.fullonsms.com":         true, // the same gateway's invitation (2)
	"WAY2SMS.COM":               true, // "Sent via WAY2SMS.COM" footer
	"Indyarocks.com":            true, // "-via Indyarocks.com" footer
	"INDYAROCKS.COM":            true, // the same gateway's invitation
	"wikipedia.com":             true,
	"magicalsongs.blogspot.com": true,
	"icicibank.com":             true, // "Log in at icicibank.com" (2)
	"usc.edu":                   true, // "olowoyey@ usc.edu", a broken email address
	"staff.science.nus.edu.sg/~phyhcmk/teaching/pc1323": true,
}

// digitRun returns the longest run of digits in s that are separated only
// by spaces, dashes, dots, slashes or brackets: digits of any script,
// fullwidth ones, and the lookalike letters O, o, l and I in a word made
// of digits and lookalikes ("O8OO", "l23"). A run of nine or more is a
// phone number a reader could still call.
func digitRun(s string) int {
	rs := []rune(s)
	look := func(r rune) bool { return r == 'O' || r == 'o' || r == 'l' || r == 'I' }
	digit := make([]bool, len(rs))
	for i := 0; i < len(rs); {
		if !unicode.IsLetter(rs[i]) && !unicode.IsDigit(rs[i]) {
			i++
			continue
		}
		j, digits, only := i, 0, true
		for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
			if unicode.IsDigit(rs[j]) {
				digits++
			} else if !look(rs[j]) {
				only = false
			}
			j++
		}
		for k := i; k < j; k++ {
			digit[k] = unicode.IsDigit(rs[k]) || only && digits > 0 && look(rs[k])
		}
		i = j
	}
	best, cur := 0, 0
	for i, r := range rs {
		switch {
		case digit[i]:
			cur++
			best = max(best, cur)
		case cur > 0 && (unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || strings.ContainsRune(".／/．()[]{}（）", r)):
		default:
			cur = 0
		}
	}
	return best
}

func TestDigitRun(t *testing.T) {
	for s, want := range map[string]int{
		"call 09061701461 now": 11, "0 7 7 0 0 9 0 0 1 2 3": 11, "O8OO l23 4567": 11, "０８００ １２３ ４５６７": 11,
		"(020) 7946-0018": 11, "9311304872/9268250573": 20, "on 21.05.2011, 10:30": 8, "HELLO 2 U": 1, "lol": 0,
	} {
		if got := digitRun(s); got != want {
			t.Errorf("digitRun(%q) = %d, want %d", s, got, want)
		}
	}
}

// corpusRegions are the region hints the corpus runs with: none, and the
// regions the corpus' senders are from (British spam, Singaporean ham),
// and, with ANTIFRAUD_LONG set, two others.
func corpusRegions() []string {
	if os.Getenv("ANTIFRAUD_LONG") != "" {
		return []string{"", "GB", "SG", "US", "IN"}
	}
	return []string{"", "GB", "SG"}
}

// TestCorpus measures Strip on the SMS Spam Collection, with no region
// hint and with each of corpusRegions():
//   - no spam message keeps a run of nine digits or more (digitRun), and
//     xurls Strict and libphonenumber find no link or number left in it;
//   - at most 0.3% of ham messages are altered for anything but the genuine
//     links and addresses they carry, and all of those are found.
func TestCorpus(t *testing.T) {
	msgs := loadCorpus(t)
	share := func(n, of int) float64 { return 100 * float64(n) / float64(of) }
	for _, region := range corpusRegions() {
		p := policyFor(t, region)
		var spam, ham, runBefore, runAfter, refAfter, hamAltered, hamFalse int
		for _, m := range msgs {
			out, removed := p.Strip(m.text)
			if !m.spam {
				ham++
				if len(removed) == 0 {
					continue
				}
				hamAltered++
				genuine := true
				for _, f := range removed {
					genuine = genuine && genuineHam[f.Text]
				}
				if !genuine {
					hamFalse++
					for _, f := range removed {
						if !genuineHam[f.Text] {
							t.Logf("region %q: ham altered: %s %v", region, f.Kind, f.LogValue())
						}
					}
				}
				continue
			}
			spam++
			if digitRun(m.text) >= 9 {
				runBefore++
			}
			if n := digitRun(out); n >= 9 {
				runAfter++
				t.Errorf("region %q: spam keeps a run of %d digits after Strip: %q", region, n, out)
			}
			if l, n := reference(out); l || n {
				refAfter++
				t.Errorf("region %q: xurls Strict (%v) or libphonenumber (%v) still finds something in stripped spam %q", region, l, n, out)
			}
			if left := p.Find(out); len(left) > 0 {
				t.Errorf("region %q: Find still finds %v in stripped spam %q", region, left, out)
			}
		}
		t.Logf("region %q: spam %d, with a run of 9+ digits before Strip %d (%.1f%%), after %d; "+
			"ham %d, altered %d (%.2f%%), for anything but a genuine link or address %d (%.2f%%)",
			region, spam, runBefore, share(runBefore, spam), runAfter,
			ham, hamAltered, share(hamAltered, ham), hamFalse, share(hamFalse, ham))
		if share(hamFalse, ham) > 0.3 {
			t.Errorf("region %q: Strip altered %.2f%% of ham for no genuine link, want at most 0.3%%", region, share(hamFalse, ham))
		}
		// 16 ham messages carry a genuine link or address; each must
		// still be found.
		if got := hamAltered - hamFalse; got != 16 {
			t.Errorf("region %q: Strip removed genuine links from %d ham messages, want all 16", region, got)
		}
	}
}
