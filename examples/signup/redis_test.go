package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/numbers"
)

// envAsMain makes the test binary run the example itself: the two-process
// test starts two instances of the app this way, without a go build.
const envAsMain = "SIGNUP_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envAsMain) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		status := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		os.Exit(status)
	}
	os.Exit(m.Run())
}

// startRedis starts a redis-server of the test's own on a free port. It
// skips the test when there is no redis-server, or fails it when
// ANTIFRAUD_REQUIRE_REDIS=1 (as CI sets).
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "no redis-server (apt-get install -y redis-server): " + err.Error()
		if os.Getenv("ANTIFRAUD_REQUIRE_REDIS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
}

// instance is the app running in a process of its own.
type instance struct {
	app, admin string
	out        *testkit.Buffer
}

// startInstance runs the example in a new process with env and args.
func startInstance(t *testing.T, env []string, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), append(env, envAsMain+"=1")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &testkit.Buffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	go func() { _, _ = io.Copy(out, stdout) }()
	in := &instance{out: out}
	re := regexp.MustCompile(`(?m)^  (app|dashboard) +(http://[^/\s]+)`)
	for deadline := time.Now().Add(20 * time.Second); in.app == "" || in.admin == ""; time.Sleep(20 * time.Millisecond) {
		for _, m := range re.FindAllStringSubmatch(out.String(), -1) {
			if m[1] == "app" {
				in.app = m[2]
			} else {
				in.admin = m[2]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance did not start:\n%s", out)
		}
	}
	return in
}

// send asks in for a code to phone, as a client at addr behind the
// trusted proxy, and returns the status and the problem's detail.
func (in *instance) send(t *testing.T, phone, addr string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, in.app+"/signup/code", strings.NewReader(`{"phone":"`+phone+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	detail := ""
	if m := regexp.MustCompile(`"detail":"([^"]*)"`).FindSubmatch(b); m != nil {
		detail = string(m[1])
	}
	return res.StatusCode, detail
}

// confirm types in the code in sent to phone (the first sent to its
// masked form), as the client at addr.
func (in *instance) confirm(t *testing.T, phone, addr string) {
	t.Helper()
	n, err := numbers.Parse(phone, "US")
	if err != nil {
		t.Fatal(err)
	}
	// The code line comes through a pipe: wait for it.
	re := regexp.MustCompile(`code for ` + regexp.QuoteMeta(n.String()) + ` is (\d+)`)
	var m []string
	for deadline := time.Now().Add(5 * time.Second); m == nil; time.Sleep(10 * time.Millisecond) {
		if m = re.FindStringSubmatch(in.out.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no code for %s", n)
		}
	}
	body := `{"phone":"` + phone + `","code":"` + m[1] + `"}`
	req, _ := http.NewRequest(http.MethodPost, in.app+"/signup/verify", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("confirming %s: %d", n, res.StatusCode)
	}
}

// TestTwoInstancesShareRedis runs the app twice, as two processes sharing
// one redis-server: the resend cooldown, the limits, the monitor's blocks
// and the spend budget's kill switch hold across them.
func TestTwoInstancesShareRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server and two processes")
	}
	redis := startRedis(t)
	env := []string{"REDIS_URL=redis://" + redis + "/0"}
	// Clients come through a proxy on loopback, which says who they are.
	a := startInstance(t, env, "-trusted-proxies", "127.0.0.1")
	b := startInstance(t, env, "-trusted-proxies", "127.0.0.1")
	if !strings.Contains(a.out.String(), "store       real:   Redis at "+redis) {
		t.Fatalf("banner:\n%s", a.out)
	}

	t.Run("cooldown", func(t *testing.T) {
		if status, detail := a.send(t, "+1 415 555 0150", "198.51.100.1"); status != http.StatusAccepted {
			t.Fatalf("first code: %d %s", status, detail)
		}
		status, detail := b.send(t, "+1 415 555 0150", "198.51.100.2")
		if status != http.StatusTooManyRequests || !strings.HasPrefix(detail, "We just sent a code") {
			t.Fatalf("the other instance sent a second code at once: %d %s", status, detail)
		}
	})

	t.Run("limits", func(t *testing.T) {
		// One client, ten codes a minute (the guard's rule), whichever
		// instance it reaches: one bucket in Redis, not one per process.
		// (It confirms its codes, as people do: the monitor leaves it be.)
		accepted := 0
		for i := range 14 {
			in := [2]*instance{a, b}[i%2]
			phone := fmt.Sprintf("+1 415 %03d 01%02d", 220+i, i) // masked apart
			status, detail := in.send(t, phone, "198.51.100.7")
			switch status {
			case http.StatusAccepted:
				accepted++
				in.confirm(t, phone, "198.51.100.7")
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("send %d: %d %s", i, status, detail)
			}
		}
		if accepted != 10 {
			t.Fatalf("%d codes accepted for one client across two instances, want 10", accepted)
		}
	})

	t.Run("blocks", func(t *testing.T) {
		if !strings.Contains(a.out.String(), "monitor     enforcing") {
			t.Skip("no pumping monitor in this build")
		}
		// Pump a range through one instance until the monitor blocks it,
		// from a fresh address every time.
		block, err := mobileBlock("ID")
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		number := func() string {
			n, ok := randomIn(rng, block, "ID", numbers.ModeratePolicy())
			if !ok {
				t.Fatal("no number in the block")
			}
			return n.E164
		}
		addr := 0
		fresh := func() string { addr++; return fmt.Sprintf("203.0.113.%d", addr) }
		blocked := false
		for range 10 {
			status, detail := a.send(t, number(), fresh())
			if status == http.StatusForbidden {
				blocked = true
				break
			}
			if status != http.StatusAccepted {
				t.Fatalf("pumping: %d %s", status, detail)
			}
		}
		if !blocked {
			t.Fatal("ten unconfirmed codes to one range, and no block")
		}
		// The other instance refuses the range too: it reads the same
		// counters.
		if status, detail := b.send(t, number(), fresh()); status != http.StatusForbidden {
			t.Fatalf("the other instance sent a code to the pumped range: %d %s", status, detail)
		}
	})

	t.Run("budget", func(t *testing.T) {
		res, err := http.PostForm(a.admin+"/admin/budget/trip", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// The other instance learns of the trip at its next charge: its
		// next send at the latest is refused.
		for i := range 3 {
			status, detail := b.send(t, fmt.Sprintf("+1 212 %03d 0134", 220+i), fmt.Sprintf("192.0.2.%d", 1+i))
			if status == http.StatusServiceUnavailable {
				if i > 1 {
					t.Errorf("refused only at send %d", i+1)
				}
				return
			}
			if status != http.StatusAccepted {
				t.Fatalf("send %d: %d %s", i, status, detail)
			}
		}
		t.Fatal("the other instance kept sending after the kill switch tripped")
	})
}
