package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// Where the browser test leaves its screenshots: $ANTIFRAUD_SCREENSHOTS
// (CI keeps that directory as an artifact), else a temporary directory
// removed after the test. With ANTIFRAUD_UPDATE_SCREENSHOT=1 the test also
// rewrites the README's screenshot of the dashboard.
const (
	envScreenshots      = "ANTIFRAUD_SCREENSHOTS"
	envUpdateScreenshot = "ANTIFRAUD_UPDATE_SCREENSHOT"
	readmeScreenshot    = "../../docs/signup-dashboard.png"
)

// TestBrowser uses the app as a person would, in headless Chromium: signs up
// with the code read off the developer page, is refused a Jamaican number
// and a call to a country the app does not call, asks twice and meets the
// cooldown, then replays an attack and reads the dashboard.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	wd := startBrowser(t)
	ta := newTestApp(t, nil, nil)
	ta.opts.AttackGap = 10 * time.Millisecond

	dir := os.Getenv(envScreenshots)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	step := 0
	shot := func(name string) {
		t.Helper()
		step++
		path := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", step, name))
		if err := os.WriteFile(path, wd.screenshot(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
	}

	// Sign up: the number, the code from the developer page, signed in.
	wd.open(ta.public.URL + "/")
	wd.find("#phone-form")
	shot("signup")
	wd.typeInto("#phone", "(415) 555-0142")
	wd.click("#send-sms")
	wd.textMatching("#pending-to", regexp.MustCompile(`^\+1\*{6}0142$`))
	shot("code-sent")
	wd.open(ta.admin.URL + "/dev/codes")
	var code string
	wd.script(`for (const tr of document.querySelectorAll("#codes tbody tr"))
		if (tr.querySelector(".to").innerText === arguments[0]) return tr.querySelector(".code").innerText;
		return "";`, &code, "+1******0142")
	if !regexp.MustCompile(`^\d{6}$`).MatchString(code) {
		t.Fatalf("code on the developer page: %q", code)
	}
	shot("dev-codes")
	wd.open(ta.public.URL + "/")
	wd.typeInto("#code", code)
	wd.click("#verify")
	wd.textMatching("#user", regexp.MustCompile(`^\+1\*{6}0142$`))
	if h := wd.text("#signed-in h1"); h != "Welcome aboard!" {
		t.Errorf("heading %q", h)
	}
	shot("signed-in")

	// Jamaica's +1 876 is a top-ten fraud destination: refused, and the
	// page says so.
	wd.click("#logout")
	wd.find("#phone-form")
	wd.typeInto("#phone", jamaicaNumber)
	wd.click("#send-sms")
	wd.textMatching("#message", regexp.MustCompile(`^This number cannot be used here\.$`))
	var typed string
	wd.script(`return document.getElementById("phone").value`, &typed)
	if typed != jamaicaNumber {
		t.Errorf("the number typed is gone: %q", typed)
	}
	shot("jamaica-refused")

	// Calls are stricter than texts: Indonesia is texted, not called.
	wd.typeInto("#phone", idNumber)
	wd.click("#send-call")
	wd.textMatching("#message", regexp.MustCompile(`^We can't call this number: calls go only to .* in US, CA, GB\.`))
	shot("call-refused")

	// Asking twice: the resend button counts the cooldown down, and asking
	// again for the same number meets it.
	wd.typeInto("#phone", "+1 415 555 0143")
	wd.click("#send-sms")
	wd.find("#code-step")
	var resend struct {
		Disabled bool
		Text     string
	}
	wd.script(`const b = document.getElementById("resend"); return {Disabled: b.disabled, Text: b.innerText}`, &resend)
	if !resend.Disabled || !regexp.MustCompile(`\(\d+ s\)`).MatchString(resend.Text) {
		t.Errorf("resend button %+v, want disabled with a countdown", resend)
	}
	shot("resend-countdown")
	wd.click("#change")
	wd.typeInto("#phone", "+1 415 555 0143")
	wd.click("#send-sms")
	wd.textMatching("#message", regexp.MustCompile(`^We just sent a code to \+1\*+0143\. You can ask for another one in \d+ seconds\.$`))
	shot("cooldown")

	// The dashboard: an attack replayed, its charts drawn.
	readme := os.Getenv(envUpdateScreenshot) == "1"
	if readme {
		ta.opts.AttackGap = 150 * time.Millisecond // the pace of -attack, so that the charts spread
		wd.resize(1200, 900)
	}
	wd.open(ta.admin.URL + "/admin")
	wd.click("#run-attack")
	wd.timeout = time.Minute
	wd.find("#attack-result")
	if ta.monitor.available() {
		wd.find("#ranges svg.chart rect.sent")
	}
	wd.find("#countries svg.chart rect.confirmed")
	if n := wd.count("svg.chart"); n < 3 {
		t.Errorf("%d charts on the dashboard", n)
	}
	var width float64
	wd.script(`return document.querySelector("#countries svg.chart").getBoundingClientRect().width`, &width)
	if width < 200 {
		t.Errorf("charts drawn %.0f px wide", width)
	}
	if readme {
		// The README's picture: the top of the dashboard, down to the
		// blocked ranges.
		var bottom float64
		wd.script(`const r = document.getElementById("ranges") || document.getElementById("countries");
			return r.closest("section").getBoundingClientRect().bottom + 16`, &bottom)
		wd.resize(1200, int(bottom))
		if err := os.WriteFile(readmeScreenshot, compressPNG(t, wd.screenshot()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", readmeScreenshot)
	}
	var height int
	wd.script(`return document.documentElement.scrollHeight`, &height)
	wd.resize(1280, height)
	shot("dashboard")
}

// compressPNG re-encodes a screenshot with the best compression, for the
// copy that is committed.
func compressPNG(t *testing.T, b []byte) []byte {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, img); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
