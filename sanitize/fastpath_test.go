package sanitize

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestPlainHostFastPath checks that skipping xurls for plain host names
// changes no finding, on the seeds, on hosts written every which way and on
// the SMS corpus when it is there.
func TestPlainHostFastPath(t *testing.T) {
	texts := []string{
		"www.example.co.uk", "(www.example.com)", "'Example.COM.'", "x.com.foo", "x.com.", "a-.com", "-a.com",
		"a..com", "a.com_", "tomorrow.call", "Hello.How", "ASP.NET", "bit.ly", "x.com!", "x.com?", "x.com.]",
		"x.com;y", "1.2.3.4", "a.b.c.d.e.f.com", "WWW.EVIL.COM)", "[x.com]", "x.co.uk..", "x.c0m", "x.com-",
	}
	f, err := os.Open("testdata/seeds.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		texts = append(texts, sc.Text())
	}
	f.Close()
	if c, err := os.Open(filepath.Join("..", "..", "shared", "testdata", "sms", "SMSSpamCollection.tsv")); err == nil {
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			_, text, _ := strings.Cut(sc.Text(), "\t")
			texts = append(texts, text)
		}
		c.Close()
	}
	defer func() { plainHostFastPath = true }()
	for _, text := range texts {
		plainHostFastPath = true
		fast := find(text, "GB")
		plainHostFastPath = false
		slow := find(text, "GB")
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%q: with the fast path %v, without %v", text, fast, slow)
		}
	}
}
