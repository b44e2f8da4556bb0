package main

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/verify"
)

// metrics turns the library's Hooks into Prometheus metrics. The library
// imports no metrics library: its Hooks are plain functions, and this is
// the one place, in the example, that knows about Prometheus.
//
// Labels stay bounded: routes and reasons are the library's stable codes,
// regions are ISO codes, and no label ever carries a number or an address.
type metrics struct {
	reg *prometheus.Registry

	guardDecisions  *prometheus.CounterVec
	verifyEvents    *prometheus.CounterVec
	monitorDecision *prometheus.CounterVec
	spend           prometheus.Counter
	budgetTrips     prometheus.Counter
}

func newMetrics(a *app) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.guardDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "antifraud_guard_decisions_total",
		Help: "Decisions of the guard, by route, outcome (allowed, denied, refused by the number policy) and reason.",
	}, []string{"route", "outcome", "reason"})
	m.verifyEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "antifraud_verify_events_total",
		Help: "Outcomes of verification starts and checks, by operation, outcome, channel, destination region and reason.",
	}, []string{"op", "outcome", "channel", "region", "reason"})
	m.monitorDecision = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "antifraud_pumping_decisions_total",
		Help: "Blocks decided by the pumping monitor, by scope (range, address, network, country) and signal.",
	}, []string{"scope", "signal"})
	m.spend = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "antifraud_spend_dollars_total",
		Help: "What the codes this instance sent cost, at the example's prices.",
	})
	m.budgetTrips = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "antifraud_budget_trips_total",
		Help: "Times this instance tripped the spend budget's kill switch.",
	})
	blocks := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "antifraud_pumping_blocks",
		Help: "Blocks of the pumping monitor in force.",
	}, func() float64 { return float64(len(a.monitor.blocks())) })
	tripped := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "antifraud_budget_tripped",
		Help: "1 while the spend budget's kill switch is tripped (as this instance last saw it).",
	}, func() float64 {
		if a.budget.Check(context.Background()) != nil {
			return 1
		}
		return 0
	})
	m.reg.MustRegister(m.guardDecisions, m.verifyEvents, m.monitorDecision, m.spend, m.budgetTrips,
		blocks, tripped, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the metrics in Prometheus's text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// guardHooks count the guard's decisions.
func (m *metrics) guardHooks() guard.Hooks {
	count := func(outcome string) func(guard.Event) {
		return func(e guard.Event) {
			reason := ""
			if e.Err != nil {
				reason = reasonOf(e.Err)
			}
			m.guardDecisions.WithLabelValues(e.Route, outcome, reason).Inc()
		}
	}
	return guard.Hooks{Allowed: count("allowed"), Denied: count("denied"), Refused: count("refused")}
}

// verifyHooks count verify's outcomes.
func (m *metrics) verifyHooks() verify.Hooks {
	count := func(outcome string) func(verify.Event) {
		return func(e verify.Event) {
			ch := e.Channel.String()
			if e.Op == "check" {
				ch = "" // a check does not know the channel of its code
			}
			m.verifyEvents.WithLabelValues(e.Op, outcome, ch, e.Region, e.Reason).Inc()
		}
	}
	return verify.Hooks{
		Started: count("started"), Approved: count("approved"), Failed: count("failed"),
		Blocked: count("blocked"), Refused: count("refused"),
	}
}

// decision counts a block of the pumping monitor.
func (m *metrics) decision(scope, signal string) {
	m.monitorDecision.WithLabelValues(scope, signal).Inc()
}

func (m *metrics) spent(dollars float64) { m.spend.Add(dollars) }

func (m *metrics) tripped(string) { m.budgetTrips.Inc() }
