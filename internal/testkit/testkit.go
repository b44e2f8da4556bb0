// Package testkit holds the test doubles that this module's tests share: a
// fake clock that only moves when told to, and a buffer that several
// goroutines may write to at once (for capturing slog output).
//
// It is internal: nothing here is API.
package testkit

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
)

// Epoch is where a Clock from NewClock starts: a fixed instant, so that
// tests print the same times on every run.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Clock is a fake clock. It is safe for concurrent use; its method values
// (c.Now) plug into every Now func(time.Time) option of the module.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a Clock at Epoch.
func NewClock() *Clock { return NewClockAt(Epoch) }

// NewClockAt returns a Clock at t.
func NewClockAt(t time.Time) *Clock {
	c := &Clock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// UnixNano returns the clock's time in Unix nanoseconds.
func (c *Clock) UnixNano() int64 { return c.ns.Load() }

// Advance moves the clock forward by d (back, if d is negative).
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Buffer is a bytes.Buffer that is safe for concurrent use: log handlers
// write to it from the goroutines under test while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Reset discards everything written so far.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}
