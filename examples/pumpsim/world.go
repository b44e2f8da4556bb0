package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/antifraud-go/antifraud/numbers"
)

// country is one destination of the simulated traffic.
type country struct {
	region string
	weight float64 // share of legit users, before normalising
	price  float64 // USD per SMS
	tz     float64 // UTC offset in hours, for the daily curve
	conv   float64 // conversion of its legit users, drawn per run
	cc     int
	blocks []string // "+"+digits of the /4 blocks legit numbers come from
	nat    []netip.Addr
	v6     netip.Prefix // the carrier's IPv6 space
	users  []string     // numbers confirmed so far, for returning users
	share  float64      // normalised weight
}

// countryTable lists the countries the simulator knows: weight of legit
// users, SMS price in USD, UTC offset. The prices are illustrative, close
// to public list prices of SMS to mobiles in 2025; the simulator's point is
// the relative cost of leaks, not an invoice.
var countryTable = []country{
	{region: "US", weight: 20, price: 0.0083, tz: -6},
	{region: "GB", weight: 8, price: 0.0463, tz: 0},
	{region: "DE", weight: 6, price: 0.0945, tz: 1},
	{region: "FR", weight: 6, price: 0.0867, tz: 1},
	{region: "IN", weight: 8, price: 0.0831, tz: 5.5},
	{region: "BR", weight: 7, price: 0.0625, tz: -3},
	{region: "MX", weight: 5, price: 0.0565, tz: -6},
	{region: "ID", weight: 5, price: 0.4189, tz: 7},
	{region: "NG", weight: 4, price: 0.4250, tz: 1},
	{region: "PH", weight: 4, price: 0.2147, tz: 8},
	{region: "ES", weight: 4, price: 0.0837, tz: 1},
	{region: "IT", weight: 4, price: 0.0897, tz: 1},
	{region: "JP", weight: 3, price: 0.0807, tz: 9},
	{region: "VN", weight: 3, price: 0.1132, tz: 7},
	{region: "TR", weight: 3, price: 0.0431, tz: 3},
	{region: "EG", weight: 2, price: 0.2470, tz: 2},
	{region: "PK", weight: 2, price: 0.3095, tz: 5},
	{region: "KE", weight: 2, price: 0.1654, tz: 3},
	{region: "ZA", weight: 2, price: 0.0520, tz: 2},
	{region: "AU", weight: 2, price: 0.0515, tz: 10},
	// Countries of other traffic mixes (-countries beyond 20, -mix).
	{region: "CA", weight: 4, price: 0.0083, tz: -5},
	{region: "NL", weight: 2, price: 0.1049, tz: 1},
	{region: "PL", weight: 2, price: 0.0398, tz: 1},
	{region: "AR", weight: 2, price: 0.0654, tz: -3},
	{region: "CO", weight: 2, price: 0.0480, tz: -5},
	{region: "TH", weight: 2, price: 0.0357, tz: 7},
	{region: "MY", weight: 2, price: 0.1115, tz: 8},
	{region: "BD", weight: 2, price: 0.3185, tz: 6},
	{region: "SA", weight: 2, price: 0.1180, tz: 3},
	{region: "AE", weight: 2, price: 0.0950, tz: 4},
	{region: "UA", weight: 2, price: 0.1200, tz: 2},
	{region: "RO", weight: 2, price: 0.0740, tz: 2},
	{region: "KR", weight: 2, price: 0.0416, tz: 9},
	{region: "CL", weight: 2, price: 0.0770, tz: -4},
	{region: "PE", weight: 2, price: 0.1050, tz: -5},
}

// world is the simulated population: countries with their number blocks
// and addresses.
type world struct {
	countries []*country
	byRegion  map[string]*country
	policy    *numbers.Policy
}

// maxShare returns the share of legit users of the biggest country.
func (w *world) maxShare() float64 {
	m := 0.0
	for _, c := range w.countries {
		m = max(m, c.share)
	}
	return m
}

// newWorld draws the legit number blocks of each country: blocks of 10,000
// numbers (the number without its last 4 digits) that are valid mobile
// ranges and allowed by the static policy.
func newWorld(rng *rand.Rand, p *params) (*world, error) {
	w := &world{byRegion: map[string]*country{}, policy: numbers.ModeratePolicy()}
	names := p.regions()
	total := 0.0
	for _, r := range names {
		i := slices.IndexFunc(countryTable, func(c country) bool { return c.region == r })
		if i < 0 {
			return nil, fmt.Errorf("unknown country %q", r)
		}
		c := countryTable[i]
		c.conv = p.convMin + rng.Float64()*(p.convMax-p.convMin)
		if err := c.fill(rng, p.blocks, w.policy); err != nil {
			return nil, err
		}
		total += c.weight
		w.countries = append(w.countries, &c)
		w.byRegion[r] = &c
	}
	for _, c := range w.countries {
		c.share = c.weight / total
	}
	return w, nil
}

// fill draws the country's number blocks, carrier-NAT addresses and IPv6
// space.
func (c *country) fill(rng *rand.Rand, nBlocks int, policy *numbers.Policy) error {
	ex := phonenumbers.GetExampleNumberForTypeInRegion(c.region, phonenumbers.MOBILE)
	if ex == nil {
		return fmt.Errorf("%s: no example mobile number", c.region)
	}
	c.cc = int(ex.GetCountryCode())
	nsn := phonenumbers.GetNationalSignificantNumber(ex)
	// Legit numbers come from blocks spread over the whole mobile
	// numbering of the country: the first 3 national digits are drawn
	// from those that start valid mobile numbers, the rest but the last 4
	// at random, and blocks where random numbers are not valid mobiles are
	// dropped.
	const lead = 3
	free := len(nsn) - lead - 4
	if free < 0 {
		return fmt.Errorf("%s: example number too short", c.region)
	}
	cc := "+" + strconv.Itoa(c.cc)
	var leads []string
	for i := range 1000 {
		l := fmt.Sprintf("%03d", i)
		n, err := numbers.Parse(cc+l+nsn[lead:], "")
		if err != nil || n.Region != c.region || !policy.Check(n, numbers.SMS).Allowed {
			continue
		}
		if t := n.Type(); t == numbers.Mobile || t == numbers.FixedLineOrMobile {
			leads = append(leads, l)
		}
	}
	if len(leads) == 0 {
		return fmt.Errorf("%s: no mobile leading digits", c.region)
	}
	seen := map[string]bool{}
	for tries := 0; len(c.blocks) < nBlocks && tries < 20*nBlocks; tries++ {
		b := []byte(leads[rng.IntN(len(leads))])
		for range free {
			b = append(b, byte('0'+rng.IntN(10)))
		}
		block := cc + string(b)
		if seen[block] {
			continue
		}
		// A block is usable when random numbers in it are valid mobiles
		// the static policy allows.
		ok := true
		for range 3 {
			if _, good := c.number(rng, block, policy); !good {
				ok = false
				break
			}
		}
		if ok {
			seen[block] = true
			c.blocks = append(c.blocks, block)
		}
	}
	if len(c.blocks) < nBlocks/10 || len(c.blocks) == 0 {
		return fmt.Errorf("%s: found only %d number blocks", c.region, len(c.blocks))
	}
	for range 12 {
		c.nat = append(c.nat, randomV4(rng))
	}
	c.v6 = netip.PrefixFrom(randomV6(rng), 32).Masked()
	return nil
}

// number returns a random valid mobile number of block (the number without
// its last 4 digits) that policy allows.
func (c *country) number(rng *rand.Rand, block string, policy *numbers.Policy) (numbers.Number, bool) {
	return c.numberIn(rng, block, 4, policy)
}

// numberIn returns a random valid mobile number of prefix, followed by
// digits random digits, that policy allows.
func (c *country) numberIn(rng *rand.Rand, prefix string, digits int, policy *numbers.Policy) (numbers.Number, bool) {
	for range 8 {
		s := prefix
		for range digits {
			s += string(rune('0' + rng.IntN(10)))
		}
		n, err := numbers.Parse(s, "")
		if err != nil {
			continue
		}
		if t := n.Type(); (t != numbers.Mobile && t != numbers.FixedLineOrMobile) || n.Region != c.region {
			continue
		}
		if !policy.Check(n, numbers.SMS).Allowed {
			continue
		}
		return n, true
	}
	return numbers.Number{}, false
}

// randomV4 returns a random public IPv4 address.
func randomV4(rng *rand.Rand) netip.Addr {
	for {
		a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		if !a.IsPrivate() && !a.IsLoopback() && a.IsGlobalUnicast() && !cgnat.Contains(a) {
			return a
		}
	}
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// randomV6 returns a random global unicast IPv6 address in 2000::/3.
func randomV6(rng *rand.Rand) netip.Addr {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	b[0] = 0x20 | b[0]&0x0f
	return netip.AddrFrom16(b)
}

// inPrefix returns a random address of p.
func inPrefix(rng *rand.Rand, p netip.Prefix) netip.Addr {
	a := randomV6(rng).As16()
	base := p.Addr().As16()
	bits := p.Bits()
	for i := range 16 {
		switch {
		case bits >= 8*(i+1):
			a[i] = base[i]
		case bits > 8*i:
			mask := byte(0xff << (8 - (bits - 8*i)))
			a[i] = base[i]&mask | a[i]&^mask
		}
	}
	return netip.AddrFrom16(a)
}
