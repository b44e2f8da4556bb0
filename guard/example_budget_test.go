package guard_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// A daily budget of $20 for texts, counted at the app's own prices; the
// switch trips at the first text that would go over it.
func ExampleBudget() {
	store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	limiter, _ := ratelimit.New(store)
	defer limiter.Close(context.Background())

	budget, err := guard.NewBudget(limiter, guard.BudgetConfig{
		PerDay: 20,
		Price: func(ch numbers.Channel, region string) float64 {
			if region == "US" || region == "CA" {
				return 0.0083
			}
			return 0.25 // anywhere else: pumping pays out there
		},
		OnTrip: func(reason string) { fmt.Println("paging the on-call:", reason) },
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	sent := 0
	for {
		if err := budget.Send(ctx, numbers.SMS, "ZW"); errors.Is(err, guard.ErrOverBudget) {
			break
		}
		sent++ // send the text
	}
	fmt.Println("texts sent:", sent)
	fmt.Println(budget.Check(ctx))

	budget.Reset(ctx) // once someone has looked
	fmt.Println(budget.Check(ctx))
	// Output:
	// paging the on-call: spend over the daily budget
	// texts sent: 80
	// guard: spend budget exhausted, sends are paused: spend over the daily budget
	// <nil>
}
