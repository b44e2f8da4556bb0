package gcra_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
)

// mapStore is a whole ratelimit.Store in a few lines: validate, load the
// keys' states, Step, save. A store over a database does the same inside a
// transaction, and forgets states whose Expire has passed.
type mapStore struct {
	mu     sync.Mutex
	states map[string]gcra.State
	now    func() time.Time
}

func (s *mapStore) Take(ctx context.Context, r ratelimit.Request) (ratelimit.Result, error) {
	var res [1]ratelimit.Result
	_, _, err := s.TakeAll(ctx, []ratelimit.Request{r}, res[:])
	return res[0], err
}

func (s *mapStore) TakeAll(_ context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (bool, int, error) {
	if err := gcra.Validate(reqs); err != nil {
		return false, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	states := make([]gcra.State, len(reqs))
	for i, r := range reqs {
		states[i] = s.states[r.Key]
	}
	allowed, binding := gcra.Step(s.now().UnixNano(), reqs, states, results)
	for i, r := range reqs {
		s.states[r.Key] = states[i]
	}
	return allowed, binding, nil
}

func (s *mapStore) Close(context.Context) error { return nil }

func ExampleStep() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store := &mapStore{states: map[string]gcra.State{}, now: func() time.Time { return now }}
	limiter, err := ratelimit.New(store)
	if err != nil {
		panic(err)
	}
	for range 3 {
		res, _ := limiter.Allow(context.Background(), "phone:+37120012345", ratelimit.PerHour(2))
		fmt.Printf("allowed=%v remaining=%d retry-after=%v\n", res.Allowed, res.Remaining, res.RetryAfter)
	}
	fmt.Printf("state: TAT=now+%v\n", time.Duration(store.states["phone:+37120012345"].TAT-now.UnixNano()))
	// Output:
	// allowed=true remaining=1 retry-after=0s
	// allowed=true remaining=0 retry-after=0s
	// allowed=false remaining=0 retry-after=30m0s
	// state: TAT=now+1h0m0s
}
