package main

import (
	"context"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
)

// adminHandler is the operator's site: the dashboard, the metrics, and in
// local mode the developer page with the codes. It listens on its own
// address (localhost by default), and also refuses clients outside
// opts.AdminAllow, in case that address is opened up.
func (a *app) adminHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin", http.StatusFound)
	})
	mux.Handle("GET /static/", staticFiles())
	mux.HandleFunc("GET /admin", a.dashboard)
	mux.HandleFunc("POST /admin/unblock", a.unblock)
	mux.HandleFunc("POST /admin/budget/reset", a.budgetReset)
	mux.HandleFunc("POST /admin/budget/trip", a.budgetTrip)
	mux.HandleFunc("POST /admin/attack", a.startAttack)
	mux.Handle("GET /metrics", a.metrics.handler())
	mux.HandleFunc("GET /dev/codes", a.devPage)

	allow, err := guard.AllowFrom(nil, a.opts.AdminAllow...)
	if err != nil {
		return nil, err
	}
	return allow(localHost(securityHeaders(http.NewCrossOriginProtection().Handler(mux)))), nil
}

// localHost refuses requests whose Host is a name other than localhost: a
// web page whose domain an attacker points at 127.0.0.1 (DNS rebinding)
// would otherwise read the dashboard and post to it as its own origin.
func localHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hp, _, err := net.SplitHostPort(r.Host); err == nil {
			host = hp
		}
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil && host != "localhost" {
			http.Error(w, "The dashboard answers on localhost or an IP address only.", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// windows are the spans the dashboard can show, and their buckets.
var windows = map[string]window{
	"5m": {span: 5 * time.Minute, buckets: 60},
	"1h": {span: time.Hour, buckets: 60},
	"6h": {span: 6 * time.Hour, buckets: 72},
}

// dashData is what the dashboard shows.
type dashData struct {
	Window, PublicURL string
	Windows           []string
	Local             bool
	Monitor           bool // the pumping monitor is there
	Shadow            bool
	Sent, Confirmed   int
	Countries         []chartView
	Ranges            []rangeView
	Others            []block // blocks of addresses, networks, countries
	Reasons           template.HTML
	Refused           int
	Recent            []refusalView
	Budget            budgetView
	Attack            attackStatus
	Parts             []part
	Flash             string
}

type chartView struct {
	Label           string
	Sent, Confirmed int
	Chart           template.HTML
}

type rangeView struct {
	block
	Sent, Confirmed int
	Chart           template.HTML
}

type refusalView struct {
	Time                  time.Time
	Route, Reason, Number string
	Region, Channel       string
}

type budgetView struct {
	PerHour, PerDay float64
	Hour, Day       float64 // spent, as this instance saw it
	Meter           template.HTML
	Tripped         string // the reason, or ""
}

func (a *app) dashboard(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("window")
	win, ok := windows[name]
	if !ok {
		name, win = "5m", windows["5m"]
	}
	now := time.Now()
	win.end = now
	events := a.stats.since(now.Add(-max(win.span, 24*time.Hour)))
	inWin := events[:0:0]
	for _, e := range events {
		if !e.t.Before(win.start()) {
			inWin = append(inWin, e)
		}
	}
	d := dashData{
		Window: name, Windows: []string{"5m", "1h", "6h"}, Local: a.codes != nil,
		Monitor: a.monitor.available(), Shadow: a.opts.Shadow, Parts: a.parts,
		Attack: a.attacks.status(), Flash: flashes[r.URL.Query().Get("done")],
	}
	for _, c := range byCountry(win, inWin, 6) {
		sent, conf := c.totals()
		d.Sent += sent
		d.Confirmed += conf
		d.Countries = append(d.Countries, chartView{Label: regionName(c.Region), Sent: sent, Confirmed: conf,
			Chart: barChart(c.Region, c.series, win, nil)})
	}
	for _, b := range a.monitor.blocks() {
		if b.Scope != "range" {
			d.Others = append(d.Others, b)
			continue
		}
		s := inRange(win, inWin, b.Key)
		sent, conf := s.totals()
		d.Ranges = append(d.Ranges, rangeView{block: b, Sent: sent, Confirmed: conf,
			Chart: barChart(b.Key, s, win, []time.Time{b.Decided})})
	}
	rc := refusals(inWin)
	for _, r := range rc {
		d.Refused += r.Count
	}
	d.Reasons = reasonChart(rc)
	for _, e := range lastRefused(inWin, 15) {
		v := refusalView{Time: e.t, Route: e.route, Reason: reasonLabel(e.reason), Region: e.region, Channel: e.channel.String()}
		if e.e164 != "" {
			v.Number = numbers.Mask(e.e164)
		}
		d.Recent = append(d.Recent, v)
	}
	hour, day := spent(a.stats.since(now.Add(-time.Hour))), spent(events)
	d.Budget = budgetView{PerHour: a.opts.BudgetHour, PerDay: a.opts.BudgetDay, Hour: hour, Day: day}
	if err := a.budget.Check(r.Context()); err != nil {
		d.Budget.Tripped = strings.TrimPrefix(err.Error(), guard.ErrOverBudget.Error()+": ")
	}
	d.Budget.Meter = meter(hour, a.opts.BudgetHour, d.Budget.Tripped != "")

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pages.ExecuteTemplate(w, "admin.html", d); err != nil {
		a.opts.Logger.Error("dashboard", "err", err)
	}
}

// unblock lifts a block of the monitor.
func (a *app) unblock(w http.ResponseWriter, r *http.Request) {
	scope, key := r.PostFormValue("scope"), r.PostFormValue("key")
	ok, err := a.monitor.unblock(r.Context(), scope, key)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case !ok:
		back(w, r, "no-block")
		return
	}
	back(w, r, "unblocked")
}

func (a *app) budgetReset(w http.ResponseWriter, r *http.Request) {
	if err := a.budget.Reset(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	back(w, r, "reset")
}

func (a *app) budgetTrip(w http.ResponseWriter, r *http.Request) {
	if err := a.budget.Trip(r.Context(), "tripped by hand from the dashboard"); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	back(w, r, "tripped")
}

func (a *app) startAttack(w http.ResponseWriter, r *http.Request) {
	if err := a.attack(context.WithoutCancel(r.Context())); err != nil {
		if errors.Is(err, errAttackRunning) {
			back(w, r, "attacking")
			return
		}
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	back(w, r, "attack")
}

// flashes are the messages the dashboard shows after an action, by the
// code in its "done" parameter (a link cannot make it show other text).
var flashes = map[string]string{
	"unblocked": "Block lifted.",
	"no-block":  "There was no such block to lift.",
	"reset":     "Kill switch reset: sends are allowed again.",
	"tripped":   "Kill switch tripped: every send is refused until it is reset.",
	"attack":    "Attack started: watch the ranges get blocked.",
	"attacking": "An attack is already running.",
}

// back returns to the dashboard with the message of code.
func back(w http.ResponseWriter, r *http.Request, code string) {
	http.Redirect(w, r, "/admin?done="+code, http.StatusSeeOther)
}

// devPage lists the codes the local sender printed: a developer's page,
// which does not exist when codes go out through Twilio.
func (a *app) devPage(w http.ResponseWriter, r *http.Request) {
	if a.codes == nil {
		http.Error(w, "Codes are sent by Twilio Verify: there is no developer page.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	data := struct {
		Codes     []devCode
		PublicURL string
	}{a.codes.list(), a.publicURL}
	if err := pages.ExecuteTemplate(w, "dev.html", data); err != nil {
		a.opts.Logger.Error("dev page", "err", err)
	}
}

// regionName names a region in English: "United Kingdom (GB)".
func regionName(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := display.English.Regions().Name(r); name != "" && name != code {
		return name + " (" + code + ")"
	}
	return code
}
