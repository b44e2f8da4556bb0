package sanitize_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"mvdan.cc/xurls/v2"

	"github.com/antifraud-go/antifraud/sanitize"
)

func corpusTexts(b *testing.B) ([]string, int64) {
	msgs := loadCorpus(b)
	texts := make([]string, len(msgs))
	var n int64
	for i, m := range msgs {
		texts[i] = m.text
		n += int64(len(m.text))
	}
	return texts, n
}

// BenchmarkCorpus strips every message of the SMS Spam Collection; the
// xurls sub-benchmark is the baseline for the ratio: xurls Relaxed over each
// whole message, as an application without this package would run it.
func BenchmarkCorpus(b *testing.B) {
	texts, size := corpusTexts(b)
	b.Run("Strip", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, t := range texts {
				corpusPolicy.Strip(t)
			}
		}
	})
	b.Run("XurlsRelaxed", func(b *testing.B) {
		re := xurls.Relaxed()
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			for _, t := range texts {
				re.FindAllStringIndex(t, -1)
			}
		}
	})
}

// BenchmarkCorpusRatio alternates the two runs of BenchmarkCorpus within each
// iteration, so that both see the same load on a shared machine, and reports
// how many times faster Strip is than xurls Relaxed alone (x-xurls), with
// each one's throughput. Run it with -benchtime 5x or more.
func BenchmarkCorpusRatio(b *testing.B) {
	texts, size := corpusTexts(b)
	re := xurls.Relaxed()
	var strip, relaxed time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		for _, t := range texts {
			corpusPolicy.Strip(t)
		}
		t1 := time.Now()
		for _, t := range texts {
			re.FindAllStringIndex(t, -1)
		}
		strip += t1.Sub(t0)
		relaxed += time.Since(t1)
	}
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/strip.Seconds(), "strip-MB/s")
	b.ReportMetric(mb/relaxed.Seconds(), "xurls-MB/s")
	b.ReportMetric(relaxed.Seconds()/strip.Seconds(), "x-xurls")
}

// BenchmarkStrip is Strip on one typical spam message.
func BenchmarkStrip(b *testing.B) {
	const msg = "WINNER!! As a valued network customer you have been selected to receive a £900 prize reward! To claim call 09061701461. Claim code KL341. Valid 12 hours only. www.dbuk.net"
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		corpusPolicy.Strip(msg)
	}
}

// BenchmarkAdversarial feeds inputs built to make a matcher backtrack or
// try every position, at three sizes: MB/s should stay flat as size grows.
func BenchmarkAdversarial(b *testing.B) {
	inputs := []struct {
		name string
		unit string
	}{
		{"a-dot", "a."},
		{"dots", "."},
		{"label-dots", "com."},
		{"digits", "0123456789"},
		{"digit-separators", "0-1 2.3/4(5)6 "},
		{"phone-numbers", "+44 20 7946 0018 "},
		{"fullwidth", "ｅ．"},
		{"spaced-dots", "a . "},
		{"defanged", "a[.]"},
	}
	for _, in := range inputs {
		for _, size := range []int{10_000, 100_000, 1_000_000} {
			text := strings.Repeat(in.unit, size/len(in.unit))
			b.Run(fmt.Sprintf("%s/%d", in.name, size), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					sanitize.Strip(text)
				}
			})
		}
	}
}
