package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/ratelimit/gcra"
)

// Defaults of Config fields left zero.
const (
	defaultPrefix     = "antifraud:rl:"
	defaultTag        = "rl"
	defaultTimeout    = 100 * time.Millisecond
	defaultBreakAfter = 5
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
	// take fails with an error wrapping ratelimit.ErrInvalidRequest): every
	// key that can appear in one take, the limits' and the counters that
	// ride along with them (an adaptive monitor's), must map to one tag.
	// A key's tag must never change, or its state is lost. Default nil.
	TagFunc func(key string) string

	// Timeout bounds each call to Redis, also when the caller's context has
	// no deadline. Negative means no timeout beyond the caller's context
	// (and the client's own timeouts). Default 100ms. A call that times
	// out fails with an error wrapping ratelimit.ErrUnavailable and
	// context.DeadlineExceeded.
	Timeout time.Duration

	// BreakAfter is how many calls in a row must fail (the server down,
	// slow, or answering with an error) before the store's circuit
	// breaker opens: calls then fail at once, without a round trip, with
	// an error wrapping ratelimit.ErrUnavailable, while one call at a time
	// (at most one every 100ms) probes the server; the first probe that
	// succeeds closes the breaker. Calls that fail because the caller's
	// context was cancelled do not count. With TagFunc on a cluster client
	// each hash slot has a breaker of its own. Default 5; negative turns
	// the breaker off, so that every call tries the server.
	BreakAfter int

	// AutoPipeline sends the store's calls through the client's
	// autopipeliner (go-redis's AutoPipeline, marked experimental there):
	// checks made at the same time by many goroutines go out together, in
	// one write on one connection, and their replies come back in one
	// read. With 16 checks in flight it halves the time per check and the
	// CPU time on both sides, while one check at a time takes 1.6 times as
	// long (the hand-off to the pipeliner's goroutine): for servers that
	// check many requests at once. A Ring has no autopipeliner: New then
	// fails. Default false.
	AutoPipeline bool

	// Logger receives the store's own events (the breaker opening and
	// closing, at Warn and Info) and the lines go-redis logs (at Warn),
	// at most one a second, with a count of those dropped. Default nil:
	// nothing is logged. See the package documentation for what New
	// changes about go-redis's process-wide logger.
	Logger *slog.Logger
}

// Store is a ratelimit.Store on Redis: many processes sharing one Redis
// share their limits exactly. It is safe for concurrent use. Create one with
// New; the zero Store is not usable.
type Store struct {
	client  redis.UniversalClient
	ap      *redis.AutoPipeliner // the client's, with AutoPipeline
	cluster *redis.ClusterClient // the client, when it is one
	prefix  string
	tag     string
	tagFunc func(string) string
	timeout time.Duration
	breaker breaker
	// spread is set for a TagFunc on a cluster client: the keys of
	// different tags live on different shards, so each hash slot has a
	// breaker of its own (in breakers, by slot), lest one shard down fail
	// the others' checks at once.
	spread   bool
	breakers sync.Map
	log      *logSink
	closed   atomic.Bool
	// now, when set (by tests only), replaces the server's TIME: it returns
	// Unix microseconds.
	now func() int64
}

var _ ratelimit.Store = (*Store)(nil)

// New returns a Store that keeps its state in client, which can be a
// single node, Sentinel (failover), Ring or Cluster client. It needs Redis
// 6.2 or later (or a compatible server with Lua, struct and SET PXAT). It
// does not connect: the first take does.
//
// It returns an error wrapping ratelimit.ErrInvalidConfig for a nil
// client, a Prefix with a brace, a Tag that is too long or has a brace,
// or a go-redis client without ContextTimeoutEnabled while Timeout is not
// negative: such a client ignores deadlines on network I/O, so a stalled
// server would hold every check for the client's ReadTimeout (3s by
// default) instead of Timeout. A client of another type must stop at its
// context's deadline.
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
	if s.timeout > 0 {
		if err := checkClient(client); err != nil {
			return nil, err
		}
	}
	s.cluster, _ = client.(*redis.ClusterClient)
	if cfg.AutoPipeline {
		ap, err := client.AsyncAutoPipeline()
		if err != nil {
			return nil, fmt.Errorf("redisstore: Config.AutoPipeline: %v: %w", err, ratelimit.ErrInvalidConfig)
		}
		s.ap = ap
	}
	switch {
	case cfg.BreakAfter == 0:
		s.breaker.after = defaultBreakAfter
	case cfg.BreakAfter > 0:
		s.breaker.after = int64(cfg.BreakAfter)
	}
	s.breaker.lease = 10 * time.Second
	if s.timeout > 0 {
		s.breaker.lease = 2*s.timeout + probeEvery
	}
	s.log = installLogger(cfg.Logger)
	s.breaker.log = s.log
	s.spread = s.cluster != nil && s.tagFunc != nil
	return s, nil
}

// checkClient refuses a go-redis client that would not end the store's
// calls at their deadline. go-redis stops network I/O at a context's
// deadline only with ContextTimeoutEnabled; otherwise it waits for its
// ReadTimeout (3s by default), and a store could only stop waiting by
// running each call in a goroutine of its own. (Client.WithTimeout would
// give a copy with shorter socket deadlines, but the copy loses the
// client's hooks, tracing among them.)
func checkClient(client redis.UniversalClient) error {
	var honours bool
	var kind string
	switch c := client.(type) {
	case *redis.Client:
		honours, kind = c.Options().ContextTimeoutEnabled, "Options (or FailoverOptions, UniversalOptions, or context_timeout_enabled=true in a redis:// URL)"
	case *redis.ClusterClient:
		honours, kind = c.Options().ContextTimeoutEnabled, "ClusterOptions (or UniversalOptions)"
	case *redis.Ring:
		honours, kind = c.Options().ContextTimeoutEnabled, "RingOptions"
	default:
		return nil
	}
	if honours {
		return nil
	}
	return fmt.Errorf("redisstore: the client has no ContextTimeoutEnabled, so go-redis would ignore Config.Timeout on network I/O and hold each check for its ReadTimeout (3s by default) when Redis stalls: set ContextTimeoutEnabled in its %s, or a negative Config.Timeout to rely on the client's own timeouts: %w", kind, ratelimit.ErrInvalidConfig)
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
	var buf [128]byte
	b := append(buf[:0], s.prefix...)
	b = append(b, '{')
	b = append(b, tag...)
	b = append(b, '}', ':')
	b = base64.RawURLEncoding.AppendEncode(b, sum[:16])
	return string(b)
}

// Take takes one request, in one round trip: it is TakeAll of r alone.
func (s *Store) Take(ctx context.Context, r ratelimit.Request) (ratelimit.Result, error) {
	if err := s.breakerOf(r.Key).fastFail(); err != nil {
		// Redis is down and no probe is due: answer without allocating,
		// but still as every store answers a bad request.
		if verr := s.validateOne(&r); verr != nil {
			return ratelimit.Result{}, verr
		}
		return ratelimit.Result{}, err
	}
	// The request goes on the heap with the rest of the call (validation
	// goes through a function value, through which it would escape).
	c := &call{req: [1]ratelimit.Request{r}}
	var results [1]ratelimit.Result
	if _, _, err := s.take(ctx, c, c.req[:], results[:]); err != nil {
		return ratelimit.Result{}, err
	}
	return results[0], nil
}

// breakerOf returns the breaker of key's take (the store's, unless
// spread).
func (s *Store) breakerOf(key string) *breaker {
	if !s.spread {
		return &s.breaker
	}
	tag, err := s.tagOf(key)
	if err != nil {
		return &s.breaker
	}
	return s.breakerFor(tag)
}

// breakerFor returns the breaker of the takes of tag: the store's, or
// when spread, its hash slot's (at most 16384 of them).
func (s *Store) breakerFor(tag string) *breaker {
	if !s.spread {
		return &s.breaker
	}
	slot := hashSlot(tag)
	if b, ok := s.breakers.Load(slot); ok {
		return b.(*breaker)
	}
	b := &breaker{after: s.breaker.after, lease: s.breaker.lease, log: s.breaker.log}
	actual, _ := s.breakers.LoadOrStore(slot, b)
	return actual.(*breaker)
}

// hashSlot returns the Redis Cluster slot of the keys with hash tag tag:
// CRC16 (XMODEM) of the tag, modulo 16384.
func hashSlot(tag string) uint16 {
	var crc uint16
	for i := 0; i < len(tag); i++ {
		crc ^= uint16(tag[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc & 16383
}

// validateOne returns the error gcra.Validate returns for r alone (or the
// error of r's tag, or of a closed store), without r escaping to the heap.
func (s *Store) validateOne(r *ratelimit.Request) error {
	switch {
	case s.closed.Load():
		return errStoreClosed
	case len(r.Key) == 0 || len(r.Key) > maxKeyLen:
		return fmt.Errorf("redisstore: key length %d not in 1..%d: %w", len(r.Key), maxKeyLen, ratelimit.ErrInvalidRequest)
	}
	if err := r.Limit.Validate(); err != nil {
		return err
	}
	switch {
	case r.Cost < -r.Limit.Burst || r.Cost > r.Limit.Burst:
		return fmt.Errorf("redisstore: cost %d not in -%d..%d: %w", r.Cost, r.Limit.Burst, r.Limit.Burst, ratelimit.ErrInvalidRequest)
	case r.Peek && (r.Record || r.Cost < 0):
		return fmt.Errorf("redisstore: a peek that records or gives back: %w", ratelimit.ErrInvalidRequest)
	}
	_, err := s.tagOf(r.Key)
	return err
}

// maxKeyLen is the longest key of a request (see ratelimit.Request).
const maxKeyLen = 512

var errStoreClosed = fmt.Errorf("redisstore: store closed: %w", ratelimit.ErrUnavailable)

// TakeAll takes every request atomically, in one round trip (see
// ratelimit.Store). Keys must be distinct, at most 64, and (with TagFunc)
// share one tag.
func (s *Store) TakeAll(ctx context.Context, reqs []ratelimit.Request, results []ratelimit.Result) (allowed bool, binding int, err error) {
	if len(results) < len(reqs) {
		return false, 0, fmt.Errorf("redisstore: %d results for %d requests: %w", len(results), len(reqs), ratelimit.ErrInvalidRequest)
	}
	return s.take(ctx, nil, reqs, results)
}

// Close makes later calls fail with an error wrapping
// ratelimit.ErrUnavailable, and stops sending go-redis's log lines to the
// store's Logger. It does not close the client, which belongs to the
// caller.
func (s *Store) Close(ctx context.Context) error {
	if !s.closed.Swap(true) {
		uninstallLogger(s.log)
	}
	return nil
}

// packed is the script's packed argument. go-redis writes a pointer to it
// without boxing a copy.
type packed []byte

// MarshalBinary returns p.
func (p *packed) MarshalBinary() ([]byte, error) { return *p, nil }

// String returns p as text, for hooks that print commands.
func (p *packed) String() string { return fmt.Sprintf("%x", []byte(*p)) }

// call is what one take sends, allocated at once: the EVALSHA arguments,
// and room for the request, its key name and its packed take when there
// is one request.
type call struct {
	req  [1]ratelimit.Request
	args [5]any
	name string
	p    packed
	buf  [8 * (1 + argsPerRequest)]byte
}

// smallTake is the most requests whose call fits in a callSmall.
const smallTake = 4

// callSmall is the rest of a call of 2 to smallTake requests, allocated at
// once.
type callSmall struct {
	args  [4 + smallTake]any
	names [smallTake]string
	buf   [8 * (1 + argsPerRequest*smallTake)]byte
}

// Interned arguments: the command, the script's SHA, and key counts as
// strings (go-redis's cluster routing reads the count as a string).
var (
	argEvalsha any = "evalsha"
	argEval    any = "eval"
	argSHA     any = takeSHA
	argScript  any = takeLua
	argNumKeys     = func() (a [maxRequests + 1]any) {
		for i := range a {
			a[i] = strconv.Itoa(i)
		}
		return a
	}()
)

// take validates reqs, runs the script and fills results. c holds what
// the call sends, or is nil for take to allocate.
func (s *Store) take(ctx context.Context, c *call, reqs []ratelimit.Request, results []ratelimit.Result) (allowed bool, binding int, err error) {
	if s.closed.Load() {
		return false, 0, errStoreClosed
	}
	if len(reqs) > maxRequests {
		return false, 0, fmt.Errorf("redisstore: %d requests in one take, more than %d: %w", len(reqs), maxRequests, ratelimit.ErrInvalidRequest)
	}
	if err := gcra.Validate(reqs); err != nil {
		return false, 0, err
	}
	// The tag first: a bad one is the caller's error, even while the
	// breaker is open.
	tag, err := s.tagOf(reqs[0].Key)
	if err != nil {
		return false, 0, err
	}
	for i := 1; i < len(reqs); i++ {
		t, err := s.tagOf(reqs[i].Key)
		if err != nil {
			return false, 0, err
		}
		if t != tag {
			return false, 0, fmt.Errorf("redisstore: keys of one take have different hash tags %q and %q: %w", tag, t, ratelimit.ErrInvalidRequest)
		}
	}
	b := s.breakerFor(tag)
	probe, err := b.allow()
	if err != nil {
		return false, 0, err
	}

	var now int64
	if s.now != nil {
		now = s.now()
	}
	if c == nil {
		c = new(call)
	}
	var args []any
	if len(reqs) == 1 {
		c.name = s.name(tag, reqs[0].Key)
		c.p = appendTake(c.buf[:0], now, reqs)
		c.args = [5]any{argEvalsha, argSHA, argNumKeys[1], &c.name, &c.p}
		args = c.args[:]
	} else {
		var names []string
		var buf []byte
		if len(reqs) <= smallTake {
			m := new(callSmall)
			args, names, buf = m.args[:0], m.names[:len(reqs)], m.buf[:0]
		} else {
			args = make([]any, 0, 4+len(reqs))
			names = make([]string, len(reqs))
			buf = make([]byte, 0, 8*(1+argsPerRequest*len(reqs)))
		}
		args = append(args, argEvalsha, argSHA, argNumKeys[len(reqs)])
		for i := range reqs {
			names[i] = s.name(tag, reqs[i].Key)
			args = append(args, &names[i])
		}
		c.p = appendTake(buf, now, reqs)
		args = append(args, &c.p)
	}
	reply, err := s.run(ctx, args)
	b.done(ctx, probe, err)
	if err != nil && s.cluster != nil && counts(ctx, err) {
		// go-redis reloads a cluster's topology on a redirect, or once a
		// minute: a master that died answers neither, and the client would
		// keep calling it for up to a minute after its replica took over.
		// (The reload runs in the background, one at a time.)
		s.cluster.ReloadState(ctx)
	}
	if err != nil {
		return false, 0, fmt.Errorf("redisstore: take of %d keys: %w: %w", len(reqs), ratelimit.ErrUnavailable, err)
	}
	return decodeReply(reply, reqs, results)
}

// decodeReply fills results from the script's reply to a take of reqs
// (see takeLua), and returns whether the take was allowed and its binding
// result.
func decodeReply(reply any, reqs []ratelimit.Request, results []ratelimit.Result) (allowed bool, binding int, err error) {
	switch v := reply.(type) {
	case int64:
		if len(reqs) == 1 && v >= 0 && v&2 == 0 {
			setResult(&results[0], &reqs[0], v, 0)
			return v&1 != 0, 0, nil
		}
	case string:
		b := v
		next := func() (int64, bool) {
			if len(b) < 8 {
				return 0, false
			}
			var u uint64
			for i := 7; i >= 0; i-- {
				u = u<<8 | uint64(b[i])
			}
			b = b[8:]
			return int64(math.Float64frombits(u)), true
		}
		head, ok := next()
		for i := 0; ok && i < len(reqs); i++ {
			var code, retry int64
			if code, ok = next(); ok && code&2 != 0 {
				retry, ok = next()
			}
			setResult(&results[i], &reqs[i], code, retry)
		}
		if ok && len(b) == 0 && head >= 0 && head/2 < int64(len(reqs)) {
			return head&1 != 0, int(head / 2), nil
		}
	}
	return false, 0, fmt.Errorf("redisstore: unexpected script reply %T to a take of %d: %w", reply, len(reqs), ratelimit.ErrUnavailable)
}

// setResult sets res, the result of r, from its code in the script's
// reply (reset µs × 4 + flags) and, when penalized, its retry µs. The
// rest follows from the reset: the tokens the bucket holds then, and how
// long until a request of r's cost fits.
func setResult(res *ratelimit.Result, r *ratelimit.Request, code, retry int64) {
	reset := code >> 2
	*res = ratelimit.Result{
		Allowed:    code&1 != 0,
		Penalized:  code&2 != 0,
		ResetAfter: time.Duration(reset) * time.Microsecond,
		RetryAfter: time.Duration(retry) * time.Microsecond,
	}
	if res.Penalized {
		return
	}
	iv := micros(r.Limit.Interval())
	capacity := iv * int64(r.Limit.Burst)
	res.Remaining = int((capacity - reset) / iv)
	if !res.Allowed {
		cost := int64(max(r.Cost, 1))
		res.RetryAfter = time.Duration(reset+iv*cost-capacity) * time.Microsecond
	}
}

// tagOf returns key's hash tag.
func (s *Store) tagOf(key string) (string, error) {
	if s.tagFunc == nil {
		return s.tag, nil
	}
	t := s.tagFunc(key)
	if err := checkTag(t); err != nil {
		return "", fmt.Errorf("redisstore: TagFunc gave a bad tag for a key: %v: %w", err, ratelimit.ErrInvalidRequest)
	}
	return t, nil
}

// run runs the script with args (EVALSHA's) under the store's timeout,
// and loads it with EVAL when the server does not have it. It returns
// the script's reply.
func (s *Store) run(ctx context.Context, args []any) (any, error) {
	if dl, ok := ctx.Deadline(); s.timeout > 0 && (!ok || time.Until(dl) > s.timeout) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	cmd := redis.NewCmd(ctx, args...)
	err := s.process(ctx, cmd)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// After a restart, a failover or SCRIPT FLUSH: EVAL loads it.
		eval := make([]any, len(args))
		copy(eval, args)
		eval[0], eval[1] = argEval, argScript
		cmd = redis.NewCmd(ctx, eval...)
		err = s.process(ctx, cmd)
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			// Name the deadline whatever go-redis made of it.
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		return nil, err
	}
	return cmd.Val(), nil
}

// process sends cmd, through the autopipeliner when there is one.
func (s *Store) process(ctx context.Context, cmd redis.Cmder) error {
	if s.ap == nil {
		return s.client.Process(ctx, cmd)
	}
	// The pipeliner's own Process would wait for the batch whatever the
	// context says (for the client's ReadTimeout when Redis stalls); stop
	// waiting at the deadline instead. The command stays queued or in
	// flight, as a command whose deadline passes on a connection does.
	return s.ap.Submit(ctx, cmd).WaitContext(ctx)
}

// appendTake appends the packed take of reqs at now (0 for the server's
// TIME) to b (see takeLua).
func appendTake(b []byte, now int64, reqs []ratelimit.Request) []byte {
	b = appendFloat(b, now)
	for i := range reqs {
		r := &reqs[i]
		p := gcra.ParamsOf(r.Limit)
		cost := int64(r.Cost)
		if cost == 0 {
			cost = 1
		}
		var mode int64
		switch {
		case r.Peek:
			mode = modePeek
		case r.Record:
			mode = modeRecord
		}
		iv := micros(p.Interval)
		b = appendFloat(b, iv)
		b = appendFloat(b, iv*int64(p.Burst))
		b = appendFloat(b, cost)
		b = appendFloat(b, mode)
		b = appendFloat(b, int64(p.PenaltyAfter))
		b = appendFloat(b, micros(p.PenaltyInterval))
		b = appendFloat(b, micros(p.BoxFor))
		b = appendFloat(b, micros(p.BoxMax))
		b = appendFloat(b, micros(p.BoxReset))
	}
	return b
}

// appendFloat appends v as a little-endian double: exact, since every
// number of a take is below 2^53.
func appendFloat(b []byte, v int64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
}

func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }
