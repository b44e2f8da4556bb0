// Package redistest runs a redis-server for the tests of ratelimit/redisstore.
//
// A test binary shares one server, started on first use on a free loopback
// port with persistence off, or the server at ANTIFRAUD_REDIS_ADDR when that
// is set. When neither is possible the tests skip with the reason, unless
// ANTIFRAUD_REQUIRE_REDIS=1, in which case they fail. The binary's TestMain
// calls [Main], which stops the shared server at the end.
//
// Tests that stop and restart a server (to test failures) start their own
// with [Start], which never uses the external server.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	EnvAddr    = "ANTIFRAUD_REDIS_ADDR"
	EnvRequire = "ANTIFRAUD_REQUIRE_REDIS"
)

// startTimeout bounds how long a redis-server may take to become ready
// (on a loaded machine, with several fuzzing processes starting one each).
const startTimeout = 30 * time.Second

// Server is a redis-server process started for tests, or an external one.
type Server struct {
	// Addr is host:port.
	Addr string

	external bool
	port     int
	dir      string
	// args are the arguments of redis-server, but for the port.
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
)

// Main runs the tests and then stops the shared server if one was started.
// Use it from TestMain: func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil && !shared.external {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "redistest: stopping redis-server:", err)
		}
		os.RemoveAll(shared.dir)
	}
	return code
}

// Shared returns the server shared by the tests of this binary, starting
// it on first use. It skips tb when no server can be had, or fails it when
// ANTIFRAUD_REQUIRE_REDIS=1.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	sharedOnce.Do(func() {
		if addr := os.Getenv(EnvAddr); addr != "" {
			shared, sharedErr = &Server{Addr: addr, external: true}, ping(addr)
			if sharedErr != nil {
				sharedErr = fmt.Errorf("%s=%s: %w", EnvAddr, addr, sharedErr)
			}
			return
		}
		shared, sharedErr = start()
	})
	if sharedErr != nil {
		unavailable(tb, sharedErr)
	}
	return shared
}

// Start starts a redis-server of tb's own, stopped at tb's end. It skips or
// fails tb as Shared does when redis-server cannot be run.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return startOwn(tb, false)
}

// Required reports whether ANTIFRAUD_REQUIRE_REDIS=1, so that a missing
// server fails the tests instead of skipping them.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if Required() {
		tb.Fatalf("redis required (%s=1) but unavailable: %v", EnvRequire, err)
	}
	tb.Skipf("skipping: no redis: %v (install redis-server or set %s=host:port; set %s=1 to fail instead)", err, EnvAddr, EnvRequire)
}

// Client returns a new go-redis client for s, with ContextTimeoutEnabled
// (as the store requires) and opts applied, closed at tb's end.
func (s *Server) Client(tb testing.TB, opts ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	tb.Cleanup(func() { c.Close() })
	return c
}

// CPUTime returns the time the server's main thread, which runs every
// command, has spent on a CPU (from /proc/PID/schedstat). It reports false
// for an external server or where the kernel does not say.
func (s *Server) CPUTime() (time.Duration, bool) {
	if s.cmd == nil {
		return 0, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/schedstat")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns), err == nil
}

// External reports whether s is a server this package did not start.
func (s *Server) External() bool { return s.external }

// Stop stops a server this package started, without saving. It returns an
// error for an external server.
func (s *Server) Stop() error {
	if s.external {
		return errors.New("redistest: cannot stop an external server")
	}
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
	return nil
}

// Freeze stops the server process with SIGSTOP: connections stay open and
// the kernel still accepts new ones, but nothing answers, as with a server
// stuck in a long command or a host that stopped responding. Thaw resumes
// it. Both fail for an external server, and where signals do not exist.
func (s *Server) Freeze() error { return s.signal(sigStop) }

// Thaw resumes a server stopped by Freeze.
func (s *Server) Thaw() error { return s.signal(sigCont) }

func (s *Server) signal(sig os.Signal) error {
	if s.external || s.cmd == nil {
		return errors.New("redistest: no server process of ours to signal")
	}
	if sig == nil {
		return errors.New("redistest: signal not supported here")
	}
	return s.cmd.Process.Signal(sig)
}

// Restart starts a stopped server again on the same port, empty.
func (s *Server) Restart() error {
	if s.external {
		return errors.New("redistest: cannot restart an external server")
	}
	if s.cmd != nil {
		return errors.New("redistest: server is running")
	}
	return s.run()
}

func binary() (string, error) { return lookPath("redis-server") }

// lookPath finds a Redis program in PATH or where Debian and Homebrew
// install it.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin"} {
		p := dir + "/" + name
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH", name)
}

func start() (*Server, error) { return startWith(false, nil) }

// startWith starts a redis-server in a directory of its own, with args
// after its defaults (bus: on a port whose cluster bus port, 10000 above,
// is free too).
func startWith(bus bool, args []string) (*Server, error) {
	if _, err := binary(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		return nil, err
	}
	var last error
	// A free port can be taken by another process between finding and
	// using it; try a few.
	for range 10 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		if bus && !portFree(port+10000) {
			last = fmt.Errorf("cluster bus port %d busy", port+10000)
			continue
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), port: port, dir: dir, args: args}
		if last = s.run(); last == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, last
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	if port >= 65536 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// startOwn starts a server with args for tb, stopped at its end.
func startOwn(tb testing.TB, bus bool, args ...string) *Server {
	tb.Helper()
	s, err := startWith(bus, args)
	if err != nil {
		unavailable(tb, err)
	}
	tb.Cleanup(func() {
		s.Stop()
		os.RemoveAll(s.dir)
	})
	return s
}

// run starts redis-server and waits until it logs that it is ready.
func (s *Server) run() error {
	bin, err := binary()
	if err != nil {
		return err
	}
	var args []string
	if len(s.args) > 0 && s.args[0] == "--sentinel" {
		// A sentinel reads (and rewrites) a configuration file.
		conf := s.dir + "/sentinel.conf"
		if err := os.WriteFile(conf, []byte(strings.Join(s.args[1:], "\n")+"\n"), 0o600); err != nil {
			return err
		}
		args = []string{conf, "--sentinel"}
	}
	args = append(args,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--daemonize", "no",
		"--loglevel", "notice",
		"--logfile", "",
	)
	if len(s.args) == 0 || s.args[0] != "--sentinel" {
		args = append(args, "--save", "", "--appendonly", "no")
		args = append(args, s.args...)
	}
	cmd := exec.Command(bin, args...)
	dieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	ready := make(chan struct{})
	var logTail strings.Builder
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if !signalled {
				logTail.WriteString(line + "\n")
				if strings.Contains(line, "Ready to accept connections") || strings.Contains(line, "Sentinel ID is") {
					signalled = true
					close(ready)
				}
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(done)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-done:
		return fmt.Errorf("redis-server exited at start:\n%s", logTail.String())
	case <-timer.C:
		cmd.Process.Kill()
		<-done
		return errors.New("redis-server did not become ready in time")
	}
	if err := ping(s.Addr); err != nil {
		cmd.Process.Kill()
		<-done
		return err
	}
	s.cmd, s.done = cmd, done
	return nil
}

func ping(addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}
