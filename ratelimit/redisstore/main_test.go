package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"

	"github.com/antifraud-go/antifraud/ratelimit/redisstore/internal/redistest"
)

func TestMain(m *testing.M) {
	// go-redis logs every failed dial, and the outage tests make many on
	// purpose: New sends them to the stores' Loggers (none, here), as it
	// does in every program.
	os.Exit(redistest.Main(m))
}

// testPrefix returns a key prefix of the test's own, so that tests sharing
// a server (or an external one) never see each other's keys.
func testPrefix(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "antifraud-test:" + hex.EncodeToString(b[:]) + ":"
}

// newStore returns a Store on the shared server with a prefix of its own,
// and its client.
func newStore(t testing.TB, cfg Config, opts ...func(*redis.Options)) (*Store, *redis.Client) {
	t.Helper()
	srv := redistest.Shared(t)
	c := srv.Client(t, opts...)
	if cfg.Prefix == "" {
		cfg.Prefix = testPrefix(t)
	}
	if cfg.Timeout == 0 {
		// The machine running the tests may be busy; no test here is
		// about the default timeout.
		cfg.Timeout = 10 * time.Second
	}
	s, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close(context.Background())
		deleteKeys(t, c, cfg.Prefix)
	})
	return s, c
}

// deleteKeys deletes the keys under prefix, so that a test leaves nothing
// behind on a server it does not own (the differential tests write keys
// that expire a year ahead).
func deleteKeys(t testing.TB, c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Unlink(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("deleting test keys: %v", err)
	}
}

// decide runs s.TakeAll into new results and returns the Decision a
// Limiter would make of them.
func decide(s ratelimit.Store, ctx context.Context, reqs []ratelimit.Request) (ratelimit.Decision, error) {
	d := ratelimit.Decision{Results: make([]ratelimit.Result, len(reqs))}
	allowed, b, err := s.TakeAll(ctx, reqs, d.Results)
	if err != nil {
		return d, err
	}
	d.Result, d.Index = d.Results[b], b
	d.Allowed = allowed
	return d, nil
}
