package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/redisstore"
)

// Several processes share one Redis: each checks the per-IP, per-phone and
// global limits of a verification request in one round trip, all or
// nothing, and fails closed while Redis cannot answer. (This example needs
// a Redis server on localhost:6379, so it is compiled but not run by go
// test; the package's tests run the same calls against a real server.)
func Example() {
	client := redis.NewClient(&redis.Options{
		Addr: "localhost:6379",
		// Lets go-redis itself stop at the store's timeout.
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Config{Prefix: "myapp:rl:"})
	if err != nil {
		log.Fatal(err)
	}
	limiter, err := ratelimit.New(store) // fails closed by default
	if err != nil {
		log.Fatal(err)
	}
	defer limiter.Close(context.Background())

	ip := netip.MustParseAddr("2001:db8::1")
	d, err := limiter.AllowAll(context.Background(), []ratelimit.Request{
		{Key: ratelimit.KeyIP(ip), Limit: ratelimit.PerMinute(10)},
		{Key: ratelimit.KeyPhone("+15005550006"), Limit: ratelimit.PerHour(3)},
		{Key: ratelimit.KeyGlobal("sms"), Limit: ratelimit.PerHour(1000)},
	}, nil)
	switch {
	case errors.Is(err, ratelimit.ErrUnavailable):
		fmt.Println("503: limiter unavailable")
	case err != nil:
		log.Fatal(err)
	case !d.Allowed:
		fmt.Printf("429: retry after %v\n", d.RetryAfter)
	default:
		fmt.Println("send the code")
	}
}

// Key names are fixed-length hashes under the prefix and the hash tag, so
// keys of any bytes are safe and Redis holds no phone number in clear.
func ExampleStore_KeyName() {
	// New does not connect: the client is only used by Take and TakeAll.
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	for _, key := range []string{ratelimit.KeyPhone("+15005550006"), strings.Repeat("{x}", 100)} {
		name, _ := store.KeyName(key)
		fmt.Println(name)
	}
	// Output:
	// antifraud:rl:{rl}:If0psM-i53Pb5MNwWN3qNw
	// antifraud:rl:{rl}:hmvjHleb162s9RC7ISDeow
}

// With TagFunc, the limits of each route get a hash tag of their own, so a
// Redis Cluster spreads routes over its shards while the limits of one
// route are still taken together.
func ExampleConfig_tagFunc() {
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"localhost:7000"}, ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Config{
		TagFunc: func(key string) string {
			route, _, _ := strings.Cut(key, "|")
			return route
		},
		Timeout: 50 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, key := range []string{"verify|" + ratelimit.KeyPhone("+15005550006"), "login|" + ratelimit.KeyPhone("+15005550006")} {
		name, _ := store.KeyName(key)
		fmt.Println(name[:strings.IndexByte(name, '}')+1])
	}
	// Output:
	// antifraud:rl:{verify}
	// antifraud:rl:{login}
}
