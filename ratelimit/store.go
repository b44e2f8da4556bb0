package ratelimit

import "context"

// Store keeps the state of limits and takes tokens from it. Every Store
// gives the same answers, defined once by package ratelimit/gcra (whose
// Step a store may run itself), so that a program can move from the memory
// store to Redis without any answer changing. A [Limiter] is how
// applications use a Store; implementations are for stores, and tests of
// them.
//
// Implementations must be safe for concurrent use. They reject bad
// arguments before any I/O, with errors wrapping ErrInvalidConfig (a Limit
// that breaks its rules) or ErrInvalidRequest (see gcra.Validate), and
// wrap ErrUnavailable in every error about the backend, or about a store
// used after Close; a Limiter applies its failure mode to those.
type Store interface {
	// Take takes one request: it is TakeAll of r alone, and returns its
	// result. It exists because a Request passed by value is cheaper than
	// slices passed through an interface, which escape to the heap.
	Take(ctx context.Context, r Request) (Result, error)

	// TakeAll takes every request atomically: when every request that can
	// deny is allowed, all are spent; otherwise none is (but denials may
	// count toward penalty boxes). Keys must be distinct. TakeAll writes
	// one result per request into results, which is as long as reqs, and
	// returns whether the take was allowed and the index of the binding
	// result (see Decision). It keeps neither slice after it returns, so
	// a caller that reuses them takes without allocating. After an error,
	// results hold nothing of use.
	TakeAll(ctx context.Context, reqs []Request, results []Result) (allowed bool, binding int, err error)

	// Close stops background work and releases resources.
	Close(ctx context.Context) error
}
