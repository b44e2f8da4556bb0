package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// logEvery is the least time between two lines of one kind to one logger.
const logEvery = time.Second

// throttle lets one line a second through, and counts the others.
type throttle struct {
	last    atomic.Int64
	dropped atomic.Int64
}

// pass reports whether a line may be logged now, and how many were
// dropped since the last that was.
func (t *throttle) pass() (ok bool, dropped int64) {
	now := time.Now().UnixNano()
	last := t.last.Load()
	if now-last < int64(logEvery) || !t.last.CompareAndSwap(last, now) {
		t.dropped.Add(1)
		return false, 0
	}
	return true, t.dropped.Swap(0)
}

// logSink is a store's Logger with its throttles. A nil *logSink logs
// nothing.
type logSink struct {
	logger *slog.Logger
	events throttle
	lines  *lineSink // shared by the stores with the same Logger
}

// event logs one of the store's own events, at most one a second, and
// reports whether it did.
func (l *logSink) event(level slog.Level, msg string, args ...any) bool {
	if l == nil {
		return false
	}
	ok, dropped := l.events.pass()
	if !ok {
		return false
	}
	if dropped > 0 {
		args = append(args, "events_not_logged", dropped)
	}
	l.logger.Log(context.Background(), level, msg, args...)
	return true
}

// lineSink receives go-redis's lines for one Logger.
type lineSink struct {
	logger *slog.Logger
	refs   int // stores using it, under goRedisLog.mu
	throttle
}

// goRedisLog is where go-redis's process-wide logger sends its lines: to
// the Logger of every open Store that has one.
var goRedisLog struct {
	once  sync.Once
	mu    sync.Mutex
	sinks atomic.Pointer[[]*lineSink]
}

// installLogger makes go-redis log through this package (the first time)
// and registers logger, when not nil, to receive its lines.
func installLogger(logger *slog.Logger) *logSink {
	goRedisLog.once.Do(func() { redis.SetLogger(goRedisLogger{}) })
	if logger == nil {
		return nil
	}
	l := &logSink{logger: logger}
	goRedisLog.mu.Lock()
	defer goRedisLog.mu.Unlock()
	var sinks []*lineSink
	if p := goRedisLog.sinks.Load(); p != nil {
		sinks = *p
	}
	for _, s := range sinks {
		if s.logger == logger {
			s.refs++
			l.lines = s
			return l
		}
	}
	l.lines = &lineSink{logger: logger, refs: 1}
	sinks = append(sinks[:len(sinks):len(sinks)], l.lines)
	goRedisLog.sinks.Store(&sinks)
	return l
}

// uninstallLogger stops sending go-redis's lines to l's Logger, unless
// another open store has the same Logger.
func uninstallLogger(l *logSink) {
	if l == nil {
		return
	}
	goRedisLog.mu.Lock()
	defer goRedisLog.mu.Unlock()
	if l.lines.refs--; l.lines.refs > 0 {
		return
	}
	old := *goRedisLog.sinks.Load()
	sinks := make([]*lineSink, 0, len(old))
	for _, s := range old {
		if s != l.lines {
			sinks = append(sinks, s)
		}
	}
	goRedisLog.sinks.Store(&sinks)
}

// goRedisLogger is go-redis's logger once a Store exists.
type goRedisLogger struct{}

// Printf sends a go-redis line to the registered Loggers, at most one a
// second each.
func (goRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	p := goRedisLog.sinks.Load()
	if p == nil {
		return
	}
	var msg string
	for _, s := range *p {
		ok, dropped := s.pass()
		if !ok {
			continue
		}
		if msg == "" {
			msg = strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
		}
		args := []any{"line", msg}
		if dropped > 0 {
			args = append(args, "lines_not_logged", dropped)
		}
		s.logger.Log(ctx, slog.LevelWarn, "redisstore: go-redis", args...)
	}
}
