package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/antifraud-go/antifraud/numbers"
)

// The attack replays what examples/pumpsim's pumpers do, against this
// running app, through its own handler: a drip of random numbers in a few
// ranges of 10,000 numbers of the most expensive countries, a burst over
// sequential numbers, each request from a fresh residential-proxy address,
// while a few legitimate users keep signing up. Requests go through the
// whole public handler (cross-origin check, guard, verify, monitor) with
// the proxy's address as the connection's: what the app would see of such
// an attack on the internet.
//
// It needs the local sender: against Twilio Verify it would send real,
// billed codes.

var errAttackRunning = errors.New("an attack is already running")

// attacks runs one attack at a time and remembers the last one.
type attacks struct {
	mu     sync.Mutex
	st     attackStatus
	cancel context.CancelFunc
	done   chan struct{}
}

// attackStatus is what the dashboard shows of the attack.
type attackStatus struct {
	Running         bool
	Started, Ended  time.Time
	Requests, Sent  int
	Cost            float64
	Refused         map[string]int
	Ranges          []string
	Legit, LegitOK  int
	LegitRefused    int
	Addresses       int
	TargetCountries string
}

func (s *attacks) status() attackStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Refused = maps.Clone(s.st.Refused)
	return st
}

// stop cancels a running attack and waits for it.
func (s *attacks) stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// attack starts an attack in the background.
func (a *app) attack(ctx context.Context) error {
	if a.codes == nil {
		return errors.New("the attack runs only with the local sender: with Twilio Verify it would send real codes")
	}
	plan, err := newAttackPlan(rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), a.policy)
	if err != nil {
		return err
	}
	a.attacks.mu.Lock()
	defer a.attacks.mu.Unlock()
	if a.attacks.st.Running {
		return errAttackRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	a.attacks.cancel, a.attacks.done = cancel, make(chan struct{})
	a.attacks.st = attackStatus{Running: true, Started: time.Now(), Refused: map[string]int{},
		Ranges: plan.rangeNames(), TargetCountries: strings.Join(plan.regions(), ", ")}
	go func() {
		defer close(a.attacks.done)
		defer cancel()
		a.runAttack(ctx, plan)
		a.attacks.mu.Lock()
		a.attacks.st.Running, a.attacks.st.Ended = false, time.Now()
		a.attacks.cancel = nil
		a.attacks.mu.Unlock()
	}()
	return nil
}

// attackPlan is the traffic of one attack: requests to make in order.
type attackPlan struct {
	steps  []attackStep
	blocks []string // the ranges attacked, as "+" and digits
}

type attackStep struct {
	number numbers.Number
	addr   netip.Addr
	legit  bool // a real user, who confirms the code
}

// Targets of the pumpers: pumpsim's most expensive countries (a pumper's
// revenue share is best there) that the static policy allows; legitimate
// users come from the app's main markets.
var (
	attackRegions = []string{"ID", "NG"}
	legitRegions  = []string{"US", "GB", "DE", "CA", "FR"}
)

const (
	dripRequests  = 120 // random numbers in the attacked ranges
	burstRequests = 20  // sequential numbers in one more range
	legitEvery    = 6   // one legit user every legitEvery attack requests
)

func newAttackPlan(rng *rand.Rand, policy *numbers.Policy) (*attackPlan, error) {
	p := &attackPlan{}
	// Three neighbouring ranges of 10,000 in the first country (one
	// carrier's allocation), one in the second.
	var drip []string
	for i, region := range attackRegions {
		base, err := mobileBlock(region)
		if err != nil {
			return nil, err
		}
		n := 1
		if i == 0 {
			n = 3
		}
		for _, b := range neighbours(base, n) {
			if _, ok := randomIn(rng, b, region, policy); ok {
				drip = append(drip, b)
			}
		}
	}
	if len(drip) == 0 {
		return nil, errors.New("attack: no usable number range")
	}
	var legit []string
	for _, region := range legitRegions {
		if b, err := mobileBlock(region); err == nil {
			legit = append(legit, b)
		}
	}
	// The burst walks one more range of the first country, every third
	// number.
	burst := neighbours(drip[0], 4)[3]
	p.blocks = append(slices.Clone(drip), burst)

	steps := 0
	addStep := func(block, region string, legitUser bool) {
		n, ok := randomIn(rng, block, region, policy)
		if !ok {
			return
		}
		p.steps = append(p.steps, attackStep{number: n, addr: proxyAddr(rng), legit: legitUser})
	}
	for i := range dripRequests {
		b := drip[rng.IntN(len(drip))]
		addStep(b, regionOfBlock(b), false)
		if steps++; steps%legitEvery == 0 && len(legit) > 0 {
			b := legit[rng.IntN(len(legit))]
			addStep(b, regionOfBlock(b), true)
		}
		if i == dripRequests/2 {
			first := rng.IntN(5000)
			for j := range burstRequests {
				num := burst + fmt.Sprintf("%04d", first+3*j)
				if n, err := numbers.Parse(num, ""); err == nil && isMobile(n) {
					p.steps = append(p.steps, attackStep{number: n, addr: proxyAddr(rng)})
				}
			}
		}
	}
	return p, nil
}

// rangeNames are the attacked ranges, with their unknown digits shown.
func (p *attackPlan) rangeNames() []string {
	out := make([]string, len(p.blocks))
	for i, b := range p.blocks {
		out[i] = b + "xxxx"
	}
	return out
}

func (p *attackPlan) regions() []string { return attackRegions }

// mobileBlock returns a range of 10,000 mobile numbers of region: libphonenumber's
// example mobile number without its last 4 digits.
func mobileBlock(region string) (string, error) {
	ex := phonenumbers.GetExampleNumberForTypeInRegion(region, phonenumbers.MOBILE)
	if ex == nil {
		return "", fmt.Errorf("attack: no example mobile number for %s", region)
	}
	nsn := phonenumbers.GetNationalSignificantNumber(ex)
	if len(nsn) < 7 {
		return "", fmt.Errorf("attack: example number of %s too short", region)
	}
	return "+" + strconv.Itoa(int(ex.GetCountryCode())) + nsn[:len(nsn)-4], nil
}

// neighbours returns n ranges of 10,000 numbers next to block (block first):
// block with its last digit changed, all inside one range of 100,000.
func neighbours(block string, n int) []string {
	out := []string{block}
	last := int(block[len(block)-1] - '0')
	for d := 1; len(out) < n && d < 10; d++ {
		out = append(out, block[:len(block)-1]+strconv.Itoa((last+d)%10))
	}
	return out
}

func regionOfBlock(block string) string {
	n, err := numbers.Parse(block+"0000", "")
	if err != nil {
		return ""
	}
	return n.Region
}

func isMobile(n numbers.Number) bool {
	t := n.Type()
	return t == numbers.Mobile || t == numbers.FixedLineOrMobile
}

// randomIn returns a random mobile number of block (followed by 4 digits)
// in region that policy allows for texts.
func randomIn(rng *rand.Rand, block, region string, policy *numbers.Policy) (numbers.Number, bool) {
	for range 16 {
		n, err := numbers.Parse(block+fmt.Sprintf("%04d", rng.IntN(10000)), "")
		if err != nil || n.Region != region || !isMobile(n) || !policy.Check(n, numbers.SMS).Allowed {
			continue
		}
		return n, true
	}
	return numbers.Number{}, false
}

// proxyAddr is a residential proxy's address: a random public IPv4
// address, or an address in a fresh IPv6 /64.
func proxyAddr(rng *rand.Rand) netip.Addr {
	if rng.IntN(3) == 0 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		b[0] = 0x20 | b[0]&0x0f // 2000::/3
		return netip.AddrFrom16(b)
	}
	for {
		a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		if a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() {
			return a
		}
	}
}

// runAttack makes the plan's requests, one every opts.AttackGap.
func (a *app) runAttack(ctx context.Context, p *attackPlan) {
	gap := a.opts.AttackGap
	addrs := map[netip.Addr]bool{}
	for _, st := range p.steps {
		if ctx.Err() != nil {
			return
		}
		if !st.legit {
			addrs[st.addr] = true
		}
		status, reason := a.replay(ctx, "/signup/code", st, map[string]string{"phone": st.number.E164})
		sent := status == http.StatusAccepted
		confirmed := false
		if sent && st.legit {
			// A real user reads the code and types it in.
			if code, ok := a.codes.latest(numbers.Mask(st.number.E164)); ok {
				s, _ := a.replay(ctx, "/signup/verify", st, map[string]string{"phone": st.number.E164, "code": code})
				confirmed = s == http.StatusOK
			}
		}
		a.attacks.mu.Lock()
		s := &a.attacks.st
		s.Addresses = len(addrs)
		if st.legit {
			s.Legit++
			switch {
			case confirmed:
				s.LegitOK++
			case !sent:
				s.LegitRefused++
			}
		} else {
			s.Requests++
			if sent {
				s.Sent++
				s.Cost += price(0, st.number.Region)
			} else {
				s.Refused[reason]++
			}
		}
		a.attacks.mu.Unlock()
		if gap > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(gap):
			}
		}
	}
	st := a.attacks.status()
	fmt.Fprintf(a.opts.Out, "attack: %d requests from %d addresses to %d ranges of %s: %d codes sent ($%.2f), %d refused %v; legit users: %d of %d signed in, %d refused\n",
		st.Requests, st.Addresses, len(st.Ranges), st.TargetCountries, st.Sent, st.Cost, st.Requests-st.Sent, st.Refused, st.LegitOK, st.Legit, st.LegitRefused)
}

// replay serves one JSON request of the attack from st's address, and
// returns the status and, for a refusal, the reason the problem's type
// names.
func (a *app) replay(ctx context.Context, path string, st attackStep, body map[string]string) (int, string) {
	b, _ := json.Marshal(body)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		return 0, "error"
	}
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = netip.AddrPortFrom(st.addr, uint16(1024+rand.IntN(60000))).String()
	var why refusal
	r = r.WithContext(context.WithValue(r.Context(), refusalKey{}, &why))
	rec := httptest.NewRecorder()
	a.public.ServeHTTP(rec, r)
	return rec.Code, why.reason
}

// refusal receives the reason of a refused request of the attack.
type refusal struct{ reason string }

type refusalKey struct{}

// noteRefusal tells the attack, if r is one of its requests, why r was
// refused.
func noteRefusal(r *http.Request, reason string) {
	if why, ok := r.Context().Value(refusalKey{}).(*refusal); ok {
		why.reason = reason
	}
}
