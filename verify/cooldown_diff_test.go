package verify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// approver is a Sender that sends nothing and approves every code.
type approver struct{}

func (approver) SendCode(context.Context, verify.SendRequest) error { return nil }
func (approver) CheckCode(context.Context, string, string) error    { return nil }

// TestCooldownSameInMemoryAndInStore runs the same random traffic (starts
// to a few numbers from two addresses, approvals, time passing) through a
// Service whose cooldown is in memory and one whose cooldown is in the
// limiter's store, and requires the same answer to every call: one
// behaviour, kept in two places.
func TestCooldownSameInMemoryAndInStore(t *testing.T) {
	limits := &verify.Limits{Phone: ratelimit.PerHour(8), IP: ratelimit.PerHour(30).WithBurst(6)}
	phones := []string{"+447400123456", "+14155550100", "+447400123999"}
	ips := []netip.Addr{ip1, ip2}
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			clock := testkit.NewClock()
			var svcs [2]*verify.Service
			for i, shared := range []bool{false, true} {
				lim, err := ratelimit.New(newFlakyStore(t, clock.Now))
				if err != nil {
					t.Fatal(err)
				}
				cfg := verify.Config{Limits: limits, SharedCooldown: shared, Now: clock.Now}
				if seed%2 == 1 {
					cfg.Cooldown, cfg.MaxCooldown = 7*time.Second, 100*time.Second
				}
				if svcs[i], err = verify.New(approver{}, lim, cfg); err != nil {
					t.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(seed, 9))
			ctx := context.Background()
			counts := map[string]int{}
			for op := range 3000 {
				switch r := rng.IntN(100); {
				case r < 35:
					clock.Advance(time.Duration(rng.ExpFloat64() * float64(40*time.Second)))
				case r < 45:
					req := verify.CheckRequest{Phone: phones[rng.IntN(len(phones))], Code: "123456", ClientIP: ips[rng.IntN(2)]}
					_, e0 := svcs[0].Check(ctx, req)
					_, e1 := svcs[1].Check(ctx, req)
					if fmt.Sprint(e0) != fmt.Sprint(e1) {
						t.Fatalf("op %d check: memory %v, store %v", op, e0, e1)
					}
				default:
					req := verify.StartRequest{Phone: phones[rng.IntN(len(phones))], ClientIP: ips[rng.IntN(2)]}
					r0, e0 := svcs[0].Start(ctx, req)
					r1, e1 := svcs[1].Start(ctx, req)
					if fmt.Sprint(e0) != fmt.Sprint(e1) || r0 != r1 {
						t.Fatalf("op %d start %v at %v: memory %+v, %v; store %+v, %v", op, req.Phone, clock.Now(), r0, e0, r1, e1)
					}
					switch {
					case e0 == nil:
						counts["sent"]++
					default:
						counts[fmt.Sprint(e0)[:20]]++
					}
				}
			}
			// The traffic must have exercised the cooldown and the limits.
			if counts["sent"] < 100 || len(counts) < 3 {
				t.Fatalf("outcomes %v", counts)
			}
			t.Log(counts)
		})
	}
}
