package ratelimit

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidConfig is wrapped by every error about configuration that
	// cannot be used: a Limit or Penalty that breaks the rules on their
	// fields (from Limit.Validate or from a take), a MemoryConfig, or the
	// options of New. Store packages, such as ratelimit/redisstore, wrap
	// it too.
	ErrInvalidConfig = errors.New("ratelimit: invalid configuration")
	// ErrInvalidRequest is wrapped by errors about a Request that cannot be
	// taken: a key that is empty or longer than 512 bytes, a key twice in
	// one take, no request at all, a Cost beyond the Limit's Burst either
	// way, or flags that do not go together.
	ErrInvalidRequest = errors.New("ratelimit: invalid request")
	// ErrUnavailable is wrapped by errors from a store that could not
	// answer: a Redis server down or slow, or a store used after Close.
	// The Limiter's failure mode decides what its callers see.
	ErrUnavailable = errors.New("ratelimit: store unavailable")
)

// errClosed is what a closed MemoryStore returns.
var errClosed = fmt.Errorf("ratelimit: memory store closed: %w", ErrUnavailable)

func invalidLimit(l *Limit, why string) error {
	return fmt.Errorf("ratelimit: limit %v: %s: %w", *l, why, ErrInvalidConfig)
}

func invalidRequest(format string, args ...any) error {
	return fmt.Errorf("ratelimit: "+format+": %w", append(args, ErrInvalidRequest)...)
}

// isArgError reports whether err is about the arguments of a take rather
// than a failure of the store.
func isArgError(err error) bool {
	return errors.Is(err, ErrInvalidRequest) || errors.Is(err, ErrInvalidConfig)
}
