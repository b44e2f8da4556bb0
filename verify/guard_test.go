package verify

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// keyRecorder is a Store that records the keys of every take.
type keyRecorder struct {
	ratelimit.Store
	mu   sync.Mutex
	keys [][]string
}

func (k *keyRecorder) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (bool, int, error) {
	var keys []string
	for _, r := range reqs {
		keys = append(keys, r.Key)
	}
	k.mu.Lock()
	k.keys = append(k.keys, keys)
	k.mu.Unlock()
	return k.Store.TakeAll(ctx, reqs, results)
}

// TestLimitKeysUnchanged pins the keys of every limit: a changed key is a
// reset limit for every user of a shared store after an upgrade.
func TestLimitKeysUnchanged(t *testing.T) {
	gb := destination{to: "+447400123456", key: "+447400123456", region: "GB", callingCode: 44}
	intl := destination{to: "+80012345678", key: "+80012345678", region: "001", callingCode: 800}
	email := destination{to: "A@example.com", key: "email:a@example.com", email: true}
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	all := ratelimit.PerHour(100)
	limits := Limits{Phone: all, IP: all, Prefix: all, Country: all, Global: all, CheckPhone: all, CheckIP: all}
	cool := []string{
		"verify:cool0:phone:+447400123456", "verify:cool1:phone:+447400123456", "verify:cool2:phone:+447400123456",
		"verify:cool3:phone:+447400123456", "verify:cool4:phone:+447400123456", "verify:cool5:phone:+447400123456",
	}
	tests := []struct {
		name   string
		limits Limits
		cool   bool
		dst    destination
		ip     netip.Addr
		check  bool
		want   []string
	}{
		{"start number, refusals, cooldown", Limits{IP: all, Refusals: all}, true, gb, v4, false, append([]string{
			"verify:start:ip:192.0.2.1", "verify:refused:ip:192.0.2.1"}, cool...)},
		{"start email, cooldown", Limits{}, true, email, v4, false, []string{
			"verify:cool0:email:a@example.com", "verify:cool1:email:a@example.com", "verify:cool2:email:a@example.com",
			"verify:cool3:email:a@example.com", "verify:cool4:email:a@example.com", "verify:cool5:email:a@example.com"}},
		{"start number", limits, false, gb, v4, false, []string{
			"verify:start:phone:+447400123456", "verify:start:ip:192.0.2.1", "verify:start:prefix:+447400123",
			"verify:start:country:GB", "global:verify:start"}},
		{"start non-geographic number, IPv6", limits, false, intl, v6, false, []string{
			"verify:start:phone:+80012345678", "verify:start:ip:2001:db8:1:2::/64", "verify:start:prefix:+80012345",
			"verify:start:cc:800", "global:verify:start"}},
		{"start without an address", limits, false, gb, netip.Addr{}, false, []string{
			"verify:start:phone:+447400123456", "verify:start:ip:invalid IP", "verify:start:prefix:+447400123",
			"verify:start:country:GB", "global:verify:start"}},
		{"start email", limits, false, email, v4, false, []string{
			"verify:start:email:a@example.com", "verify:start:ip:192.0.2.1", "global:verify:start"}},
		{"start, some limits off, blocks of 100", Limits{IP: all, Prefix: all, PrefixDrop: 2}, false, gb, v4, false, []string{
			"verify:start:ip:192.0.2.1", "verify:start:prefix:+4474001234"}},
		{"check number", limits, false, gb, v4, true, []string{"verify:check:phone:+447400123456", "verify:check:ip:192.0.2.1"}},
		{"check email", limits, false, email, v6, true, []string{"verify:check:email:a@example.com", "verify:check:ip:2001:db8:1:2::/64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			rec := &keyRecorder{Store: store}
			t.Cleanup(func() { rec.Close(context.Background()) })
			lim, err := ratelimit.New(rec)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Limits: &tt.limits, Cooldown: -1}
			if tt.cool {
				cfg.Cooldown, cfg.SharedCooldown = 0, true
			}
			s, err := New(nopSender{}, lim, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check {
				_, err = s.take(context.Background(), s.check, false, tt.dst, tt.ip, nil)
			} else {
				_, err = s.guardStart(context.Background(), tt.dst, tt.ip, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.keys) != 1 || !slices.Equal(rec.keys[0], tt.want) {
				t.Fatalf("keys %q, want %q", rec.keys, tt.want)
			}
		})
	}
}

// TestTakeAllocations: the guard of a Start (every limit, the refusals and
// the cooldown) allocates its keys (one string) and nothing else beyond what
// the store allocates for the same take.
func TestTakeAllocations(t *testing.T) {
	clock := testkit.NewClock()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: clock.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	lim, err := ratelimit.New(store)
	if err != nil {
		t.Fatal(err)
	}
	high := ratelimit.PerSecond(1_000_000).WithBurst(1 << 40)
	s, err := New(nopSender{}, lim, Config{
		Limits: &Limits{Phone: high, IP: high, Prefix: high, Country: high, Global: high, Refusals: high}})
	if err != nil {
		t.Fatal(err)
	}
	dst := destination{to: "+447400123456", key: "+447400123456", region: "GB", callingCode: 44}
	ip := netip.MustParseAddr("192.0.2.1")
	allocs := testing.AllocsPerRun(100, func() {
		clock.Advance(time.Hour) // past the cooldown
		if _, err := s.take(context.Background(), s.startPhone, true, dst, ip, nil); err != nil {
			t.Fatal(err)
		}
	})
	// The same take, requests and results built beforehand.
	reqs := make([]ratelimit.Request, 0, maxTake)
	var buf []byte
	for _, l := range s.startPhone {
		reqs = append(reqs, ratelimit.Request{Key: string(s.appendKey(buf[:0], l.kind, dst, ip)), Limit: l.limit, Peek: l.peek})
	}
	for j, c := range s.cool.buckets {
		reqs = append(reqs, ratelimit.Request{Key: fmt.Sprint("cool", j), Limit: c.limit, Cost: c.cost})
	}
	results := make([]ratelimit.Result, len(reqs))
	storeAllocs := testing.AllocsPerRun(100, func() {
		clock.Advance(time.Hour)
		if d, err := lim.AllowAll(context.Background(), reqs, results); err != nil || !d.Allowed {
			t.Fatal(d, err)
		}
	})
	// AllocsPerRun truncates the mean, which absorbs the pool's occasional
	// misses (the race detector makes it drop a quarter of what is put).
	if allocs > storeAllocs+1 {
		t.Fatalf("%v allocations per take, want 1 (the keys) + the store's %v", allocs, storeAllocs)
	}
	t.Logf("%d requests: %v allocations, %v of them the store's", len(reqs), allocs, storeAllocs)
}

// TestDestinationMasked: the mask made at parse time, from the parsed
// calling code, is numbers.Mask's.
func TestDestinationMasked(t *testing.T) {
	s := &Service{policy: numbers.ModeratePolicy()}
	for _, phone := range []string{"+447400123456", "+14155550100", "+37120012345", "+35312345678", "+80012345678", "+3545511234"} {
		t.Run(phone, func(t *testing.T) {
			dst, _, err := s.parseDestination(phone, "", numbers.SMS)
			if err != nil {
				t.Fatal(err)
			}
			if want := numbers.Mask(dst.to); dst.masked != want {
				t.Fatalf("masked %q, numbers.Mask says %q", dst.masked, want)
			}
		})
	}
	dst, err := parseEmail("someone@example.com")
	if err != nil || dst.masked != maskDestination("someone@example.com") {
		t.Fatalf("email masked %q, %v", dst.masked, err)
	}
}
