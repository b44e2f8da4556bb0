package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// A WebDriver client (W3C WebDriver, spoken to Debian's chromedriver over
// HTTP) with the standard library only, so that the browser test runs with
// go test and nothing to install from npm.

// The browser test needs these; ANTIFRAUD_CHROMIUM and
// ANTIFRAUD_CHROMEDRIVER point elsewhere.
const (
	defaultChromium     = "/usr/bin/chromium"
	defaultChromedriver = "chromedriver"
	envRequireBrowser   = "ANTIFRAUD_REQUIRE_BROWSER"
)

// webdriver is one browser session.
type webdriver struct {
	t       *testing.T
	base    string // http://127.0.0.1:port/session/id
	hc      *http.Client
	timeout time.Duration
}

// element is a WebDriver element reference.
type element string

// startBrowser starts chromedriver and a headless Chromium session, both
// stopped at the end of t. It skips t when no browser is installed, unless
// ANTIFRAUD_REQUIRE_BROWSER=1.
func startBrowser(t *testing.T) *webdriver {
	t.Helper()
	chromium := os.Getenv("ANTIFRAUD_CHROMIUM")
	if chromium == "" {
		chromium = defaultChromium
	}
	driverName := os.Getenv("ANTIFRAUD_CHROMEDRIVER")
	if driverName == "" {
		driverName = defaultChromedriver
	}
	driver, err := exec.LookPath(driverName)
	if err == nil {
		_, err = os.Stat(chromium)
	}
	if err != nil {
		msg := fmt.Sprintf("no headless browser (%v): install Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver), or set ANTIFRAUD_CHROMIUM and ANTIFRAUD_CHROMEDRIVER", err)
		if os.Getenv(envRequireBrowser) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	port := freePort(t)
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromedriver: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	root := "http://127.0.0.1:" + strconv.Itoa(port)
	hc := &http.Client{Timeout: time.Minute}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var status struct {
			Value struct{ Ready bool } `json:"value"`
		}
		if res, err := hc.Get(root + "/status"); err == nil {
			_ = json.NewDecoder(res.Body).Decode(&status)
			res.Body.Close()
			if status.Value.Ready {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver not ready: %s", log.String())
		}
	}

	wd := &webdriver{t: t, hc: hc, timeout: 15 * time.Second}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			// The flags that work on a machine without a network, as root.
			"args": []string{
				"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
				"--user-data-dir=" + t.TempDir(), "--window-size=1280,900",
			},
		},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	wd.base = root
	wd.call(http.MethodPost, "/session", caps, &created)
	if created.SessionID == "" {
		t.Fatal("no WebDriver session")
	}
	wd.base = root + "/session/" + created.SessionID
	t.Cleanup(func() { wd.call(http.MethodDelete, "", nil, nil) })
	return wd
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// call makes a WebDriver request and decodes its value into out.
func (wd *webdriver) call(method, path string, in, out any) {
	wd.t.Helper()
	if err := wd.try(method, path, in, out); err != nil {
		wd.t.Fatal(err)
	}
}

func (wd *webdriver) try(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	} else if method == http.MethodPost {
		body = bytes.NewReader([]byte("{}"))
	}
	req, err := http.NewRequest(method, wd.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := wd.hc.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		return fmt.Errorf("webdriver %s %s: %d: %w", method, path, res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		_ = json.Unmarshal(v.Value, &e)
		return fmt.Errorf("webdriver %s %s: %s: %s", method, path, e.Error, e.Message)
	}
	if out != nil {
		return json.Unmarshal(v.Value, out)
	}
	return nil
}

// open navigates to url.
func (wd *webdriver) open(url string) {
	wd.t.Helper()
	wd.call(http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// find waits for an element matching css and returns it.
func (wd *webdriver) find(css string) element {
	wd.t.Helper()
	var el element
	wd.waitFor("element "+css, func() bool {
		var ref map[string]string
		if err := wd.try(http.MethodPost, "/element", map[string]string{"using": "css selector", "value": css}, &ref); err != nil {
			return false
		}
		for _, id := range ref {
			el = element(id)
		}
		return el != ""
	})
	return el
}

// count returns how many elements match css now.
func (wd *webdriver) count(css string) int {
	wd.t.Helper()
	var n int
	wd.call(http.MethodPost, "/execute/sync", map[string]any{
		"script": "return document.querySelectorAll(arguments[0]).length", "args": []any{css},
	}, &n)
	return n
}

// text waits for an element matching css with a visible, non-empty text,
// and returns the text.
func (wd *webdriver) text(css string) string {
	wd.t.Helper()
	return wd.textMatching(css, regexp.MustCompile(`.`))
}

// textMatching waits for an element matching css whose visible text
// matches re, and returns the text; it fails the test with the last text
// seen.
func (wd *webdriver) textMatching(css string, re *regexp.Regexp) string {
	wd.t.Helper()
	var s string
	for deadline := time.Now().Add(wd.timeout); ; time.Sleep(50 * time.Millisecond) {
		err := wd.try(http.MethodPost, "/execute/sync", map[string]any{
			"script": "const e = document.querySelector(arguments[0]); return e && !e.hidden && e.offsetParent !== null ? e.innerText : ''",
			"args":   []any{css},
		}, &s)
		if err == nil && s != "" && re.MatchString(s) {
			return s
		}
		if time.Now().After(deadline) {
			wd.t.Fatalf("timed out waiting for the text of %s to match %s; it is %q", css, re, s)
		}
	}
}

// click clicks the element matching css.
func (wd *webdriver) click(css string) {
	wd.t.Helper()
	wd.call(http.MethodPost, "/element/"+string(wd.find(css))+"/click", nil, nil)
}

// typeInto replaces the value of the input matching css with s.
func (wd *webdriver) typeInto(css, s string) {
	wd.t.Helper()
	el := string(wd.find(css))
	wd.call(http.MethodPost, "/element/"+el+"/clear", nil, nil)
	wd.call(http.MethodPost, "/element/"+el+"/value", map[string]string{"text": s}, nil)
}

// script runs js in the page and decodes its result into out.
func (wd *webdriver) script(js string, out any, args ...any) {
	wd.t.Helper()
	if args == nil {
		args = []any{}
	}
	wd.call(http.MethodPost, "/execute/sync", map[string]any{"script": js, "args": args}, out)
}

// waitFor polls cond until it holds, or fails the test.
func (wd *webdriver) waitFor(what string, cond func() bool) {
	wd.t.Helper()
	for deadline := time.Now().Add(wd.timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			wd.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// resize sets the size of the window's viewport.
func (wd *webdriver) resize(width, height int) {
	wd.t.Helper()
	var chrome struct{ W, H int }
	wd.script(`return {W: window.outerWidth - window.innerWidth, H: window.outerHeight - window.innerHeight}`, &chrome)
	wd.call(http.MethodPost, "/window/rect", map[string]int{"width": width + chrome.W, "height": height + chrome.H}, nil)
}

// screenshot returns the page as a PNG.
func (wd *webdriver) screenshot() []byte {
	wd.t.Helper()
	var b64 string
	wd.call(http.MethodGet, "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		wd.t.Fatal(err)
	}
	return png
}
