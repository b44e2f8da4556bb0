package main

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/verify/verifytest"
)

// The numbers of the tests: a US number (texts and calls), Jamaica's
// +1 876 (a top-ten fraud destination, refused everywhere), an Indonesian
// mobile (texts only: the app does not call Indonesia).
const (
	usNumber      = "+1 415 555 0134"
	jamaicaNumber = "+1 876 210 4567"
	idNumber      = "+62 812 3456 7890"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// testApp is the app with its two sites served on loopback.
type testApp struct {
	*app
	out           *testkit.Buffer
	public, admin *httptest.Server
}

func newTestApp(t *testing.T, getenv map[string]string, hc *http.Client) *testApp {
	t.Helper()
	out := &testkit.Buffer{}
	a, err := newApp(options{
		Region: "US", VoiceRegions: []string{"US", "CA", "GB"}, AdminAllow: []string{"127.0.0.0/8", "::1"},
		BudgetHour: 20, BudgetDay: 100, Getenv: env(getenv), Out: out, TwilioHTTP: hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	ta := &testApp{app: a, out: out, public: httptest.NewServer(a.public), admin: httptest.NewServer(a.admin)}
	t.Cleanup(ta.public.Close)
	t.Cleanup(ta.admin.Close)
	a.publicURL, a.adminURL = ta.public.URL, ta.admin.URL
	return ta
}

// browserless is a browser without scripts: cookies, no redirects followed.
func browserless(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postJSON posts body as JSON and decodes the answer.
func postJSON(t *testing.T, c *http.Client, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	res, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if res.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
			t.Fatalf("%s: %d, body not JSON: %v", url, res.StatusCode, err)
		}
	}
	return res, m
}

// postForm posts a form as a browser without scripts does.
func postForm(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, html.UnescapeString(string(b)) // html/template writes "+" as "&#43;"
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, html.UnescapeString(string(b)) // html/template writes "+" as "&#43;"
}

// code returns the code the local sender printed for the number.
func (ta *testApp) code(t *testing.T, number string) string {
	t.Helper()
	n, err := numbers.Parse(number, "US")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := ta.codes.latest(n.String())
	if !ok {
		t.Fatalf("no code for %s in %q", n, ta.out.String())
	}
	return c
}

func TestSignupJSON(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	c := browserless(t)
	res, body := postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+usNumber+`"}`)
	if res.StatusCode != http.StatusAccepted || body["to"] != "+1******0134" || body["channel"] != "sms" || body["resend_after"] != 30.0 {
		t.Fatalf("start: %d %v", res.StatusCode, body)
	}
	// The code is on the terminal, and on the developer page.
	if !strings.Contains(ta.out.String(), "code for +1******0134 is ") {
		t.Errorf("terminal: %q", ta.out)
	}
	code := ta.code(t, usNumber)
	if _, page := get(t, c, ta.admin.URL+"/dev/codes"); !strings.Contains(page, code) {
		t.Errorf("developer page does not show the code:\n%s", page)
	}

	res, body = postJSON(t, c, ta.public.URL+"/signup/verify", `{"phone":"`+usNumber+`","code":"000000x"}`)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body["detail"].(string), "not right") {
		t.Fatalf("wrong code: %d %v", res.StatusCode, body)
	}
	u, _ := url.Parse(ta.public.URL)
	before := c.Jar.Cookies(u)
	res, body = postJSON(t, c, ta.public.URL+"/signup/verify", `{"phone":"`+usNumber+`","code":"`+code+`"}`)
	if res.StatusCode != http.StatusOK || body["status"] != "approved" || body["account"] != "created" {
		t.Fatalf("check: %d %v", res.StatusCode, body)
	}
	if after := c.Jar.Cookies(u); len(before) != 1 || len(after) != 1 || before[0].Value == after[0].Value {
		t.Errorf("the session cookie was not renewed at sign-in: %v, then %v", before, after)
	}
	if _, page := get(t, c, ta.public.URL+"/"); !strings.Contains(page, "You are signed in with") {
		t.Errorf("not signed in:\n%s", page)
	}

	// Signing in again: an approved code resets the cooldown.
	if res, body := postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+usNumber+`"}`); res.StatusCode != http.StatusAccepted {
		t.Fatalf("second start: %d %v", res.StatusCode, body)
	}
	res, body = postJSON(t, c, ta.public.URL+"/signup/verify", `{"phone":"`+usNumber+`","code":"`+ta.code(t, usNumber)+`"}`)
	if res.StatusCode != http.StatusOK || body["account"] != "existing" {
		t.Fatalf("sign-in: %d %v", res.StatusCode, body)
	}
}

// The same flow by a browser without scripts: form posts, pages, redirects.
func TestSignupHTML(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	c := browserless(t)
	res, page := get(t, c, ta.public.URL+"/")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="phone-form"`) || !strings.Contains(page, ta.admin.URL+"/dev/codes") {
		t.Fatalf("home: %d\n%s", res.StatusCode, page)
	}
	res, _ = postForm(t, c, ta.public.URL+"/signup/code", url.Values{"phone": {"(415) 555-0134"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("start: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if _, page = get(t, c, ta.public.URL+"/"); !strings.Contains(page, `id="code-step"`) || !strings.Contains(page, "+1******0134") {
		t.Fatalf("no code step:\n%s", page)
	}
	res, page = postForm(t, c, ta.public.URL+"/signup/verify", url.Values{"phone": {"+14155550134"}, "code": {"000000"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "That code is not right") || !strings.Contains(page, `id="code-step"`) {
		t.Fatalf("wrong code: %d\n%s", res.StatusCode, page)
	}
	res, _ = postForm(t, c, ta.public.URL+"/signup/verify", url.Values{"phone": {"+14155550134"}, "code": {ta.code(t, usNumber)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("check: %d", res.StatusCode)
	}
	if _, page = get(t, c, ta.public.URL+"/"); !strings.Contains(page, "Welcome aboard!") || !strings.Contains(page, "+1******0134") {
		t.Fatalf("not signed in:\n%s", page)
	}
	postForm(t, c, ta.public.URL+"/logout", nil)
	if _, page = get(t, c, ta.public.URL+"/"); !strings.Contains(page, `id="phone-form"`) {
		t.Fatalf("still signed in:\n%s", page)
	}
}

func TestRefusals(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	c := browserless(t)
	for _, tc := range []struct {
		name, path, phone string
		status            int
		detail            string
	}{
		{"jamaica", "/signup/code", jamaicaNumber, http.StatusForbidden, "This number cannot be used here."},
		{"jamaica call", "/signup/call", jamaicaNumber, http.StatusForbidden, "This number cannot be used here."},
		{"not a number", "/signup/code", "call me maybe", http.StatusUnprocessableEntity, "not a phone number"},
		// The voice policy is stricter than the texts': Indonesia is
		// texted, not called.
		{"indonesia call", "/signup/call", idNumber, http.StatusForbidden, "We can't call this number"},
		{"indonesia text", "/signup/code", idNumber, http.StatusAccepted, ""},
		{"us call", "/signup/call", "+1 415 555 0135", http.StatusAccepted, ""},
		{"cooldown", "/signup/code", idNumber, http.StatusTooManyRequests, "You can ask for another one in 30 seconds."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := postJSON(t, c, ta.public.URL+tc.path, `{"phone":"`+tc.phone+`"}`)
			detail, _ := body["detail"].(string)
			if res.StatusCode != tc.status || !strings.Contains(detail, tc.detail) {
				t.Fatalf("%d %v, want %d %q", res.StatusCode, body, tc.status, tc.detail)
			}
			if tc.status == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "30" {
				t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
			}
		})
	}
	// Without scripts: the page shows the message and keeps what was typed.
	res, page := postForm(t, c, ta.public.URL+"/signup/code", url.Values{"phone": {jamaicaNumber}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "This number cannot be used here.") || !strings.Contains(page, `value="`+jamaicaNumber+`"`) {
		t.Fatalf("page: %d\n%s", res.StatusCode, page)
	}
	if !strings.Contains(ta.out.String(), "voice code for +1******0135") {
		t.Errorf("no call: %q", ta.out)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	for _, u := range []string{ta.public.URL + "/signup/code", ta.admin.URL + "/admin/budget/trip"} {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(`{"phone":"`+usNumber+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: cross-site POST answered %d", u, res.StatusCode)
		}
	}
	if ta.budget.Check(context.Background()) != nil {
		t.Error("a cross-site POST tripped the kill switch")
	}
}

// The dashboard answers loopback clients only.
func TestAdminAllowList(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	for addr, want := range map[string]int{"127.0.0.1:4000": http.StatusOK, "[::1]:4000": http.StatusOK, "203.0.113.9:4000": http.StatusForbidden} {
		r := httptest.NewRequest(http.MethodGet, "/admin", nil)
		r.RemoteAddr, r.Host = addr, "localhost:8081"
		rec := httptest.NewRecorder()
		ta.app.admin.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", addr, rec.Code, want)
		}
	}
	// A name other than localhost is refused: a page that rebinds its
	// domain to 127.0.0.1 cannot use the dashboard as its own origin.
	for host, want := range map[string]int{"localhost:8081": http.StatusOK, "127.0.0.1:8081": http.StatusOK, "[::1]:8081": http.StatusOK, "evil.example:8081": http.StatusMisdirectedRequest} {
		r := httptest.NewRequest(http.MethodGet, "/admin", nil)
		r.RemoteAddr, r.Host = "127.0.0.1:4000", host
		rec := httptest.NewRecorder()
		ta.app.admin.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestDashboardAndMetrics(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	c := browserless(t)
	postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+usNumber+`"}`)
	postJSON(t, c, ta.public.URL+"/signup/verify", `{"phone":"`+usNumber+`","code":"`+ta.code(t, usNumber)+`"}`)
	postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+idNumber+`"}`)
	postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+jamaicaNumber+`"}`)

	res, page := get(t, c, ta.admin.URL+"/admin")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", res.StatusCode)
	}
	for _, want := range []string{
		`<svg class="chart"`, "United States (US)", "Indonesia (ID)", `aria-label="US: 1 sent, 1 confirmed"`,
		"high-risk destination", "+1******4567", // the refusal, masked
		`id="run-attack"`, "Sends allowed.",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if strings.Contains(page, "+18762104567") || strings.Contains(page, "+14155550134") {
		t.Error("the dashboard shows a whole number")
	}
	if _, page := get(t, c, ta.admin.URL+"/admin?window=6h"); !strings.Contains(page, `class="on" aria-current="page">6h`) {
		t.Error("window 6h not selected")
	}

	_, text := get(t, c, ta.admin.URL+"/metrics")
	for _, re := range []string{
		`antifraud_verify_events_total\{channel="sms",op="start",outcome="started",reason="",region="US"\} 1`,
		`antifraud_verify_events_total\{channel="",op="check",outcome="approved",reason="",region="US"\} 1`,
		`antifraud_guard_decisions_total\{outcome="refused",reason="high_risk_destination",route="signup-sms"\} 1`,
		`antifraud_guard_decisions_total\{outcome="allowed",reason="",route="signup-sms"\} 2`,
		`antifraud_spend_dollars_total 0\.427`,
		`antifraud_budget_tripped 0`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("metrics lack %s", re)
		}
	}
	if strings.Contains(text, "4155550134") || strings.Contains(text, "127.0.0.1") {
		t.Error("metrics carry a number or an address")
	}
}

func TestBudgetKillSwitch(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	c := browserless(t)
	if res, _ := postForm(t, c, ta.admin.URL+"/admin/budget/trip", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("trip: %d", res.StatusCode)
	}
	res, body := postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+usNumber+`"}`)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body["detail"].(string), "paused") {
		t.Fatalf("send while tripped: %d %v", res.StatusCode, body)
	}
	if _, page := get(t, c, ta.admin.URL+"/admin"); !strings.Contains(page, "Kill switch tripped: tripped by hand") {
		t.Error("dashboard does not show the tripped switch")
	}
	postForm(t, c, ta.admin.URL+"/admin/budget/reset", nil)
	if res, body := postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+usNumber+`"}`); res.StatusCode != http.StatusAccepted {
		t.Fatalf("send after reset: %d %v", res.StatusCode, body)
	}
}

func TestTwilioMode(t *testing.T) {
	fake := verifytest.NewServer()
	defer fake.Close()
	ta := newTestApp(t, map[string]string{
		"TWILIO_ACCOUNT_SID":        verifytest.AccountSID,
		"TWILIO_AUTH_TOKEN":         verifytest.AuthToken,
		"TWILIO_VERIFY_SERVICE_SID": verifytest.ServiceSID,
	}, fake.BaseClient().HTTPClient)
	if ta.codes != nil || ta.parts[1].Kind != "real" {
		t.Fatalf("parts %v", ta.parts)
	}
	c := browserless(t)
	if res, body := postJSON(t, c, ta.public.URL+"/signup/code", `{"phone":"`+usNumber+`"}`); res.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d %v", res.StatusCode, body)
	}
	otp, ok := fake.Code("+14155550134")
	if !ok {
		t.Fatal("no verification at the fake")
	}
	if res, body := postJSON(t, c, ta.public.URL+"/signup/verify", `{"phone":"`+usNumber+`","code":"`+otp+`"}`); res.StatusCode != http.StatusOK {
		t.Fatalf("check: %d %v", res.StatusCode, body)
	}
	if res, _ := get(t, c, ta.admin.URL+"/dev/codes"); res.StatusCode != http.StatusNotFound {
		t.Errorf("developer page with Twilio: %d", res.StatusCode)
	}
	if err := ta.attack(context.Background()); err == nil {
		t.Error("an attack against Twilio Verify was started")
	}
}

func TestPartialTwilioSettings(t *testing.T) {
	_, err := newApp(options{Getenv: env(map[string]string{"TWILIO_ACCOUNT_SID": "AC123"})})
	if err == nil || !strings.Contains(err.Error(), "or none") {
		t.Fatalf("partial settings: %v", err)
	}
}

// run starts, prints which parts are real, serves, and stops with its
// context.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &testkit.Buffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0"}, env(nil), out, io.Discard)
	}()
	var app string
	for deadline := time.Now().Add(10 * time.Second); app == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`app +(http://\S+)/`).FindStringSubmatch(out.String()); m != nil {
			app = m[1]
		}
	}
	if app == "" {
		t.Fatalf("no banner: %q", out)
	}
	for _, want := range []string{"store       local:  in memory", "codes       local:  printed here", "dashboard   http://127.0.0.1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if res, _ := get(t, http.DefaultClient, app+"/"); res.StatusCode != http.StatusOK {
		t.Errorf("app: %d", res.StatusCode)
	}
	cancel()
	if status := <-done; status != 0 {
		t.Errorf("exit status %d", status)
	}
	if status := run(context.Background(), []string{"-no-such-flag"}, env(nil), io.Discard, io.Discard); status != 2 {
		t.Errorf("bad flag: exit status %d", status)
	}
}

// The library imports no metrics library: Prometheus is the example's.
func TestLibraryImportsNoMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(gobin, "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "../../...").Output()
	if err != nil {
		t.Fatal(err)
	}
	sawExample := false
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if strings.HasSuffix(pkg, "/examples/signup") {
			sawExample = strings.Contains(deps, "github.com/prometheus/client_golang/prometheus")
		}
		if strings.Contains(pkg, "/examples/") {
			continue
		}
		if strings.Contains(deps, "prometheus") {
			t.Errorf("%s imports a metrics library", pkg)
		}
	}
	if !sawExample {
		t.Error("examples/signup does not import prometheus: the check is broken")
	}
}

// The attack of -attack: the monitor blocks the pumped ranges, real users
// still sign in, and a block can be lifted from the dashboard.
func TestAttack(t *testing.T) {
	ta := newTestApp(t, nil, nil)
	if !ta.monitor.available() {
		t.Skip("no pumping monitor in this build")
	}
	if err := ta.attack(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ta.attack(context.Background()); err != errAttackRunning {
		t.Errorf("second attack: %v", err)
	}
	ta.attacks.mu.Lock()
	done := ta.attacks.done
	ta.attacks.mu.Unlock()
	<-done
	st := ta.attacks.status()
	t.Logf("%+v", st)
	if st.Requests < 100 || st.Sent > st.Requests/5 || st.Refused["prefix_blocked"] == 0 {
		t.Errorf("%d requests, %d codes sent, refused %v: the monitor did not stop the pumping", st.Requests, st.Sent, st.Refused)
	}
	if st.Legit == 0 || st.LegitOK != st.Legit {
		t.Errorf("real users: %d of %d signed in", st.LegitOK, st.Legit)
	}
	if !strings.Contains(ta.out.String(), "attack: ") {
		t.Errorf("no summary printed: %q", ta.out)
	}

	blocks := ta.monitor.blocks()
	var rng *block
	for i := range blocks {
		if blocks[i].Scope == "range" {
			rng = &blocks[i]
			break
		}
	}
	if rng == nil {
		t.Fatalf("no range blocked: %+v", blocks)
	}
	c := browserless(t)
	_, page := get(t, c, ta.admin.URL+"/admin")
	if !strings.Contains(page, rng.Key+"…") || !strings.Contains(page, "Last attack: ") {
		t.Fatalf("dashboard does not show the block of %s", rng.Key)
	}
	res, _ := postForm(t, c, ta.admin.URL+"/admin/unblock", url.Values{"scope": {"range"}, "key": {rng.Key}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin?done=unblocked" {
		t.Fatalf("unblock: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for _, b := range ta.monitor.blocks() {
		if b.Scope == "range" && b.Key == rng.Key {
			t.Fatalf("%s still blocked", rng.Key)
		}
	}
}
