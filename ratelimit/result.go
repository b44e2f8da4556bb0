package ratelimit

import "time"

// Request is one limit to check for one key, as part of a multi-limit take.
type Request struct {
	// Key names what is limited: an IP, a phone number, a prefix. Build it
	// with the Key helpers so that different limits do not share a key.
	Key string
	// Limit is the limit for Key.
	Limit Limit
	// Cost is how many tokens the request spends. Zero means 1. To look at a
	// key without spending, use Peek.
	Cost int
	// Peek, when true, spends nothing: the result says what a request of
	// Cost (at least 1) would get.
	Peek bool
}

func (r Request) cost() int {
	if r.Cost == 0 {
		return 1
	}
	return r.Cost
}

// Result is the answer for one key.
type Result struct {
	// Allowed reports whether the tokens were spent.
	Allowed bool
	// Limit is the limit the result is about.
	Limit Limit
	// Remaining is how many tokens the key has now (after this request, when
	// it was allowed). It is exact: a request of cost Remaining made at once
	// would be allowed.
	Remaining int
	// RetryAfter is zero when allowed; otherwise the real wait until the same
	// request would be allowed (not a window length).
	RetryAfter time.Duration
	// ResetAfter is the wait until the bucket is full again (and the key is
	// as good as new).
	ResetAfter time.Duration
	// Penalized is true when the key is in its penalty box, either already
	// or because this denial put it there.
	Penalized bool
}

// Err returns nil when r is allowed and a *LimitError otherwise.
func (r Result) Err() error {
	if r.Allowed {
		return nil
	}
	return &LimitError{RetryAfter: r.RetryAfter, Penalized: r.Penalized}
}

// Decision is the answer to a multi-limit take: all the requests were allowed
// and spent, or none was.
type Decision struct {
	// Result is the binding result: when denied, the denied request with
	// the longest RetryAfter; when allowed, the one with the fewest
	// Remaining. Its Allowed is the decision's.
	Result
	// Index is the position in the requests of the binding result.
	Index int
	// Results holds one result per request, in order. When the decision is
	// a denial, requests that would have been allowed on their own have
	// Allowed true here but spent nothing.
	Results []Result
}
