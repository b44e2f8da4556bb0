package guard

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/httplimit"
)

// Canonical header names, to index a Header without canonicalizing.
const (
	hdrRateLimit       = "Ratelimit"
	hdrRateLimitPolicy = "Ratelimit-Policy"
)

// policyItems returns the RateLimit-Policy item for lim under the policy
// name, and the name as a quoted Structured Field string, as httplimit
// writes them: the guard formats the per-request RateLimit field itself,
// without allocating, and tests check it against httplimit.
func policyItems(name string, lim ratelimit.Limit) (policy, quoted string) {
	h := http.Header{}
	httplimit.SetHeaders(h, lim, ratelimit.Result{Allowed: true, Remaining: lim.Burst},
		httplimit.Options{IETF: true, Policy: name})
	policy = h.Get(hdrRateLimitPolicy)
	quoted, _, _ = strings.Cut(h.Get(hdrRateLimit), ";")
	return policy, quoted
}

// maxSFInteger is the largest Structured Field integer (RFC 9651).
const maxSFInteger = 999_999_999_999_999

// appendRateLimit appends the RateLimit field item for r under the quoted
// policy name: what httplimit.SetHeaders writes for the limit whose burst
// and interval (lim.Interval(), which the caller keeps at hand) are given.
func appendRateLimit(b []byte, quoted string, r *ratelimit.Result, burst int, iv time.Duration) []byte {
	b = append(b, quoted...)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, min(int64(max(0, r.Remaining)), maxSFInteger), 10)
	if t, ok := effectiveWindow(r, burst, iv); ok {
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, min(ceilSeconds(t), maxSFInteger), 10)
	}
	return b
}

// effectiveWindow is the draft's t: how long the client can use no more
// than r.Remaining, until the next token comes back (or the penalty box
// opens). A full bucket has none.
func effectiveWindow(r *ratelimit.Result, burst int, iv time.Duration) (time.Duration, bool) {
	if r.Penalized {
		return r.RetryAfter, true
	}
	if iv <= 0 || r.Remaining >= burst {
		return 0, false
	}
	missing := time.Duration(burst - r.Remaining - 1)
	return max(0, r.ResetAfter-missing*iv), true
}

func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return s
}

// keyBuf holds the keys of one request's rules and the values of its
// RateLimit headers in a single allocation. Keys and header values are
// strings over its bytes (see str): each is written once, before the
// string is made, and never again, so the strings are as immutable as any.
// A store may keep a key; the buffer then lives as long as the key.
type keyBuf struct {
	vals [2]string
	tail []byte // what follows the keys written so far
	b    [80]byte
}

// str returns b[start:] as a string without copying. The caller must not
// write to those bytes again.
func str(b []byte, start int) string {
	if len(b) == start {
		return ""
	}
	return unsafe.String(&b[start], len(b)-start)
}
