package redisstore

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/antifraud-go/antifraud/internal/testkit"
	"github.com/antifraud-go/antifraud/ratelimit"
)

// TestGoRedisLinesGoToLogger: go-redis's own lines (here, failed dials)
// reach the Logger of the store, at most one a second with a count of
// those dropped, and stop when the store is closed.
func TestGoRedisLinesGoToLogger(t *testing.T) {
	var buf testkit.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	s, err := New(deadClient(t), Config{Logger: logger, BreakAfter: -1, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	const calls = 30
	for range calls {
		if _, err := s.Take(context.Background(), oneReq); err == nil {
			t.Fatal("a take on a dead port succeeded")
		}
	}
	elapsed := time.Since(start)
	lines := strings.Count(buf.String(), `msg="redisstore: go-redis"`)
	if lines == 0 || !strings.Contains(buf.String(), `line="connection pool: failed to dial`) {
		t.Fatalf("no go-redis line in the log:\n%s", buf.String())
	}
	if max := 1 + int(elapsed/time.Second); lines > max {
		t.Fatalf("%d go-redis lines in %v, want at most one a second:\n%s", lines, elapsed, buf.String())
	}
	s.Close(context.Background())
	buf.Reset()
	other, err := New(deadClient(t), Config{BreakAfter: -1, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(logEvery) // let the throttle pass
	other.Take(context.Background(), oneReq)
	if buf.String() != "" {
		t.Fatalf("a closed store's Logger still gets go-redis lines:\n%s", buf.String())
	}
}

// TestGoRedisQuietByDefault runs a store without a Logger against a dead
// port in a child process, and checks that nothing reached its stderr:
// go-redis, left alone, writes a line there for every failed dial.
func TestGoRedisQuietByDefault(t *testing.T) {
	if os.Getenv("ANTIFRAUD_TEST_CHILD") == "quiet" {
		s, err := New(deadClient(t), Config{BreakAfter: -1})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			s.Take(context.Background(), ratelimit.Request{Key: "k", Limit: ratelimit.PerSecond(1)})
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestGoRedisQuietByDefault$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "ANTIFRAUD_TEST_CHILD=quiet")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "redis") {
		t.Fatalf("go-redis wrote to stderr:\n%s", stderr.String())
	}
}
