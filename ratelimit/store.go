package ratelimit

import "context"

// Store keeps limiter state and takes tokens. Every Store implements the
// same GCRA semantics (see Limit and Step), so that a program can move from
// the memory store to Redis without any answer changing.
//
// Implementations must be safe for concurrent use. They return errors that
// wrap ErrInvalidLimit, ErrInvalidCost or ErrInvalidKey for bad arguments,
// ErrClosed after Close, and ErrUnavailable when the backend could not
// answer; a [Limiter] applies its FailMode to the last kind.
type Store interface {
	// Take spends n tokens of l for key (n == 0 means 1).
	Take(ctx context.Context, key string, l Limit, n int) (Result, error)
	// TakeAll takes every request atomically: all are spent, or none is.
	// Keys must be distinct.
	TakeAll(ctx context.Context, reqs []Request) (Decision, error)
	// Close stops background work and releases resources.
	Close(ctx context.Context) error
}

// IntoStore is implemented by stores that can write a multi-limit take's
// results into a buffer the caller provides, so that a caller reusing one
// takes without allocating. [Limiter.AllowAllInto] uses it when its store
// has it; [MemoryStore] does.
type IntoStore interface {
	Store
	// TakeAllInto is TakeAll, with the Decision's Results written into
	// results[:len(reqs)] (a new slice when results is too short). It has
	// TakeAll's semantics in every other way, and keeps neither reqs nor
	// results after it returns.
	TakeAllInto(ctx context.Context, reqs []Request, results []Result) (Decision, error)
}
