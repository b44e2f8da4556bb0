package verify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// flakyStore is a ratelimit.Store that can be made to fail, over a
// MemoryStore with the given clock.
type flakyStore struct {
	ratelimit.Store
	mu   sync.Mutex
	fail error
}

func newFlakyStore(t testing.TB, now func() time.Time) *flakyStore {
	t.Helper()
	m, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return &flakyStore{Store: m}
}

func (s *flakyStore) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail
}

func (s *flakyStore) Take(ctx context.Context, r ratelimit.Request) (ratelimit.Result, error) {
	if err := s.err(); err != nil {
		return ratelimit.Result{}, err
	}
	return s.Store.Take(ctx, r)
}

func (s *flakyStore) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (bool, int, error) {
	if err := s.err(); err != nil {
		return false, 0, err
	}
	return s.Store.TakeAll(ctx, reqs, results)
}

func (s *flakyStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}
