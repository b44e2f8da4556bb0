// Command pumpsim replays legit sign-up traffic and SMS pumping attacks
// through a defense and scores it: how many attack sends were blocked and
// what the rest cost, how many legit users were ever refused, and how many
// sends each attacked range got before its first block.
//
// It is deterministic (seeded, on a simulated clock) and runs in seconds:
//
//	go run ./examples/pumpsim                  # the default mix, every defense
//	go run ./examples/pumpsim -sweep           # the targets over many mixes
//	go run ./examples/pumpsim -h               # every parameter of the mix
//
// The defenses are today's static verify defaults (verify.Service with
// numbers.ModeratePolicy() and verify.DefaultLimits()), the same Service
// with the guard/pumping monitor wired as an app wires it
// (verify.Config.Monitor, and its Blocklist in the number policy), and the
// monitor in shadow mode. The simulation is
// a model: its numbers show how the defenses behave, not what an attack on
// a given app will cost.
package main

import (
	"container/heap"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/antifraud-go/antifraud/guard/pumping"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// params is a traffic mix and what to run it through.
type params struct {
	seed      uint64
	warmup    time.Duration
	duration  time.Duration
	legit     int
	nCountry  int
	countries string
	convMin   float64
	convMax   float64
	twice     float64
	nat       float64
	v6        float64
	returning float64
	blocks    int

	scale         float64
	dripRate      float64
	dripRanges    int
	dripCountries int
	dripWidth     int
	burstStep     int
	burstEvery    time.Duration
	burstLen      int
	burstGap      time.Duration
	v6Rate        float64
	confRate      float64
	confFrac      float64
	hopRate       float64
	hopScope      string
	sprayRate     float64

	defenses    string
	scaleLimits bool
	// onDecision, if set, sees every decision of the monitor.
	onDecision func(pumping.Decision)
	attacked   map[string]bool // the attacked blocks of the run, for onDecision
}

func (p *params) regions() []string {
	if p.countries != "" {
		return strings.Split(p.countries, ",")
	}
	var out []string
	for _, c := range countryTable[:min(p.nCountry, len(countryTable))] {
		out = append(out, c.region)
	}
	return out
}

func defaults() params {
	return params{
		seed: 1, warmup: 24 * time.Hour, duration: 48 * time.Hour,
		legit: 3000, nCountry: 20, convMin: 0.80, convMax: 0.90,
		twice: 0.12, nat: 0.20, v6: 0.15, returning: 0.25, blocks: 5000,
		scale: 1, dripRate: 600, dripRanges: 40, dripCountries: 10, dripWidth: 4, burstStep: 1,
		burstEvery: 4 * time.Hour, burstLen: 400, burstGap: 2 * time.Second,
		v6Rate: 120, confRate: 180, confFrac: 0.04, hopRate: 360, hopScope: "carrier",
		defenses: "static,adaptive,shadow", scaleLimits: true,
	}
}

func (p *params) flags(fs *flag.FlagSet) {
	fs.Uint64Var(&p.seed, "seed", p.seed, "random seed")
	fs.DurationVar(&p.warmup, "warmup", p.warmup, "legit traffic only, not scored, before the attacks")
	fs.DurationVar(&p.duration, "duration", p.duration, "scored time after the warm-up")
	fs.IntVar(&p.legit, "legit", p.legit, "legit users a day")
	fs.IntVar(&p.nCountry, "ncountries", p.nCountry, "legit countries, the first n of the table")
	fs.StringVar(&p.countries, "countries", p.countries, "legit countries, comma-separated ISO codes (overrides -ncountries)")
	fs.Float64Var(&p.convMin, "conv-min", p.convMin, "lowest conversion of a country's legit users")
	fs.Float64Var(&p.convMax, "conv-max", p.convMax, "highest conversion of a country's legit users")
	fs.Float64Var(&p.twice, "twice", p.twice, "share of legit users who ask for a second code")
	fs.Float64Var(&p.nat, "nat", p.nat, "share of legit users behind carrier NAT (12 addresses per country)")
	fs.Float64Var(&p.v6, "v6", p.v6, "share of legit users on IPv6")
	fs.Float64Var(&p.returning, "returning", p.returning, "share of legit requests from returning (confirmed) users")
	fs.IntVar(&p.blocks, "blocks", p.blocks, "blocks of 10,000 numbers legit users of a country come from (fewer is denser)")
	fs.Float64Var(&p.scale, "attack-scale", p.scale, "multiplies every attack rate")
	fs.Float64Var(&p.dripRate, "drip", p.dripRate, "slow drip: requests an hour")
	fs.IntVar(&p.dripRanges, "drip-ranges", p.dripRanges, "slow drip: ranges")
	fs.IntVar(&p.dripCountries, "drip-countries", p.dripCountries, "countries the pumpers target (the most expensive legit ones)")
	fs.IntVar(&p.dripWidth, "drip-width", p.dripWidth, "slow drip: random digits at the end of its numbers (4: ranges of 10,000)")
	fs.IntVar(&p.burstStep, "burst-step", p.burstStep, "sequential bursts: step between numbers")
	fs.DurationVar(&p.burstEvery, "burst-every", p.burstEvery, "sequential bursts: one every (0: none)")
	fs.IntVar(&p.burstLen, "burst-len", p.burstLen, "sequential bursts: requests per burst")
	fs.DurationVar(&p.burstGap, "burst-gap", p.burstGap, "sequential bursts: time between requests")
	fs.Float64Var(&p.v6Rate, "v6-rate", p.v6Rate, "IPv6 rotation inside one /64: requests an hour")
	fs.Float64Var(&p.confRate, "confirmer", p.confRate, "confirming pumper: requests an hour")
	fs.Float64Var(&p.confFrac, "confirm-frac", p.confFrac, "confirming pumper: share of its codes it confirms")
	fs.Float64Var(&p.hopRate, "hopper", p.hopRate, "range hopper: requests an hour")
	fs.Float64Var(&p.sprayRate, "spray", p.sprayRate, "spray: random numbers anywhere in the target countries, requests an hour (0: none)")
	fs.StringVar(&p.hopScope, "hop-scope", p.hopScope, "range hopper: where it hops, \"carrier\" (its block of 1,000,000) or \"country\"")
	fs.StringVar(&p.defenses, "defenses", p.defenses, "defenses to run: static, adaptive, shadow")
	fs.BoolVar(&p.scaleLimits, "scale-limits", p.scaleLimits, "raise the global and per-country limits of verify.DefaultLimits() for apps of more than about 8,000 users a day")
}

func main() {
	p := defaults()
	fs := flag.NewFlagSet("pumpsim", flag.ExitOnError)
	p.flags(fs)
	sweep := fs.Bool("sweep", false, "run the targets over many traffic mixes and seeds")
	seeds := fs.Int("seeds", 3, "with -sweep: seeds per mix")
	verbose := fs.Bool("v", false, "print each attacker's figures")
	trace := fs.Bool("decisions", false, "print every decision of the monitor to stderr")
	_ = fs.Parse(os.Args[1:])
	if *trace {
		p.onDecision = func(d pumping.Decision) {
			where := ""
			if d.Scope == pumping.ScopeRange && p.attacked != nil {
				where = "clean"
				for k := range p.attacked {
					if strings.HasPrefix(k, d.Key) || strings.HasPrefix(d.Key, k) {
						where = "ATTACKED"
						break
					}
				}
			}
			fmt.Fprintf(os.Stderr, "%s %-7s %-16s %-11s level %3d th %3d (floor %d learnt %d conv %.2f expl %d) strike %d for %v %s %s\n",
				d.Time.Format("Jan 2 15:04:05"), d.Scope, d.Key, d.Signal, d.Level, d.Threshold, d.Baseline.Floor,
				d.Baseline.Learnt, d.Baseline.Conversion, d.Baseline.Explained, d.Strike, d.For, d.Region, where)
		}
	}
	if *sweep {
		if !runSweep(os.Stdout, p, *seeds) {
			os.Exit(1)
		}
		return
	}
	fmt.Fprintf(os.Stdout, "pumpsim: seed %d, %d legit users/day in %d countries, conversion %.0f–%.0f%%, %v warm-up, %v scored\n\n",
		p.seed, p.legit, len(p.regions()), 100*p.convMin, 100*p.convMax, p.warmup, p.duration)
	var results []*result
	for _, d := range strings.Split(p.defenses, ",") {
		r, err := run(&p, d)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pumpsim:", err)
			os.Exit(2)
		}
		results = append(results, r)
	}
	printTable(os.Stdout, results)
	if *verbose {
		for _, r := range results {
			printAttackers(os.Stdout, r)
		}
	}
}

// run simulates the mix p against one defense.
func run(p *params, name string) (*result, error) {
	// The world and the traffic are drawn from the same seed for every
	// defense, and the defenses draw nothing: every defense sees the same
	// requests until their answers make them differ.
	rng := rand.New(rand.NewPCG(p.seed, 0x70756d70))
	w, err := newWorld(rng, p)
	if err != nil {
		return nil, err
	}
	c := &clock{ns: epoch.UnixNano()}
	limits := verify.DefaultLimits()
	if p.scaleLimits {
		limits = limitsFor(p.legit, w.maxShare())
	}
	var def defense
	switch name {
	case "static":
		var lim *ratelimit.Limiter
		if lim, err = newLimiter(c.Now); err == nil {
			def, err = newStatic(c.Now, lim, nil, limits)
		}
	case "adaptive":
		def, err = newAdaptive(c.Now, limits, false, pumping.Floors{}, p.onDecision)
	case "shadow":
		def, err = newAdaptive(c.Now, limits, true, pumping.Floors{}, p.onDecision)
	default:
		err = fmt.Errorf("unknown defense %q", name)
	}
	if err != nil {
		return nil, err
	}
	s := &sim{
		p: p, rng: rng, clock: c, w: w, def: def, ctx: context.Background(),
		start: c.ns + int64(p.warmup), end: c.ns + int64(p.warmup+p.duration),
		res:      &result{defense: name, attack: map[string]*attackStats{}, ranges: map[string]*rangeStats{}, reasons: map[string]int{}, why: map[string]int{}},
		attacked: map[string]bool{},
	}
	p.attacked = s.attacked
	heap.Init(&s.q)
	s.at(c.ns, func() { s.legitHour(c.ns) })
	s.startAttacks()
	s.run()
	s.res.decisions = def.decisions()
	return s.res, nil
}

var defenseNames = map[string]string{
	"static":   "static (verify defaults)",
	"adaptive": "static + pumping monitor",
	"shadow":   "static + monitor, shadow",
}

func printTable(out io.Writer, results []*result) {
	fmt.Fprintf(out, "| defense | attack sends | blocked | leaked cost | legit users | ever refused | ranges tried, that leaked, never blocked | sends to a range before its first block: median, p95, max |\n")
	fmt.Fprintf(out, "|---|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range results {
		sm := r.summary()
		fmt.Fprintf(out, "| %s | %d | %.2f%% | $%.0f | %d | %d (%.2f%%) | %d, %d, %d | %d, %d, %d |\n",
			defenseNames[r.defense], sm.tried, sm.blockedPct, sm.cost, r.legitUsers, r.legitRefused, sm.legitPct,
			sm.rangesTotal, sm.rangesLeaked, sm.rangesNever, sm.rangeMedian, sm.rangeP95, sm.rangeMax)
	}
	for _, r := range results {
		sm := r.summary()
		if r.defense == "shadow" {
			fmt.Fprintf(out, "\nshadow mode enforced nothing; it would have refused %.2f%% of attack sends and %d legit users (%.2f%%).\n",
				sm.shadowAttPct, r.shadowLegit, sm.shadowLegitPc)
		}
	}
	for _, r := range results {
		if len(r.why) > 0 {
			fmt.Fprintf(out, "\nlegit refusals by the monitor's blocks, %s:", defenseNames[r.defense])
			for _, k := range sortedKeys(r.why) {
				fmt.Fprintf(out, " %s %d;", k, r.why[k])
			}
			fmt.Fprintln(out)
		}
	}
	for _, r := range results {
		if len(r.reasons) > 0 {
			fmt.Fprintf(out, "\nlegit refusals, %s:", defenseNames[r.defense])
			for _, k := range sortedKeys(r.reasons) {
				fmt.Fprintf(out, " %s %d;", k, r.reasons[k])
			}
			fmt.Fprintln(out)
		}
	}
}

func printAttackers(out io.Writer, r *result) {
	fmt.Fprintf(out, "\n%s (%d decisions):\n", defenseNames[r.defense], r.decisions)
	for _, k := range sortedKeys(r.attack) {
		a := r.attack[k]
		fmt.Fprintf(out, "  %-10s tried %6d  sent %6d  blocked %6.2f%%  cost $%.0f\n", k, a.tried, a.sent,
			100*float64(a.tried-a.sent)/float64(max(a.tried, 1)), a.cost)
	}
}
