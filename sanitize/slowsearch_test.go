package sanitize_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSearchSlowInputs looks for 160-byte texts that Strip takes long
// over, against the typical spam message: random repetitions of pieces
// that the scanners react to, each timed call by call against the typical
// message. Timing is not a test: it logs the ten worst ratios, to add to
// BenchmarkWorstCase; it fails only when Strip leaves something Find finds. Run it with
// ANTIFRAUD_SLOW_SEARCH=2m go test -run SearchSlowInputs -v ./sanitize.
func TestSearchSlowInputs(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("ANTIFRAUD_SLOW_SEARCH"))
	if err != nil {
		t.Skip("set ANTIFRAUD_SLOW_SEARCH to a duration to search")
	}
	p := mustPolicy()
	p.Strip(typicalSpam)
	ratio := func(s string, reps int) float64 {
		rs := make([]float64, reps)
		for i := range rs {
			t0 := time.Now()
			p.Strip(s)
			t1 := time.Now()
			p.Strip(typicalSpam)
			rs[i] = float64(t1.Sub(t0)) / float64(time.Since(t1))
		}
		slices.Sort(rs)
		return rs[len(rs)/2]
	}
	pieces := []string{"0", "1", "7", "9", "00", "44", "91", "0800", "123", "4567", "07911", " ", " ", "-", ".", "/",
		"(", ")", "\n", "+", "call ", "txt ", "order ", "a", "O", "l", "I", "x", "X", "p", "FLOWERS", "www.", ".com", "@",
		"http://", "[.]", " dot ", "０", "１", "\u200b", "\xff", "£", "#", ",", "no ", "ref "}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	type found struct {
		ratio float64
		text  string
	}
	var worst []found
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		unit := ""
		for k := rng.IntN(8) + 1; k > 0; k-- {
			unit += pieces[rng.IntN(len(pieces))]
		}
		var b strings.Builder
		for b.Len() < 160 {
			if rng.IntN(4) == 0 {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			} else {
				b.WriteString(unit)
			}
		}
		s := b.String()[:160]
		// The inputs are adversarial: what FuzzStrip checks holds here too.
		if out, _ := p.Strip(s); len(p.Find(out)) > 0 {
			t.Errorf("Strip(%q) = %q leaves %v", s, out, p.Find(out))
		}
		if r := ratio(s, 30); r > 2 {
			worst = append(worst, found{ratio(s, 300), s})
		}
	}
	slices.SortFunc(worst, func(a, b found) int { return int(1000 * (b.ratio - a.ratio)) })
	for _, w := range worst[:min(len(worst), 10)] {
		t.Logf("%.2fx %q", w.ratio, w.text)
	}
}
