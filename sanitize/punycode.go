package sanitize

import (
	"strings"
	"unicode/utf8"
)

// RFC 3492 parameters.
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// toASCIIHost returns host as a browser puts it on the wire: lower case, each
// label with non-ASCII characters in punycode ("xn--..."), no trailing dot.
// It does not apply the full IDNA mapping; the normalisation before it has
// already folded fullwidth forms.
func toASCIIHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !hasNonASCII(host) {
		return host
	}
	labels := strings.Split(host, ".")
	for i, l := range labels {
		if hasNonASCII(l) {
			labels[i] = "xn--" + punycode(l)
		}
	}
	return strings.Join(labels, ".")
}

// hostURL returns pre + toASCIIHost(host) + the suffixes, with one
// allocation when host is ASCII.
func hostURL(pre, host string, suf ...string) string {
	if hasNonASCII(host) {
		return pre + toASCIIHost(host) + strings.Join(suf, "")
	}
	host = strings.TrimSuffix(host, ".")
	n := len(pre) + len(host)
	for _, x := range suf {
		n += len(x)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(pre)
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	for _, x := range suf {
		b.WriteString(x)
	}
	return b.String()
}

// punycode encodes a label (RFC 3492, section 6.3). Invalid UTF-8 encodes as
// U+FFFD.
func punycode(label string) string {
	var out strings.Builder
	runes := make([]rune, 0, len(label))
	for _, r := range label {
		runes = append(runes, r)
		if r < utf8.RuneSelf {
			out.WriteByte(byte(r))
		}
	}
	b := out.Len()
	h := b
	if b > 0 {
		out.WriteByte('-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h < len(runes) {
		m := rune(utf8.MaxRune + 1)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				if t < pcTMin {
					t = pcTMin
				} else if t > pcTMax {
					t = pcTMax
				}
				if q < t {
					break
				}
				out.WriteByte(pcDigit(t + (q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out.WriteByte(pcDigit(q))
			bias = pcAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return out.String()
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func pcAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
