package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
)

// Defaults of Config fields left zero.
const (
	defaultPrefix  = "antifraud:rl:"
	defaultTag     = "rl"
	defaultTimeout = 100 * time.Millisecond
)

// maxRequests bounds the number of requests in one take.
const maxRequests = 64

// maxTagLen bounds a hash tag.
const maxTagLen = 64

// Config configures a Store. The zero Config uses every default.
type Config struct {
	// Prefix begins the name of every key the store writes, to keep the
	// limiter's keys apart from other data in the same Redis. It must not
	// contain '{' or '}'. Default "antifraud:rl:".
	Prefix string

	// Tag is the Redis Cluster hash tag given to every key, so that every
	// key lives in one slot and any set of keys can be taken together
	// atomically. Default "rl". It must be 1 to 64 bytes without '{' or
	// '}'. See the package documentation for the trade-off and TagFunc to
	// spread keys over a cluster.
	Tag string

	// TagFunc, when set, returns the hash tag of each key instead of Tag.
	// Keys taken together in one TakeAll must have the same tag (or the
	// take fails with an error wrapping ratelimit.ErrInvalidRequest). A
	// key's tag must never change, or its state is lost. Default nil.
	TagFunc func(key string) string

	// Timeout bounds each call to Redis, also when the caller's context has
	// no deadline. Negative means no timeout beyond the caller's context.
	// Default 100ms. A call that times out fails with an error wrapping
	// ratelimit.ErrUnavailable and context.DeadlineExceeded.
	Timeout time.Duration
}

// Store is a ratelimit.Store on Redis: many processes sharing one Redis
// share their limits exactly. It is safe for concurrent use. Create one with
// New; the zero Store is not usable.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	tag     string
	tagFunc func(string) string
	timeout time.Duration
	// guard is set when the client ignores context deadlines for network
	// I/O, so the store must stop waiting on its own.
	guard  bool
	closed atomic.Bool
	// now, when set (by tests only), replaces the server's TIME: it returns
	// Unix microseconds.
	now func() int64
}

var _ ratelimit.Store = (*Store)(nil)

// New returns a Store that keeps its state in client, which can be a
// single node, Sentinel, Ring or Cluster client. It needs Redis 6.2 or
// later (or a compatible server with Lua, struct and SET PXAT). It does not
// connect: the first take does. It returns an error wrapping
// ratelimit.ErrInvalidConfig for a nil client, a Prefix with a brace, or a
// Tag that is too long or has a brace.
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("redisstore: nil client: %w", ratelimit.ErrInvalidConfig)
	}
	s := &Store{
		client:  client,
		prefix:  cfg.Prefix,
		tag:     cfg.Tag,
		tagFunc: cfg.TagFunc,
		timeout: cfg.Timeout,
	}
	if s.prefix == "" {
		s.prefix = defaultPrefix
	}
	if strings.ContainsAny(s.prefix, "{}") {
		return nil, fmt.Errorf("redisstore: Config.Prefix %q contains '{' or '}': %w", s.prefix, ratelimit.ErrInvalidConfig)
	}
	if s.tag == "" {
		s.tag = defaultTag
	}
	if err := checkTag(s.tag); err != nil {
		return nil, fmt.Errorf("redisstore: Config.Tag: %v: %w", err, ratelimit.ErrInvalidConfig)
	}
	if s.timeout == 0 {
		s.timeout = defaultTimeout
	}
	// (Client.WithTimeout would bound the socket I/O without a goroutine,
	// but its copy loses the client's hooks, tracing among them.)
	s.guard = !honoursContext(client)
	return s, nil
}

// honoursContext reports whether client stops network I/O at a context's
// deadline. go-redis does so only with ContextTimeoutEnabled; otherwise it
// waits for its own ReadTimeout (seconds by default).
func honoursContext(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

func checkTag(tag string) error {
	switch {
	case tag == "" || len(tag) > maxTagLen:
		return fmt.Errorf("length %d not in 1..%d", len(tag), maxTagLen)
	case strings.ContainsAny(tag, "{}"):
		return fmt.Errorf("%q contains '{' or '}'", tag)
	}
	return nil
}

// KeyName returns the name of the Redis key that holds key's state:
// Prefix, the hash tag in braces, ':' and the first 128 bits of key's
// SHA-256 in unpadded base64url. Keys of any bytes and length thus make
// names of a fixed length, and Redis holds no phone number or IP in clear.
func (s *Store) KeyName(key string) (string, error) {
	tag := s.tag
	if s.tagFunc != nil {
		tag = s.tagFunc(key)
		if err := checkTag(tag); err != nil {
			return "", fmt.Errorf("redisstore: TagFunc gave a bad tag: %v: %w", err, ratelimit.ErrInvalidRequest)
		}
	}
	return s.name(tag, key), nil
}

func (s *Store) name(tag, key string) string {
	sum := sha256.Sum256([]byte(key))
	var b strings.Builder
	b.Grow(len(s.prefix) + len(tag) + 3 + base64.RawURLEncoding.EncodedLen(16))
	b.WriteString(s.prefix)
	b.WriteByte('{')
	b.WriteString(tag)
	b.WriteString("}:")
	var enc [22]byte
	base64.RawURLEncoding.Encode(enc[:], sum[:16])
	b.Write(enc[:])
	return b.String()
}

// Take takes one request, in one round trip: it is TakeAll of r alone.
func (s *Store) Take(ctx context.Context, r ratelimit.Request) (ratelimit.Result, error) {
	reqs := [1]ratelimit.Request{r}
	var results [1]ratelimit.Result
	if _, _, err := s.take(ctx, reqs[:], results[:]); err != nil {
		return ratelimit.Result{}, err
	}
	return results[0], nil
}

// TakeAll takes every request atomically, in one round trip (see
// ratelimit.Store). Keys must be distinct, at most 64, and (with TagFunc)
// share one tag.
func (s *Store) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (allowed bool, binding int, err error) {
	if len(results) < len(reqs) {
		return false, 0, fmt.Errorf("redisstore: %d results for %d requests: %w", len(results), len(reqs), ratelimit.ErrInvalidRequest)
	}
	return s.take(ctx, reqs, results)
}

// Close makes later calls fail with an error wrapping
// ratelimit.ErrUnavailable. It does not close the client, which belongs to
// the caller.
func (s *Store) Close(ctx context.Context) error {
	s.closed.Store(true)
	return nil
}

// take validates reqs, runs the script and fills results.
func (s *Store) take(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (allowed bool, binding int, err error) {
	if s.closed.Load() {
		return false, 0, fmt.Errorf("redisstore: store closed: %w", ratelimit.ErrUnavailable)
	}
	if len(reqs) > maxRequests {
		return false, 0, fmt.Errorf("redisstore: %d requests in one take, more than %d: %w", len(reqs), maxRequests, ratelimit.ErrInvalidRequest)
	}
	if err := gcra.Validate(reqs); err != nil {
		return false, 0, err
	}
	keys := make([]string, len(reqs))
	args := make([]any, 1, 1+argsPerRequest*len(reqs))
	args[0] = ""
	if s.now != nil {
		args[0] = s.now()
	}
	tag := s.tag
	for i := range reqs {
		r := &reqs[i]
		if s.tagFunc != nil {
			t := s.tagFunc(r.Key)
			if err := checkTag(t); err != nil {
				return false, 0, fmt.Errorf("redisstore: TagFunc gave a bad tag for a key: %v: %w", err, ratelimit.ErrInvalidRequest)
			}
			if i > 0 && t != tag {
				return false, 0, fmt.Errorf("redisstore: keys of one take have different hash tags %q and %q: %w", tag, t, ratelimit.ErrInvalidRequest)
			}
			tag = t
		}
		keys[i] = s.name(tag, r.Key)
		args = appendArgs(args, r)
	}
	reply, err := s.run(ctx, keys, args)
	if err != nil {
		return false, 0, fmt.Errorf("redisstore: take of %d keys: %w: %w", len(reqs), ratelimit.ErrUnavailable, err)
	}
	if len(reply) != 2+replyPerRequest*len(reqs) || reply[1] < 0 || reply[1] >= int64(len(reqs)) {
		return false, 0, fmt.Errorf("redisstore: unexpected script reply of %d values: %w", len(reply), ratelimit.ErrUnavailable)
	}
	for i := range reqs {
		v := reply[2+replyPerRequest*i:]
		res := &results[i]
		res.Allowed = v[0] == 1
		res.Remaining = int(v[1])
		res.RetryAfter = time.Duration(v[2]) * time.Microsecond
		res.ResetAfter = time.Duration(v[3]) * time.Microsecond
		res.Penalized = v[4] == 1
	}
	return reply[0] == 1, int(reply[1]), nil
}

// run runs the script under the store's timeout.
func (s *Store) run(ctx context.Context, keys []string, args []any) ([]int64, error) {
	if dl, ok := ctx.Deadline(); s.timeout > 0 && (!ok || time.Until(dl) > s.timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	if !s.guard {
		v, err := takeScript.Run(ctx, s.client, keys, args...).Int64Slice()
		if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			// Name the deadline whatever go-redis made of it.
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		return v, err
	}
	// The client would wait for its own ReadTimeout: stop waiting at the
	// deadline and let the call finish in the background.
	type reply struct {
		v   []int64
		err error
	}
	ch := make(chan reply, 1)
	go func() {
		v, err := takeScript.Run(ctx, s.client, keys, args...).Int64Slice()
		ch <- reply{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// appendArgs appends r's script arguments (see takeLua).
func appendArgs(args []any, r *ratelimit.Request) []any {
	p := gcra.ParamsOf(r.Limit)
	cost := r.Cost
	if cost == 0 {
		cost = 1
	}
	mode := 0
	switch {
	case r.Peek:
		mode = 1
	case r.Record:
		mode = 2
	}
	return append(args, micros(p.Interval), p.Burst, cost, mode,
		p.PenaltyAfter, micros(p.PenaltyInterval), micros(p.BoxFor), micros(p.BoxMax), micros(p.BoxReset))
}

func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }
