package redis

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
)

// Defaults of Config fields left zero.
const (
	DefaultPrefix  = "antifraud:rl:"
	DefaultTag     = "rl"
	DefaultTimeout = 100 * time.Millisecond
)

// MaxRequests bounds the number of requests in one TakeAll.
const MaxRequests = 64

// maxTagLen bounds a hash tag.
const maxTagLen = 64

// ErrInvalidConfig is wrapped by the errors New returns for a Config it
// cannot use.
var ErrInvalidConfig = errors.New("ratelimit/redis: invalid config")

// Config configures a Store. The zero Config uses every default.
type Config struct {
	// Prefix begins the name of every key the store writes, to keep the
	// limiter's keys apart from other data in the same Redis. It must not
	// contain '{' or '}'. Default DefaultPrefix ("antifraud:rl:").
	Prefix string

	// Tag is the Redis Cluster hash tag given to every key, so that every
	// key lives in one slot and any set of keys can be taken together
	// atomically. Default DefaultTag ("rl"). It must be 1 to 64 bytes
	// without '{' or '}'. See the package documentation for the trade-off
	// and TagFunc to spread keys over a cluster.
	Tag string

	// TagFunc, when set, returns the hash tag of each key instead of Tag.
	// Keys taken together in one TakeAll must have the same tag (or the
	// take fails with an error wrapping ratelimit.ErrInvalidKey). A key's
	// tag must never change, or its state is lost. Default nil.
	TagFunc func(key string) string

	// Timeout bounds each call to Redis, also when the caller's context has
	// no deadline. Negative means no timeout beyond the caller's context.
	// Default DefaultTimeout (100ms). A call that times out fails with an
	// error wrapping ratelimit.ErrUnavailable and context.DeadlineExceeded.
	Timeout time.Duration
}

// Store is a ratelimit.Store on Redis: many processes sharing one Redis
// share their limits exactly. It is safe for concurrent use. Create one with
// New; the zero Store is not usable.
type Store struct {
	client  goredis.UniversalClient
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
// later (or a compatible server with Lua, struct and SET PXAT).
func New(client goredis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalidConfig)
	}
	s := &Store{
		client:  client,
		prefix:  cfg.Prefix,
		tag:     cfg.Tag,
		tagFunc: cfg.TagFunc,
		timeout: cfg.Timeout,
		guard:   !honoursContext(client),
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if strings.ContainsAny(s.prefix, "{}") {
		return nil, fmt.Errorf("%w: prefix %q contains '{' or '}'", ErrInvalidConfig, s.prefix)
	}
	if s.tag == "" {
		s.tag = DefaultTag
	}
	if err := checkTag(s.tag); err != nil {
		return nil, fmt.Errorf("%w: tag: %v", ErrInvalidConfig, err)
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	return s, nil
}

// honoursContext reports whether client stops network I/O at a context's
// deadline. go-redis does so only with ContextTimeoutEnabled; otherwise it
// waits for its own ReadTimeout (seconds by default).
func honoursContext(client goredis.UniversalClient) bool {
	switch c := client.(type) {
	case *goredis.Client:
		return c.Options().ContextTimeoutEnabled
	case *goredis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *goredis.Ring:
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
			return "", fmt.Errorf("%w: TagFunc gave a bad tag: %v", ratelimit.ErrInvalidKey, err)
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

// Take spends n tokens of l for key (n == 0 means 1), in one round trip.
func (s *Store) Take(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Result, error) {
	reqs := [1]ratelimit.Request{{Key: key, Limit: l, Cost: n}}
	var results [1]ratelimit.Result
	if _, _, err := s.take(ctx, reqs[:], results[:]); err != nil {
		return ratelimit.Result{Limit: l}, err
	}
	return results[0], nil
}

// TakeAll takes every request atomically, in one round trip: all are
// spent, or none is. Keys must be distinct, at most MaxRequests, and (with
// TagFunc) share one tag.
func (s *Store) TakeAll(ctx context.Context, reqs []ratelimit.Request) (ratelimit.Decision, error) {
	d := ratelimit.Decision{Results: make([]ratelimit.Result, len(reqs))}
	allowed, binding, err := s.take(ctx, reqs, d.Results)
	if err != nil {
		for i := range reqs {
			d.Results[i] = ratelimit.Result{Limit: reqs[i].Limit}
		}
		if len(reqs) > 0 {
			d.Result = d.Results[0]
		}
		return d, err
	}
	if len(reqs) == 0 {
		d.Allowed = allowed
		return d, nil
	}
	d.Index = binding
	d.Result = d.Results[binding]
	return d, nil
}

// Close makes later calls fail with ratelimit.ErrClosed. It does not close
// the client, which belongs to the caller.
func (s *Store) Close(ctx context.Context) error {
	s.closed.Store(true)
	return nil
}

// take validates reqs, runs the script and fills results.
func (s *Store) take(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (allowed bool, binding int, err error) {
	if s.closed.Load() {
		return false, 0, fmt.Errorf("ratelimit/redis: %w", ratelimit.ErrClosed)
	}
	if len(reqs) > MaxRequests {
		return false, 0, fmt.Errorf("%w: %d requests in one take, more than %d", ratelimit.ErrInvalidKey, len(reqs), MaxRequests)
	}
	if err := ratelimit.Validate(reqs); err != nil {
		return false, 0, err
	}
	if len(reqs) == 0 {
		return true, 0, nil
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
		if err := checkPenalty(r.Limit); err != nil {
			return false, 0, err
		}
		if s.tagFunc != nil {
			t := s.tagFunc(r.Key)
			if err := checkTag(t); err != nil {
				return false, 0, fmt.Errorf("%w: TagFunc gave a bad tag for a key: %v", ratelimit.ErrInvalidKey, err)
			}
			if i > 0 && t != tag {
				return false, 0, fmt.Errorf("%w: keys of one take have different hash tags %q and %q", ratelimit.ErrInvalidKey, tag, t)
			}
			tag = t
		}
		keys[i] = s.name(tag, r.Key)
		args = appendArgs(args, r)
	}
	reply, err := s.run(ctx, keys, args)
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit/redis: take of %d keys: %w: %w", len(reqs), ratelimit.ErrUnavailable, err)
	}
	if len(reply) != 2+replyPerRequest*len(reqs) || reply[1] < 0 || reply[1] >= int64(len(reqs)) {
		return false, 0, fmt.Errorf("ratelimit/redis: %w: unexpected script reply of %d values", ratelimit.ErrUnavailable, len(reply))
	}
	for i := range reqs {
		v := reply[2+replyPerRequest*i:]
		results[i] = ratelimit.Result{
			Allowed:    v[0] == 1,
			Limit:      reqs[i].Limit,
			Remaining:  int(v[1]),
			RetryAfter: time.Duration(v[2]) * time.Microsecond,
			ResetAfter: time.Duration(v[3]) * time.Microsecond,
			Penalized:  v[4] == 1,
		}
	}
	return reply[0] == 1, int(reply[1]), nil
}

// run runs the script under the store's timeout.
func (s *Store) run(ctx context.Context, keys []string, args []any) ([]int64, error) {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	if !s.guard {
		return takeScript.Run(ctx, s.client, keys, args...).Int64Slice()
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
	l := r.Limit
	cost := r.Cost
	if cost == 0 {
		cost = 1
	}
	peek := 0
	if r.Peek {
		peek = 1
	}
	args = append(args, micros(l.Interval()), l.Burst, cost, peek)
	p := l.Penalty
	if p.After == 0 {
		return append(args, 0, 0, 0, 0, 0)
	}
	// These mirror the core's unexported Penalty.interval, max and reset.
	iv := (p.Within / time.Duration(p.After)).Truncate(ratelimit.Resolution)
	boxMax := p.Max
	if boxMax == 0 {
		boxMax = ratelimit.DefaultPenaltyMax
	}
	boxMax = max(boxMax, p.For)
	reset := p.Reset
	if reset == 0 {
		reset = ratelimit.DefaultPenaltyReset
	}
	return append(args, p.After, micros(iv), micros(p.For), micros(boxMax), micros(reset))
}

func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

// checkPenalty rejects penalty durations that are not whole microseconds:
// the script counts in microseconds and must never answer differently from
// ratelimit.Step, so it refuses what it cannot represent.
func checkPenalty(l ratelimit.Limit) error {
	p := l.Penalty
	if p.After == 0 {
		return nil
	}
	for _, d := range [...]time.Duration{p.For, p.Max, p.Reset} {
		if d%ratelimit.Resolution != 0 {
			return fmt.Errorf("%w %v: ratelimit/redis: penalty durations must be whole microseconds, not %v", ratelimit.ErrInvalidLimit, l, d)
		}
	}
	return nil
}
