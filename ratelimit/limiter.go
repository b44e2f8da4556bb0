package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// FailMode says what a Limiter answers when its store cannot (a Redis
// server down, slow or unreachable).
type FailMode int

const (
	// FailClosed denies: the Result is a denial and the error wraps
	// ErrUnavailable. It is the default, because the actions a limiter
	// guards here (texts, calls) cost money.
	FailClosed FailMode = iota
	// FailOpen allows: the Result is allowed and the error is nil. The
	// failure still reaches OnError and the logger.
	FailOpen
	// FailFallback asks a local fallback store instead (see WithFallback).
	// Each process then limits on its own, so N processes admit up to N
	// times the limit while the store is down. If the fallback fails too,
	// the Limiter fails closed.
	FailFallback
)

// String returns "closed", "open" or "fallback".
func (m FailMode) String() string {
	switch m {
	case FailClosed:
		return "closed"
	case FailOpen:
		return "open"
	case FailFallback:
		return "fallback"
	}
	return "FailMode(?)"
}

// Limiter checks limits against a Store and applies a failure policy when
// the store cannot answer. It is safe for concurrent use. Create one with
// New; the zero Limiter is not usable.
type Limiter struct {
	store    Store
	into     IntoStore    // store, when it is one
	mem      *MemoryStore // store, when it is one: no dynamic call, one copy less
	fallback Store
	mode     FailMode
	onError  func(error)
	logger   *slog.Logger
	lastLog  atomic.Int64
	dropped  atomic.Int64
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithFailOpen makes the Limiter allow requests when the store fails.
func WithFailOpen() Option { return func(l *Limiter) { l.mode = FailOpen } }

// WithFailClosed makes the Limiter deny requests when the store fails. It
// is the default.
func WithFailClosed() Option { return func(l *Limiter) { l.mode = FailClosed } }

// WithFallback makes the Limiter ask fallback, typically a MemoryStore,
// when the store fails. The Limiter closes fallback when it is closed.
func WithFallback(fallback Store) Option {
	return func(l *Limiter) { l.mode, l.fallback = FailFallback, fallback }
}

// WithOnError sets a function called with every store failure, from the
// goroutine of the failing call. It must be fast and safe for concurrent
// use. Errors carry keys, never anything else about the request.
func WithOnError(f func(error)) Option { return func(l *Limiter) { l.onError = f } }

// WithLogger sets where store failures are logged (at Warn, at most once a
// second, with a count of those not logged). By default nothing is logged.
func WithLogger(logger *slog.Logger) Option { return func(l *Limiter) { l.logger = logger } }

// New returns a Limiter over store.
func New(store Store, opts ...Option) (*Limiter, error) {
	if store == nil {
		return nil, errors.New("ratelimit: New: nil store")
	}
	l := &Limiter{store: store}
	for _, o := range opts {
		o(l)
	}
	if l.mode == FailFallback && l.fallback == nil {
		return nil, errors.New("ratelimit: New: WithFallback given a nil store")
	}
	l.into, _ = store.(IntoStore)
	l.mem, _ = store.(*MemoryStore)
	return l, nil
}

// FailMode returns the Limiter's failure mode.
func (l *Limiter) FailMode() FailMode { return l.mode }

// Allow spends one token of lim for key.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (Result, error) {
	return l.AllowN(ctx, key, lim, 1)
}

// AllowN spends n tokens of lim for key. A denial is a Result with Allowed
// false and a nil error; the error is for bad arguments (ErrInvalidLimit,
// ErrInvalidCost, ErrInvalidKey) and, under FailClosed, for a store that
// could not answer (ErrUnavailable).
func (l *Limiter) AllowN(ctx context.Context, key string, lim Limit, n int) (Result, error) {
	res, err := l.store.Take(ctx, key, lim, n)
	if err == nil || isArgError(err) {
		return res, err
	}
	l.report(err)
	switch l.mode {
	case FailOpen:
		return Result{Allowed: true, Limit: lim, Remaining: lim.Burst}, nil
	case FailFallback:
		res, ferr := l.fallback.Take(ctx, key, lim, n)
		if ferr == nil || isArgError(ferr) {
			return res, ferr
		}
		l.report(ferr)
		err = errors.Join(err, ferr)
	}
	return Result{Limit: lim}, unavailable(err)
}

// AllowAll takes every request atomically: either all are allowed and spent,
// or none is. A request denied by the per-IP limit does not spend the
// per-phone allowance. Errors are as for AllowN.
func (l *Limiter) AllowAll(ctx context.Context, reqs ...Request) (Decision, error) {
	var d Decision
	var err error
	if l.mem != nil {
		err = l.mem.takeAll(reqs, nil, &d)
	} else {
		d, err = l.store.TakeAll(ctx, reqs)
	}
	if err == nil || isArgError(err) {
		return d, err
	}
	return l.allowAllFailed(ctx, reqs, nil, err)
}

// AllowAllInto is AllowAll writing the results into results, which becomes
// the Decision's Results (results[:len(reqs)]; a new slice when results is
// too short). A caller that reuses one buffer per goroutine, or from a
// sync.Pool, then takes without allocating, which matters for a
// multi-limit take on a MemoryStore: a small TakeAll costs about as much
// again to allocate its Results as to take. The Decision's Results alias
// results, so they are only good until the buffer is reused.
//
// Stores that implement [IntoStore] write into results directly; for other
// stores the results of TakeAll are copied into it. Semantics and errors
// are AllowAll's.
func (l *Limiter) AllowAllInto(ctx context.Context, reqs []Request, results []Result) (Decision, error) {
	if len(results) < len(reqs) {
		results = make([]Result, len(reqs))
	}
	results = results[:len(reqs)]
	var d Decision
	var err error
	switch {
	case l.mem != nil:
		err = l.mem.takeAll(reqs, results, &d)
	case l.into != nil:
		d, err = l.into.TakeAllInto(ctx, reqs, results)
	default:
		d, err = takeAll(ctx, l.store, reqs, results)
	}
	if err == nil || isArgError(err) {
		return d, err
	}
	return l.allowAllFailed(ctx, reqs, results, err)
}

// allowAllFailed answers a multi-limit take, into results unless results is
// nil, when the store failed with err.
func (l *Limiter) allowAllFailed(ctx context.Context, reqs []Request, results []Result, err error) (Decision, error) {
	l.report(err)
	if results == nil {
		results = make([]Result, len(reqs))
	}
	switch l.mode {
	case FailOpen:
		for i, r := range reqs {
			results[i] = Result{Allowed: true, Limit: r.Limit, Remaining: r.Limit.Burst}
		}
		return failDecision(results), nil
	case FailFallback:
		d, ferr := takeAll(ctx, l.fallback, reqs, results)
		if ferr == nil || isArgError(ferr) {
			return d, ferr
		}
		l.report(ferr)
		err = errors.Join(err, ferr)
	}
	for i, r := range reqs {
		results[i] = Result{Limit: r.Limit}
	}
	return failDecision(results), unavailable(err)
}

// takeAll asks store for a multi-limit take into results, when results is
// not nil, through IntoStore if the store has it.
func takeAll(ctx context.Context, store Store, reqs []Request, results []Result) (Decision, error) {
	if results == nil {
		return store.TakeAll(ctx, reqs)
	}
	if is, ok := store.(IntoStore); ok {
		return is.TakeAllInto(ctx, reqs, results)
	}
	d, err := store.TakeAll(ctx, reqs)
	if d.Results != nil {
		d.Results = results[:copy(results, d.Results)]
	}
	return d, err
}

// failDecision is the Decision the Limiter makes up when its stores fail.
func failDecision(results []Result) Decision {
	d := Decision{Results: results}
	if len(results) > 0 {
		d.Result = results[0]
	}
	return d
}

// Close closes the store and the fallback store.
func (l *Limiter) Close(ctx context.Context) error {
	err := l.store.Close(ctx)
	if l.fallback != nil {
		err = errors.Join(err, l.fallback.Close(ctx))
	}
	return err
}

func isArgError(err error) bool {
	return errors.Is(err, ErrInvalidLimit) || errors.Is(err, ErrInvalidCost) || errors.Is(err, ErrInvalidKey)
}

func unavailable(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return errors.Join(ErrUnavailable, err)
}

func (l *Limiter) report(err error) {
	if l.onError != nil {
		l.onError(err)
	}
	if l.logger == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		l.dropped.Add(1)
		return
	}
	l.logger.Warn("ratelimit: store failed", "err", err, "fail_mode", l.mode.String(), "not_logged", l.dropped.Swap(0))
}
