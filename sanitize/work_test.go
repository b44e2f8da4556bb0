package sanitize

import (
	"strings"
	"testing"
)

// maxWork is the most work find may do on a text of n bytes, in the units
// of budget.work: a byte scanned, a candidate judged, or a sixteenth of a
// call to numbers.Recognize.
func maxWork(n int) int { return 8*n + 128 }

// workUnits are repeated to make texts that ask for much work.
var workUnits = []string{
	"a.", ".", "com.", "a@b.", "a@b.com ", "www.a.com ", "http://a.co/", "x.com/(a)", "www.a.com1", "a.com1www.",
	"0123456789", "0-1 2.3/4(5)6 ", "0 7 7 0 0 9 0 0 1 2 3 ", "0 1 2 3 4 5 6 7 8 9 ", "+44 20 7946 0018 ",
	"0044 20 7946 001 ", "07911 123456\n", "9311304872/", "12345678 ", "call 555-1234 ", "call 0906170146 ",
	"Call09061701461", "09061701461p ", "O8OO l23 4567 ", "１２３４５６７ ", "1-800-FLOWERS ", "0800 FLOWERS ",
	"\xff0", "0\u200b8\u200b0", "01 23 45 67 89 ", "0-1-2-3-4-5-6-7-8-9-", "1/2/3/4/5/6/7/8/9/", "1.2.3.4.5.6.7.8.9.",
}

// TestWorkIsLinear checks that find's work grows linearly with the text,
// on texts built to make it work hard.
func TestWorkIsLinear(t *testing.T) {
	for _, u := range workUnits {
		for _, size := range []int{160, 10_000} {
			text := strings.Repeat(u, size/len(u)+1)[:size]
			if _, w := findWork(text, "GB"); w > maxWork(len(text)) {
				t.Errorf("%q × %d: work %d, want at most %d", u, size, w, maxWork(len(text)))
			}
		}
	}
}

// FuzzWork looks for texts on which find's work is more than linear.
func FuzzWork(f *testing.F) {
	for _, u := range workUnits {
		f.Add(strings.Repeat(u, 160/len(u)+1))
	}
	seeds, err := readSeedFile()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			return
		}
		for _, hint := range []string{"", "GB", "IN"} {
			if _, w := findWork(text, hint); w > maxWork(len(text)) {
				t.Fatalf("find(%q, %q): work %d, want at most %d", text, hint, w, maxWork(len(text)))
			}
		}
	})
}

func TestKeywordsFit(t *testing.T) {
	for w := range keywords {
		if len(w) > maxKeyword || strings.ToLower(w) != w {
			t.Errorf("keyword %q is longer than %d bytes or not in lower case", w, maxKeyword)
		}
	}
}
