package httplimit

import (
	"net/http"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// FuzzSetHeaders writes headers for arbitrary results and policy names:
// no panic, and every value is printable ASCII (a valid field value) with
// a well-formed quoted policy name.
func FuzzSetHeaders(f *testing.F) {
	f.Add("default", 10, int64(time.Second), 10, false, 3, int64(time.Second), int64(time.Minute), false)
	f.Add("a\"b\\c\x00é", 1, int64(time.Hour), 3, true, -1, int64(-1), int64(-5), true)
	f.Add("", 0, int64(0), 0, false, 0, int64(0), int64(0), false)
	f.Add("x", 1<<62, int64(1<<62), 1<<62, false, 1<<62, int64(1<<62), int64(1<<62), true)
	f.Fuzz(func(t *testing.T, name string, rate int, period int64, burst int, allowed bool, remaining int, retry, reset int64, penalized bool) {
		l := ratelimit.Limit{Rate: rate, Period: time.Duration(period), Burst: burst}
		r := ratelimit.Result{
			Allowed:    allowed,
			Remaining:  remaining,
			RetryAfter: time.Duration(retry),
			ResetAfter: time.Duration(reset),
			Penalized:  penalized,
		}
		h := http.Header{}
		SetHeaders(h, l, r, Options{IETF: true, Legacy: true, Policy: name})
		reqs := []ratelimit.Request{{Limit: l}, {Limit: l}}
		SetDecisionHeaders(h, reqs, ratelimit.Decision{Result: r, Index: 1, Results: []ratelimit.Result{r, r}}, Options{IETF: true, Policies: []string{name, name}})
		for k, vs := range h {
			for _, v := range vs {
				for i := 0; i < len(v); i++ {
					if v[i] < 0x20 || v[i] > 0x7e {
						t.Fatalf("%s: byte %#x in %q", k, v[i], v)
					}
				}
				if k == headerRetryAfter && (v == "0" || v[0] == '-') {
					t.Fatalf("Retry-After %q", v)
				}
			}
		}
		if v := h.Get(headerRateLimit); v == "" || v[0] != '"' {
			t.Fatalf("RateLimit %q", v)
		}
	})
}
