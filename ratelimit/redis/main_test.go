package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit/redis/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// testPrefix returns a key prefix of the test's own, so that tests sharing
// a server (or an external one) never see each other's keys.
func testPrefix(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "antifraud-test:" + hex.EncodeToString(b[:]) + ":"
}

// newStore returns a Store on the shared server with a prefix of its own,
// and its client.
func newStore(t testing.TB, cfg Config, opts ...func(*goredis.Options)) (*Store, *goredis.Client) {
	t.Helper()
	srv := redistest.Shared(t)
	c := srv.Client(t, opts...)
	if cfg.Prefix == "" {
		cfg.Prefix = testPrefix(t)
	}
	s, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, c
}
