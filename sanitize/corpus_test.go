package sanitize_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// corpusPolicy reads national numbers as British: the corpus' spam is.
var corpusPolicy = mustPolicy(sanitize.WithRegion("GB"))

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

// TestCorpus measures Strip on the SMS Spam Collection: spam must keep no
// link or number that xurls Strict or libphonenumber finds, and Find must
// find nothing left in it; at most 0.3% of ham may change for anything but
// a genuine link.
func TestCorpus(t *testing.T) {
	msgs := loadCorpus(t)
	relaxed := xurls.Relaxed()
	var spam, ham, spamBefore, spamRefBefore, spamAfter, spamRelaxedAfter, hamAltered, hamFalse, hamRelaxed int
	for _, m := range msgs {
		resText, resRemoved := corpusPolicy.Strip(m.text)
		res := struct {
			Text    string
			Removed []sanitize.Finding
		}{resText, resRemoved}
		if !m.spam {
			ham++
			if relaxed.MatchString(m.text) {
				hamRelaxed++
			}
			if res.Text != m.text {
				hamAltered++
				genuine := true
				for _, f := range res.Removed {
					genuine = genuine && genuineHam[f.Text]
				}
				if !genuine {
					hamFalse++
					for _, f := range res.Removed {
						t.Log("ham altered:", f.Kind, f.LogValue())
					}
				}
			}
			continue
		}
		spam++
		if len(res.Removed) > 0 {
			spamBefore++
		}
		if l, n := reference(m.text); l || n || relaxed.MatchString(m.text) {
			spamRefBefore++
		}
		if l, n := reference(res.Text); l || n {
			spamAfter++
			t.Errorf("spam still has a link (%v) or number (%v) after Strip: %q", l, n, res.Text)
		}
		if relaxed.MatchString(res.Text) {
			spamRelaxedAfter++
		}
		if left := corpusPolicy.Find(res.Text); len(left) > 0 {
			t.Errorf("Find still finds %v in stripped spam %q", left, res.Text)
		}
	}
	share := func(n, of int) float64 { return 100 * float64(n) / float64(of) }
	t.Logf("spam: %d messages; with a link, email, number or short code: %d (%.1f%%); "+
		"xurls Relaxed or libphonenumber(GB) alone: %d (%.1f%%)",
		spam, spamBefore, share(spamBefore, spam), spamRefBefore, share(spamRefBefore, spam))
	t.Logf("spam after Strip: xurls Strict or libphonenumber(GB) find something in %d; xurls Relaxed in %d",
		spamAfter, spamRelaxedAfter)
	t.Logf("ham: %d messages; altered by Strip: %d (%.2f%%), of which %d (%.2f%%) for anything but a genuine link; "+
		"xurls Relaxed alone would alter %d (%.2f%%)",
		ham, hamAltered, share(hamAltered, ham), hamFalse, share(hamFalse, ham), hamRelaxed, share(hamRelaxed, ham))
	if share(hamFalse, ham) > 0.3 {
		t.Errorf("Strip altered %.2f%% of ham for no genuine link, want at most 0.3%%", share(hamFalse, ham))
	}
	// 16 ham messages (0.33% on their own) carry a genuine link or address;
	// each must still be found.
	if got := hamAltered - hamFalse; got != 16 {
		t.Errorf("Strip removed genuine links from %d ham messages, want all 16", got)
	}
}
