package pumping_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/antifraud-go/antifraud/guard/pumping"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// sender stands for Twilio Verify: it sends nothing, and every code is
// 123456.
type sender struct{}

func (sender) SendCode(context.Context, verify.SendRequest) error { return nil }
func (sender) CheckCode(_ context.Context, _, code string) error {
	if code != "123456" {
		return verify.ErrInvalidCode
	}
	return nil
}

// The monitor in a verify.Service: one line of its Config. A user of a
// range confirms a code; a pumper then drips codes into the range from new
// addresses. The monitor refuses the pumper's third code, the number
// policy every later one, and the confirmed user still gets codes.
func ExampleMonitor_ForVerify() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: clock})
	if err != nil {
		panic(err)
	}
	limiter, err := ratelimit.New(store)
	if err != nil {
		panic(err)
	}
	mon, err := pumping.New(limiter, pumping.Config{Now: clock})
	if err != nil {
		panic(err)
	}
	policy, err := numbers.ModeratePolicy().With(numbers.WithPrefixSet(mon.Blocklist()))
	if err != nil {
		panic(err)
	}
	svc, err := verify.New(sender{}, limiter, verify.Config{Policy: policy, Monitor: mon.ForVerify(), Now: clock})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	start := func(phone string, ip byte) {
		now = now.Add(3 * time.Minute)
		_, err := svc.Start(ctx, verify.StartRequest{Phone: phone, ClientIP: netip.AddrFrom4([4]byte{203, 0, 113, ip})})
		var be *verify.BlockedError
		switch {
		case errors.As(err, &be):
			fmt.Println(phone[:9], "refused:", be.Reason)
		case err != nil:
			fmt.Println(phone[:9], "error:", err)
		default:
			fmt.Println(phone[:9], "sent")
		}
	}
	start("+447711125555", 1)
	if _, err := svc.Check(ctx, verify.CheckRequest{Phone: "+447711125555", Code: "123456"}); err != nil {
		panic(err)
	}
	for i, phone := range []string{"+447711120316", "+447711128907", "+447711124455", "+447711121280"} {
		start(phone, byte(10+i))
	}
	start("+447711125555", 1) // inside the block

	for _, b := range mon.Blocks() {
		fmt.Println("blocked:", b.Scope, b.Key, b.Signal, "until", b.Until.Format("15:04"))
	}
	// Output:
	// +44771112 sent
	// +44771112 sent
	// +44771112 sent
	// +44771112 refused: pumping
	// +44771112 refused: prefix_blocked
	// +44771112 sent
	// blocked: range +44771112 unconfirmed until 09:27
}
