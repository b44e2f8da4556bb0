package main

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/antifraud-go/antifraud/guard"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

//go:embed web
var webFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"ago":    ago,
	"until":  until,
	"money":  func(f float64) string { return "$" + strconv.FormatFloat(f, 'f', 2, 64) },
	"pct":    pct,
	"reason": reasonLabel,
}).ParseFS(webFiles, "web/*.html"))

// staticFiles serves web/static: the style sheet and the script that
// enhances the forms. No build step, nothing from a CDN.
func staticFiles() http.Handler {
	sub, _ := fs.Sub(webFiles, "web/static")
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}

// securityHeaders sets what every page of the example sends: scripts and
// styles from the app only, no framing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// publicHandler is the site the users see: a sign-up and sign-in flow by
// phone number. Every endpoint answers an HTML form post with a page and a
// JSON request with JSON (RFC 9457 problems for refusals): the page's
// script uses the JSON, and the page works without it.
func (a *app) publicHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.Handle("GET /static/", staticFiles())
	// "Text me a code" and "Call me with the code": the guard checks the
	// number with the channel's policy and the route's rules, then verify
	// applies its own limits, the resend cooldown and the pumping monitor.
	mux.Handle("POST /signup/code", a.start(numbers.SMS, routeSMS, smsRules))
	mux.Handle("POST /signup/call", a.start(numbers.Voice, routeVoice, voiceRules))
	// The code: verify's attempt limits; guard reads the body and answers.
	mux.Handle("POST /signup/verify", a.guard.VerifyCheck(a.verify, a.approved))
	mux.HandleFunc("POST /signup/cancel", a.cancel)
	mux.HandleFunc("POST /logout", a.logout)
	// Browsers must not be able to post to these endpoints from other sites.
	return securityHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// start sends a code over ch.
func (a *app) start(ch numbers.Channel, route string, rules []guard.Rule) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := a.guard.CheckPhone(r, route, ch, rules...)
		var res verify.StartResult
		if err == nil {
			ip, _ := a.guard.ClientAddr(r) // found by CheckPhone already
			res, err = a.verify.Start(r.Context(), verify.StartRequest{Phone: n.E164, Channel: ch, ClientIP: ip})
		}
		if err != nil {
			a.refuse(w, r, route, ch, n, err)
			return
		}
		// The code is on its way: charge the budget. A charge that trips
		// it refuses the next send, not this one.
		cost := price(ch, n.Region)
		if err := a.budget.Send(r.Context(), ch, n.Region); err != nil {
			a.opts.Logger.Warn("budget charge", "err", err)
		}
		a.stats.sent(n, ch, cost)
		a.metrics.spent(cost)
		resendAt := time.Now().Add(res.ResendAfter)
		a.sessions.update(w, r, func(s *session) {
			s.pending = &pending{number: n, channel: ch, resendAfter: resendAt}
			s.user = ""
		})
		if wantsJSON(r) {
			writeJSON(w, http.StatusAccepted, map[string]any{
				"status":       "pending",
				"to":           res.Masked,
				"channel":      res.Channel.String(),
				"resend_after": ceilSeconds(res.ResendAfter),
			})
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// approved signs in the user whose code verify approved.
func (a *app) approved(w http.ResponseWriter, r *http.Request, res verify.CheckResult) {
	n, _ := numbers.Parse(res.To, "")
	created := a.accounts.signIn(res.To)
	a.stats.confirmed(n)
	a.sessions.signIn(w, r, func(s *session) {
		s.pending, s.user, s.welcome = nil, res.To, created
	})
	if wantsJSON(r) {
		account := "existing"
		if created {
			account = "created"
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "approved", "account": account, "phone": res.Masked})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) cancel(w http.ResponseWriter, r *http.Request) {
	a.sessions.update(w, r, func(s *session) { s.pending = nil })
	if wantsJSON(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.sessions.update(w, r, func(s *session) { *s = session{seen: s.seen} })
	if wantsJSON(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// denied is the guard's deny handler: here, the refusals of VerifyCheck.
func (a *app) denied(w http.ResponseWriter, r *http.Request) {
	var n numbers.Number
	if s, ok := a.sessions.get(r); ok && s.pending != nil {
		n = s.pending.number
	}
	a.refuse(w, r, routeVerify, numbers.SMS, n, guard.FailureReason(r))
}

// refuse answers a refused request: the problem guard.ProblemFor makes of
// err, in JSON or on the page, in the app's words where the app can say
// more.
func (a *app) refuse(w http.ResponseWriter, r *http.Request, route string, ch numbers.Channel, n numbers.Number, err error) {
	reason := reasonOf(err)
	a.stats.refused(n, ch, route, reason)
	noteRefusal(r, reason)
	p := guard.ProblemFor(err)
	detail := a.explain(err, p, ch, n)
	if wantsJSON(r) {
		q := *p
		q.Detail = detail
		q.ServeHTTP(w, r)
		return
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(p.RetryAfter), 10))
	}
	// A refused code goes back to the code step; a refused number to the
	// number step, with what was typed, unless it was the resend of the
	// pending code.
	step := stepCode
	typed := ""
	if route != routeVerify {
		typed = r.PostFormValue("phone") // the guard put the body back
		if s, ok := a.sessions.get(r); !ok || s.pending == nil || s.pending.number.E164 != n.E164 {
			step = stepPhone
		}
	}
	a.render(w, r, p.Status, detail, typed, step)
}

// explain says why a request was refused, in words for the user: the
// problem's detail, or something more helpful where the app knows more.
func (a *app) explain(err error, p *guard.Problem, ch numbers.Channel, n numbers.Number) string {
	switch {
	case errors.Is(err, verify.ErrCooldown):
		return "We just sent a code to " + n.String() + ". You can ask for another one in " + seconds(p.RetryAfter) + "."
	case ch == numbers.Voice && errors.Is(err, numbers.ErrBlocked) && a.policy.Check(n, numbers.SMS).Allowed:
		return "We can't call this number: calls go only to mobile and landline numbers in " + strings.Join(a.opts.VoiceRegions, ", ") + ". Choose “Text me a code” instead."
	case errors.Is(err, verify.ErrInvalidCode) || errors.Is(err, verify.ErrExpired):
		return "That code is not right, or it has expired. Check it, or ask for a new one."
	case errors.Is(err, guard.ErrOverBudget):
		return "Sign-ups by phone are paused for a while. Please try again later."
	}
	return p.Detail
}

// reasonOf returns a short, stable code for why a request was refused, for
// the dashboard and the metrics.
func reasonOf(err error) string {
	var nb *numbers.BlockedError
	var vb *verify.BlockedError
	var gl *guard.LimitError
	var vl *verify.LimitError
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &vb) && vb.Reason == "pumping":
		return "pumping"
	case errors.As(err, &nb):
		return string(nb.Decision.Reason)
	case errors.As(err, &vb):
		return vb.Reason
	case errors.As(err, &gl):
		if gl.Rule == "refusals" {
			return "refusals"
		}
		return "limit_" + gl.Rule
	case errors.As(err, &vl):
		if vl.Scope == "cooldown" || vl.Scope == "refusals" {
			return vl.Scope
		}
		return "limit_" + vl.Scope
	case errors.Is(err, numbers.ErrInvalid), errors.Is(err, verify.ErrInvalidNumber):
		return "invalid_number"
	case errors.Is(err, verify.ErrInvalidCode), errors.Is(err, verify.ErrExpired):
		return "wrong_code"
	case errors.Is(err, guard.ErrOverBudget):
		return "over_budget"
	case errors.Is(err, ratelimit.ErrUnavailable):
		return "store_unavailable"
	case errors.Is(err, verify.ErrProvider):
		return "provider"
	case errors.Is(err, guard.ErrBadRequest), errors.Is(err, guard.ErrNoClientAddr):
		return "bad_request"
	}
	return "other"
}

// reasonLabels say the reasons in words, for the dashboard.
var reasonLabels = map[string]string{
	"pumping":               "pumping monitor",
	"prefix_blocked":        "range blocked by the monitor",
	"high_risk_destination": "high-risk destination",
	"region_denied":         "country not allowed",
	"prefix_denied":         "prefix denied",
	"type_denied":           "number type not allowed",
	"unknown_range":         "unknown number range",
	"fraud_guard":           "Twilio Fraud Guard",
	"geo_permission":        "Twilio geo permissions",
	"refusals":              "probing the policy",
	"cooldown":              "resend cooldown",
	"invalid_number":        "not a phone number",
	"wrong_code":            "wrong or expired code",
	"over_budget":           "budget kill switch",
	"store_unavailable":     "store unavailable",
	"provider":              "provider error",
	"bad_request":           "bad request",
}

func reasonLabel(code string) string {
	if l, ok := reasonLabels[code]; ok {
		return l
	}
	if rule, ok := strings.CutPrefix(code, "limit_"); ok {
		return "limit per " + strings.ReplaceAll(rule, "_", " ")
	}
	return code
}

// pageData is what the public page shows.
type pageData struct {
	Status   int
	Local    bool   // codes are printed, not sent
	DevURL   string // the developer page
	AdminURL string
	Error    string
	Phone    string // what the user typed
	// Pending is the code under way, or nil.
	Pending *pendingView
	// User is the signed-in number, masked, or "".
	User    string
	Welcome bool
	Voice   string // the countries the app calls
}

type pendingView struct {
	To, E164, Channel string
	ResendIn          int64 // seconds
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "", "", stepAuto)
}

// The steps of the page.
const (
	stepAuto  = iota // what the session is at
	stepPhone        // the number, whatever the session is at
	stepCode         // the code, if one is pending
)

// render writes the public page for r's session at step.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, msg, typed string, step int) {
	d := pageData{
		Status: status, Error: msg, Phone: typed, Local: a.codes != nil,
		AdminURL: a.adminURL, Voice: strings.Join(a.opts.VoiceRegions, ", "),
	}
	if d.Local && a.adminURL != "" {
		d.DevURL = a.adminURL + "/dev/codes"
	}
	if s, ok := a.sessions.get(r); ok {
		switch {
		case s.user != "":
			d.User, d.Welcome = numbers.Mask(s.user), s.welcome
		case s.pending != nil && step != stepPhone:
			p := s.pending
			d.Pending = &pendingView{
				To: p.number.String(), E164: p.number.E164, Channel: p.channel.String(),
				ResendIn: ceilSeconds(time.Until(p.resendAfter)),
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, "index.html", d); err != nil {
		a.opts.Logger.Error("page", "err", err)
	}
}

// wantsJSON reports whether r is a JSON client's: a JSON body, or an Accept
// header that asks for JSON rather than HTML.
func wantsJSON(r *http.Request) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ceilSeconds is d in whole seconds, rounded up, never negative.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// seconds says d in words: "30 seconds", "2 minutes".
func seconds(d time.Duration) string {
	s := ceilSeconds(d)
	switch {
	case s == 1:
		return "1 second"
	case s < 120:
		return strconv.FormatInt(s, 10) + " seconds"
	}
	return strconv.FormatInt((s+59)/60, 10) + " minutes"
}

// ago says how long ago t was, briefly.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	}
	return t.Format("15:04")
}

// until says how long until t, briefly.
func until(t time.Time) string {
	d := time.Until(t).Round(time.Second)
	switch {
	case d <= 0:
		return "now"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
}

func pct(part, whole int) string {
	if whole == 0 {
		return "–"
	}
	return strconv.Itoa(part*100/whole) + "%"
}
