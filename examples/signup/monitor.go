package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/antifraud-go/antifraud/numbers"
	"github.com/antifraud-go/antifraud/ratelimit"
	"github.com/antifraud-go/antifraud/verify"
)

// monitor is the adaptive defense as the dashboard sees it.
//
// TODO(signup): guard/pumping is on its way to main; until it lands this
// is an empty monitor and the dashboard says so.
type monitor struct {
	set *numbers.PrefixSet
}

// block is a block in force, with the decision that put it there.
type block struct {
	Scope, Key string
	Signal     string
	Strike     int
	Until      time.Time
	Shadow     bool
	Decided    time.Time
	Level      int
	Threshold  int
	Learnt     int
	Region     string
	Masked     string
}

func newMonitor(_ *ratelimit.Limiter, _ bool, _ func(scope, signal string), _ *slog.Logger) (*monitor, error) {
	return &monitor{set: &numbers.PrefixSet{Name: "pumping"}}, nil
}

func (m *monitor) available() bool                                       { return false }
func (m *monitor) blocklist() *numbers.PrefixSet                         { return m.set }
func (m *monitor) verify() verify.Monitor                                { return nil }
func (m *monitor) blocks() []block                                       { return nil }
func (m *monitor) unblock(context.Context, string, string) (bool, error) { return false, nil }
