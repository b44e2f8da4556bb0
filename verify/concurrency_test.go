package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// race runs n Starts at once, built by req(i), and counts the outcomes.
func race(t *testing.T, e *env, n int, req func(i int) verify.StartRequest) (ok, cooldown, limited int) {
	t.Helper()
	var okN, coolN, limN atomic.Int64
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			_, err := e.svc.Start(context.Background(), req(i))
			switch {
			case err == nil:
				okN.Add(1)
			case errors.Is(err, verify.ErrCooldown):
				coolN.Add(1)
			case errors.Is(err, verify.ErrRateLimited):
				limN.Add(1)
			default:
				t.Errorf("start %d: %v", i, err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	return int(okN.Load()), int(coolN.Load()), int(limN.Load())
}

func TestConcurrentStartsSameNumberCooldown(t *testing.T) {
	e := newEnv(t, nil)
	ok, cool, lim := race(t, e, 64, func(i int) verify.StartRequest {
		return verify.StartRequest{Phone: ukPhone, ClientIP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})}
	})
	if ok != 1 || cool != 63 || lim != 0 {
		t.Fatalf("ok %d, cooldown %d, limited %d; want 1, 63, 0", ok, cool, lim)
	}
	if n := e.srv.Sends(ukPhone); n != 1 {
		t.Fatalf("provider sent %d codes", n)
	}
}

func TestConcurrentStartsSameNumberLimit(t *testing.T) {
	e := newEnv(t, func(c *verify.Config) {
		c.Cooldown = -1
		c.Limits = &verify.Limits{Phone: ratelimit.PerHour(3)}
	})
	ok, cool, lim := race(t, e, 64, func(i int) verify.StartRequest {
		return verify.StartRequest{Phone: ukPhone, ClientIP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})}
	})
	if ok != 3 || cool != 0 || lim != 61 {
		t.Fatalf("ok %d, cooldown %d, limited %d; want 3, 0, 61", ok, cool, lim)
	}
	if n := e.srv.Sends(ukPhone); n != 3 {
		t.Fatalf("provider sent %d codes", n)
	}
}

func TestConcurrentStartsLimitsHoldExactly(t *testing.T) {
	tests := []struct {
		name   string
		limits verify.Limits
		req    func(i int) verify.StartRequest
		want   int
	}{
		{"per ip", verify.Limits{IP: ratelimit.PerHour(10)}, func(i int) verify.StartRequest {
			return verify.StartRequest{Phone: fmt.Sprintf("+1415555%04d", i), ClientIP: ip1}
		}, 10},
		{"per prefix", verify.Limits{Prefix: ratelimit.PerHour(7)}, func(i int) verify.StartRequest {
			return verify.StartRequest{Phone: fmt.Sprintf("+1415555%04d", i%1000), ClientIP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})}
		}, 7},
		{"global", verify.Limits{Global: ratelimit.PerHour(5), Phone: ratelimit.PerHour(1)}, func(i int) verify.StartRequest {
			return verify.StartRequest{Phone: fmt.Sprintf("+4474001%05d", i), ClientIP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})}
		}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *verify.Config) { c.Limits = &tt.limits })
			ok, cool, lim := race(t, e, 64, tt.req)
			if ok != tt.want || cool != 0 || lim != 64-tt.want {
				t.Fatalf("ok %d, cooldown %d, limited %d; want %d allowed", ok, cool, lim, tt.want)
			}
			sent := 0
			for _, r := range e.srv.Requests() {
				if r.Status == 201 {
					sent++
				}
			}
			if sent != tt.want {
				t.Fatalf("provider sent %d codes, want %d", sent, tt.want)
			}
		})
	}
}
