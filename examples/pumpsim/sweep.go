package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"
)

// Targets of the monitor, after a day of warm-up.
const (
	targetBlocked = 99.0 // % of attack sends blocked, at least
	targetLegit   = 0.5  // % of legit users ever refused, at most
	targetRange   = 30   // sends per attacked range before its first block, at most
)

// mix is a traffic mix of the sweep: a change to the default parameters.
type mix struct {
	name string
	set  func(*params)
	// stress marks mixes beyond what the targets are set for: attacks
	// that no range can catch, where only a country brake helps.
	stress bool
}

// mixes differ from the default in volume, countries, conversion, address
// sharing, number density and attack rates.
var mixes = []mix{
	{"default", func(*params) {}, false},
	{"big app, 5 countries, dense", func(p *params) { p.legit, p.nCountry, p.blocks = 30000, 5, 5000 }, false},
	{"small app, 30 countries", func(p *params) { p.legit, p.nCountry = 400, 30 }, false},
	{"other 15 countries", func(p *params) { p.countries = "CA,NL,PL,AR,CO,TH,MY,BD,SA,AE,UA,RO,KR,CL,PE" }, false},
	{"low conversion 55-70%", func(p *params) { p.convMin, p.convMax = 0.55, 0.70 }, false},
	{"high conversion 93-98%", func(p *params) { p.convMin, p.convMax = 0.93, 0.98 }, false},
	{"heavy NAT, many retries", func(p *params) { p.nat, p.twice = 0.6, 0.35 }, false},
	{"dense numbers", func(p *params) { p.legit, p.blocks = 10000, 500 }, false},
	{"attacks x5", func(p *params) { p.scale = 5 }, false},
	{"attacks x0.2", func(p *params) { p.scale = 0.2 }, false},
	{"drip over 400 ranges", func(p *params) { p.dripRanges, p.dripRate = 400, 1200 }, false},
	{"3 target countries", func(p *params) { p.dripCountries = 3 }, false},
	{"drip in ranges of 100,000", func(p *params) { p.dripWidth = 5 }, false},
	{"drip in ranges of 1,000", func(p *params) { p.dripWidth = 3 }, false},
	{"bursts every 7th number", func(p *params) { p.burstStep, p.burstEvery = 7, time.Hour }, false},
	{"attacks x0.1", func(p *params) { p.scale = 0.1 }, false},
	{"fast confirmer 15%", func(p *params) { p.confFrac, p.confRate = 0.15, 600 }, false},
	{"stress: hopper anywhere in country", func(p *params) { p.hopScope = "country" }, true},
	{"stress: spray over whole countries", func(p *params) { p.sprayRate = 300 }, true},
}

// runSweep runs every mix with several seeds through the static and the
// adaptive defense, prints one row per run, and reports whether every run
// met the targets.
func runSweep(out io.Writer, base params, seeds int) bool {
	fmt.Fprintf(out, "targets: >= %.0f%% of attack sends blocked, <= %.1f%% legit users refused, <= %d sends per range before its first block\n\n",
		targetBlocked, targetLegit, targetRange)
	fmt.Fprintf(out, "| mix | seed | static: blocked, legit refused | monitor: blocked | legit refused | sends/range (median, p95, max) | leaked cost | met |\n")
	fmt.Fprintf(out, "|---|---:|---|---:|---:|---|---:|---|\n")
	all := true
	start := time.Now()
	type worst struct {
		staticBlocked, staticLegit float64
		blocked, legit, cost       float64
		rangeMax, met, runs        int
	}
	summary := make([]worst, len(mixes))
	for mi, m := range mixes {
		w := &summary[mi]
		w.blocked, w.staticBlocked = 100, 100
		for seed := range seeds {
			p := base
			p.seed = base.seed + uint64(seed)
			m.set(&p)
			st, err := run(&p, "static")
			if err != nil {
				fmt.Fprintf(out, "| %s | %d | error: %v |\n", m.name, p.seed, err)
				all = false
				continue
			}
			ad, err := run(&p, "adaptive")
			if err != nil {
				fmt.Fprintf(out, "| %s | %d | error: %v |\n", m.name, p.seed, err)
				all = false
				continue
			}
			s, a := st.summary(), ad.summary()
			ok := a.blockedPct >= targetBlocked && a.legitPct <= targetLegit && a.rangeMax <= targetRange
			mark := "yes"
			switch {
			case m.stress && !ok:
				mark = "no (stress)"
			case !ok:
				mark = "**no**"
				all = false
			}
			fmt.Fprintf(out, "| %s | %d | %.1f%%, %.2f%% | %.2f%% | %.2f%% (%d of %d) | %d, %d, %d | $%.0f | %s |\n",
				m.name, p.seed, s.blockedPct, s.legitPct, a.blockedPct, a.legitPct, ad.legitRefused, ad.legitUsers,
				a.rangeMedian, a.rangeP95, a.rangeMax, a.cost, mark)
			w.staticBlocked, w.staticLegit = min(w.staticBlocked, s.blockedPct), max(w.staticLegit, s.legitPct)
			w.blocked, w.legit, w.cost = min(w.blocked, a.blockedPct), max(w.legit, a.legitPct), max(w.cost, a.cost)
			w.rangeMax = max(w.rangeMax, a.rangeMax)
			w.runs++
			if ok {
				w.met++
			}
		}
	}
	fmt.Fprintf(out, "\nWorst of %d seeds per mix:\n\n", seeds)
	fmt.Fprintf(out, "| mix | static: blocked, legit refused | monitor: blocked | legit refused | most sends to a range before its block | most leaked | seeds meeting the targets |\n")
	fmt.Fprintf(out, "|---|---|---:|---:|---:|---:|---|\n")
	for mi, m := range mixes {
		w := summary[mi]
		fmt.Fprintf(out, "| %s | %.1f%%, %.2f%% | %.2f%% | %.2f%% | %d | $%.0f | %d of %d |\n",
			m.name, w.staticBlocked, w.staticLegit, w.blocked, w.legit, w.rangeMax, w.cost, w.met, w.runs)
	}
	fmt.Fprintf(out, "\n%d mixes x %d seeds in %v; targets met by every mix but the stress ones: %v\n", len(mixes), seeds, time.Since(start).Round(time.Second), all)
	return all
}

func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
