package ratelimit

import "time"

// Request is one limit to check for one key, as part of a take.
//
// A plain Request spends Cost tokens when every request of its take can;
// otherwise the take is denied and nothing is spent. Two flags change what
// a request does, for counters that ride along in the same take (and, with
// a shared store, the same round trip) as the limits:
//
//   - Peek looks without spending: the request denies the take exactly as a
//     plain one would, but never spends and never counts toward a penalty
//     box. A send can thus be refused while a key's other allowance, say
//     one that counts refused requests, is exhausted or in its box.
//   - Record counts without ever denying: when the take is allowed, the
//     request spends Cost tokens, or what is left of them when fewer
//     remain (the bucket is then empty, and stays so while records keep
//     coming), and its Result says whether the key was within its limit.
//     A monitor counting sends to a destination learns in the same take
//     that the destination is over its threshold, and the send goes ahead.
//
// A negative Cost gives -Cost tokens back, never filling the bucket beyond
// full: an action paid for that did not happen, or a confirmation that
// drains a counter of unconfirmed sends. Such a request never denies; like
// every spend, it happens only when the take is allowed.
type Request struct {
	// Key names what is limited: an IP, a phone number, a prefix. Build it
	// with the Key helpers so that different limits do not share a key.
	// It must be 1 to 512 bytes.
	Key string
	// Limit is the limit for Key.
	Limit Limit
	// Cost is how many tokens the request spends, from -Burst to Burst.
	// Zero means 1; a negative Cost gives tokens back.
	Cost int
	// Peek, when true, spends nothing: the result says what a request of
	// Cost would get, and the take is denied if it would be.
	// Its Cost must not be negative.
	Peek bool
	// Record, when true, never denies the take: the request spends what it
	// can of Cost when the take is allowed, and its Result's Allowed says
	// whether the key had Cost tokens. Peek and Record do not go together.
	Record bool
}

// cost is the request's cost with the zero default applied.
func (r *Request) cost() int {
	if r.Cost == 0 {
		return 1
	}
	return r.Cost
}

// plain reports whether r spends and can deny: neither flag nor a refund.
func (r *Request) plain() bool { return !r.Peek && !r.Record && r.Cost >= 0 }

// Result is the answer for one key, about the Limit of its request. It is
// five words, returned in registers.
type Result struct {
	// Allowed reports whether the key had the tokens: for a plain request,
	// whether they were spent (or, in a denied take, would have been).
	Allowed bool
	// Remaining is how many tokens the key has now (after this request, when
	// it spent). It is exact: a request of cost Remaining made at once would
	// be allowed.
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

// Decision is the answer to a take of several requests: all the requests
// were allowed and spent, or none was.
type Decision struct {
	// Result is the binding result: when denied, the denying request with
	// the longest RetryAfter; when allowed, the request that can deny with
	// the fewest Remaining (any request, when none can). Its Allowed is the
	// decision's.
	Result
	// Index is the position in the requests of the binding result: its
	// limit is reqs[Index].Limit.
	Index int
	// Results holds one result per request, in order. When the decision is
	// a denial, requests that would have been allowed on their own have
	// Allowed true here but spent nothing.
	Results []Result
}

// setDecision sets d to the decision bound by results[b].
func setDecision(d *Decision, allowed bool, results []Result, b int) {
	d.Result = results[b]
	d.Allowed = allowed
	d.Index, d.Results = b, results
}
