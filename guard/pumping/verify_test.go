package pumping

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

var _ verify.Monitor = (*Monitor)(nil).ForVerify()

// codeSender is a verify.Sender whose every code is "123456".
type codeSender struct {
	mu   sync.Mutex
	sent int
}

func (c *codeSender) SendCode(context.Context, verify.SendRequest) error {
	c.mu.Lock()
	c.sent++
	c.mu.Unlock()
	return nil
}

func (c *codeSender) CheckCode(_ context.Context, _, code string) error {
	if code != "123456" {
		return verify.ErrInvalidCode
	}
	return nil
}

// newService returns a verify.Service with the monitor m in its take and
// m's Blocklist in its policy, and what its hooks saw.
func newService(t testing.TB, lim *ratelimit.Limiter, m *Monitor, cfg verify.Config) (*verify.Service, *codeSender, *[]verify.Event) {
	t.Helper()
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(m.Blocklist()))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []verify.Event
	rec := func(ev verify.Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}
	cfg.Policy, cfg.Monitor = policy, m.ForVerify()
	cfg.Hooks = verify.Hooks{Blocked: rec, Refused: rec}
	sender := &codeSender{}
	svc, err := verify.New(sender, lim, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, sender, &events
}

// TestVerifyMonitor runs the monitor through verify.Service, as an app
// does with one line of configuration: a pumped range is refused by the
// monitor at its third send and by the number policy after that, a
// confirmed user of the range keeps getting codes, and a blocked address
// is refused before its counters are spent.
func TestVerifyMonitor(t *testing.T) {
	clock := testkit.NewClock()
	lim := newLimiter(t, clock)
	m, err := New(lim, Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, sender, events := newService(t, lim, m, verify.Config{Now: clock.Now})
	start := func(n numbers.Number, i int) error {
		clock.Advance(time.Minute)
		_, err := svc.Start(ctx, verify.StartRequest{Phone: n.E164, ClientIP: v4(i)})
		return err
	}
	user := gb(t, "12", 4321)
	if err := start(user, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Check(ctx, verify.CheckRequest{Phone: user.E164, Code: "123456", ClientIP: v4(1)}); err != nil {
		t.Fatal(err)
	}
	// Random numbers of the block, from rotating addresses, none confirmed.
	var refused []error
	for i, sfx := range []int{1234, 8812, 5093, 7301, 2640} {
		if err := start(gb(t, "12", sfx), 100+i); err != nil {
			refused = append(refused, err)
		}
	}
	if sender.sent != 1+2 || len(refused) != 3 {
		t.Fatalf("%d codes sent, %d refused (%v); want 3 and 3", sender.sent, len(refused), refused)
	}
	// The send that tripped: refused by the monitor, through verify.
	var vb *verify.BlockedError
	var pb *BlockedError
	if !errors.As(refused[0], &vb) || vb.Reason != "pumping" || !errors.As(refused[0], &pb) ||
		pb.Block.Scope != ScopeRange || pb.Block.Key != "+44771112" {
		t.Errorf("the send that tripped: %v", refused[0])
	}
	// The next: refused by the number policy, the range in its Blocklist.
	if !errors.As(refused[1], &vb) || vb.Reason != string(numbers.ReasonPrefixBlocked) {
		t.Errorf("the next send: %v", refused[1])
	}
	if len(*events) != 3 || (*events)[0].Reason != "pumping" || (*events)[1].Reason != string(numbers.ReasonPrefixBlocked) {
		t.Errorf("hooks saw %+v", *events)
	}
	// The confirmed user of the range still gets a code.
	if err := start(user, 1); err != nil {
		t.Errorf("the confirmed user: %v", err)
	}
	// Verify reported the refusals: a block hit by distinct numbers while
	// it holds is extended before it ends.
	for i := range 8 {
		_ = start(gb(t, "12", 3000+i*17), 200+i)
	}
	ds := m.Decisions()
	if last := ds[len(ds)-1]; last.Signal != SignalRefused || last.Strike != 2 {
		t.Errorf("decisions %+v, want the block extended", ds)
	}

	// An address blocked by the monitor: refused before its requests are
	// appended, so its counters stay where they were.
	ip := v4(900)
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatal("address never blocked")
		}
		// Ranges far apart, so that no range trips first.
		n := num(t, fmt.Sprintf("+4477%02d%06d", 20+i, 100000+i*7))
		clock.Advance(time.Minute)
		if _, err := svc.Start(ctx, verify.StartRequest{Phone: n.E164, ClientIP: ip}); err != nil {
			if !errors.As(err, &pb) || pb.Block.Scope != ScopeAddress {
				t.Fatalf("send %d from the address: %v", i, err)
			}
			break
		}
	}
	level := func() int32 {
		var lv [1]int32
		op := []counterOp{{key: keyNS + kinds[kindAddress].tag + ":" + addrKey(ip), kind: kindAddress}}
		if err := m.store.apply(ctx, op, lv[:]); err != nil {
			t.Fatal(err)
		}
		return lv[0]
	}
	before := level()
	n := num(t, "+447790123456")
	if _, err := svc.Start(ctx, verify.StartRequest{Phone: n.E164, ClientIP: ip}); !errors.As(err, &pb) || pb.Block.Scope != ScopeAddress {
		t.Fatalf("blocked address: %v", err)
	}
	if after := level(); after != before {
		t.Errorf("a refused send from a blocked address moved its counter from %d to %d", before, after)
	}
}

// TestRedisRoundTripsVerify counts the commands of verify.Service's Start
// and Check with the Redis store, with and without the monitor: a Start
// costs the same one command either way; an approval one more, for the
// confirmation.
func TestRedisRoundTripsVerify(t *testing.T) {
	lim, m, clock, h := redisMonitor(t)
	count := func(f func()) int64 {
		before := h.cmds.Load()
		f()
		return h.cmds.Load() - before
	}
	limits := verify.DefaultLimits()
	limits.Country = ratelimit.PerHour(10000).WithBurst(1000)
	for _, shared := range []bool{false, true} {
		cfg := verify.Config{Now: clock.Now, SharedCooldown: shared, Limits: &limits}
		with, _, _ := newService(t, lim, m, cfg)
		without, err := verify.New(&codeSender{}, lim, verify.Config{Now: clock.Now, SharedCooldown: shared, Limits: &limits})
		if err != nil {
			t.Fatal(err)
		}
		// Warm the script cache.
		if _, err := without.Start(ctx, verify.StartRequest{Phone: gb(t, "98", 1).E164, ClientIP: v4(1)}); err != nil {
			t.Fatal(err)
		}
		const n = 20
		var perStart [2]int64
		var perCheck [2]int64
		for j, svc := range []*verify.Service{without, with} {
			for i := range n {
				p := num(t, fmt.Sprintf("+4477%02d%06d", 11+i, 123456+100*j+i))
				req := verify.StartRequest{Phone: p.E164, ClientIP: v4(100*j + i + 10)}
				perStart[j] += count(func() {
					if _, err := svc.Start(ctx, req); err != nil {
						t.Fatalf("shared %v, service %d, start %d: %v", shared, j, i, err)
					}
				})
				perCheck[j] += count(func() {
					if _, err := svc.Check(ctx, verify.CheckRequest{Phone: p.E164, Code: "123456", ClientIP: req.ClientIP}); err != nil {
						t.Fatalf("check %d: %v", i, err)
					}
				})
			}
		}
		cool := int64(0)
		if shared {
			cool = n // the give-back of the cooldown on approval
		}
		if perStart[0] != n || perStart[1] != n {
			t.Errorf("shared cooldown %v: %d Starts cost %d commands without the monitor, %d with it; want %d both",
				shared, n, perStart[0], perStart[1], n)
		}
		if perCheck[0] != n+cool || perCheck[1] != n+cool+n {
			t.Errorf("shared cooldown %v: %d approvals cost %d commands without the monitor, %d with it; want %d and %d",
				shared, n, perCheck[0], perCheck[1], n+cool, 2*n+cool)
		}
	}
	if len(m.Blocks()) != 0 {
		t.Errorf("blocks %+v", m.Blocks())
	}
}
