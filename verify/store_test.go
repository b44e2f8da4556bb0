package verify_test

import (
	"context"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// stepStore is a ratelimit.Store over ratelimit.Step with a fake clock: the
// reference semantics every store implements, under one mutex.
type stepStore struct {
	mu     sync.Mutex
	now    func() time.Time
	states map[string]ratelimit.State
	fail   error
}

func newStepStore(now func() time.Time) *stepStore {
	return &stepStore{now: now, states: make(map[string]ratelimit.State)}
}

func (s *stepStore) Take(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Result, error) {
	d, err := s.TakeAll(ctx, []ratelimit.Request{{Key: key, Limit: l, Cost: n}})
	return d.Result, err
}

func (s *stepStore) TakeAll(_ context.Context, reqs []ratelimit.Request) (ratelimit.Decision, error) {
	if err := ratelimit.Validate(reqs); err != nil {
		return ratelimit.Decision{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return ratelimit.Decision{}, s.fail
	}
	states := make([]ratelimit.State, len(reqs))
	for i, r := range reqs {
		states[i] = s.states[r.Key]
	}
	results := make([]ratelimit.Result, len(reqs))
	allowed, binding := ratelimit.Step(s.now().UnixNano(), reqs, states, results)
	for i, r := range reqs {
		s.states[r.Key] = states[i]
	}
	_ = allowed
	return ratelimit.Decision{Result: results[binding], Index: binding, Results: results}, nil
}

func (s *stepStore) Close(context.Context) error { return nil }

func (s *stepStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}
