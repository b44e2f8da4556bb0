package verify

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"

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
	tests := []struct {
		name   string
		limits Limits
		dst    destination
		ip     netip.Addr
		check  bool
		want   []string
	}{
		{"start number", limits, gb, v4, false, []string{
			"verify:start:phone:+447400123456", "verify:start:ip:192.0.2.1", "verify:start:prefix:+447400123",
			"verify:start:country:GB", "global:verify:start"}},
		{"start non-geographic number, IPv6", limits, intl, v6, false, []string{
			"verify:start:phone:+80012345678", "verify:start:ip:2001:db8:1:2::/64", "verify:start:prefix:+80012345",
			"verify:start:cc:800", "global:verify:start"}},
		{"start without an address", limits, gb, netip.Addr{}, false, []string{
			"verify:start:phone:+447400123456", "verify:start:ip:invalid IP", "verify:start:prefix:+447400123",
			"verify:start:country:GB", "global:verify:start"}},
		{"start email", limits, email, v4, false, []string{
			"verify:start:email:a@example.com", "verify:start:ip:192.0.2.1", "global:verify:start"}},
		{"start, some limits off, blocks of 100", Limits{IP: all, Prefix: all, PrefixDrop: 2}, gb, v4, false, []string{
			"verify:start:ip:192.0.2.1", "verify:start:prefix:+4474001234"}},
		{"check number", limits, gb, v4, true, []string{"verify:check:phone:+447400123456", "verify:check:ip:192.0.2.1"}},
		{"check email", limits, email, v6, true, []string{"verify:check:email:a@example.com", "verify:check:ip:2001:db8:1:2::/64"}},
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
			s, err := New(Config{Sender: nopSender{}, Limiter: lim, Limits: &tt.limits})
			if err != nil {
				t.Fatal(err)
			}
			if tt.check {
				err = s.take(context.Background(), s.check, tt.dst, tt.ip, true)
			} else {
				_, err = s.guardStart(context.Background(), tt.dst, tt.ip)
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

// TestTakeAllocations: the guard of a Start allocates its keys (one
// string) and nothing else, on a memory store.
func TestTakeAllocations(t *testing.T) {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(context.Background()) })
	lim, err := ratelimit.New(store)
	if err != nil {
		t.Fatal(err)
	}
	high := ratelimit.PerSecond(1_000_000).WithBurst(1 << 40)
	s, err := New(Config{Sender: nopSender{}, Limiter: lim,
		Limits: &Limits{Phone: high, IP: high, Prefix: high, Country: high, Global: high}})
	if err != nil {
		t.Fatal(err)
	}
	dst := destination{to: "+447400123456", key: "+447400123456", region: "GB", callingCode: 44}
	ip := netip.MustParseAddr("192.0.2.1")
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.take(context.Background(), s.startPhone, dst, ip, false); err != nil {
			t.Fatal(err)
		}
	})
	// AllocsPerRun truncates the mean, which absorbs the pool's occasional
	// misses (the race detector makes it drop a quarter of what is put).
	if allocs > 1 {
		t.Fatalf("%v allocations per take, want 1 (the keys)", allocs)
	}
}

// TestDestinationMasked: the mask made at parse time, from the parsed
// calling code, is numbers.Mask's.
func TestDestinationMasked(t *testing.T) {
	s := &Service{policy: numbers.ModeratePolicy()}
	for _, phone := range []string{"+447400123456", "+14155550100", "+37120012345", "+35312345678", "+80012345678", "+3545511234"} {
		t.Run(phone, func(t *testing.T) {
			_, dst, err := s.parsePhone(phone)
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
