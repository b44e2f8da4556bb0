package httplimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// Header names and limits of the fields this package writes.
const (
	headerRetryAfter       = "Retry-After"
	headerRateLimit        = "RateLimit"
	headerRateLimitPolicy  = "RateLimit-Policy"
	headerXRateLimitLimit  = "X-RateLimit-Limit"
	headerXRateLimitRemain = "X-RateLimit-Remaining"
	headerXRateLimitReset  = "X-RateLimit-Reset"
	defaultPolicy          = "default"
	maxSFInteger           = 999_999_999_999_999 // RFC 9651 §3.3.1
	burstParam             = "antifraud-burst"
	maxPolicyNameLen       = 64
)

// Options says which headers SetHeaders and SetDecisionHeaders write
// besides Retry-After. The zero Options writes Retry-After only.
type Options struct {
	// IETF writes RateLimit-Policy and RateLimit as defined by
	// draft-ietf-httpapi-ratelimit-headers-11.
	IETF bool
	// Legacy writes X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset.
	Legacy bool
	// Policy names the policy in the IETF fields. Empty means "default".
	// Characters a Structured Field string cannot hold (outside printable
	// ASCII) are dropped, and it is cut to 64 bytes.
	Policy string
	// Policies names each request of a take, in order, for
	// SetDecisionHeaders: when it has one name per request, the IETF fields
	// list every limit of the decision; otherwise they describe the binding
	// result only, under Policy.
	Policies []string
}

// SetRetryAfter sets Retry-After to d in whole seconds, rounded up, and at
// least 1: a client that waits as told is not denied again, and a denial
// never says 0. Call it with a denied Result's RetryAfter.
func SetRetryAfter(h http.Header, d time.Duration) {
	h.Set(headerRetryAfter, strconv.FormatInt(max(1, ceilSeconds(d)), 10))
}

// SetHeaders writes the headers for the result r of a request on limit l:
// Retry-After when it is a denial, and the headers o asks for.
func SetHeaders(h http.Header, l ratelimit.Limit, r ratelimit.Result, o Options) {
	if !r.Allowed {
		SetRetryAfter(h, r.RetryAfter)
	}
	if o.IETF {
		name := policyName(o.Policy)
		if p := policyItem(name, l); p != "" {
			h.Set(headerRateLimitPolicy, p)
		}
		h.Set(headerRateLimit, limitItem(name, l, r))
	}
	if o.Legacy {
		setLegacy(h, l, r)
	}
}

// SetDecisionHeaders writes the headers for the decision d of a take of
// reqs: Retry-After when it is a denial, the legacy headers for its binding
// result, and the IETF fields for every result named in o.Policies (or for
// the binding result alone).
func SetDecisionHeaders(h http.Header, reqs []ratelimit.Request, d ratelimit.Decision, o Options) {
	if d.Index < 0 || d.Index >= len(reqs) || len(d.Results) != len(reqs) {
		// Not a decision about reqs: say no more than Retry-After.
		if !d.Allowed {
			SetRetryAfter(h, d.RetryAfter)
		}
		return
	}
	if len(o.Policies) != len(reqs) {
		o.Policies = nil
		SetHeaders(h, reqs[d.Index].Limit, d.Result, o)
		return
	}
	if !d.Allowed {
		SetRetryAfter(h, d.RetryAfter)
	}
	if o.IETF {
		var policies, limits []string
		for i, r := range d.Results {
			name := policyName(o.Policies[i])
			if p := policyItem(name, reqs[i].Limit); p != "" {
				policies = append(policies, p)
			}
			limits = append(limits, limitItem(name, reqs[i].Limit, r))
		}
		if len(policies) > 0 {
			h.Set(headerRateLimitPolicy, strings.Join(policies, ", "))
		}
		h.Set(headerRateLimit, strings.Join(limits, ", "))
	}
	if o.Legacy {
		setLegacy(h, reqs[d.Index].Limit, d.Result)
	}
}

func setLegacy(h http.Header, l ratelimit.Limit, r ratelimit.Result) {
	h.Set(headerXRateLimitLimit, strconv.Itoa(l.Burst))
	h.Set(headerXRateLimitRemain, strconv.Itoa(max(0, r.Remaining)))
	h.Set(headerXRateLimitReset, strconv.FormatInt(max(0, ceilSeconds(r.ResetAfter)), 10))
}

// policyItem is the RateLimit-Policy item for l, or "" when l is not a
// valid limit.
func policyItem(name string, l ratelimit.Limit) string {
	if l.Validate() != nil {
		return ""
	}
	q, w := int64(l.Rate), ceilSeconds(l.Period)
	if l.Period < time.Second {
		// A sub-second period: the whole tokens per second, w=1.
		q, w = int64(l.Rate)*int64(time.Second)/int64(l.Period), 1
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(";q=")
	b.WriteString(strconv.FormatInt(min(q, maxSFInteger), 10))
	b.WriteString(";w=")
	b.WriteString(strconv.FormatInt(min(w, maxSFInteger), 10))
	if l.Burst != l.Rate {
		b.WriteString(";" + burstParam + "=")
		b.WriteString(strconv.FormatInt(min(int64(l.Burst), maxSFInteger), 10))
	}
	return b.String()
}

// limitItem is the RateLimit item for r, a result on l.
func limitItem(name string, l ratelimit.Limit, r ratelimit.Result) string {
	s := name + ";r=" + strconv.FormatInt(min(int64(max(0, r.Remaining)), maxSFInteger), 10)
	if t, ok := effectiveWindow(l, r); ok {
		s += ";t=" + strconv.FormatInt(min(ceilSeconds(t), maxSFInteger), 10)
	}
	return s
}

// effectiveWindow is the draft's t: how long the client can use no more
// than r.Remaining, which is until the next token comes back (or the
// penalty box opens). A full bucket has none.
func effectiveWindow(l ratelimit.Limit, r ratelimit.Result) (time.Duration, bool) {
	if r.Penalized {
		return r.RetryAfter, true
	}
	iv := l.Interval()
	if iv <= 0 || r.Remaining >= l.Burst {
		return 0, false
	}
	missing := time.Duration(l.Burst - r.Remaining - 1)
	return max(0, r.ResetAfter-missing*iv), true
}

// ceilSeconds is d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return s
}

// policyName quotes name as a Structured Field string (RFC 9651 §3.3.3),
// dropping what a string cannot hold.
func policyName(name string) string {
	if name == "" {
		name = defaultPolicy
	}
	var b strings.Builder
	b.WriteByte('"')
	n := 0
	for i := 0; i < len(name) && n < maxPolicyNameLen; i++ {
		c := name[i]
		if c < 0x20 || c > 0x7e {
			continue
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
		n++
	}
	b.WriteByte('"')
	return b.String()
}
