package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Limiter checks limits against a Store and applies a failure policy when
// the store cannot answer. It is safe for concurrent use. Create one with
// New; the zero Limiter is not usable.
//
// When the store fails (its errors wrap ErrUnavailable), a Limiter fails
// closed by default: it denies, and returns an error wrapping
// ErrUnavailable, because the actions limited here (texts, calls) cost
// money. [WithFailOpen] and [WithFallback] choose otherwise.
type Limiter struct {
	store    Store
	fallback Store
	open     bool
	onError  func(error)
	logger   *slog.Logger
	lastLog  atomic.Int64
	dropped  atomic.Int64
}

// Option configures a Limiter.
type Option func(*config)

type config struct {
	open        bool
	fallback    Store
	hasFallback bool
	onError     func(error)
	logger      *slog.Logger
}

// WithFailOpen makes the Limiter allow requests when the store fails: the
// Result is allowed and the error nil. The failure still reaches the
// WithOnError function and the logger.
func WithFailOpen() Option { return func(c *config) { c.open = true } }

// WithFallback makes the Limiter ask fallback, typically a MemoryStore,
// when the store fails. Each process then limits on its own, so N
// processes admit up to N times the limit while the store is down. If the
// fallback fails too, the Limiter fails closed. The Limiter closes
// fallback when it is closed.
func WithFallback(fallback Store) Option {
	return func(c *config) { c.fallback, c.hasFallback = fallback, true }
}

// WithOnError sets a function called with every store failure, from the
// goroutine of the failing call. It must be fast and safe for concurrent
// use. Errors carry keys, never anything else about the request.
func WithOnError(f func(error)) Option { return func(c *config) { c.onError = f } }

// WithLogger sets where store failures are logged (at Warn, at most once a
// second, with a count of those not logged). By default nothing is logged.
func WithLogger(logger *slog.Logger) Option { return func(c *config) { c.logger = logger } }

// New returns a Limiter over store. It returns an error wrapping
// ErrInvalidConfig for a nil store or fallback, or both WithFailOpen and
// WithFallback.
func New(store Store, opts ...Option) (*Limiter, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	switch {
	case store == nil:
		return nil, fmt.Errorf("ratelimit: New: nil store: %w", ErrInvalidConfig)
	case c.hasFallback && c.fallback == nil:
		return nil, fmt.Errorf("ratelimit: New: WithFallback given a nil store: %w", ErrInvalidConfig)
	case c.hasFallback && c.open:
		return nil, fmt.Errorf("ratelimit: New: both WithFailOpen and WithFallback: %w", ErrInvalidConfig)
	}
	return &Limiter{store: store, fallback: c.fallback, open: c.open, onError: c.onError, logger: c.logger}, nil
}

// Allow spends one token of lim for key. It is AllowN(ctx, key, lim, 1).
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (Result, error) {
	return l.AllowN(ctx, key, lim, 1)
}

// AllowN spends n tokens of lim for key, when it has them. A denial is a
// Result with Allowed false and a nil error; the error is for bad
// arguments (ErrInvalidConfig for the limit, ErrInvalidRequest for the key
// or n) and, when failing closed, for a store that could not answer
// (ErrUnavailable).
//
// AllowN with n == 0 spends nothing and reports the key's state: it is
// allowed, with the tokens Remaining and the ResetAfter of the key now,
// unless the key is in its penalty box (a request of no tokens is still a
// request). A negative n gives -n tokens back, never filling the bucket
// beyond full, and is always allowed: for an action paid for that did not
// happen. n must be within -Burst..Burst.
func (l *Limiter) AllowN(ctx context.Context, key string, lim Limit, n int) (Result, error) {
	r := Request{Key: key, Limit: lim, Cost: n}
	if n == 0 {
		r.Cost, r.Peek = 1, true
	}
	res, err := l.store.Take(ctx, r)
	if err != nil {
		res, err = l.takeFailed(ctx, &r, err)
	}
	if n == 0 && err == nil && !res.Penalized {
		res.Allowed, res.RetryAfter = true, 0
	}
	return res, err
}

// takeFailed answers a take of r when the store failed with err.
func (l *Limiter) takeFailed(ctx context.Context, r *Request, err error) (Result, error) {
	if isArgError(err) {
		return Result{}, err
	}
	l.report(err)
	switch {
	case l.open:
		return Result{Allowed: true, Remaining: r.Limit.Burst}, nil
	case l.fallback != nil:
		res, ferr := l.fallback.Take(ctx, *r)
		if ferr == nil || isArgError(ferr) {
			return res, ferr
		}
		l.report(ferr)
		err = errors.Join(err, ferr)
	}
	return Result{}, unavailable(err)
}

// AllowAll takes every request atomically: either all are allowed and
// spent, or none is. A request denied by the per-IP limit does not spend
// the per-phone allowance. Flagged requests (see Request) check, count or
// give back in the same take. Errors are as for AllowN.
//
// The results are written into results, which becomes the Decision's
// Results (results[:len(reqs)]; a new slice when results is nil or too
// short). A caller that reuses one buffer per goroutine, or one from a
// sync.Pool, takes without allocating; the Decision's Results are then
// only good until the buffer is reused.
func (l *Limiter) AllowAll(ctx context.Context, reqs []Request, results []Result) (Decision, error) {
	if len(results) < len(reqs) {
		results = make([]Result, len(reqs))
	}
	results = results[:len(reqs)]
	var d Decision
	allowed, b, err := l.store.TakeAll(ctx, reqs, results)
	if err != nil {
		return l.takeAllFailed(ctx, reqs, results, err)
	}
	setDecision(&d, allowed, results, b)
	return d, nil
}

// takeAllFailed answers a take of reqs into results when the store failed
// with err.
func (l *Limiter) takeAllFailed(ctx context.Context, reqs []Request, results []Result, err error) (Decision, error) {
	if isArgError(err) {
		return Decision{}, err
	}
	l.report(err)
	switch {
	case l.open:
		for i, r := range reqs {
			results[i] = Result{Allowed: true, Remaining: r.Limit.Burst}
		}
		return failDecision(true, results), nil
	case l.fallback != nil:
		allowed, b, ferr := l.fallback.TakeAll(ctx, reqs, results)
		if ferr == nil {
			var d Decision
			setDecision(&d, allowed, results, b)
			return d, nil
		}
		if isArgError(ferr) {
			return Decision{}, ferr
		}
		l.report(ferr)
		err = errors.Join(err, ferr)
	}
	for i := range reqs {
		results[i] = Result{}
	}
	return failDecision(false, results), unavailable(err)
}

// failDecision is the Decision the Limiter makes up when its stores fail.
func failDecision(allowed bool, results []Result) Decision {
	d := Decision{Results: results}
	if len(results) > 0 {
		d.Result = results[0]
	}
	d.Allowed = allowed
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
	mode := "closed"
	switch {
	case l.open:
		mode = "open"
	case l.fallback != nil:
		mode = "fallback"
	}
	l.logger.Warn("ratelimit: store failed", "err", err, "fail_mode", mode, "not_logged", l.dropped.Swap(0))
}
